/*
 * exercise.c -- reference solution of exercise 06: cw_gather() on real
 * requests, and a small gather built from done callbacks.
 */
#include <stdlib.h>
#include "exercise.h"

/* ---- Part 1 ---- */

/* Start a GET of every URL; NULL when out of memory. */
static cw_future **start_all(cw_session *session, const char *const *urls, int n)
{
    cw_future **requests = calloc(n > 0 ? n : 1, sizeof *requests);
    for (int i = 0; requests && i < n; i++)
        requests[i] = cw_session_get(session, urls[i]);
    return requests;
}

static void release_all(cw_future **requests, int n)
{
    cw_future_release_all(requests, n);
    free(requests);
}

/* The status of a finished request, or its error code. */
static long status_or_error(cw_future *request)
{
    int error = cw_future_error(request);
    return error == 0 ? cw_response_of(request)->status : error;
}

int fetch_all(cw_session *session, const char *const *urls, int n, long *statuses)
{
    cw_future **requests = start_all(session, urls, n);
    if (!requests)
        return CW_ENOMEM;
    cw_future *all = cw_gather(requests, n, true);
    int rc = cw_await(all);
    if (rc == 0) {
        cw_future **slots = cw_future_result(all); /* the requests again, in input order */
        for (int i = 0; i < n; i++)
            statuses[i] = status_or_error(slots[i]);
    }
    cw_future_release(all);
    release_all(requests, n);
    return rc;
}

int fetch_all_or_fail(cw_session *session, const char *const *urls, int n, long *statuses)
{
    cw_future **requests = start_all(session, urls, n);
    if (!requests)
        return CW_ENOMEM;
    cw_future *all = cw_gather(requests, n, false);
    int rc = cw_await(all); /* the first error, the moment it happens */
    if (rc == 0) {
        cw_future **slots = cw_future_result(all);
        for (int i = 0; i < n; i++)
            statuses[i] = cw_response_of(slots[i])->status;
    }
    cw_future_release(all);
    release_all(requests, n); /* the unfinished ones keep running */
    return rc;
}

int fetch_successes(cw_session *session, const char *const *urls, int n, long *statuses)
{
    cw_future **requests = start_all(session, urls, n);
    if (!requests)
        return CW_ENOMEM;
    cw_future *all = cw_gather(requests, n, true);
    int k = cw_await(all);
    if (k == 0) {
        cw_future **slots = cw_future_result(all);
        for (int i = 0; i < n; i++)
            if (cw_future_error(slots[i]) == 0)
                statuses[k++] = cw_response_of(slots[i])->status;
    }
    cw_future_release(all);
    release_all(requests, n);
    return k;
}

/* ---- Part 2 ---- */

typedef struct hand_gather hand_gather;

/* A done callback's argument: which gather, which slot. */
typedef struct child_link {
    hand_gather *gather;
    int index;
} child_link;

struct hand_gather {
    cw_future *future;  /* our own reference, dropped when the last child has finished */
    gather_slot *slots; /* becomes the future's result */
    child_link *links;  /* one per child */
    int remaining;      /* children not finished yet */
    bool return_exceptions;
};

static void on_child_done(cw_future *child, void *arg)
{
    child_link *link = arg;
    hand_gather *g = link->gather;
    gather_slot *slot = &g->slots[link->index];
    slot->error = cw_future_error(child);
    slot->value = cw_future_result(child);
    if (slot->error < 0 && !g->return_exceptions) /* only the first one counts: later fails give CW_EDONE */
        cw_future_fail(g->future, slot->error, "%s", cw_future_message(child));
    if (--g->remaining > 0)
        return;
    /* The last child: resolve (when it already failed, resolve frees the slots at once), then let go. */
    cw_future_resolve(g->future, g->slots, free);
    cw_future_release(g->future);
    free(g->links);
    free(g);
}

cw_future *gather_by_hand(cw_future **futures, int n, bool return_exceptions)
{
    cw_future *future = cw_future_new();
    if (!future)
        return NULL;
    if (n == 0) {
        cw_future_resolve(future, NULL, NULL);
        return future;
    }
    hand_gather *g = malloc(sizeof *g);
    gather_slot *slots = calloc(n, sizeof *slots);
    child_link *links = calloc(n, sizeof *links);
    if (!g || !slots || !links) {
        free(g), free(slots), free(links);
        cw_future_release(future);
        return NULL;
    }
    *g = (hand_gather){ cw_future_retain(future), slots, links, n, return_exceptions };
    /* remaining is n before the first callback is added: a child that has already
     * finished calls back too (on a later loop step, or at once outside cw_run()). */
    for (int i = 0; i < n; i++) {
        links[i] = (child_link){ g, i };
        cw_future_on_done(futures[i], on_child_done, &links[i]);
    }
    return future; /* not g->future: g may be gone already */
}
