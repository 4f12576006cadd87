/*
 * combine.c -- gather, as_completed and wait, each built from done callbacks.
 *
 * The pattern is the same three times: hold a reference to every child, add
 * one done callback to each, and let the callbacks decide when the combined
 * operation is over. Chapters 06-08 rebuild small versions of these by hand.
 */
#include <stdlib.h>
#include "cw_combine.h"
#include "cw_task.h"
#include "internal.h"

static cw_future **retain_all(cw_future **futures, int n)
{
    cw_future **copy = malloc((n ? n : 1) * sizeof *copy);
    for (int i = 0; copy && i < n; i++)
        copy[i] = cw_future_retain(futures[i]);
    return copy;
}

static bool futures_valid(cw_future **futures, int n)
{
    if (n < 0 || (n > 0 && !futures))
        return false;
    for (int i = 0; i < n; i++)
        if (!futures[i])
            return false;
    return true;
}

/* ---- gather ---------------------------------------------------------------------------- */

typedef struct gather {
    cw_future *self; /* not a reference: the gather future owns this struct */
    cw_future **children;
    int n, remaining;
    bool return_exceptions;
    bool cancelling;
    cw_future *failed_child; /* the child whose error the gather took, if any */
} gather;

/* asyncio's gather: without return_exceptions, the first child that fails or ends cancelled ends
 * the gather at once, with that child's error, even while the gather is being cancelled (the other
 * children keep running, or keep their own cancellation). Otherwise the gather ends when the last
 * child does: with the results, or, when it was cancelled, failing with CW_ECANCELLED. A gather
 * never ends CW_CANCELLED: asyncio's cancelled gather *fails* with CancelledError, which makes it
 * an exception for wait(FIRST_EXCEPTION). */
static void gather_child_done(cw_future *child, void *arg)
{
    gather *g = arg;
    /* Finishing the gather runs its callbacks, and one may release its last reference,
     * which frees g: keep the gather alive until this callback is over. */
    cw_future *self = cw_future_retain(g->self);
    g->remaining--;
    bool failed = cw_future_state(child) == CW_FAILED || cw_future_state(child) == CW_CANCELLED;
    if (failed && g->return_exceptions) {
        cw__future_mark_observed(child); /* handed to the caller as a value, as asyncio does */
    } else if (failed && !cw_future_done(g->self)) {
        /* The first error becomes the gather's, unchanged, as asyncio raises the child's own
         * exception (reading it marks it read). Later ones stay unread on their own futures,
         * so releasing one unread still prints its error. */
        g->failed_child = child;
        int code = cw_future_error(child);
        const char *message = cw_future_message(child);
        cw_future_fail(g->self, code, "%s", message);
    }
    cw_future *last = g->n > 0 ? g->children[g->n - 1] : NULL;
    if (g->remaining == 0 && g->cancelling)
        /* asyncio 3.11 raises the CancelledError of the last child in input order (its callback's
         * loop leaves `fut` there): that child's message if it ended cancelled with one, else none. */
        cw_future_fail(g->self, CW_ECANCELLED, "%s",
                       cw_future_state(last) == CW_CANCELLED ? cw_future_message(last) : "cancelled");
    else if (g->remaining == 0)
        cw_future_resolve(g->self, g->children, NULL);
    cw_future_release(self);
}

/* asyncio: cancelling a gather cancels its children, and tells the gather to end failing with
 * CW_ECANCELLED once they have all ended (unless one ends it earlier, see above). When no child
 * took the request (they had all finished, their callbacks not yet run), nothing changes. */
static int gather_cancel(cw_future *self)
{
    gather *g = self->impl;
    /* The message goes to the children (and a child's callback that ends the gather inline,
     * outside cw_run(), may set another): the gather keeps none of this request's. */
    char *message = self->message;
    self->message = NULL;
    bool taken = false;
    g->cancelling = true;
    for (int i = 0; i < g->n; i++)
        if (cw_future_cancel_msg(g->children[i], message) == 0)
            taken = true;
    g->cancelling = taken;
    free(message);
    return taken ? 0 : CW_EDONE;
}

static void gather_destroy(cw_future *self)
{
    gather *g = self->impl;
    for (int i = 0; i < g->n; i++) {
        cw_future_remove_done(g->children[i], gather_child_done, g);
        cw_future_release(g->children[i]);
    }
    free(g->children);
    free(g);
}

