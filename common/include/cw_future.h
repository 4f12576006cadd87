/**
 * @file cw_future.h
 * @brief Futures: a value that is not there yet, and the callbacks that run when it is.
 *
 * A future starts pending and ends exactly once, in one of three ways: with a
 * result, with an error (a negative cw_error code and a message), or
 * cancelled. Tasks, HTTP requests, sleeps and the combinators are all futures,
 * so one cw_await() works on every one of them.
 *
 * Ownership in one sentence: every function that returns a cw_future * gives
 * you one reference, which you give back with cw_future_release() (the library
 * keeps its own reference for as long as it still needs the future).
 */
#ifndef CW_FUTURE_H
#define CW_FUTURE_H

#include <stdbool.h>
#include "cw_error.h"

/** An opaque future. */
typedef struct cw_future cw_future;

/** How a future ended, or that it has not yet. */
typedef enum cw_state {
    CW_PENDING,   /**< not finished */
    CW_RESOLVED,  /**< finished with a result */
    CW_FAILED,    /**< finished with an error */
    CW_CANCELLED, /**< finished by cancellation */
} cw_state;

/** A done callback: runs once, on a loop step after @p future finished. It must not suspend. */
typedef void (*cw_done_fn)(cw_future *future, void *arg);

/** Frees a result that a future owns, when the future itself is freed. */
typedef void (*cw_free_fn)(void *result);

/**
 * @brief Make a pending future that your code will finish.
 * @return a new future with one reference for the caller, or NULL when out of memory.
 *
 * @code
 * cw_future *f = cw_future_new();
 * cw_future_resolve(f, "hello", NULL);   // wakes every task awaiting f
 * cw_future_release(f);
 * @endcode
 */
cw_future *cw_future_new(void);

/**
 * @brief Finish a pending future with a result.
 * @param future the future.
 * @param result the value; the future owns it when @p free_result is not NULL.
 * @param free_result called on @p result when the future is freed, or NULL.
 * @return 0, or CW_EDONE when the future had already finished (then @p result
 *         is freed at once if @p free_result is set, so nothing leaks).
 */
int cw_future_resolve(cw_future *future, void *result, cw_free_fn free_result);

/**
 * @brief Finish a pending future with an error.
 * @param future the future.
 * @param code a negative cw_error code.
 * @param fmt printf-style message saying what went wrong (may be NULL: cw_strerror(code) is used).
 * @return 0, or CW_EDONE when the future had already finished, CW_EINVAL when code is not negative.
 *
 * @code
 * if (len > max)
 *     cw_future_fail(f, CW_ETOOBIG, "%zu bytes, more than %zu", len, max); // wakes every task awaiting f
 * @endcode
 */
