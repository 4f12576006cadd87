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
    /* TODO(08.1): fetch_and_wait() as exercise.h states it. */
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
    /* TODO(08.2): fetch_until_none_pending() as exercise.h states it. */
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
    /* TODO(08.3): my_wait() as exercise.h states it. Its callbacks (and what they share) go above it. */
    (void)futures;
    (void)n;
    (void)when;
    (void)timeout_ms;
    if (sets)
        *sets = (cw_wait_sets){ 0 };
    return CW_EFAILED;
}
