/*
 * task.c -- the event loop and stackful tasks: run, spawn, await, sleep, cancel.
 *
 * Each task runs on its own stack (stack.c: carved from slabs, reused), or,
 * spawned with cw_spawn_on_shared_stack(), on the one shared stack: then the
 * part it uses is copied to the heap when it switches out and back before it
 * runs again (switch_to_task()), so a sleeping task holds a few hundred bytes
 * of stack instead of a page.
 * cw_await() on a pending future adds a done callback that puts the task back
 * on the ready queue, then switches to the loop (context.c: a few instructions,
 * no system call). The loop runs ready tasks from an idle handle, which also
 * keeps libuv from blocking while any task is ready. So a task only ever runs
 * from the loop's own stack, one at a time, and every switch is visible here:
 * switch_to_task() and switch_to_loop().
 *
 * Over 500 lines on purpose: the scheduler is one file so that every switch,
 * and every path a task takes through the loop, can be read in one place.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include "context.h"
#include "cw_task.h"
#include "cw_timeline.h"
#include "internal.h"
#include "stack.h"

/* ASan must be told when the stack changes under it, or it reports false errors. */
#ifdef CW__ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define asan_start_switch(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define asan_finish_switch(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define asan_start_switch(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define asan_finish_switch(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

typedef struct task {
    cw_future *future; /* the task as others see it; we hold a reference until it ends */
    cw_task_fn fn;
    void *arg;
    cw__context context;
    cw__stack stack;
    bool shares_stack; /* on the shared stack: its used part is kept in saved while it waits */
    cw__stack_copy saved;
    void *asan_fake_stack;
    cw_future *awaiting;           /* what the task is suspended on, if anything */
    void (*on_abandon)(void *arg); /* see cw__task_on_abandon() */
    void *on_abandon_arg;
    bool cancel_requested;   /* deliver CW_ECANCELLED at the next await (asyncio's _must_cancel) */
    bool cancel_passed_on;   /* a cancellation went to what the task awaits, not to the task */
    bool was_cancelled;      /* a cancellation was delivered: the task ends cancelled */
    char *delivered_message; /* the message of the last cancellation delivered (NULL: none) */
    bool started, finished;
    int fail_code;
    char *fail_message;
    int span;
    cw__soon soon;            /* starts or resumes the task, when the loop's queue reaches it */
    bool queued;              /* soon is in the queue */
    struct task *prev, *next; /* every unfinished task, for cw_run()'s cleanup */
} task;

typedef struct runtime {
    uv_loop_t loop;
    uv_idle_t idle; /* active while some task is ready: runs them, and keeps the loop from blocking */
    cw__context loop_context;
    const void *loop_stack_bottom;
    size_t loop_stack_size;
    task *current;
    cw__soon *queue_head, *queue_tail; /* call_soon's queue: tasks to run, callbacks to call */
    task *tasks;                       /* unfinished tasks */
    int next_task_number;
} runtime;

static _Thread_local runtime *rt;

uv_loop_t *cw_loop(void)
{
    return rt ? &rt->loop : NULL;
}

uint64_t cw_now_us(void)
{
    return uv_hrtime() / 1000;
}

cw_future *cw_current_task(void)
{
    return rt && rt->current ? rt->current->future : NULL;
}

/* ---- switching ----------------------------------------------------------------------- */

/* A task on the shared stack switched out: copy what it uses of that stack to the heap, since
 * the next task will write over it. Should that fail, the task could never resume as it was:
 * stop the program rather than let it run on with a corrupt stack. */
static void save_shared_stack(task *t)
{
    if (!cw__stack_save(&t->saved, &t->stack, cw__context_stack_pointer(&t->context))) {
        fprintf(stderr, "cw: out of memory saving a task's stack (cw_spawn_on_shared_stack); stopping\n");
        abort();
    }
}

static void switch_to_task(task *t)
{
    void *fake = NULL;
    rt->current = t;
    if (t->shares_stack && t->saved.size > 0) { /* on the loop's stack: nothing runs on the shared one */
        cw__stack_make_ready(&t->stack);
        cw__stack_restore(&t->saved, &t->stack);
    }
    asan_start_switch(&fake, t->stack.low, t->stack.size);
    cw__context_switch(&rt->loop_context, &t->context);
    asan_finish_switch(fake, NULL, NULL);
    rt->current = NULL;
    if (t->shares_stack && !t->finished)
        save_shared_stack(t);
}

