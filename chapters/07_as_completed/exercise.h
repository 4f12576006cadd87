/**
 * @file exercise.h
 * @brief Exercise 07: results as they complete, with the library's as_completed and with your own.
 *
 * Part 1, fetch_as_completed(): requests handled in the order they complete,
 * with the library's cw_as_completed_new()/cw_as_completed_next().
 *
 * Part 2, my_as_completed_*(): a small as_completed of your own, built from
 * futures and done callbacks (no cw_as_completed_*), with the contract below,
 * which is the library's (cw_combine.h). All the functions that suspend must
 * be called inside a task.
 */
#ifndef EXERCISE_07_H
#define EXERCISE_07_H

#include <stdbool.h>
#include <stdint.h>
#include "cw.h"

/* ---- Part 1: the library's as_completed on real requests ---- */

/** One step of an as_completed loop: which request it handed out, and how that request ended. */
typedef struct arrival {
    int index;   /**< the request handed out: urls[index]; -1 for a step that timed out */
    long status; /**< the response's HTTP status; 0 when the request failed or the step timed out */
    int error;   /**< 0; the request's error (e.g. CW_ESCHEME); or CW_ETIMEDOUT for a step past the deadline */
} arrival;

/**
 * @brief Fetch @p n URLs concurrently and record them in the order they complete.
 *
 * The requests run at the same time through @p session. Exactly @p n steps of
 * an as_completed iterator are taken, and step k fills steps[k]: a step that
 * hands out a request records which URL it was and that request's status, or
 * its error when it failed; a step that fails with CW_ETIMEDOUT records index
 * -1 and CW_ETIMEDOUT.
 *
 * When the loop is over, the requests still running (the timeout cancels
 * none) are counted in @p still_running, then cancelled: none is left running
 * when fetch_as_completed() returns, and nothing it created is left.
 * @param session an open session.
 * @param urls the URLs.
 * @param n how many (at least 1).
 * @param timeout_ms a deadline for the whole loop; 0 = none.
 * @param steps n slots, filled in completion order.
 * @param still_running receives how many requests had not finished when the loop ended.
 * @return how many steps handed out a request (n when nothing timed out), or
 *         CW_EINVAL for bad arguments.
 */
int fetch_as_completed(cw_session *session, const char *const *urls, int n, uint64_t timeout_ms,
                       arrival *steps, int *still_running);

/* ---- Part 2: a small as_completed of your own ---- */

/**
 * Your as_completed iterator. The fields are a suggestion that the hints
 * follow; the tests only call the three functions below (and, once cleanup
 * has returned, use the iterator's memory for something else).
 */
typedef struct my_as_completed {
    cw_future **futures;   /**< the futures watched, each retained until cleanup */
    int n;                 /**< how many */
    cw_future **finished;  /**< the queue: futures in the order they finished, n slots */
    int n_finished;        /**< how many are in the queue */
    int n_handed_out;      /**< how many steps next() has taken (results and timeouts) */
    cw_future *wakeup;     /**< while next() waits: the future it awaits, resolved by a callback */
    cw_future *deadline;   /**< a task that sleeps until the deadline, or NULL without a timeout */
    bool timed_out;        /**< the deadline has passed */
} my_as_completed;

/**
 * @brief Start watching @p n futures: asyncio.as_completed(futures, timeout=...).
 *
 * From now until cleanup the iterator notes the order in which the futures
 * finish (one finished already counts as finishing first), and keeps every
 * future alive itself: the caller may release its own references at once.
 * With a timeout, the deadline is @p timeout_ms from now; a future that
 * finishes after the deadline is never handed out. Nothing is cancelled: not
 * by init, not by the deadline.
 * @param it the iterator to fill.
 * @param futures the futures (not taken: the caller keeps its references).
 * @param n how many (0 is allowed: next() then returns CW_EEOF at once).
 * @param timeout_ms the deadline for the whole iteration, from now; 0 = none.
 * @return 0, CW_EINVAL for bad arguments, CW_ENOMEM; on failure @p it is
 *         left zeroed, with nothing retained.
 */
int my_as_completed_init(my_as_completed *it, cw_future **futures, int n, uint64_t timeout_ms);

/**
 * @brief The next step: suspend until a future finishes, and hand out that future.
 *
 * Futures that finished before the deadline are handed out first, even by a
 * step taken after it; every other step past the deadline fails with
 * CW_ETIMEDOUT, one per future unfinished at the deadline, and a future that
 * finishes after the deadline is never handed out.
 * @param it the iterator.
 * @param out receives the finished future: one of the originals, not a new reference.
 * @return 0 with *out set; CW_ETIMEDOUT for a step past the deadline (the
 *         futures still running are not cancelled); CW_EEOF once n steps were
 *         taken; CW_ECANCELLED when the calling task was cancelled.
 */
int my_as_completed_next(my_as_completed *it, cw_future **out);

/**
 * @brief Stop watching: let go of the futures, and stop the deadline.
 *
 * After cleanup nothing of the iterator is left anywhere: no callback of it
 * remains on a future or on whatever measures the deadline (the memory of
 * @p it may be reused or freed at once), and every reference it held is
 * released. Cancels nothing but its own deadline: the futures still running
 * keep running. Safe on a zeroed iterator (init zeroes it first, even when it
 * fails) and safe to call twice.
 * @param it the iterator.
 */
void my_as_completed_cleanup(my_as_completed *it);

#endif
