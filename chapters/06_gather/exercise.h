/**
 * @file exercise.h
 * @brief Exercise 06: gather. Part 1 uses cw_gather() on real requests; part 2 builds a small gather by hand.
 *
 * The fetch functions suspend the calling task: call them inside a task
 * (cw_run(), cw_spawn()). gather_by_hand() does not suspend: it only adds done
 * callbacks, so it works on any futures, inside a task or not.
 */
#ifndef EXERCISE_06_H
#define EXERCISE_06_H

#include <stdbool.h>
#include "cw.h"

/* ---- Part 1: cw_gather() on real requests ---- */

/**
 * @brief GET every URL at the same time and report each one, with cw_gather() and return_exceptions on.
 *
 * `await asyncio.gather(*requests, return_exceptions=True)`: the requests run
 * at the same time, and statuses[i] belongs to urls[i] whatever order they
 * finished in. A failed request fails nothing else. Everything created is
 * released before returning.
 * @param session an open session.
 * @param urls the n URLs.
 * @param n how many.
 * @param statuses receives statuses[i] for urls[i]: the HTTP status, or the
 *        request's negative error code when it got no response.
 * @return 0 (the errors are in their slots), or CW_ENOMEM.
 */
int fetch_all(cw_session *session, const char *const *urls, int n, long *statuses);

/**
 * @brief The same with return_exceptions off: the first error comes back at once.
 *
 * `await asyncio.gather(*requests)`: when a request fails, return its error
 * the moment it happens, without waiting for the others; they are not
 * cancelled and keep running (releasing a request does not cancel it).
 * @param session an open session.
 * @param urls the n URLs.
 * @param n how many.
 * @param statuses receives statuses[i] for urls[i] when every request got a response (left as it was otherwise).
 * @return 0 when every request got a response (a 404 is a response), else the error of the first request to fail.
 */
int fetch_all_or_fail(cw_session *session, const char *const *urls, int n, long *statuses);

/**
 * @brief GET every URL at the same time, then keep only the requests that got a response.
 *
 * `[r for r in await asyncio.gather(*requests, return_exceptions=True) if not isinstance(r, Exception)]`.
 * @param session an open session.
 * @param urls the n URLs.
 * @param n how many.
 * @param statuses receives the statuses of the requests that got a response,
 *        in input order, packed at the front: statuses[0] .. statuses[k - 1].
 * @return k, how many requests got a response; or CW_ENOMEM.
 */
int fetch_successes(cw_session *session, const char *const *urls, int n, long *statuses);

/* ---- Part 2: a gather of your own, from futures and done callbacks ---- */

/** How one child of gather_by_hand() ended. */
typedef struct gather_slot {
    void *value; /**< the child's result when it resolved, else NULL (borrowed: valid while the child lives) */
    int error;   /**< 0 when it resolved, else its error code (CW_ECANCELLED when it was cancelled) */
} gather_slot;

/**
 * @brief A small asyncio.gather of your own, built from futures and done callbacks (no cw_gather()).
 *
 * The returned future resolves once every child has finished, not before; its
 * result is an array of @p n gather_slot that the future owns: slot i
 * describes futures[i], whatever order the children finished in.
 *
 * - @p return_exceptions false: the moment a child fails or is cancelled, the
 *   gather fails with that child's error code and message. The other children
 *   are not cancelled, and what they do afterwards changes nothing.
 * - @p return_exceptions true: the gather never fails; each slot holds a value or an error.
 * - A child counts as finished when its done callback runs: for a child that
 *   had finished already, outside a loop that is at once, so such a gather is
 *   finished when gather_by_hand() returns (inside cw_run(), on a later step).
 * - n == 0: the gather is finished (resolved) when gather_by_hand() returns.
 *
 * The caller keeps its own references to the children and keeps them alive
 * until they finish. Nothing may leak: once every child has finished and the
 * caller has released the gather, everything gather_by_hand() allocated is
 * freed and it holds no reference to any future, even when the caller
 * released the gather before the children finished.
 * @param futures the n children.
 * @param n how many (n >= 0).
 * @param return_exceptions as in asyncio.gather().
 * @return the gather future (one reference for the caller), or NULL when out of memory.
 */
cw_future *gather_by_hand(cw_future **futures, int n, bool return_exceptions);

#endif
