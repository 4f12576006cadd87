/**
 * @file exercise.h
 * @brief Exercise 07: results as they complete, with the library's as_completed and with your own.
 *
 * Part 1, fetch_as_completed(): start every request at once, then handle each
 * one the moment it finishes with cw_as_completed_new()/cw_as_completed_next(),
 * mapping every finished request back to its URL; past the timeout, record the
 * remaining steps as timed out and cancel the requests still running.
 *
 * Part 2, my_as_completed_*(): build a small as_completed yourself, from a
 * queue that done callbacks fill and a future that next() awaits, with the
 * same contract as the library's (cw_combine.h). All the functions that
 * suspend must be called inside a task.
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
 * Start a GET of every URL through @p session, then take exactly @p n steps of
 * cw_as_completed_next(): step k fills steps[k]. A step that hands out a
 * request records which URL it was (the iterator gives back your own request
 * future: find it among yours) and its status, or its error when it failed.
 * A step that fails with CW_ETIMEDOUT records index -1 and CW_ETIMEDOUT.
 *
 * Before returning: count the requests still running (they were not
 * cancelled by the timeout), then cancel them, and release everything.
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
 * follow; the tests only call the three functions below.
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
 * Retains every future and adds a done callback to each, which appends it to
 * the queue (a future already finished goes in too). With a timeout,
 * starts a deadline (a task that sleeps @p timeout_ms) whose done callback
 * marks the iterator timed out; futures that finish after that are never
 * handed out.
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
 * @brief Stop watching: remove the callbacks, stop the deadline, release the futures.
 *
 * Cancels nothing but the deadline: the futures still running keep running.
 * Safe on a zeroed iterator (init zeroes it first, even when it fails) and
 * safe to call twice.
 * @param it the iterator.
 */
void my_as_completed_cleanup(my_as_completed *it);

#endif