cw_future *cw_gather(cw_future **futures, int n, bool return_exceptions)
{
    if (!futures_valid(futures, n))
        return NULL;
    gather *g = calloc(1, sizeof *g);
    cw_future *self = cw_future_new();
    cw_future **children = retain_all(futures, n);
    if (!g || !self || !children) {
        cw_future_release_all(children, children ? n : 0);
        free(children);
        free(g);
        free(self);
        return NULL;
    }
    *g = (gather){ self, children, n, n, return_exceptions, false, NULL };
    self->kind = CW__FUTURE_GATHER;
    self->impl = g;
    self->cancel = gather_cancel;
    self->destroy = gather_destroy;
    if (n == 0)
        cw_future_resolve(self, children, NULL);
    for (int i = 0; i < n; i++) {
        if (cw_future_on_done(children[i], gather_child_done, g) < 0) {
            cw_future_release(self); /* out of memory: gather_destroy() removes what was added */
            return NULL;
        }
    }
    return self;
}

cw_future *cw_gather_failed_child(const cw_future *gather_future)
{
    if (!gather_future || gather_future->kind != CW__FUTURE_GATHER)
        return NULL; /* not a gather */
    const gather *g = gather_future->impl;
    return g->failed_child;
}

/* ---- as_completed -------------------------------------------------------------------------- */

struct cw_as_completed {
    cw_future **futures;
    int n;
    cw_future **finished; /* in completion order, not yet handed out */
    int n_finished, n_handed_out;
    cw_future *timer; /* resolves at the deadline */
    bool timed_out;
    cw_future *wakeup; /* what a waiting next() awaits */
};

static void as_completed_wake(cw_as_completed *it)
{
    if (it->wakeup)
        cw_future_resolve(it->wakeup, NULL, NULL);
}

static void as_completed_child_done(cw_future *child, void *arg)
{
    cw_as_completed *it = arg;
    if (it->timed_out)
        return; /* asyncio hands out only what finished before the deadline */
    it->finished[it->n_finished++] = child;
    as_completed_wake(it);
}

static void as_completed_deadline(cw_future *timer, void *arg)
{
    cw_as_completed *it = arg;
    if (cw_future_state(timer) != CW_RESOLVED)
        return; /* cancelled by cw_as_completed_free() */
    it->timed_out = true;
    as_completed_wake(it);
}

cw_as_completed *cw_as_completed_new(cw_future **futures, int n, uint64_t timeout_ms)
{
    if (!futures_valid(futures, n))
        return NULL;
    cw_as_completed *it = calloc(1, sizeof *it);
    if (!it)
        return NULL;
    it->n = n;
    it->futures = retain_all(futures, n);
    it->finished = malloc((n ? n : 1) * sizeof *it->finished);
    bool deadline = timeout_ms != CW_NO_TIMEOUT;
    if (deadline)
        it->timer = cw_loop() ? cw__timer_future(timeout_ms) : NULL;
    if (!it->futures || !it->finished || (deadline && !it->timer)) {
        cw_as_completed_free(it);
        return NULL;
    }
    bool watching = true;
    for (int i = 0; watching && i < n; i++)
        watching = cw_future_on_done(it->futures[i], as_completed_child_done, it) == 0;
    if (watching && it->timer)
        watching = cw_future_on_done(it->timer, as_completed_deadline, it) == 0;
    if (!watching) { /* out of memory: cw_as_completed_free() removes what was added */
        cw_as_completed_free(it);
        return NULL;
    }
    return it;
}

int cw_as_completed_next(cw_as_completed *it, cw_future **out)
{
    if (!it || !out)
        return CW_EINVAL;
    *out = NULL;
    if (it->n_handed_out == it->n)
        return CW_EEOF;
    if (!cw_current_task())
        return CW_ENOTASK;
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
    it->n_handed_out++;
    if (it->n_handed_out <= it->n_finished) {
        *out = it->finished[it->n_handed_out - 1];
        return 0;
    }
    return CW_ETIMEDOUT; /* one for each future still unfinished at the deadline */
}

