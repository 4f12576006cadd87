/*
 * future.c -- futures: a state that changes once, a list of callbacks, a reference count.
 *
 * Everything else in the library (tasks, requests, timers, combinators) is
 * built by finishing futures and reacting to them in done callbacks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

struct cw__late_callback {
    cw__soon soon;
    cw_callback callback;
    cw_future *future;              /* a reference, until the callback has run */
    cw__late_callback *next, *prev; /* the future's list, so that cw_future_remove_done() finds it */
};

static void run_callbacks(cw__soon *soon);

cw_future *cw_future_new(void)
{
    cw_future *f = calloc(1, sizeof *f);
    if (f) {
        f->refs = 1;
        f->soon.run = run_callbacks;
        f->callbacks = &f->first_callback;
        f->cap_callbacks = 1;
    }
    return f;
}

/* Give back the callbacks' array when it is not the one held inside the future. */
static void free_callbacks(cw_future *f)
{
    if (f->callbacks != &f->first_callback)
        free(f->callbacks);
    f->callbacks = &f->first_callback;
    f->cap_callbacks = 1;
}

/* Run a finished future's callbacks in the order they were added. Removing one meanwhile only
 * blanks its entry, and callbacks added meanwhile are scheduled on their own, so the array
 * stays put while we walk it. */
static void run_callbacks(cw__soon *soon)
{
    cw_future *f = (cw_future *)((char *)soon - offsetof(cw_future, soon));
    for (int i = 0; i < f->n_callbacks; i++) {
        cw_callback cb = f->callbacks[i];
        f->callbacks[i].fn = NULL; /* run once */
        if (cb.fn)
            cb.fn(f, cb.arg);
    }
    free_callbacks(f);
    f->n_callbacks = 0;
    cw_future_release(f); /* the reference finish_future() took */
}

/* Every way of finishing ends here: set the state, then schedule the callbacks, as asyncio does
 * (each done callback through loop.call_soon). Code that finishes a future therefore never
 * runs someone else's callback in the middle of itself: no re-entrancy. Without a loop
 * (outside cw_run()) there is nothing to schedule on, and the callbacks run at once. */
static void finish_future(cw_future *f, cw_state state)
{
    f->state = state;
    f->cancel = NULL; /* nothing left to cancel */
    if (f->n_callbacks == 0)
        return;
    cw_future_retain(f); /* a callback may release the last outside reference */
    if (!cw__call_soon(&f->soon))
        run_callbacks(&f->soon);
}

int cw_future_resolve(cw_future *f, void *result, cw_free_fn free_result)
{
    if (!f)
        return CW_EINVAL;
    if (f->state != CW_PENDING) {
        if (free_result)
            free_result(result);
        return CW_EDONE;
    }
    f->result = result;
    f->free_result = free_result;
    finish_future(f, CW_RESOLVED);
    return 0;
}

int cw_future_fail(cw_future *f, int code, const char *fmt, ...)
{
    if (!f || code >= 0)
        return CW_EINVAL;
    if (f->state != CW_PENDING)
        return CW_EDONE;
    f->error = code;
    free(f->message); /* a task's pending cancellation message, now moot */
    f->message = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&f->message, fmt, ap) < 0)
            f->message = NULL;
        va_end(ap);
    }
    finish_future(f, CW_FAILED);
    return 0;
}

void cw__future_set_cancelled(cw_future *f)
{
    if (f->state == CW_PENDING) {
        f->error = CW_ECANCELLED;
        finish_future(f, CW_CANCELLED);
    }
}

void cw__future_mark_observed(cw_future *f)
{
    f->observed = true;
}

int cw_future_cancel(cw_future *f)
{
    return cw_future_cancel_msg(f, NULL);
}

int cw_future_cancel_msg(cw_future *f, const char *msg)
{
    if (!f)
        return CW_EINVAL;
    if (f->state != CW_PENDING)
        return CW_EDONE;
    free(f->message); /* the latest request's message, or none, as asyncio's Task.cancel(msg) */
    f->message = msg ? strdup(msg) : NULL;
    if (!f->cancel) {
        cw__future_set_cancelled(f);
        return 0;
    }
    /* The hook finishes the future, whose callbacks may release its last reference while
     * the hook still reads its own state (a gather cancelling its children one by one). */
    cw_future_retain(f);
    int rc = f->cancel(f);
    cw_future_release(f);
    return rc;
}

bool cw_future_done(const cw_future *f)
{
    return f && f->state != CW_PENDING;
}

