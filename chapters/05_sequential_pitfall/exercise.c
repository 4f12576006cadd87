/*
 * exercise.c -- exercise 05: write the sequential pitfall on purpose, then fix it.
 *
 * Implement the four functions declared (and specified) in exercise.h, then
 * run `make grade CH=05`. Hints, from a nudge to nearly the answer: hints.md.
 */
#include <stdlib.h>
#include "exercise.h"

int run_one_by_one(cw_task_fn fn, void *const *args, int n, void **results)
{
    /* TODO(05.1): run_one_by_one() as exercise.h states it. */
    (void)fn, (void)args, (void)n, (void)results;
    return CW_EFAILED;
}

int run_all_at_once(cw_task_fn fn, void *const *args, int n, void **results)
{
    /* TODO(05.2): run_all_at_once() as exercise.h states it. */
    (void)fn, (void)args, (void)n, (void)results;
    return CW_EFAILED;
}

int fetch_one_by_one(cw_session *session, const char *const *urls, int n, long *statuses)
{
    /* TODO(05.3): fetch_one_by_one() as exercise.h states it. */
    (void)session, (void)urls, (void)n, (void)statuses;
    return CW_EFAILED;
}

int fetch_all_at_once(cw_session *session, const char *const *urls, int n, long *statuses)
{
    /* TODO(05.4): fetch_all_at_once() as exercise.h states it. */
    (void)session, (void)urls, (void)n, (void)statuses;
    return CW_EFAILED;
}