void cw_as_completed_free(cw_as_completed *it)
{
    if (!it)
        return;
    for (int i = 0; it->futures && i < it->n; i++) {
        cw_future_remove_done(it->futures[i], as_completed_child_done, it);
        cw_future_release(it->futures[i]);
    }
    if (it->timer) {
        cw_future_remove_done(it->timer, as_completed_deadline, it);
        cw_future_cancel(it->timer);
        cw_future_release(it->timer);
    }
    cw_future_release(it->wakeup);
    free(it->futures);
    free(it->finished);
    free(it);
}

/* ---- wait ------------------------------------------------------------------------------------ */

typedef struct waiter {
    cw_return_when when;
    cw_future **futures;
    int n, n_done;
    bool failed;
    cw_future *wakeup;
    cw_future *timer;
} waiter;

static bool satisfied(const waiter *w)
{
    switch (w->when) {
    case CW_FIRST_COMPLETED: return w->n_done > 0;
    case CW_FIRST_EXCEPTION: return w->failed || w->n_done == w->n;
    case CW_ALL_COMPLETED: break;
    }
    return w->n_done == w->n;
}

static void wait_child_done(cw_future *child, void *arg)
{
    waiter *w = arg;
    w->n_done++;
    if (cw_future_state(child) == CW_FAILED) { /* as in asyncio, a cancellation is not an exception here */
        w->failed = true;
        if (w->when == CW_FIRST_EXCEPTION)
            cw__future_mark_observed(child); /* asyncio's wait calls f.exception() to decide: the error was read */
    }
    if (satisfied(w))
        cw_future_resolve(w->wakeup, NULL, NULL);
}

static void wait_timed_out(cw_future *timer, void *arg)
{
    waiter *w = arg;
    if (cw_future_state(timer) == CW_RESOLVED)
        cw_future_resolve(w->wakeup, NULL, NULL);
}

/* Stop watching: the waiter lives on the calling task's stack, so nothing may point to it after
 * cw_wait() returns, nor after cw_run() abandons the task inside cw_wait(). */
static void wait_stop(void *arg)
{
    waiter *w = arg;
    for (int i = 0; i < w->n; i++)
        cw_future_remove_done(w->futures[i], wait_child_done, w);
    if (w->timer) {
        cw_future_remove_done(w->timer, wait_timed_out, w);
        cw_future_cancel(w->timer);
        cw_future_release(w->timer);
    }
    cw_future_release(w->wakeup);
}

int cw_wait(cw_future **futures, int n, cw_return_when when, uint64_t timeout_ms, cw_wait_sets *sets)
{
    if (sets)
        *sets = (cw_wait_sets){ 0 };
    if (!sets || n <= 0 || !futures_valid(futures, n))
        return CW_EINVAL; /* asyncio.wait() of an empty set is an error too */
    if (!cw_current_task())
        return CW_ENOTASK;
    bool deadline = timeout_ms != CW_NO_TIMEOUT; /* 0 too: look once, on the next loop step */
    waiter w = { when, futures, n, 0, false, cw_future_new(), deadline ? cw__timer_future(timeout_ms) : NULL };
    if (!w.wakeup || (deadline && !w.timer)) {
        cw_future_release(w.wakeup);
        cw_future_release(w.timer);
        return CW_ENOMEM;
    }
    bool watching = true; /* futures already done call back too, on a later step */
    for (int i = 0; watching && i < n; i++)
        watching = cw_future_on_done(futures[i], wait_child_done, &w) == 0;
    if (watching && w.timer)
        watching = cw_future_on_done(w.timer, wait_timed_out, &w) == 0;
    if (!watching) { /* out of memory: removing what was never added is harmless */
        wait_stop(&w);
        return CW_ENOMEM;
    }
    cw__task_on_abandon(wait_stop, &w);
    int rc = cw_await(w.wakeup);
    cw__task_on_abandon(NULL, NULL);
    wait_stop(&w);
    if (rc == CW_ECANCELLED)
        return rc;

    sets->done = malloc(n * sizeof *sets->done);
    sets->pending = malloc(n * sizeof *sets->pending);
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

void cw_wait_sets_free(cw_wait_sets *sets)
{
    if (!sets)
        return;
    free(sets->done);
    free(sets->pending);
    *sets = (cw_wait_sets){ 0 };
}