int cw_future_fail(cw_future *future, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/**
 * @brief Cancel a future: it ends cancelled, and every task awaiting it wakes with CW_ECANCELLED.
 *
 * For a task this requests cancellation: the task sees CW_ECANCELLED at its
 * current or next await and ends cancelled when it returns (a task awaiting a
 * future passes the request on to it, as asyncio does: see cw_task.h); for a
 * request the transfer is stopped and its connection closed; for a gather its
 * unfinished children are cancelled, and it fails with CW_ECANCELLED.
 * @return 0 when the cancellation took effect (or was requested, for a task),
 *         CW_EDONE when the future had already finished (nothing changes), or
 *         for a gather whose children had all finished already.
 *
 * @code
 * cw_future *t = cw_spawn(slow, NULL);
 * cw_sleep(100);
 * cw_future_cancel(t);                  // t's pending cw_await() or cw_sleep() returns CW_ECANCELLED
 * cw_await(t);                          // returns CW_ECANCELLED once t has ended
 * printf("%s\n", cw_future_message(t)); // "cancelled"
 * cw_future_release(t);
 * @endcode
 */
int cw_future_cancel(cw_future *future);

/**
 * @brief cw_future_cancel() with a message, as asyncio's `task.cancel(msg)`.
 *
 * The message travels with the cancellation: to what a task awaits, to a
 * gather's children, and to the task when it ends cancelled; cw_future_message()
 * of the cancelled future returns it. As in asyncio, a task whose
 * cancellation is still pending takes the latest request's message (none for
 * cw_future_cancel()), and a task that ends cancelled has the message of the
 * cancellation it last received: that of the future it awaited, when the
 * request went there.
 * @param future the future.
 * @param msg the message (copied), or NULL for none (then the message is "cancelled").
 * @return as cw_future_cancel().
 *
 * @code
 * cw_future_cancel_msg(t, "shutting down");
 * cw_await(t);                           // CW_ECANCELLED
 * printf("%s\n", cw_future_message(t));  // "shutting down"
 * @endcode
 */
int cw_future_cancel_msg(cw_future *future, const char *msg);

/** @brief True once the future has finished, in whatever way. */
bool cw_future_done(const cw_future *future);

/** @brief How the future ended (CW_PENDING while it has not). */
cw_state cw_future_state(const cw_future *future);

/**
 * @brief The result of a resolved future.
 *
 * A task that ended cancelled keeps what its function returned (see cw_task.h):
 * its owner reads it here to free it.
 * @return the result, or NULL when the future is pending or failed, or was
 *         cancelled without a result (every future but a task that returned one).
 */
void *cw_future_result(const cw_future *future);

/**
 * @brief The error of a finished future.
 * @return 0 when resolved, the negative code when failed, CW_ECANCELLED when
 *         cancelled, CW_EPENDING when not finished.
 */
int cw_future_error(const cw_future *future);

/**
 * @brief A message that explains how the future ended.
 * @return the failure message, the cancellation's message (cw_future_cancel_msg()) or
 *         "cancelled", "ok" or "pending"; valid until the future is freed.
 */
const char *cw_future_message(const cw_future *future);

/**
 * @brief Run @p fn(future, arg) once the future has finished.
 *
 * As in asyncio (where every done callback goes through loop.call_soon),
 * callbacks are scheduled, not run at once: when the future finishes inside
 * cw_run(), its callbacks run on a later step of the loop, in the order they
 * were added, together with the tasks that are ready (first in, first out).
 * A callback added to a future that has already finished is scheduled in the
 * same way. So the code that finishes a future (cw_future_resolve(), a
 * cancellation, a combinator's own callback) never runs someone else's callback
 * in the middle of itself: no callback can free or change what that code is
 * still using (re-entrancy), and a long chain of futures finishing each other
 * does not deepen the stack. A task awaiting the future is woken by such a
 * scheduled callback too, as asyncio's Task.__wakeup.
 *
 * Outside cw_run() there is no loop to schedule on: callbacks run at once,
 * inside the call that finished the future (or inside cw_future_on_done() for
 * a finished future).
 * @return 0, CW_EINVAL for a NULL argument, CW_ENOMEM when out of memory.
 *
 * @code
 * static void report(cw_future *f, void *label)
 * {
 *     printf("%s: %s\n", (const char *)label, cw_future_message(f)); // runs inside the loop: never suspend here
 * }
 *
 * cw_future *req = cw_session_get(session, url);
 * cw_future_on_done(req, report, "GET /get"); // prints "GET /get: ok" a loop step after req finishes
 * @endcode
 */
int cw_future_on_done(cw_future *future, cw_done_fn fn, void *arg);

/**
 * @brief Remove a done callback added with the same @p fn and @p arg.
 *
 * A callback that is scheduled but has not run yet is removed too: it will not run.
 * @return 0 when one was removed, CW_EINVAL when none matched.
 */
int cw_future_remove_done(cw_future *future, cw_done_fn fn, void *arg);

/**
 * @brief Take one more reference: the future stays alive until it is released once more.
 * @return @p future, so that `keep = cw_future_retain(f)` reads naturally.
 */
cw_future *cw_future_retain(cw_future *future);

/**
 * @brief Give back one reference; the last one frees the future and the result it owns.
 *
 * Releasing a future does not cancel it: a task or request you no longer hold
 * keeps running. NULL is ignored.
 */
void cw_future_release(cw_future *future);

/**
 * @brief Release every future of an array (NULL entries are skipped).
 * @param futures the array.
 * @param n how many entries it holds.
 */
void cw_future_release_all(cw_future **futures, int n);

#endif
