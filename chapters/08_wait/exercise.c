/*
 * exercise.c -- exercise 08: the library's wait on real requests (part 1),
 * then a small wait of your own built from done callbacks (part 2). See
 * exercise.h for the contract, hints.md when stuck, and `make grade CH=08`
 * to check your work.
 */
#include <stdlib.h>
#include "exercise.h"

/* ---- Part 1 ---- */

int fetch_and_wait(cw_session *session, const char *const *urls, int n, cw_return_when when,
                   uint64_t timeout_ms, outcome *outcomes)
{
    /* TODO(08.1): start a GET of every URL and call cw_wait() once. For each
     * request in sets.done, find its index among yours and record its error,
     * or its status when the error is 0. Cancel each request in sets.pending
     * and record it as not done, CW_ECANCELLED. Free the sets, release the
     * requests, return sets.n_done. */
    (void)session;
    (void)urls;
    (void)n;
    (void)when;
    (void)timeout_ms;
    (void)outcomes;
    return CW_EFAILED;
}

int fetch_until_none_pending(cw_session *session, const char *const *urls, int n, int *order, int *rounds)
{
    /* TODO(08.2): start a GET of every URL; while some are pending, cw_wait()
     * on the pending ones with CW_FIRST_COMPLETED, append the index of each
     * request in sets.done to order, and keep sets.pending for the next round. */
    (void)session;
    (void)urls;
    (void)n;
    (void)order;
    if (rounds)
        *rounds = 0;
    return CW_EFAILED;
}

/* ---- Part 2 ---- */

int my_wait(cw_future **futures, int n, cw_return_when when, uint64_t timeout_ms, cw_wait_sets *sets)
{
    /* TODO(08.3): reject an empty input. Add a done callback to every future
     * (and, with a timeout, to a task that sleeps timeout_ms) that resolves a
     * future you await once `when` holds. After the await, remove the
     * callbacks, stop the timer, and split the futures into sets->done and
     * sets->pending (malloc'd, input order) by cw_future_done(). */
    (void)futures;
    (void)n;
    (void)when;
    (void)timeout_ms;
    if (sets)
        *sets = (cw_wait_sets){ 0 };
    return CW_EFAILED;
}
