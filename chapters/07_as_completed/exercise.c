/*
 * exercise.c -- exercise 07: handle requests as they complete with the
 * library's as_completed (part 1), then build a small as_completed of your own
 * (part 2). See exercise.h for the contract, hints.md when stuck, and
 * `make grade CH=07` to check your work.
 */
#include <stdlib.h>
#include "exercise.h"

/* ---- Part 1 ---- */

int fetch_as_completed(cw_session *session, const char *const *urls, int n, uint64_t timeout_ms,
                       arrival *steps, int *still_running)
{
    /* TODO(07.1): fetch_as_completed() as exercise.h states it. */
    (void)session;
    (void)urls;
    (void)n;
    (void)timeout_ms;
    (void)steps;
    (void)still_running;
    return CW_EFAILED;
}

/* ---- Part 2 ---- */

int my_as_completed_init(my_as_completed *it, cw_future **futures, int n, uint64_t timeout_ms)
{
    /* TODO(07.2): my_as_completed_init() as exercise.h states it. Callbacks and helpers go above it. */
    if (it)
        *it = (my_as_completed){ 0 };
    (void)futures;
    (void)n;
    (void)timeout_ms;
    return CW_EFAILED;
}

int my_as_completed_next(my_as_completed *it, cw_future **out)
{
    /* TODO(07.3): my_as_completed_next() as exercise.h states it. */
    (void)it;
    if (out)
        *out = NULL;
    return CW_EFAILED;
}

void my_as_completed_cleanup(my_as_completed *it)
{
    /* TODO(07.4): my_as_completed_cleanup() as exercise.h states it. */
    (void)it;
}