static void switch_to_loop(task *t)
{
    /* A finished task passes NULL: its stack is gone for good, and ASan may forget it. */
    asan_start_switch(t->finished ? NULL : &t->asan_fake_stack, rt->loop_stack_bottom, rt->loop_stack_size);
    cw__context_switch(&t->context, &rt->loop_context);
    asan_finish_switch(t->asan_fake_stack, &rt->loop_stack_bottom, &rt->loop_stack_size);
}

static void run_queue(uv_idle_t *idle);

bool cw__call_soon(cw__soon *item)
{
    if (!rt)
        return false;
    item->next = NULL;
    if (rt->queue_tail)
        rt->queue_tail->next = item;
    else
        rt->queue_head = item;
    rt->queue_tail = item;
    if (!uv_is_active((uv_handle_t *)&rt->idle) && !uv_is_closing((uv_handle_t *)&rt->idle))
        uv_idle_start(&rt->idle, run_queue);
    return true;
}

static void make_ready(task *t)
{
    t->queued = cw__call_soon(&t->soon);
}

/* Take an item out of the queue wherever it is (only for a task abandoned by cw_run()). */
static void unschedule(cw__soon *item)
{
    cw__soon *prev = NULL;
    for (cw__soon *i = rt->queue_head; i; prev = i, i = i->next) {
        if (i != item)
            continue;
        if (prev)
            prev->next = i->next;
        else
            rt->queue_head = i->next;
        if (rt->queue_tail == i)
            rt->queue_tail = prev;
        return;
    }
}

static void task_end(task *t, void *result)
{
    cw_future *f = t->future;
    /* Passing a cancellation on (cw_fail(CW_ECANCELLED), like re-raising CancelledError), or
     * returning after one was delivered, unless cw_task_uncancel() took every request back. */
    if (t->fail_code == CW_ECANCELLED || (!t->fail_code && t->was_cancelled && f->cancel_requests > 0)) {
        /* Its message is that of the cancellation it last received, as asyncio's is that of the
         * CancelledError that left the coroutine; else the one it passed on with cw_fail(). */
        free(f->message);
        f->message = NULL;
        if (t->was_cancelled && t->delivered_message)
            f->message = strdup(t->delivered_message);
        else if (t->fail_message)
            f->message = strdup(t->fail_message);
        f->result = result; /* still the owner's: cw_future_result() returns it, nothing frees it */
        cw__future_set_cancelled(f);
    } else if (t->fail_code) {
        cw_future_fail(f, t->fail_code, "%s", t->fail_message ? t->fail_message : cw_strerror(t->fail_code));
    } else {
        cw_future_resolve(f, result, NULL);
    }
    cw_timeline_end(t->span, f->error); /* not cw_future_error(): that counts as reading it */
}

static int deliver_cancel(task *t);

static void task_entry(void)
{
    task *t = rt->current;
    asan_finish_switch(NULL, &rt->loop_stack_bottom, &rt->loop_stack_size);
    void *result = NULL;
    cw_timeline_start(t->span);
    if (t->cancel_requested) /* cancelled before it ever ran: asyncio never starts it either */
        deliver_cancel(t);
    else
        result = t->fn(t->arg);
    t->finished = true;
    task_end(t, result);
    switch_to_loop(t); /* never comes back: the loop frees this stack */
}

static void task_destroy(task *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        rt->tasks = t->next;
    if (t->next)
        t->next->prev = t->prev;
    if (t->stack.low && !t->shares_stack)
        cw__stack_put(&t->stack);
    free(t->saved.bytes);
    cw_future_release(t->future);
    free(t->fail_message);
    free(t->delivered_message);
    free(t);
}

/* Give a task its stack and a context that starts in task_entry(). */
static void task_prepare(task *t)
{
    t->started = true;
    int rc = t->shares_stack ? cw__stack_shared(&t->stack, &t->fail_message)
                             : cw__stack_get(&t->stack, &t->fail_message); /* the message names a limit */
    if (rc < 0) {
        t->fail_code = rc;
        t->finished = true;
        task_end(t, NULL);
        return;
    }
    cw__stack_make_ready(&t->stack); /* a reused stack: the last task's frames were never unwound */
    cw__context_start(&t->context, t->stack.low, t->stack.size, task_entry);
}

/* Start or resume a task until it awaits again or ends. Only from the loop's own stack. */
static void run_task(task *t)
{
    if (!t->started)
        task_prepare(t);
    if (!t->finished)
        switch_to_task(t);
    if (t->finished)
        task_destroy(t);
}

