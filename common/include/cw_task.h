/**
 * @file cw_task.h
 * @brief The event loop and tasks: run, spawn, await, sleep, cancel.
 *
 * A task is a C function running on its own small stack. When it awaits a
 * future that is not finished, it is suspended and the loop runs other tasks
 * and I/O until the future finishes; then the task continues where it stopped.
 * This is asyncio's model with the `await` keyword turned into a call:
 *
 * | asyncio                        | this library                      |
 * |--------------------------------|-----------------------------------|
 * | `asyncio.run(main())`          | `cw_run(main, arg, NULL)`         |
 * | `asyncio.create_task(coro)`    | `cw_spawn(fn, arg)`               |
 * | `create_task(coro, name="x")`  | `cw_spawn_named(fn, arg, "x")`    |
 * | `await fut`                    | `cw_await(fut)`                   |
 * | `await asyncio.sleep(1)`       | `cw_sleep(1000)`                  |
 * | `task.cancel()`                | `cw_future_cancel(task)`          |
 * | `raise SomeError(...)`         | `return cw_fail(code, "...")`     |
 *
 * A task is a future (cw_future *): its result is what its function returned.
 * The library never frees a task's result, whoever holds the task owns it; this
 * holds for a task that ended cancelled too: cw_future_result() still returns
 * what its function returned (NULL when it never ran), so that it can be freed.
 *
 * Cancellation: cw_future_cancel(task) (or cw_future_cancel_msg()) makes the
 * task's current (or next) cw_await() return CW_ECANCELLED, once; the task may
 * still await while it cleans up, and when its function returns the task ends
 * cancelled, whatever it returned. In asyncio a coroutine that catches
 * CancelledError and returns normally ends with a result instead; in C nothing
 * propagates the cancellation for you, so the library does, and no early
 * `return NULL` swallows a cancellation by accident. To catch a cancellation
 * for good, take the request back with cw_task_uncancel() (asyncio 3.11's
 * uncancel(), which timeout scopes use): once no request is left
 * (cw_task_cancelling() is 0), the task ends with what it returns.
 *
 * As in asyncio, cancelling a task that is suspended in cw_await() passes the
 * request on to the future it awaits; the task's await returns what that
 * future ends with. Usually that is CW_ECANCELLED, and the cancellation counts
 * as the task's own; but should the future not end cancelled (a task that
 * swallowed its cancellation and returned), the task gets its result and goes
 * on, not cancelled, though cw_task_cancelling() still counts the request.
 */
#ifndef CW_TASK_H
#define CW_TASK_H

#include <stdint.h>
#include <uv.h>
#include "cw_future.h"

/**
 * @brief The stack of every task: 256 KiB, with a 64 KiB guard region under it.
 *
 * Only the pages a task touches use memory. A task that needs more (a big local
 * array, deep recursion) overflows into the guard region and the program stops
 * with a segmentation fault, every time: the library is built with
 * -fstack-clash-protection, so even a frame larger than the guard region touches
 * it first instead of skipping over it into another task's stack. Put large
 * buffers on the heap (malloc) rather than on a task's stack.
 */
#define CW_TASK_STACK_SIZE (256 * 1024)

/** The function a task runs; what it returns becomes the task's result. */
typedef void *(*cw_task_fn)(void *arg);

/**
 * @brief asyncio.run: make a fresh loop, run @p main as its first task, return when it ends.
 *
 * Tasks still running when @p main returns are cancelled and reaped, sessions
 * left open are closed, and the loop is closed: nothing outlives cw_run().
 * @param main the first task's function.
 * @param arg its argument.
 * @param result where to store main's result (may be NULL).
 * @return 0 when @p main ended with a result, else its error (CW_ECANCELLED when
 *         it was cancelled, CW_EDEADLOCK when it waited on a future nothing could
 *         finish, CW_EINVAL when called from inside a task).
 *
 * @code
 * static void *hello(void *arg) { cw_sleep(100); puts(arg); return NULL; }
 * int main(void) { return cw_run(hello, "hello after 100 ms", NULL) ? 1 : 0; }
 * @endcode
 */
