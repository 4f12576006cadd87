/**
 * @file cw_semaphore.h
 * @brief Semaphores: asyncio.Semaphore, the usual way to cap how much work runs at once.
 *
 * A semaphore holds a count of free slots. cw_semaphore_acquire() takes one,
 * suspending the task while none is free; cw_semaphore_release() gives it back
 * and wakes the task that has waited longest (first come, first served):
 *
 * | asyncio                                  | this library                              |
 * |------------------------------------------|-------------------------------------------|
 * | `sem = asyncio.Semaphore(10)`            | `sem = cw_semaphore_new(10)`              |
 * | `async with sem:` ... (the body) ...     | `cw_semaphore_acquire(sem)` ... `cw_semaphore_release(sem)` |
 * | `sem.locked()`                           | `cw_semaphore_locked(sem)`                |
 *
 * So 1,000 tasks that each wrap their request in acquire/release have at most
 * 10 requests in flight, whatever the session's connection limit.
 */
#ifndef CW_SEMAPHORE_H
#define CW_SEMAPHORE_H

#include <stdbool.h>

/** A semaphore (opaque). */
typedef struct cw_semaphore cw_semaphore;

/**
 * @brief `asyncio.Semaphore(value)`: a semaphore with @p value free slots.
 * @return the semaphore, or NULL for a negative @p value or out of memory.
 */
cw_semaphore *cw_semaphore_new(int value);

/**
 * @brief `await sem.acquire()`: take a slot, suspending until one is free.
 * @return 0 with the slot taken; CW_ECANCELLED when the task was cancelled while it
 *         waited (it holds no slot then: do not release); CW_ENOTASK outside a task
 *         (when no slot is free); CW_EINVAL for NULL; CW_ENOMEM.
 *
 * @code
 * if (cw_semaphore_acquire(sem) < 0)
 *     return cw_fail(CW_ECANCELLED, "cancelled before its turn");
 * int rc = cw_await(request);           // at most `value` tasks are here at once
 * cw_semaphore_release(sem);
 * @endcode
 */
int cw_semaphore_acquire(cw_semaphore *sem);

/**
 * @brief `sem.release()`: give a slot back, and wake the longest waiting task.
 * @return 0, or CW_EINVAL for NULL.
 */
int cw_semaphore_release(cw_semaphore *sem);

/** @brief `sem.locked()`: true when an acquire would have to wait (NULL: true). */
bool cw_semaphore_locked(const cw_semaphore *sem);

/** @brief The free slots now (asyncio's `sem._value`), or 0 for NULL. */
int cw_semaphore_value(const cw_semaphore *sem);

/**
 * @brief Free the semaphore.
 * @return 0; CW_EPENDING (and nothing is freed) while tasks still wait on it. NULL gives 0.
 */
int cw_semaphore_free(cw_semaphore *sem);

#endif