static void run_scheduled_task(cw__soon *soon)
{
    task *t = (task *)((char *)soon - offsetof(task, soon));
    t->queued = false;
    run_task(t);
}

/* Run what was queued when this turn began; what those steps queue waits for the next turn
 * (asyncio's _run_once), so that I/O and timers get their turn in between. */
static void run_queue(uv_idle_t *idle)
{
    cw__soon *last = rt->queue_tail;
    bool was_last = false;
    while (rt->queue_head && !was_last) {
        cw__soon *item = rt->queue_head;
        was_last = item == last;
        rt->queue_head = item->next;
        if (!rt->queue_head)
            rt->queue_tail = NULL;
        item->run(item); /* may free the item */
    }
    if (!rt->queue_head && idle)
        uv_idle_stop(idle);
}

/* ---- the public calls ------------------------------------------------------------------ */

/* The request went to what the task awaits, its message with it: none is left pending here. */
static void pass_message_on(task *t)
{
    t->cancel_passed_on = true;
    free(t->future->message);
    t->future->message = NULL;
}

/* asyncio's Task.cancel(): count the request, and pass it on to what the task awaits, if that
 * takes it; the task learns of it only when that future ends cancelled, and goes on as usual
 * should it swallow the cancellation and return. Otherwise (ready, running, or woken by a future
 * that just finished) the task sees the request at its next await. */
static int cancel_task(cw_future *f)
{
    task *t = f->impl;
    f->cancel_requests++;
    if (t->awaiting && cw_future_cancel_msg(t->awaiting, f->message) == 0)
        pass_message_on(t);
    else
        t->cancel_requested = true;
    return 0;
}

static cw_future *spawn(cw_task_fn fn, void *arg, const char *name, bool on_shared_stack)
{
    if (!rt || !fn)
        return NULL;
    task *t = calloc(1, sizeof *t);
    cw_future *f = cw_future_new();
    if (!t || !f) {
        free(t);
        free(f);
        return NULL;
    }
    t->fn = fn;
    t->arg = arg;
    t->shares_stack = on_shared_stack && CW_CONTEXT_CAN_COPY;
    t->soon.run = run_scheduled_task;
    t->future = f; /* the task's own reference */
    f->impl = t;
    f->cancel = cancel_task;
    f->kind = CW__FUTURE_TASK;
    char label[32];
    snprintf(label, sizeof label, "task %d", ++rt->next_task_number);
    t->span = cw_timeline_begin(CW_SPAN_TASK, name ? name : label);
    t->next = rt->tasks;
    if (rt->tasks)
        rt->tasks->prev = t;
    rt->tasks = t;
    make_ready(t);
    return cw_future_retain(f); /* the caller's reference */
}

cw_future *cw_spawn(cw_task_fn fn, void *arg)
{
    return spawn(fn, arg, NULL, false);
}

cw_future *cw_spawn_named(cw_task_fn fn, void *arg, const char *name)
{
    return spawn(fn, arg, name, false);
}

cw_future *cw_spawn_on_shared_stack(cw_task_fn fn, void *arg)
{
    return spawn(fn, arg, NULL, true);
}

/* A task awaiting a future is woken by the future's done callback, which the loop schedules
 * like any other: the task runs from that step, as asyncio's Task.__wakeup runs __step. */
static void wake_awaiting_task(cw_future *f, void *arg)
{
    (void)f;
    if (rt->current) /* never: callbacks are scheduled, so they run on the loop's stack */
        make_ready(arg);
    else
        run_task(arg);
}

/* A cancellation is delivered once; the task may then still await (to clean up), and ends
 * cancelled unless it takes every request back (cw_task_uncancel()). */
static int deliver_cancel(task *t)
{
    t->cancel_requested = false;
    t->was_cancelled = true;
    free(t->delivered_message);
    t->delivered_message = t->future->message; /* the request's message goes with it */
    t->future->message = NULL;
    return CW_ECANCELLED;
}

/* A request pending when the task wakes: as asyncio's __step, a CancelledError that the awaited
 * future raises is the one the task gets (with that future's message), else the request's own. */
static int deliver_cancel_through(task *t, cw_future *f)
{
    deliver_cancel(t);
    if (f->error == CW_ECANCELLED) {
        free(t->delivered_message);
        t->delivered_message = f->message ? strdup(f->message) : NULL;
    }
    return CW_ECANCELLED;
}

