/*
 * exercise.c -- exercise 08 (reference solution): the library's wait on real
 * requests (one wait, and the FIRST_COMPLETED loop), then a small wait built
 * from done callbacks and a future to await.
 */
#include <stdlib.h>
#include "exercise.h"

/* ---- Part 1 ---- */

/* The sets hold our own request futures: a request's place in our array is its URL. */
static int index_of(cw_future *const *requests, int n, const cw_future *request)
{
    for (int i = 0; i < n; i++)
        if (requests[i] == request)
            return i;
    return -1;
}

static cw_future **start_all(cw_session *session, const char *const *urls, int n)
{
    cw_future **requests = calloc((size_t)n, sizeof *requests);
    for (int i = 0; requests && i < n; i++)
        requests[i] = cw_session_get(session, urls[i]);
    return requests;
}

int fetch_and_wait(cw_session *session, const char *const *urls, int n, cw_return_when when,
                   uint64_t timeout_ms, outcome *outcomes)
{
    if (!session || !urls || n < 1 || !outcomes)
        return CW_EINVAL;
    cw_future **requests = start_all(session, urls, n);
    if (!requests)
        return CW_ENOMEM;
    cw_wait_sets sets;
    int rc = cw_wait(requests, n, when, timeout_ms ? timeout_ms : CW_NO_TIMEOUT, &sets);
    if (rc == 0) {
        for (int k = 0; k < sets.n_done; k++) {
            cw_future *request = sets.done[k];
            outcome *o = &outcomes[index_of(requests, n, request)];
            *o = (outcome){ .done = true, .error = cw_future_error(request) };
            if (o->error == 0) /* a failed request has no response to read */
                o->status = cw_response_of(request)->status;
        }
        for (int k = 0; k < sets.n_pending; k++) {
            cw_future_cancel(sets.pending[k]); /* wait cancels nothing: we do */
            outcomes[index_of(requests, n, sets.pending[k])] = (outcome){ .done = false, .error = CW_ECANCELLED };
        }
        rc = sets.n_done;
    }
    cw_wait_sets_free(&sets);
    cw_future_release_all(requests, n);
    free(requests);
    return rc;
}

int fetch_until_none_pending(cw_session *session, const char *const *urls, int n, int *order, int *rounds)
{
    if (!session || !urls || n < 1 || !order || !rounds)
        return CW_EINVAL;
    cw_future **requests = start_all(session, urls, n);
    cw_future **pending = malloc((size_t)n * sizeof *pending);
    if (!requests || !pending) {
        cw_future_release_all(requests, requests ? n : 0);
        free(requests);
        free(pending);
        return CW_ENOMEM;
    }
    for (int i = 0; i < n; i++)
        pending[i] = requests[i];
    int n_pending = n, handled = 0, rc = 0;
    *rounds = 0;
    while (n_pending > 0) {
        cw_wait_sets sets;
        rc = cw_wait(pending, n_pending, CW_FIRST_COMPLETED, CW_NO_TIMEOUT, &sets);
        if (rc != 0)
            break;
        ++*rounds;
        for (int k = 0; k < sets.n_done; k++) { /* handle it: here, note its place and read its outcome */
            order[handled++] = index_of(requests, n, sets.done[k]);
            cw_future_error(sets.done[k]);
        }
        for (int k = 0; k < sets.n_pending; k++) /* wait on what is left */
            pending[k] = sets.pending[k];
        n_pending = sets.n_pending;
        cw_wait_sets_free(&sets);
    }
    cw_future_release_all(requests, n);
    free(requests);
    free(pending);
    return rc;
}

/* ---- Part 2 ---- */

typedef struct waiter {
    cw_return_when when;
    int n, n_done;
    bool failed;       /* a future failed (FIRST_EXCEPTION) */
    bool timed_out;    /* the timer finished */
    cw_future *wakeup; /* what my_wait() awaits */
} waiter;

static bool satisfied(const waiter *w)
{
    if (w->timed_out)
        return true;
    if (w->when == CW_FIRST_COMPLETED)
        return w->n_done > 0;
    if (w->when == CW_FIRST_EXCEPTION && w->failed)
        return true;
    return w->n_done == w->n;
}

static void on_done(cw_future *future, void *arg)
{
    waiter *w = arg;
    w->n_done++;
    if (cw_future_state(future) == CW_FAILED) /* a cancellation is not an exception */
        w->failed = true;
    if (satisfied(w))
        cw_future_resolve(w->wakeup, NULL, NULL); /* CW_EDONE if already woken: harmless */
}

static void on_timeout(cw_future *timer, void *arg)
{
    (void)timer; /* my_wait() removes this callback before it cancels the timer: this is the timeout */
    waiter *w = arg;
    w->timed_out = true;
    cw_future_resolve(w->wakeup, NULL, NULL);
}

static void *sleep_for(void *arg)
{
    cw_sleep((uint64_t)(uintptr_t)arg);
    return NULL;
}

int my_wait(cw_future **futures, int n, cw_return_when when, uint64_t timeout_ms, cw_wait_sets *sets)
{
    if (!sets)
        return CW_EINVAL;
    *sets = (cw_wait_sets){ 0 };
    if (!futures || n <= 0)
        return CW_EINVAL;
    for (int i = 0; i < n; i++)
        if (!futures[i])
            return CW_EINVAL;

    waiter w = { .when = when, .n = n, .wakeup = cw_future_new() };
    cw_future *timer = timeout_ms ? cw_spawn(sleep_for, (void *)(uintptr_t)timeout_ms) : NULL;
    if (!w.wakeup || (timeout_ms && !timer)) {
        cw_future_release(w.wakeup);
        cw_future_cancel(timer);
        cw_future_release(timer);
        return CW_ENOMEM;
    }
    for (int i = 0; i < n; i++) /* a future already done calls back too */
        cw_future_on_done(futures[i], on_done, &w);
    if (timer)
        cw_future_on_done(timer, on_timeout, &w);

    int rc = cw_await(w.wakeup);

    /* w lives on this stack: no callback may reach it once we return. */
    for (int i = 0; i < n; i++)
        cw_future_remove_done(futures[i], on_done, &w);
    if (timer) {
        cw_future_remove_done(timer, on_timeout, &w);
        cw_future_cancel(timer);
        cw_future_release(timer);
    }
    cw_future_release(w.wakeup);
    if (rc == CW_ECANCELLED)
        return rc;

    /* Split by what is done now: several may have finished in the same loop turn. */
    sets->done = malloc((size_t)n * sizeof *sets->done);
    sets->pending = malloc((size_t)n * sizeof *sets->pending);
    if (!sets->done || !sets->pending) {
        cw_wait_sets_free(sets);
        return CW_ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        if (cw_future_done(futures[i]))
            sets->done[sets->n_done++] = futures[i];
        else
            sets->pending[sets->n_pending++] = futures[i];
    }
    return 0;
}
