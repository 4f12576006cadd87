/*
 * exercise.c -- exercise 09 (reference solution): one task per URL in a task
 * group (part 1), the same group under a timeout scope (part 2), and a
 * semaphore that lets only k of the group's tasks hold a request (part 3).
 */
#include <stdlib.h>
#include "exercise.h"

/* What one task of the group needs. */
typedef struct job {
    cw_session *session;
    const char *url;
    fetch_result *result;
    cw_semaphore *slots; /* part 3 only */
} job;

/* GET one URL and write its result: its error, CW_EHTTP for a status of 400 or more, else 0. */
static int fetch_into(job *j)
{
    cw_future *request = cw_session_get(j->session, j->url);
    int rc = cw_await(request);
    if (rc == 0) {
        j->result->status = cw_response_of(request)->status;
        if (j->result->status >= 400)
            rc = CW_EHTTP;
    }
    j->result->error = rc;
    cw_future_release(request);
    return rc;
}

/* A task of parts 1 and 2: a failed fetch fails the task, which cancels the rest of the group. */
static void *fetch_task(void *arg)
{
    job *j = arg;
    int rc = fetch_into(j);
    if (rc < 0)
        return cw_fail(rc, "GET %s: %s", j->url, cw_strerror(rc));
    return NULL;
}

static bool valid(cw_session *session, const char *const *urls, int n, fetch_result *results)
{
    return session && urls && n >= 1 && results;
}

/* Every task that never runs its function leaves CW_ECANCELLED behind. */
static job *prepare(cw_session *session, const char *const *urls, int n, fetch_result *results)
{
    job *jobs = calloc((size_t)n, sizeof *jobs);
    for (int i = 0; jobs && i < n; i++) {
        results[i] = (fetch_result){ .status = 0, .error = CW_ECANCELLED };
        jobs[i] = (job){ session, urls[i], &results[i], NULL };
    }
    return jobs;
}

/* The group of parts 1 and 2: one task per job; what exit says. */
static int run_group(job *jobs, int n, cw_task_fn fn)
{
    cw_task_group *group;
    int rc = cw_task_group_enter(&group);
    if (rc < 0)
        return rc;
    for (int i = 0; i < n; i++)
        if (!cw_task_group_spawn(group, fn, &jobs[i], jobs[i].url))
            break; /* the group is shutting down: a task has already failed */
    rc = cw_task_group_exit(group, 0);
    cw_task_group_free(group);
    return rc;
}

/* ---- Part 1 ---- */

int fetch_all(cw_session *session, const char *const *urls, int n, fetch_result *results)
{
    if (!valid(session, urls, n, results))
        return CW_EINVAL;
    job *jobs = prepare(session, urls, n, results);
    if (!jobs)
        return CW_ENOMEM;
    int rc = run_group(jobs, n, fetch_task);
    free(jobs);
    return rc;
}

/* ---- Part 2 ---- */

int fetch_all_within(cw_session *session, const char *const *urls, int n, uint64_t deadline_ms,
                     fetch_result *results)
{
    if (!valid(session, urls, n, results))
        return CW_EINVAL;
    job *jobs = prepare(session, urls, n, results);
    if (!jobs)
        return CW_ENOMEM;
    cw_timeout *deadline;
    int rc = cw_timeout_enter(&deadline, deadline_ms);
    if (rc == 0) {
        rc = run_group(jobs, n, fetch_task);
        rc = cw_timeout_exit(deadline, rc); /* CW_ECANCELLED becomes CW_ETIMEDOUT when it was the deadline */
    }
    free(jobs);
    return rc;
}

/* ---- Part 3 ---- */

/* A task of part 3: wait for a slot, fetch, give the slot back. A failed fetch is only a result. */
static void *bounded_task(void *arg)
{
    job *j = arg;
    if (cw_semaphore_acquire(j->slots) < 0)
        return cw_fail(CW_ECANCELLED, "cancelled while waiting for a slot");
    int rc = fetch_into(j);
    cw_semaphore_release(j->slots);
    if (rc == CW_ECANCELLED)
        return cw_fail(rc, "cancelled");
    return NULL;
}

int fetch_bounded(cw_session *session, const char *const *urls, int n, int k, fetch_result *results)
{
    if (!valid(session, urls, n, results) || k < 1)
        return CW_EINVAL;
    job *jobs = prepare(session, urls, n, results);
    cw_semaphore *slots = cw_semaphore_new(k);
    int rc = CW_ENOMEM;
    if (jobs && slots) {
        for (int i = 0; i < n; i++)
            jobs[i].slots = slots;
        rc = run_group(jobs, n, bounded_task);
    }
    cw_semaphore_free(slots);
    free(jobs);
    return rc;
}