/* A request pending when the task awaits goes to what it awaits, as asyncio's __step does with
 * _must_cancel: when that takes it, the task waits for it as usual. */
static bool pass_cancel_on(task *t, cw_future *f)
{
    if (f->state != CW_PENDING || cw_future_cancel_msg(f, t->future->message) != 0)
        return false;
    t->cancel_requested = false;
    pass_message_on(t);
    return true;
}

int cw_await(cw_future *f)
{
    if (!f)
        return CW_EINVAL;
    task *t = rt ? rt->current : NULL;
    if (!t)
        return CW_ENOTASK;
    if (f == t->future)
        return CW_EINVAL; /* a task waiting for itself would never wake */
    t->cancel_passed_on = false;
    if (t->cancel_requested && !pass_cancel_on(t, f))
        return deliver_cancel(t);
    if (f->state == CW_PENDING) {
        cw_future_retain(f);
        if (cw_future_on_done(f, wake_awaiting_task, t) < 0) {
            cw_future_release(f);
            return CW_ENOMEM;
        }
        t->awaiting = f;
        switch_to_loop(t);
        t->awaiting = NULL;
        cw_future_remove_done(f, wake_awaiting_task, t);
        cw_future_release(f);
        if (t->cancel_requested)
            return deliver_cancel_through(t, f);
    }
    int rc = cw_future_error(f);
    if (t->cancel_passed_on && rc == CW_ECANCELLED) { /* it came back: the task's own, with f's message */
        t->was_cancelled = true;
        free(t->delivered_message);
        t->delivered_message = f->message ? strdup(f->message) : NULL;
    }
    t->cancel_passed_on = false;
    return rc;
}

/* ---- timers ------------------------------------------------------------------------------ */

typedef struct timer_future {
    uv_timer_t timer;
    cw_future *future; /* our reference, dropped when the timer handle is closed */
} timer_future;

static void timer_closed(uv_handle_t *h)
{
    timer_future *tf = h->data;
    cw_future_release(tf->future);
    free(tf);
}

static void timer_future_fired(uv_timer_t *timer)
{
    timer_future *tf = timer->data;
    uv_close((uv_handle_t *)timer, timer_closed);
    cw_future_resolve(tf->future, NULL, NULL);
}

static int cancel_timer(cw_future *f)
{
    timer_future *tf = f->impl;
    uv_close((uv_handle_t *)&tf->timer, timer_closed);
    cw__future_set_cancelled(f);
    return 0;
}

cw_future *cw__timer_future(uint64_t ms)
{
    timer_future *tf = calloc(1, sizeof *tf);
    cw_future *f = cw_future_new();
    if (!tf || !f) {
        free(tf);
        free(f);
        return NULL;
    }
    uv_timer_init(&rt->loop, &tf->timer);
    tf->timer.data = tf;
    tf->future = cw_future_retain(f);
    f->kind = CW__FUTURE_TIMER;
    f->impl = tf;
    f->cancel = cancel_timer;
    uv_update_time(&rt->loop); /* count from now, not from the start of this loop turn */
    uv_timer_start(&tf->timer, timer_future_fired, ms, 0);
    return f;
}

int cw_sleep(uint64_t ms)
{
    task *t = rt ? rt->current : NULL;
    if (!t)
        return CW_ENOTASK;
    if (ms == 0) { /* asyncio.sleep(0): let every other ready task run once */
        if (!t->cancel_requested) {
            make_ready(t);
            switch_to_loop(t);
        }
        return t->cancel_requested ? deliver_cancel(t) : 0;
    }
    cw_future *timer = cw__timer_future(ms);
    if (!timer)
        return CW_ENOMEM;
    int rc = cw_await(timer);
    cw_future_release(timer);
    return rc;
}

void cw__task_on_abandon(void (*fn)(void *arg), void *arg)
{
    task *t = rt ? rt->current : NULL;
    if (t) {
        t->on_abandon = fn;
        t->on_abandon_arg = arg;
    }
}

int cw_task_cancelling(const cw_future *f)
{
    return f && f->kind == CW__FUTURE_TASK ? f->cancel_requests : CW_EINVAL;
}

int cw_task_uncancel(cw_future *f)
{
    if (!f || f->kind != CW__FUTURE_TASK)
        return CW_EINVAL;
    if (f->cancel_requests > 0)
        f->cancel_requests--;
    return f->cancel_requests;
}

