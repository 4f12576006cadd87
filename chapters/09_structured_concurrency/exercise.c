/*
 * exercise.c -- exercise 09: fetch a batch in a task group (part 1), under one
 * deadline (part 2), with never more than k requests in flight (part 3). See
 * exercise.h for the contract, hints.md when stuck, and `make grade CH=09` to
 * check your work.
 */
#include <stdlib.h>
#include "exercise.h"

/* ---- Part 1 ---- */

int fetch_all(cw_session *session, const char *const *urls, int n, fetch_result *results)
{
    /* TODO(09.1): set every result to {0, CW_ECANCELLED}; enter a task group and
     * spawn one task per URL into it. Each task GETs its URL, writes its result
     * and, when the result is an error, returns cw_fail(error, ...). Then
     * cw_task_group_exit(group, 0), cw_task_group_free(group), and return what
     * exit said. */
    (void)session;
    (void)urls;
    (void)n;
    (void)results;
    return CW_EFAILED;
}

/* ---- Part 2 ---- */

int fetch_all_within(cw_session *session, const char *const *urls, int n, uint64_t deadline_ms,
                     fetch_result *results)
{
    /* TODO(09.2): cw_timeout_enter(&scope, deadline_ms); run the task group of
     * part 1; return cw_timeout_exit(scope, what the group said). */
    (void)session;
    (void)urls;
    (void)n;
    (void)deadline_ms;
    (void)results;
    return CW_EFAILED;
}

/* ---- Part 3 ---- */

int fetch_bounded(cw_session *session, const char *const *urls, int n, int k, fetch_result *results)
{
    /* TODO(09.3): a semaphore of k; one task per URL in a task group; each task
     * acquires a slot, fetches, writes its result, releases the slot. A failed
     * fetch does not fail the task (only a cancellation ends it cancelled). */
    (void)session;
    (void)urls;
    (void)n;
    (void)k;
    (void)results;
    return CW_EFAILED;
}