int cw_run(cw_task_fn main, void *arg, void **result);

/**
 * @brief asyncio.create_task: schedule @p fn(arg) as a new task.
 *
 * The task starts on a later turn of the loop, never inside cw_spawn(), so a
 * task can spawn many others before any of them runs.
 * @return the task (a future: one reference for the caller), or NULL when
 *         called outside cw_run() or out of memory.
 *
 * @code
 * static void *square(void *arg) { cw_sleep(100); return (void *)((intptr_t)arg * (intptr_t)arg); }
 *
 * // inside a task:
 * cw_future *t = cw_spawn(square, (void *)(intptr_t)7); // scheduled: it starts on a later loop turn
 * if (cw_await(t) == 0)
 *     printf("%ld\n", (long)(intptr_t)cw_future_result(t)); // 49
 * cw_future_release(t);
 * @endcode
 */
cw_future *cw_spawn(cw_task_fn fn, void *arg);

/**
 * @brief cw_spawn() with a name, which labels the task's row in timelines (asyncio's create_task(name=...)).
 * @param fn the task's function.
 * @param arg its argument.
 * @param name a short name, copied (cut to the timeline's label width); NULL gives "task N".
 * @return the task, as cw_spawn().
 *
 * @code
 * cw_future *slow = cw_spawn_named(fetch, "/delay/300", "fetch slow");
 * @endcode
 */
cw_future *cw_spawn_named(cw_task_fn fn, void *arg, const char *name);

/**
 * @brief cw_spawn() for a task that keeps only the stack it really uses: for a great many small tasks.
 *
 * Every task spawned this way runs on one shared stack (CW_TASK_STACK_SIZE,
 * guarded like any other). When it is suspended, the part of that stack it
 * uses, from its innermost frame to the top (160 bytes for a task asleep in
 * cw_sleep() on x86-64), is copied to the heap, and copied back before it
 * continues. A task on its own stack holds at least a 4 KiB page; a sleeping
 * task spawned this way holds under a kilobyte, all counted. Each switch costs
 * a copy of that part: cheap for shallow tasks, not for a task that waits deep
 * in its calls or with big local arrays.
 *
 * The price, and why this is not what cw_spawn() does: while such a task is
 * suspended, its local variables are not where their addresses say. Nothing
 * may read or write them through a pointer then: not another task, not a done
 * callback. So a task spawned this way must not hand the address of one of its
 * locals to anything that outlives the call (the argument of cw_spawn() or of
 * cw_future_on_done()), and must not call cw_wait(), which keeps its
 * bookkeeping on the caller's stack. Its own calls to cw_await(), cw_sleep()
 * and cw_gather() are fine: what they share lives on the heap.
 *
 * Such a mistake reads or writes garbage. Built with ASan (make ASAN=1) or run
 * under valgrind, it is reported at the faulty access (not with ASan's
 * detect_stack_use_after_return, which moves such locals to the heap, where
 * the mistake does no harm). Built with -DCW_USE_UCONTEXT, the task simply
 * gets its own stack.
 * @param fn the task's function.
 * @param arg its argument (it may point anywhere but into this task's own stack).
 * @return the task, as cw_spawn().
 *
 * @code
 * static void *sleeper(void *arg) { (void)arg; cw_sleep(200); return NULL; }
 *
 * // inside a task: a million sleepers in under a gigabyte (over 4 GiB with cw_spawn())
 * for (int i = 0; i < 1000000; i++)
 *     tasks[i] = cw_spawn_on_shared_stack(sleeper, NULL);
 * @endcode
 */
cw_future *cw_spawn_on_shared_stack(cw_task_fn fn, void *arg);

