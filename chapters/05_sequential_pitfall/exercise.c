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
    /* TODO(05.1): for each argument: spawn a task, await it, store its result, release it. */
    (void)fn, (void)args, (void)n, (void)results;
    return CW_EFAILED;
}

int run_all_at_once(cw_task_fn fn, void *const *args, int n, void **results)
{
    /* TODO(05.2): spawn a task for every argument first; then await each, store its result, release them. */
    (void)fn, (void)args, (void)n, (void)results;
    return CW_EFAILED;
}

int fetch_one_by_one(cw_session *session, const char *const *urls, int n, long *statuses)
{
    /* TODO(05.3): for each URL: start a GET, await it, store its status (or error), release it. */
    (void)session, (void)urls, (void)n, (void)statuses;
    return CW_EFAILED;
}

int fetch_all_at_once(cw_session *session, const char *const *urls, int n, long *statuses)
{
    /* TODO(05.4): start every GET first; then await each, store its status (or error), release them. */
    (void)session, (void)urls, (void)n, (void)statuses;
    return CW_EFAILED;
}
