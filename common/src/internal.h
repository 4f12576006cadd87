/*
 * internal.h -- what the library's own files share and programs never see.
 *
 * A future is one struct for every kind of operation. What differs between a
 * task, a request, a timer and a gather is how cancelling it works and what it
 * owns besides its result: two hooks, set only by the library.
 */
#ifndef CW_INTERNAL_H
#define CW_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "cw_future.h"

typedef struct cw_callback {
    cw_done_fn fn;
    void *arg;
} cw_callback;

/* One step the loop runs later, in first-in first-out order (asyncio's loop.call_soon): a task
 * to start or resume, the callbacks of a finished future. The link lives inside what it
 * schedules, so scheduling never allocates. */
typedef struct cw__soon {
    struct cw__soon *next;
    void (*run)(struct cw__soon *self);
} cw__soon;

/* Append @p item to the loop's queue. False outside cw_run(): there is no loop, run it now. */
bool cw__call_soon(cw__soon *item);

/* A callback added to a future that had already finished: scheduled on its own. */
typedef struct cw__late_callback cw__late_callback;

struct cw_future {
    int refs;
    cw_state state;
    bool observed;  /* someone read the error: no "never retrieved" warning */
    bool is_task;
    int cancel_requests; /* a task's pending cancellation requests (cancelling()) */
    int error;
    char *message;
    void *result;
    cw_free_fn free_result;
    cw_callback *callbacks;
    int n_callbacks, cap_callbacks;
    cw__soon soon;              /* runs the callbacks, a loop step after the future finished */
    cw__late_callback *late;    /* callbacks added after it finished, not yet run */
    /* How to cancel what stands behind the future (NULL: just end it cancelled). */
    int (*cancel)(cw_future *self);
    /* Frees what the future owns besides its result, when the future is freed. */
    void (*destroy)(cw_future *self);
    void *impl;
};

/* While a cancel hook runs, the pending future's message is the cancellation's (or NULL): a hook
 * passes it on with cw_future_cancel_msg(what_it_waits_on, self->message). */

/* What to undo should cw_run() abandon the current task inside a suspending call (it never
 * returns then): callbacks pointing into its stack must go before the stack is reused.
 * NULL clears it. */
void cw__task_on_abandon(void (*fn)(void *arg), void *arg);

/* End a pending future as cancelled, bypassing its cancel hook. */
void cw_future_set_cancelled(cw_future *future);

/* A future that resolves after ms milliseconds; cancelling it stops the timer. */
cw_future *cw_timer_future(uint64_t ms);

/* Called by cw_run() once its tasks are gone: close sessions left open. */
void cw_http_close_leftovers(void);

#endif
