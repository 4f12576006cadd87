/**
 * @file cw_combine.h
 * @brief The asyncio combinators: gather, as_completed and wait.
 *
 * Each takes an array of futures (tasks, requests, anything) and never takes
 * your references: you release the futures you made, as always. Each is built
 * from nothing but done callbacks (cw_future_on_done()), which is what the
 * chapters rebuild by hand.
 */
#ifndef CW_COMBINE_H
#define CW_COMBINE_H

#include <stdbool.h>
#include <stdint.h>
#include "cw_future.h"

/**
 * @brief "No timeout" for cw_wait() and cw_as_completed_new(): asyncio's `timeout=None`.
 *
 * A timeout of 0 is not "none": as asyncio's `timeout=0`, it looks once (on the
 * next loop step, so that futures already finished are seen) and returns.
 */
#define CW_NO_TIMEOUT UINT64_MAX

/**
 * @brief asyncio.gather: one future for many, with the results in input order.
 *
 * The gather future resolves when every child has finished; its result is a
 * `cw_future **` array holding the children in the order given, whatever
 * order they finished in, so slot i is futures[i].
 *
 * - @p return_exceptions false: the gather fails with the first child error at
 *   once, with that child's own code and message, unchanged (asyncio raises the
 *   child's own exception; cw_gather_failed_child() says which child it was). A
 *   cancelled child counts as that child's error, CW_ECANCELLED. The other
 *   children keep running, and later errors stay on their own futures.
 * - @p return_exceptions true: the gather never fails because of a child; each
 *   slot holds a result or an error, to check with cw_future_error().
 *
 * Cancelling the gather cancels every unfinished child, and the gather then
 * *fails* with CW_ECANCELLED (state CW_FAILED, never CW_CANCELLED), as asyncio's
 * gather raises CancelledError without being cancelled() itself: so it counts
 * as a failure for cw_wait()'s CW_FIRST_EXCEPTION. Without return_exceptions it
 * fails as soon as the first child ends cancelled (or failed), with that
 * child's message, while the others may still be cleaning up; with it, once
 * every child has ended, with the message of the last child (in input order)
 * if it ended cancelled (asyncio 3.11's rule). One difference remains: asyncio
 * hands a task's cancellation out once, so its gather has no message when the
 * child's CancelledError was read first (by a task awaiting that child since
 * before the gather was made); the library's gather has it all the same.
 * cw_future_cancel() returns CW_EDONE, and changes nothing, when every child
 * had already finished.
 * @return the gather future (one reference), or NULL for n < 0, a NULL array
 *         or entry, or out of memory. n == 0 gives a gather already resolved.
 *
 * @code
 * cw_future *g = cw_gather(tasks, 3, false);
 * if (cw_await(g) == 0) {
 *     cw_future **slots = cw_future_result(g);
 *     for (int i = 0; i < 3; i++) use(cw_future_result(slots[i]));
 * }
 * cw_future_release(g);
 * @endcode
 */
cw_future *cw_gather(cw_future **futures, int n, bool return_exceptions);

/**
 * @brief The child whose error a failed gather took.
 * @param gather a future made by cw_gather().
 * @return that child (borrowed: not a new reference; valid as long as the gather),
 *         or NULL when the gather has not failed because of a child, or is not a gather.
 *
 * @code
 * if (cw_await(g) < 0 && cw_gather_failed_child(g))
 *     printf("%s failed: %s\n", name_of(cw_gather_failed_child(g)), cw_future_message(g));
 * @endcode
 */
cw_future *cw_gather_failed_child(const cw_future *gather);

/** An as_completed iterator (opaque). */
typedef struct cw_as_completed cw_as_completed;

/**
 * @brief asyncio.as_completed: hand out futures in the order they finish.
 * @param futures the futures to watch (each gets retained until the iterator is freed).
 * @param n how many.
 * @param timeout_ms a deadline for the whole iteration, counted from now, or CW_NO_TIMEOUT;
 *        0 hands out what has already finished, then times out (asyncio's timeout=0).
 * @return the iterator, or NULL for bad arguments or out of memory.
 *
 * @code
 * cw_as_completed *it = cw_as_completed_new(tasks, n, 5000);
 * cw_future *f;
 * while (cw_as_completed_next(it, &f) == 0)
 *     report(f);                       // the very pointer you passed in
 * cw_as_completed_free(it);
 * @endcode
 */
