/*
 * exercise.c -- exercise 07 (reference solution): handle requests as they
 * complete with the library's as_completed, then a small as_completed built
 * from done callbacks, a queue and a wake-up future.
 */
#include <stdlib.h>
#include "exercise.h"

/* ---- Part 1 ---- */

/* The iterator hands back our own request future: its position in our array is its URL. */
static int index_of(cw_future *const *requests, int n, const cw_future *request)
{
    for (int i = 0; i < n; i++)
        if (requests[i] == request)
            return i;
    return -1;
}

int fetch_as_completed(cw_session *session, const char *const *urls, int n, uint64_t timeout_ms,
                       arrival *steps, int *still_running)
{
    if (!session || !urls || n < 1 || !steps || !still_running)
        return CW_EINVAL;
    cw_future **requests = calloc((size_t)n, sizeof *requests);
    if (!requests)
        return CW_ENOMEM;
    for (int i = 0; i < n; i++)
        requests[i] = cw_session_get(session, urls[i]);

    cw_as_completed *it = cw_as_completed_new(requests, n, timeout_ms ? timeout_ms : CW_NO_TIMEOUT);
    int handed_out = 0;
    for (int k = 0; k < n; k++) {
        cw_future *request = NULL;
        int rc = it ? cw_as_completed_next(it, &request) : CW_ENOMEM;
        steps[k] = (arrival){ .index = -1, .error = rc };
        if (rc != 0)
            continue; /* CW_ETIMEDOUT: this step gets no request */
        handed_out++;
        steps[k].index = index_of(requests, n, request);
        steps[k].error = cw_future_error(request);
        if (steps[k].error == 0)
            steps[k].status = cw_response_of(request)->status;
    }
    cw_as_completed_free(it);

    /* The timeout cancelled nothing: what is still running is ours to stop. */
    *still_running = 0;
    for (int i = 0; i < n; i++) {
        if (!cw_future_done(requests[i])) {
            ++*still_running;
            cw_future_cancel(requests[i]);
        }
    }
    cw_future_release_all(requests, n);
    free(requests);
    return handed_out;
}

/* ---- Part 2 ---- */

static void on_finished(cw_future *future, void *arg)
{
    my_as_completed *it = arg;
    if (it->timed_out)
        return; /* finished too late: never handed out */
    it->finished[it->n_finished++] = future;
    if (it->wakeup)
        cw_future_resolve(it->wakeup, NULL, NULL);
}

static void on_deadline(cw_future *deadline, void *arg)
{
    (void)deadline; /* cleanup removes this callback before it cancels the deadline: this is a timeout */
    my_as_completed *it = arg;
    it->timed_out = true;
    if (it->wakeup)
        cw_future_resolve(it->wakeup, NULL, NULL);
}

static void *sleep_until_deadline(void *arg)
{
    cw_sleep((uint64_t)(uintptr_t)arg);
    return NULL;
}

int my_as_completed_init(my_as_completed *it, cw_future **futures, int n, uint64_t timeout_ms)
{
    if (!it)
        return CW_EINVAL;
    *it = (my_as_completed){ 0 };
    if (n < 0 || (n > 0 && !futures))
        return CW_EINVAL;
    for (int i = 0; i < n; i++)
        if (!futures[i])
            return CW_EINVAL;
    it->futures = malloc((size_t)(n ? n : 1) * sizeof *it->futures);
    it->finished = malloc((size_t)(n ? n : 1) * sizeof *it->finished);
    if (timeout_ms)
        it->deadline = cw_spawn(sleep_until_deadline, (void *)(uintptr_t)timeout_ms);
    if (!it->futures || !it->finished || (timeout_ms && !it->deadline)) {
        my_as_completed_cleanup(it);
        return CW_ENOMEM;
    }
    for (int i = 0; i < n; i++)
        it->futures[i] = cw_future_retain(futures[i]);
    it->n = n;
    for (int i = 0; i < n; i++) /* a future already finished calls back too */
        cw_future_on_done(it->futures[i], on_finished, it);
    if (it->deadline)
        cw_future_on_done(it->deadline, on_deadline, it);
    return 0;
}

int my_as_completed_next(my_as_completed *it, cw_future **out)
{
    if (!it || !out)
        return CW_EINVAL;
    *out = NULL;
    if (it->n_handed_out == it->n)
        return CW_EEOF;
    while (it->n_handed_out == it->n_finished && !it->timed_out) {
        it->wakeup = cw_future_new();
        if (!it->wakeup)
            return CW_ENOMEM;
        int rc = cw_await(it->wakeup);
        cw_future_release(it->wakeup);
        it->wakeup = NULL;
        if (rc == CW_ECANCELLED)
            return rc;
    }
    /* What finished before the deadline comes first; after it, one timeout per step. */
    if (it->n_handed_out < it->n_finished) {
        *out = it->finished[it->n_handed_out++];
        return 0;
    }
    it->n_handed_out++;
    return CW_ETIMEDOUT;
}

void my_as_completed_cleanup(my_as_completed *it)
{
    if (!it)
        return;
    for (int i = 0; i < it->n; i++) {
        cw_future_remove_done(it->futures[i], on_finished, it);
        cw_future_release(it->futures[i]);
    }
    if (it->deadline) {
        cw_future_remove_done(it->deadline, on_deadline, it);
        cw_future_cancel(it->deadline);
        cw_future_release(it->deadline);
    }
    free(it->futures);
    free(it->finished);
    *it = (my_as_completed){ 0 };
}