/**
 * @brief Suspend the calling task until @p future has finished.
 *
 * If the calling task is cancelled while it waits, @p future is cancelled
 * (as asyncio does), and cw_await() returns CW_ECANCELLED once it has ended
 * cancelled (or what it ended with, should it not end cancelled).
 * @return 0 when the future resolved (read it with cw_future_result()), its
 *         error code when it failed, CW_ECANCELLED when it or the caller was
 *         cancelled, CW_ENOTASK when called outside a task, CW_EINVAL for NULL.
 *
 * @code
 * cw_future *req = cw_session_get(session, url);
 * int rc = cw_await(req);                 // other tasks run until req has finished
 * if (rc == 0)
 *     printf("status %ld\n", cw_response_of(req)->status);
 * else if (rc == CW_ECANCELLED)
 *     puts("cancelled");
 * else
 *     printf("failed: %s\n", cw_future_message(req));
 * cw_future_release(req);
 * @endcode
 */
int cw_await(cw_future *future);

/**
 * @brief Suspend the calling task for @p ms milliseconds (0 lets the other ready tasks run first).
 * @return 0, CW_ECANCELLED when the task was cancelled meanwhile, or CW_ENOTASK outside a task.
 *
 * @code
 * static void *ticker(void *name)
 * {
 *     for (int i = 0; i < 3; i++) {
 *         if (cw_sleep(100) == CW_ECANCELLED) // await asyncio.sleep(0.1)
 *             return NULL;                    // cancelled while asleep: the task ends cancelled
 *         printf("%s: tick %d\n", (const char *)name, i);
 *     }
 *     return NULL;
 * }
 * @endcode
 */
int cw_sleep(uint64_t ms);

/**
 * @brief End the calling task with an error: `return cw_fail(CW_EHTTP, "got %d", status);`.
 *
 * Passing CW_ECANCELLED on (`return cw_fail(rc, ...)` after an await said
 * cancelled) ends the task cancelled, as re-raising CancelledError does.
 * @param code a negative cw_error code.
 * @param fmt printf-style message (may be NULL).
 * @return NULL, so that a task function can return it directly.
 *
 * @code
 * static void *must_be_ok(void *request)
 * {
 *     cw_future *req = request;
 *     if (cw_await(req) < 0)
 *         return cw_fail(cw_future_error(req), "%s", cw_future_message(req));
 *     long status = cw_response_of(req)->status;
 *     if (status != 200)
 *         return cw_fail(CW_EHTTP, "got %ld", status); // awaiting this task returns CW_EHTTP
 *     return NULL;
 * }
 * @endcode
 */
void *cw_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * @brief asyncio 3.11's Task.cancelling(): how many cancellation requests the task has pending.
 *
 * Every cw_future_cancel() of an unfinished task counts one; cw_task_uncancel()
 * takes one back. The count stays after the task has ended.
 * @return the count (0 or more), or CW_EINVAL when @p task is NULL or not a task.
 *
 * @code
 * cw_future_cancel(t);
 * cw_future_cancel(t);
 * printf("%d\n", cw_task_cancelling(t)); // 2
 * @endcode
 */
int cw_task_cancelling(const cw_future *task);

/**
 * @brief asyncio 3.11's Task.uncancel(): take one cancellation request back.
 *
 * A task that caught a cancellation it was meant to absorb (a timeout scope that
 * expired, say) calls it on itself; when the count reaches 0 the task no longer
 * ends cancelled by itself, and ends with what its function returns. It does
 * not undo a cancellation already on its way to the next cw_await().
 * @return the requests left (0 or more), or CW_EINVAL when @p task is NULL or not a task.
 *
 * @code
 * if (cw_sleep(1000) == CW_ECANCELLED && cw_task_uncancel(cw_current_task()) == 0)
 *     return "the scope's own timeout: carry on"; // the task ends with this result
 * @endcode
 */
int cw_task_uncancel(cw_future *task);

/** @brief The task that is running now, or NULL outside a task. Not a new reference. */
cw_future *cw_current_task(void);

/**
 * @brief The libuv loop that cw_run() is running, for code that adds its own handles (servers, timers).
 * @return the loop, or NULL outside cw_run().
 */
uv_loop_t *cw_loop(void);

/**
 * @brief A monotonic clock in microseconds, for recording when things happen.
 * @return microseconds since an arbitrary fixed point.
 */
uint64_t cw_now_us(void);

#endif
