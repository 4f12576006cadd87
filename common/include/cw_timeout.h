/**
 * @file cw_timeout.h
 * @brief Timeout scopes: asyncio.timeout(), one deadline over a whole block of awaits.
 *
 * Python's `async with asyncio.timeout(d):` becomes two calls around the block:
 *
 * | asyncio                                       | this library                                |
 * |-----------------------------------------------|---------------------------------------------|
 * | `async with asyncio.timeout(0.5) as cm:`      | `cw_timeout_enter(&cm, 500)`                |
 * | `asyncio.timeout_at(when)`                    | `cw_timeout_enter_at(&cm, deadline_us)`     |
 * | `asyncio.timeout(None)`                       | `cw_timeout_enter(&cm, CW_NO_TIMEOUT)`      |
 * | `cm.reschedule(loop.time() + 1)`              | `cw_timeout_reschedule(cm, 1000)`           |
 * | `cm.expired()`                                | `cw_timeout_expired(cm)`                    |
 * | leaving the block; `except TimeoutError`      | `rc = cw_timeout_exit(cm, body_rc)`         |
 *
 * At the deadline the scope cancels the task that entered it (the body's
 * current await returns CW_ECANCELLED); the body cleans up and passes
 * CW_ECANCELLED to exit, which turns it into CW_ETIMEDOUT when this scope's
 * cancellation is the only one the task has pending (Python 3.11: it takes its
 * request back with cw_task_uncancel() and checks that none is left). So with
 * nested scopes the one that expired reports the timeout, and a real
 * cancellation from elsewhere stays a cancellation.
 */
#ifndef CW_TIMEOUT_H
#define CW_TIMEOUT_H

#include <stdbool.h>
#include <stdint.h>
#include "cw_combine.h"

/** A timeout scope (opaque). */
typedef struct cw_timeout cw_timeout;

/**
 * @brief `async with asyncio.timeout(delay)`: cancel the calling task in @p delay_ms, unless it leaves first.
 * @param scope receives the scope (NULL on error).
 * @param delay_ms from now; CW_NO_TIMEOUT for none (the deadline can be set later); 0 expires at
 *        the next await.
 * @return 0, CW_EINVAL for a NULL @p scope, CW_ENOTASK outside a task, CW_ENOMEM.
 *
 * @code
 * cw_timeout *cm;
 * cw_timeout_enter(&cm, 500);
 * int rc = cw_await(slow_request);     // CW_ECANCELLED after 500 ms
 * rc = cw_timeout_exit(cm, rc);        // CW_ETIMEDOUT
 * @endcode
 */
int cw_timeout_enter(cw_timeout **scope, uint64_t delay_ms);

/**
 * @brief `async with asyncio.timeout_at(when)`: a deadline on the cw_now_us() clock.
 * @param scope receives the scope.
 * @param deadline_us when to expire, in cw_now_us() microseconds (a past one expires at the
 *        next await); CW_NO_TIMEOUT for none.
 * @return as cw_timeout_enter().
 */
int cw_timeout_enter_at(cw_timeout **scope, uint64_t deadline_us);

/**
 * @brief `cm.reschedule(...)`: move the deadline to @p delay_ms from now (CW_NO_TIMEOUT: none).
 * @return 0, or CW_EINVAL for NULL or a scope that has already expired or been exited
 *         (asyncio raises RuntimeError).
 */
int cw_timeout_reschedule(cw_timeout *scope, uint64_t delay_ms);

/**
 * @brief `cm.when()`: the deadline in cw_now_us() microseconds, or CW_NO_TIMEOUT for none (and for NULL).
 */
uint64_t cw_timeout_when(const cw_timeout *scope);

/** @brief `cm.expired()`: true once the deadline passed while the scope was entered. */
bool cw_timeout_expired(const cw_timeout *scope);

/**
 * @brief Leave the scope, free it, and say how the block ended.
 *
 * Call it from the task that entered the scope, once, with what the body came
 * to. Scopes nest: leave them in the reverse order of entering.
 * @param scope the scope (freed here; NULL gives CW_EINVAL).
 * @param body_rc the body's outcome: 0 (or any value >= 0), an error, or
 *        CW_ECANCELLED when one of its awaits was cancelled.
 * @return CW_ETIMEDOUT when this scope expired, the body passed CW_ECANCELLED
 *         and no other cancellation is pending; else @p body_rc unchanged (a
 *         body that caught the cancellation and went on keeps its own result).
 */
int cw_timeout_exit(cw_timeout *scope, int body_rc);

#endif
