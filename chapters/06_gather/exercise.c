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
    /* TODO(06.1): fetch_all() as exercise.h states it. */
    (void)session, (void)urls, (void)n, (void)statuses;
    return CW_EFAILED;
}

int fetch_all_or_fail(cw_session *session, const char *const *urls, int n, long *statuses)
{
    /* TODO(06.2): fetch_all_or_fail() as exercise.h states it. */
    (void)session, (void)urls, (void)n, (void)statuses;
    return CW_EFAILED;
}

int fetch_successes(cw_session *session, const char *const *urls, int n, long *statuses)
{
    /* TODO(06.3): fetch_successes() as exercise.h states it. */
    (void)session, (void)urls, (void)n, (void)statuses;
    return CW_EFAILED;
}

/* ---- Part 2 ---- */

cw_future *gather_by_hand(cw_future **futures, int n, bool return_exceptions)
{
    /* TODO(06.4): gather_by_hand() as exercise.h states it. Its done callback (and any state it needs)
     * goes above this function. */
    (void)futures, (void)n, (void)return_exceptions;
    return NULL;
}
