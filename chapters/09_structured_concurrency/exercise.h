/**
 * @file exercise.h
 * @brief Exercise 09: structured concurrency: a task group, a deadline over a whole batch, a bounded fetcher.
 *
 * Part 1: fetch_all() fetches every URL in a task group, so that the first
 * failure cancels the rest and nothing outlives the call.
 * Part 2: fetch_all_within() puts one deadline (a timeout scope) over the
 * whole batch.
 * Part 3: fetch_bounded() fetches every URL with never more than k requests in
 * flight (a semaphore), whatever the session's connection limit.
 * All the functions here suspend, so call them inside a task.
 */
#ifndef EXERCISE_09_H
#define EXERCISE_09_H

#include <stdint.h>
#include "cw.h"

/** How one URL's fetch ended. */
typedef struct fetch_result {
    long status; /**< the response's HTTP status when a response came; else 0 */
    int error;   /**< 0 for a status below 400; CW_EHTTP for a status of 400 or more; the request's own error
                      (e.g. CW_ESCHEME) when it failed; CW_ECANCELLED when it was cancelled or never started */
} fetch_result;

/* ---- Part 1: a task group ---- */

/**
 * @brief Fetch every URL concurrently in a task group; the first failure cancels the rest.
 *
 * Set every result to {0, CW_ECANCELLED} first (a task cancelled before it
 * starts never writes its own). Then spawn one task per URL into a task group
 * (cw_task_group_enter(), cw_task_group_spawn()). Each task GETs its URL
 * through @p session, writes its result, and fails (cw_fail()) when the result
 * is an error: with the request's own error, or with CW_EHTTP for a status of
 * 400 or more. Leave the group with cw_task_group_exit(): it waits for every
 * task, and the first failure has cancelled the others (their requests are
 * cancelled, which closes their connections). Free the group before returning.
 * @param session an open session.
 * @param urls the URLs.
 * @param n how many (at least 1).
 * @param results n slots: results[i] for urls[i].
 * @return 0 when every fetch succeeded; CW_EGROUP when some failed (the results
 *         say which); CW_ECANCELLED when the calling task was cancelled; CW_EINVAL
 *         for bad arguments.
 */
int fetch_all(cw_session *session, const char *const *urls, int n, fetch_result *results);

/* ---- Part 2: a deadline over the whole batch ---- */

/**
 * @brief fetch_all() under one deadline: `async with asyncio.timeout(deadline): ...fetch_all...`.
 *
 * Enter a timeout scope of @p deadline_ms (cw_timeout_enter()), run the same
 * task group as fetch_all() inside it, and leave the scope with what the group
 * came to (cw_timeout_exit()). At the deadline the scope cancels the calling
 * task, so the group cancels its tasks; fetches that had finished keep their
 * results. The scope, not you, decides whether a cancellation was the
 * deadline: a cancellation of the calling task from outside stays
 * CW_ECANCELLED, even when the deadline passes too.
 * @param session an open session.
 * @param urls the URLs.
 * @param n how many (at least 1).
 * @param deadline_ms the time the whole batch may take.
 * @param results n slots, as in fetch_all().
 * @return 0 when every fetch succeeded in time; CW_ETIMEDOUT when the deadline
 *         passed first; CW_EGROUP when some failed before it; CW_ECANCELLED when
 *         the calling task was cancelled; CW_EINVAL for bad arguments.
 */
int fetch_all_within(cw_session *session, const char *const *urls, int n, uint64_t deadline_ms,
                     fetch_result *results);

/* ---- Part 3: never more than k in flight ---- */

/**
 * @brief Fetch every URL with at most @p k requests in flight at any time.
 *
 * Spawn one task per URL into a task group, as before, but each task takes a
 * slot of a semaphore of @p k (cw_semaphore_new(), cw_semaphore_acquire())
 * before its request and gives it back (cw_semaphore_release()) once its
 * response or error is in, whatever happened. A failed fetch here is only a
 * result: it does not fail its task, and the other URLs are still fetched.
 * Use the session as it is (do not open another one, do not change its limit).
 * @param session an open session, with a connection limit of k or more.
 * @param urls the URLs.
 * @param n how many (at least 1).
 * @param k the most requests in flight at once (at least 1).
 * @param results n slots, as in fetch_all().
 * @return 0 once every URL has been fetched (some results may be errors);
 *         CW_ECANCELLED when the calling task was cancelled (every request is
 *         cancelled then); CW_EINVAL for bad arguments (k < 1 included).
 */
int fetch_bounded(cw_session *session, const char *const *urls, int n, int k, fetch_result *results);

#endif
