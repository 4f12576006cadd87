/*
 * internal.h -- what the library's own files share and programs never see.
 *
 * A future is one struct for every kind of operation. What differs between a
 * task, a request, a timer and a gather is how cancelling it works and what it
 * owns besides its result: two hooks, set only by the library, and a kind tag
 * for the public calls that accept only one kind (cw_task_cancelling(),
 * cw_response_of(), cw_gather_failed_child()).
 *
 * Internal names start with cw__ and are hidden (CW__HIDDEN): the public API of
 * libcw.a is exactly the headers of common/include (tools/check_library checks it).
 */
#ifndef CW_INTERNAL_H
#define CW_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "cw_future.h"

/* Not exported should the library ever be built as a shared object; in the archive, the cw__
 * prefix keeps these apart from the public names. */
#define CW__HIDDEN __attribute__((visibility("hidden")))

/* Built with AddressSanitizer (gcc defines a macro, clang answers __has_feature): the task switch
 * (task.c) and the shared stack's copies (stack.c) must tell it what they do to stacks. */
#if defined(__SANITIZE_ADDRESS__)
#define CW__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CW__ASAN 1
#endif
#endif

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
CW__HIDDEN bool cw__call_soon(cw__soon *item);

/* A callback added to a future that had already finished: scheduled on its own. */
typedef struct cw__late_callback cw__late_callback;

/* What stands behind a future, where some call must know (a plain future is made by a program). */
typedef enum cw__future_kind {
    CW__FUTURE_PLAIN,
    CW__FUTURE_TASK,
    CW__FUTURE_REQUEST,
    CW__FUTURE_TIMER,
    CW__FUTURE_GATHER,
} cw__future_kind;

struct cw_future {
    int refs;
    cw_state state;
    cw__future_kind kind;
    bool observed;       /* someone read the error: no "never retrieved" warning (cw__future_mark_observed) */
    int cancel_requests; /* a task's pending cancellation requests (cancelling()) */
    int error;
    char *message;
    void *result;
    cw_free_fn free_result;
    cw_callback *callbacks; /* first_callback, until a second is added */
    int n_callbacks, cap_callbacks;
    cw_callback first_callback; /* most futures have one waiter: no allocation for it */
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

/* The error of @p future was handed on as a value (gather's return_exceptions, wait's
 * done set): releasing it unread prints no "never retrieved" warning. */
CW__HIDDEN void cw__future_mark_observed(cw_future *future);

/* What to undo should cw_run() abandon the current task inside a suspending call (it never
 * returns then): callbacks pointing into its stack must go before the stack is reused.
 * NULL clears it. */
CW__HIDDEN void cw__task_on_abandon(void (*fn)(void *arg), void *arg);

/* End a pending future as cancelled, bypassing its cancel hook. */
CW__HIDDEN void cw__future_set_cancelled(cw_future *future);

/* A future that resolves after ms milliseconds; cancelling it stops the timer. */
CW__HIDDEN cw_future *cw__timer_future(uint64_t ms);

/* Something cw_run() closes once its tasks are gone, should the program have left it open (a
 * session): the runtime knows only this, not what it closes. Embed one in the object, register it
 * when the object opens and forget it when it closes (run_end.c). */
typedef struct cw__closer {
    void (*close)(struct cw__closer *self); /* forgotten already when called */
    struct cw__closer *prev, *next;
} cw__closer;

/* Register @p c (with c->close set), inside cw_run(). */
CW__HIDDEN void cw__close_at_run_end(cw__closer *c);

/* Unregister @p c: it was closed by its owner. */
CW__HIDDEN void cw__closer_forget(cw__closer *c);

/* Called by cw_run() once its tasks are gone: close whatever is still registered, last opened first. */
CW__HIDDEN void cw__close_leftovers(void);

#endif
