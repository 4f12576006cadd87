/*
 * exercise.c -- exercise 06: gather requests with cw_gather() (part 1), then
 * build a small gather of your own from done callbacks (part 2).
 *
 * Implement the functions declared (and specified) in exercise.h, then run
 * `make grade CH=06`. Hints, from a nudge to nearly the answer: hints.md.
 */
#include <stdlib.h>
#include "exercise.h"

/* ---- Part 1 ---- */

int fetch_all(cw_session *session, const char *const *urls, int n, long *statuses)
{
    /* TODO(06.1): start every GET, cw_gather() them with return_exceptions on, await the gather,
     * and fill statuses[] from its slots (status, or the request's error code). */
    (void)session, (void)urls, (void)n, (void)statuses;
    return CW_EFAILED;
}

int fetch_all_or_fail(cw_session *session, const char *const *urls, int n, long *statuses)
{
    /* TODO(06.2): the same with return_exceptions off: when awaiting the gather fails, return that error. */
    (void)session, (void)urls, (void)n, (void)statuses;
    return CW_EFAILED;
}

int fetch_successes(cw_session *session, const char *const *urls, int n, long *statuses)
{
    /* TODO(06.3): gather with return_exceptions on, then keep only the slots without an error. */
    (void)session, (void)urls, (void)n, (void)statuses;
    return CW_EFAILED;
}

/* ---- Part 2 ---- */

cw_future *gather_by_hand(cw_future **futures, int n, bool return_exceptions)
{
    /* TODO(06.4): make a future; add a done callback to every child that fills the child's slot,
     * fails the future on the first error (return_exceptions off) and resolves it after the last child. */
    (void)futures, (void)n, (void)return_exceptions;
    return NULL;
}