void *cw_fail(int code, const char *fmt, ...)
{
    task *t = rt ? rt->current : NULL;
    if (!t)
        return NULL;
    t->fail_code = code < 0 ? code : CW_EFAILED;
    free(t->fail_message);
    t->fail_message = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&t->fail_message, fmt, ap) < 0)
            t->fail_message = NULL;
        va_end(ap);
    }
    return NULL;
}

/* ---- run ----------------------------------------------------------------------------------- */

static void stop_loop(cw_future *f, void *arg)
{
    (void)f;
    uv_stop(arg);
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Tasks that stay suspended after cancellation and with nothing left to wake them. */
static void abandon_stuck_tasks(void)
{
    while (rt->tasks) {
        task *t = rt->tasks;
        fprintf(stderr, "cw_run: a task was still waiting when nothing could wake it; abandoned\n");
        if (t->awaiting) {
            cw_future_remove_done(t->awaiting, wake_awaiting_task, t);
            cw_future_release(t->awaiting);
        }
        if (t->on_abandon && t->shares_stack) { /* its stack back in place, for on_abandon to read */
            cw__stack_make_ready(&t->stack);
            cw__stack_restore(&t->saved, &t->stack);
        }
        if (t->on_abandon) /* its stack is still there: let the call it is stuck in unhook itself */
            t->on_abandon(t->on_abandon_arg);
        t->was_cancelled = true;
        if (t->future->cancel_requests == 0)
            t->future->cancel_requests = 1; /* it ends cancelled, whatever it took back */
        t->finished = true;
        task_end(t, NULL);
        if (t->queued) /* should ending another task have woken it (a walk of the queue: only here) */
            unschedule(&t->soon);
        task_destroy(t);
    }
}

/* Run every scheduled step, until none is left (once no task is left to resume). */
static void drain_queue(void)
{
    while (rt->queue_head)
        run_queue(NULL);
}

int cw_run(cw_task_fn main_fn, void *arg, void **result)
{
    if (rt || !main_fn)
        return CW_EINVAL; /* cw_run() inside cw_run() would be a second loop on the same thread */
    runtime r;
    memset(&r, 0, sizeof r);
    if (uv_loop_init(&r.loop) < 0) /* epoll_create1() failed: out of descriptors or memory */
        return CW_ENOMEM;
    rt = &r;
    uv_idle_init(&r.loop, &r.idle); /* cannot fail: it only fills in the handle */

    cw_future *main_task = cw_spawn(main_fn, arg);
    if (!main_task) {
        uv_close((uv_handle_t *)&r.idle, NULL);
        uv_run(&r.loop, UV_RUN_DEFAULT);
        uv_loop_close(&r.loop);
        rt = NULL;
        return CW_ENOMEM;
    }
    /* Should this fail (out of memory), the loop stops once every task has ended rather than
     * when main has: a later stop, not a wrong one. */
    (void)cw_future_on_done(main_task, stop_loop, &r.loop);
    uv_run(&r.loop, UV_RUN_DEFAULT);
    cw_future_remove_done(main_task, stop_loop, &r.loop);
    bool deadlock = !cw_future_done(main_task);

    /* asyncio.run's cleanup: cancel what is left, and let it finish. */
    for (task *t = r.tasks; t; t = t->next)
        cw_future_cancel(t->future);
    while (r.tasks && uv_run(&r.loop, UV_RUN_ONCE))
        ;
    abandon_stuck_tasks();
    drain_queue();
    cw__close_leftovers(); /* what the program left open (sessions): see run_end.c */
    drain_queue();
    uv_close((uv_handle_t *)&r.idle, NULL);
    uv_run(&r.loop, UV_RUN_DEFAULT);
    drain_queue();
    if (uv_loop_close(&r.loop) == UV_EBUSY) { /* handles a program opened and never closed */
        uv_walk(&r.loop, close_any, NULL);
        uv_run(&r.loop, UV_RUN_DEFAULT);
        uv_loop_close(&r.loop);
    }
    cw__stacks_free_all();
    rt = NULL;
    const char *trace = getenv("CW_TRACE");
    if (trace && *trace && cw_timeline_write_trace(trace) < 0)
        fprintf(stderr, "cw_run: could not write the trace to %s\n", trace);

    int rc = deadlock ? CW_EDEADLOCK : cw_future_error(main_task);
    if (result)
        *result = cw_future_result(main_task);
    if (deadlock)
        fprintf(stderr, "cw_run: the main task waits on a future that nothing can finish\n");
    cw_future_release(main_task);
    return rc;
}
