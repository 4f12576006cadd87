/*
 * exercise.c -- reference solution of exercise 05: the same work done one by
 * one (create and await in one step) and all at once (create all, then await).
 */
#include <stdlib.h>
#include "exercise.h"

int run_one_by_one(cw_task_fn fn, void *const *args, int n, void **results)
{
    int first_error = 0;
    for (int i = 0; i < n; i++) {
        cw_future *task = cw_spawn(fn, args[i]);
        int rc = task ? cw_await(task) : CW_ENOMEM;
        results[i] = rc == 0 ? cw_future_result(task) : NULL;
        if (rc < 0 && first_error == 0)
            first_error = rc;
        cw_future_release(task);
    }
    return first_error;
}

int run_all_at_once(cw_task_fn fn, void *const *args, int n, void **results)
{
    cw_future **tasks = calloc(n > 0 ? n : 1, sizeof *tasks);
    if (!tasks)
        return CW_ENOMEM;
    for (int i = 0; i < n; i++)          /* create them all: none has run yet */
        tasks[i] = cw_spawn(fn, args[i]);
    int first_error = 0;
    for (int i = 0; i < n; i++) {        /* then await them, in order */
        int rc = tasks[i] ? cw_await(tasks[i]) : CW_ENOMEM;
        results[i] = rc == 0 ? cw_future_result(tasks[i]) : NULL;
        if (rc < 0 && first_error == 0)
            first_error = rc;
    }
    cw_future_release_all(tasks, n);
    free(tasks);
    return first_error;
}

int fetch_one_by_one(cw_session *session, const char *const *urls, int n, long *statuses)
{
    int first_error = 0;
    for (int i = 0; i < n; i++) {
        cw_future *request = cw_session_get(session, urls[i]);
        int rc = request ? cw_await(request) : CW_ENOMEM;
        statuses[i] = rc == 0 ? cw_response_of(request)->status : rc;
        if (rc < 0 && first_error == 0)
            first_error = rc;
        cw_future_release(request);
    }
    return first_error;
}

int fetch_all_at_once(cw_session *session, const char *const *urls, int n, long *statuses)
{
    cw_future **requests = calloc(n > 0 ? n : 1, sizeof *requests);
    if (!requests)
        return CW_ENOMEM;
    for (int i = 0; i < n; i++)
        requests[i] = cw_session_get(session, urls[i]);
    int first_error = 0;
    for (int i = 0; i < n; i++) {
        int rc = requests[i] ? cw_await(requests[i]) : CW_ENOMEM;
        statuses[i] = rc == 0 ? cw_response_of(requests[i])->status : rc;
        if (rc < 0 && first_error == 0)
            first_error = rc;
    }
    cw_future_release_all(requests, n);
    free(requests);
    return first_error;
}