cw_as_completed *cw_as_completed_new(cw_future **futures, int n, uint64_t timeout_ms);

/**
 * @brief Suspend until the next future finishes, and hand it out.
 *
 * The future handed out is one of the originals (not a new reference): use it
 * to map a result back to its request. Past the deadline every call fails with
 * CW_ETIMEDOUT once the futures that finished in time have been handed out,
 * and the unfinished futures are not cancelled: they keep running.
 * @param it the iterator.
 * @param out receives the finished future.
 * @return 0 with *out set; CW_EEOF when every future has been handed out;
 *         CW_ETIMEDOUT past the deadline; CW_ECANCELLED when the calling task
 *         was cancelled; CW_ENOTASK outside a task; CW_EINVAL for NULL.
 *
 * @code
 * cw_as_completed *it = cw_as_completed_new(tasks, n, 250);
 * cw_future *f;
 * int rc;
 * while ((rc = cw_as_completed_next(it, &f)) == 0)
 *     report(f);                              // one of tasks[], the very pointer
 * if (rc == CW_ETIMEDOUT)
 *     puts("the others did not finish in time; they keep running");
 * cw_as_completed_free(it);
 * @endcode
 */
int cw_as_completed_next(cw_as_completed *it, cw_future **out);

/** @brief Free an iterator; its futures are released by it but not cancelled. NULL is ignored. */
void cw_as_completed_free(cw_as_completed *it);

/** When cw_wait() returns. */
typedef enum cw_return_when {
    CW_ALL_COMPLETED,   /**< when every future has finished (the default) */
    CW_FIRST_COMPLETED, /**< when at least one has finished */
    /** when one fails (a cancelled one does not count, as in asyncio, but a cancelled gather has
     *  failed with CW_ECANCELLED, see cw_gather()), else when all have finished;
     *  as asyncio's wait, it reads the errors it sees, so releasing such a future prints no
     *  "nobody read its error" warning */
    CW_FIRST_EXCEPTION,
} cw_return_when;

/** The two sets cw_wait() fills: the original pointers, split into done and pending. */
typedef struct cw_wait_sets {
    cw_future **done;    /**< the finished futures, in input order */
    int n_done;          /**< how many */
    cw_future **pending; /**< the unfinished futures, in input order */
    int n_pending;       /**< how many */
} cw_wait_sets;

/**
 * @brief asyncio.wait: suspend until @p when holds or the timeout expires, then split the futures.
 *
 * A timeout is not an error: cw_wait() returns 0 with whatever is done so far,
 * and cancels nothing. Several futures finishing in the same loop turn can all
 * be in done, even with CW_FIRST_COMPLETED.
 * @param futures the futures (not retained: keep your own references).
 * @param n how many; 0 is an error, as in asyncio.
 * @param when the condition.
 * @param timeout_ms the longest wait, or CW_NO_TIMEOUT; 0 looks once and returns
 *        (asyncio's timeout=0: done holds what had already finished).
 * @param sets filled on return; free its arrays with cw_wait_sets_free().
 * @return 0, CW_EINVAL for an empty or NULL input, CW_ECANCELLED when the
 *         calling task was cancelled, CW_ENOTASK outside a task.
 *
 * @code
 * cw_wait_sets sets;
 * if (cw_wait(tasks, n, CW_FIRST_COMPLETED, 1000, &sets) == 0) {
 *     printf("%d done, %d pending\n", sets.n_done, sets.n_pending);
 *     for (int i = 0; i < sets.n_pending; i++)
 *         cw_future_cancel(sets.pending[i]); // wait cancels nothing by itself
 *     cw_wait_sets_free(&sets);
 * }
 * @endcode
 */
int cw_wait(cw_future **futures, int n, cw_return_when when, uint64_t timeout_ms, cw_wait_sets *sets);

/** @brief Free the arrays of a cw_wait_sets (not the futures in them). */
void cw_wait_sets_free(cw_wait_sets *sets);

#endif