cw_state cw_future_state(const cw_future *f)
{
    return f ? f->state : CW_PENDING;
}

void *cw_future_result(const cw_future *f)
{
    if (!f || f->state == CW_PENDING || f->state == CW_FAILED)
        return NULL;
    return f->result; /* a cancelled task keeps what its function returned, for its owner to free */
}

int cw_future_error(const cw_future *f)
{
    if (!f)
        return CW_EINVAL;
    if (f->state == CW_PENDING)
        return CW_EPENDING;
    ((cw_future *)f)->observed = true;
    return f->error;
}

const char *cw_future_message(const cw_future *f)
{
    if (!f)
        return "no future (NULL)";
    switch (f->state) {
    case CW_PENDING: return "pending";
    case CW_RESOLVED: return "ok";
    case CW_CANCELLED: return f->message ? f->message : "cancelled";
    case CW_FAILED: break;
    }
    ((cw_future *)f)->observed = true;
    return f->message ? f->message : cw_strerror(f->error);
}

static void run_late_callback(cw__soon *soon)
{
    cw__late_callback *late = (cw__late_callback *)soon;
    cw_future *f = late->future;
    if (late->prev)
        late->prev->next = late->next;
    else
        f->late = late->next;
    if (late->next)
        late->next->prev = late->prev;
    if (late->callback.fn)
        late->callback.fn(f, late->callback.arg);
    free(late);
    cw_future_release(f);
}

int cw_future_on_done(cw_future *f, cw_done_fn fn, void *arg)
{
    if (!f || !fn)
        return CW_EINVAL;
    if (f->state != CW_PENDING) { /* asyncio: add_done_callback on a done future schedules it */
        cw__late_callback *late = malloc(sizeof *late);
        if (!late)
            return CW_ENOMEM;
        *late = (cw__late_callback){ { NULL, run_late_callback }, { fn, arg }, cw_future_retain(f), f->late, NULL };
        if (!cw__call_soon(&late->soon)) {
            free(late);
            cw_future_release(f);
            fn(f, arg); /* no loop: at once */
            return 0;
        }
        if (f->late)
            f->late->prev = late;
        f->late = late;
        return 0;
    }
    if (f->n_callbacks == f->cap_callbacks) {
        int cap = 2 * f->cap_callbacks;
        bool held = f->callbacks == &f->first_callback;
        cw_callback *grown = realloc(held ? NULL : f->callbacks, cap * sizeof *grown);
        if (!grown)
            return CW_ENOMEM;
        if (held)
            grown[0] = f->first_callback;
        f->callbacks = grown;
        f->cap_callbacks = cap;
    }
    f->callbacks[f->n_callbacks++] = (cw_callback){ fn, arg };
    return 0;
}

int cw_future_remove_done(cw_future *f, cw_done_fn fn, void *arg)
{
    if (!f)
        return CW_EINVAL;
    for (int i = 0; i < f->n_callbacks; i++) {
        if (f->callbacks[i].fn != fn || f->callbacks[i].arg != arg)
            continue;
        if (f->state != CW_PENDING) {
            f->callbacks[i].fn = NULL; /* scheduled or running: leave the indexes alone */
        } else { /* close the gap, so that adding and removing in a loop (cw_wait) stays O(1) in space */
            memmove(&f->callbacks[i], &f->callbacks[i + 1], (f->n_callbacks - i - 1) * sizeof *f->callbacks);
            f->n_callbacks--;
        }
        return 0;
    }
    for (cw__late_callback *late = f->late; late; late = late->next) {
        if (late->callback.fn == fn && late->callback.arg == arg) {
            late->callback.fn = NULL; /* still scheduled: it will do nothing */
            return 0;
        }
    }
    return CW_EINVAL;
}

cw_future *cw_future_retain(cw_future *f)
{
    if (f)
        f->refs++;
    return f;
}

void cw_future_release(cw_future *f)
{
    if (!f || --f->refs > 0)
        return;
    /* asyncio prints "exception was never retrieved": an error must not vanish without a trace. */
    if (f->state == CW_FAILED && !f->observed)
        fprintf(stderr, "cw: a future failed and nobody read its error: %s (%s)\n",
                f->message ? f->message : cw_strerror(f->error), cw_error_name(f->error));
    if (f->destroy)
        f->destroy(f);
    if (f->free_result)
        f->free_result(f->result);
    free(f->message);
    free_callbacks(f);
    free(f);
}

void cw_future_release_all(cw_future **futures, int n)
{
    for (int i = 0; futures && i < n; i++)
        cw_future_release(futures[i]);
}
