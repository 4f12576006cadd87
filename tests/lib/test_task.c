/**
 * @file test_task.c
 * @brief Tests of the loop and tasks: run, spawn, sleep, cancel, and calls made outside a task.
 *
 * Tasks record what they see into a struct; the assertions run after cw_run()
 * returns. Times are only checked as ordering or generous backstops.
 */
#include "cw.h"
#include "support.h"

#include <valgrind/valgrind.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------ run */

static void *return_value(void *arg)
{
    return arg;
}

START_TEST(test_run_returns_main_result)
{
    int value = 5;
    void *result = NULL;
    ck_assert_int_eq(cw_run(return_value, &value, &result), 0);
    ck_assert_ptr_eq(result, &value);
    ck_assert_int_eq(cw_run(return_value, NULL, NULL), 0); /* result may be NULL */
}
END_TEST

static void *fail_main(void *arg)
{
    (void)arg;
    return cw_fail(CW_EHTTP, "main failed with %d", 42);
}

START_TEST(test_run_returns_main_error)
{
    void *result = &result;
    ck_assert_int_eq(cw_run(fail_main, NULL, &result), CW_EHTTP);
    ck_assert_ptr_null(result);
}
END_TEST

/** What a leftover task saw. */
typedef struct leftover {
    int started;
    int sleep_rc;
    int cleaned_up;
    int never_started_ran;
} leftover;

static void *sleep_long(void *arg)
{
    leftover *l = arg;
    l->started = 1;
    l->sleep_rc = cw_sleep(60 * 1000);
    l->cleaned_up = 1; /* cleanup code after the cancelled await runs */
    return NULL;
}

static void *mark_ran(void *arg)
{
    leftover *l = arg;
    l->never_started_ran = 1;
    return NULL;
}

static void *leave_tasks_behind(void *arg)
{
    leftover *l = arg;
    cw_future *t = cw_spawn(sleep_long, l);
    cw_sleep(10); /* let it start */
    cw_future_release(t); /* releasing does not cancel */
    cw_future_release(cw_spawn(mark_ran, l)); /* spawned, never started before main ends */
    return NULL;
}

START_TEST(test_run_cancels_and_reaps_leftover_tasks)
{
    leftover l = { 0 };
    double start = now_ms();
    ck_assert_int_eq(cw_run(leave_tasks_behind, &l, NULL), 0);
    ck_assert_msg(now_ms() - start < backstop(5000), "cw_run should cancel a leftover 60 s sleep, not wait for it");
    ck_assert(l.started);
    ck_assert_msg(l.cleaned_up, "the leftover task should be resumed and finish its cleanup code");
    ck_assert_msg(l.sleep_rc == CW_ECANCELLED, "its sleep should return CW_ECANCELLED, got %s",
                  cw_error_name(l.sleep_rc));
}
END_TEST

static void *run_inside(void *arg)
{
    int *rc = arg;
    *rc = cw_run(return_value, NULL, NULL);
    return NULL;
}

START_TEST(test_run_inside_task_is_einval)
{
    int rc = 0;
    ck_assert_int_eq(cw_run(run_inside, &rc, NULL), 0);
    ck_assert_int_eq(rc, CW_EINVAL);
}
END_TEST

START_TEST(test_calls_outside_task)
{
    cw_future *f = cw_future_new();
    ck_assert_int_eq(cw_await(f), CW_ENOTASK);
    ck_assert_int_eq(cw_sleep(10), CW_ENOTASK);
    ck_assert_int_eq(cw_sleep(0), CW_ENOTASK);
    ck_assert_ptr_null(cw_spawn(return_value, NULL));
    ck_assert_ptr_null(cw_current_task());
    ck_assert_ptr_null(cw_loop());
    ck_assert_int_eq(cw_future_state(f), CW_PENDING);
    cw_future_release(f);
}
END_TEST

/** A libuv timer callback runs on the loop, outside every task. */
typedef struct in_callback {
    uv_timer_t timer;
    cw_future *f;
    int sleep_rc, await_rc;
    cw_future *current;
    int closed;
} in_callback;

static void timer_closed(uv_handle_t *h)
{
    ((in_callback *)h->data)->closed = 1;
}

static void on_timer(uv_timer_t *timer)
{
    in_callback *c = timer->data;
    c->current = cw_current_task();
    c->sleep_rc = cw_sleep(10);
    c->await_rc = cw_await(c->f);
    cw_future_resolve(c->f, NULL, NULL);
    uv_close((uv_handle_t *)timer, timer_closed);
}

static void *await_timer(void *arg)
{
    in_callback *c = arg;
    c->current = (cw_future *)&c->current; /* anything but NULL */
    c->f = cw_future_new();
    uv_timer_init(cw_loop(), &c->timer);
    c->timer.data = c;
    uv_timer_start(&c->timer, on_timer, 10, 0);
    cw_await(c->f);
    cw_future_release(c->f);
    while (!c->closed)
        cw_sleep(1);
    return NULL;
}

START_TEST(test_calls_in_loop_callback_are_enotask)
{
    in_callback c = { 0 };
    ck_assert_int_eq(cw_run(await_timer, &c, NULL), 0);
    ck_assert_ptr_null(c.current);
    ck_assert_int_eq(c.sleep_rc, CW_ENOTASK);
    ck_assert_int_eq(c.await_rc, CW_ENOTASK);
}
END_TEST

typedef struct deadlock {
    int await_rc;
    int returned;
} deadlock;

static void *await_forever(void *arg)
{
    deadlock *d = arg;
    cw_future *f = cw_future_new();
    d->await_rc = cw_await(f); /* nothing will ever resolve f */
    cw_future_release(f);
    d->returned = 1;
    return d->await_rc ? cw_fail(d->await_rc, NULL) : NULL;
}

START_TEST(test_run_detects_deadlock)
{
    deadlock d = { 0 };
    double start = now_ms();
    ck_assert_int_eq(cw_run(await_forever, &d, NULL), CW_EDEADLOCK);
    ck_assert(now_ms() - start < backstop(5000));
}
END_TEST

static void *await_task_awaiting_forever(void *arg)
{
    deadlock *d = arg;
    deadlock inner = { 0 };
    cw_future *t = cw_spawn(await_forever, &inner);
    d->await_rc = cw_await(t);
    cw_future_release(t);
    return NULL;
}

START_TEST(test_run_detects_deadlock_through_task)
{
    deadlock d = { 0 };
    double start = now_ms();
    ck_assert_int_eq(cw_run(await_task_awaiting_forever, &d, NULL), CW_EDEADLOCK);
    ck_assert(now_ms() - start < backstop(5000));
}
END_TEST

/* ------------------------------------------------------------ spawn */

typedef struct spawn_record {
    int ran[3];
    int order[3];
    int n;
    int ran_right_after_spawn;
    int ran_after_sleep0;
    cw_future *current_inside[3];
    cw_future *tasks[3];
    uv_loop_t *loop_inside;
    int await_rc;
    void *result;
} spawn_record;

static spawn_record *rec;

static void *set_flag(void *arg)
{
    int i = (int)(intptr_t)arg;
    rec->ran[i] = 1;
    rec->order[rec->n++] = i;
    rec->current_inside[i] = cw_current_task();
    return (void *)(intptr_t)(100 + i);
}

static void *spawn_three(void *arg)
{
    (void)arg;
    rec->loop_inside = cw_loop();
    for (int i = 0; i < 3; i++)
        rec->tasks[i] = cw_spawn(set_flag, (void *)(intptr_t)i);
    rec->ran_right_after_spawn = rec->ran[0] + rec->ran[1] + rec->ran[2];
    cw_sleep(0);
    rec->ran_after_sleep0 = rec->ran[0] + rec->ran[1] + rec->ran[2];
    rec->await_rc = cw_await(rec->tasks[2]);
    rec->result = cw_future_result(rec->tasks[2]);
    return NULL;
}

/* cw_spawn_named(): the name labels the task's timeline row; without one it is "task N". */
static void *nothing(void *arg)
{
    return arg;
}

static void *named_main(void *arg)
{
    (void)arg;
    cw_future *named = cw_spawn_named(nothing, NULL, "fetch slow");
    cw_future *plain = cw_spawn(nothing, NULL);
    cw_await(named);
    cw_await(plain);
    cw_future_release(named);
    cw_future_release(plain);
    return NULL;
}

START_TEST(test_spawn_named_labels_timeline)
{
    cw_timeline_enable(true);
    ck_assert_int_eq(cw_run(named_main, NULL, NULL), 0);
    bool named = false, plain = false;
    for (int i = 0; i < cw_timeline_count(); i++) {
        const cw_span *span = cw_timeline_span(i);
        named |= span->kind == CW_SPAN_TASK && strcmp(span->label, "fetch slow") == 0 && span->end_us > 0;
        plain |= span->kind == CW_SPAN_TASK && strcmp(span->label, "task 3") == 0;
    }
    cw_timeline_clear();
    cw_timeline_enable(false);
    ck_assert_msg(named, "the task spawned with the name \"fetch slow\" should have a finished span of that label");
    ck_assert_msg(plain, "a task spawned without a name should be labelled \"task N\" (here \"task 3\")");
}
END_TEST

/* A task's failure that nobody reads is reported on stderr when the task is freed, as asyncio
 * reports "Task exception was never retrieved"; a failure that was read is not. */
static void *fail_boom(void *arg)
{
    (void)arg;
    return cw_fail(CW_EHTTP, "boom");
}

static void *unread_main(void *arg)
{
    bool *read_it = arg;
    cw_future *t = cw_spawn(fail_boom, NULL);
    cw_sleep(10);
    if (*read_it)
        cw_future_error(t);
    cw_future_release(t);
    return NULL;
}

static void stderr_of_run(bool read_it, char *out, size_t size)
{
    FILE *capture = tmpfile();
    ck_assert_msg(capture != NULL, "a temporary file for stderr");
    fflush(stderr);
    int saved = dup(2);
    dup2(fileno(capture), 2);
    ck_assert_int_eq(cw_run(unread_main, &read_it, NULL), 0);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(capture);
    size_t n = fread(out, 1, size - 1, capture);
    out[n] = '\0';
    fclose(capture);
}

START_TEST(test_unread_task_failure_is_reported)
{
    char unread[512], read[512];
    stderr_of_run(false, unread, sizeof unread);
    stderr_of_run(true, read, sizeof read);
    ck_assert_msg(strstr(unread, "boom") != NULL,
                  "releasing a failed task whose error nobody read should print it on stderr; printed \"%s\"", unread);
    ck_assert_msg(strstr(read, "boom") == NULL,
                  "a failure that was read should not be printed; printed \"%s\"", read);
}
END_TEST

START_TEST(test_spawn_starts_later)
{
    spawn_record r = { 0 };
    rec = &r;
    ck_assert_int_eq(cw_run(spawn_three, NULL, NULL), 0);
    ck_assert_msg(r.ran_right_after_spawn == 0, "no task may start inside cw_spawn(), %d did",
                  r.ran_right_after_spawn);
    ck_assert_msg(r.ran_after_sleep0 == 3, "cw_sleep(0) should let the three ready tasks run, %d did",
                  r.ran_after_sleep0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(r.order[i], i); /* in spawn order */
        ck_assert_ptr_eq(r.current_inside[i], r.tasks[i]);
    }
    ck_assert_ptr_nonnull(r.loop_inside);
    ck_assert_int_eq(r.await_rc, 0);
    ck_assert_ptr_eq(r.result, (void *)(intptr_t)102);
    for (int i = 0; i < 3; i++)
        cw_future_release(r.tasks[i]);
}
END_TEST

static void *spawn_then_await(void *arg)
{
    (void)arg;
    rec->tasks[0] = cw_spawn(set_flag, (void *)(intptr_t)0);
    rec->ran_right_after_spawn = rec->ran[0];
    rec->await_rc = cw_await(rec->tasks[0]);
    rec->ran_after_sleep0 = rec->ran[0];
    rec->result = cw_future_result(rec->tasks[0]);
    cw_future_release(rec->tasks[0]);
    return NULL;
}

START_TEST(test_spawn_then_await)
{
    spawn_record r = { 0 };
    rec = &r;
    ck_assert_int_eq(cw_run(spawn_then_await, NULL, NULL), 0);
    ck_assert_int_eq(r.ran_right_after_spawn, 0);
    ck_assert_int_eq(r.ran_after_sleep0, 1);
    ck_assert_int_eq(r.await_rc, 0);
    ck_assert_ptr_eq(r.result, (void *)(intptr_t)100);
}
END_TEST

/* A failing task: its awaiter gets the code, the message survives. */
static void *fail_task(void *arg)
{
    (void)arg;
    cw_sleep(1);
    return cw_fail(CW_ECONNREFUSED, "could not reach %s", "the server");
}

static void *fail_task_no_message(void *arg)
{
    (void)arg;
    return cw_fail(CW_ETOOBIG, NULL);
}

typedef struct fail_record {
    int rc, rc2;
    int state;
    char message[128], message2[128];
} fail_record;

static void *await_failing(void *arg)
{
    fail_record *r = arg;
    cw_future *t = cw_spawn(fail_task, NULL);
    r->rc = cw_await(t);
    r->state = cw_future_state(t);
    snprintf(r->message, sizeof r->message, "%s", cw_future_message(t));
    cw_future_release(t);
    t = cw_spawn(fail_task_no_message, NULL);
    r->rc2 = cw_await(t);
    snprintf(r->message2, sizeof r->message2, "%s", cw_future_message(t));
    cw_future_release(t);
    return NULL;
}

START_TEST(test_task_failure_reaches_awaiter)
{
    fail_record r = { 0 };
    ck_assert_int_eq(cw_run(await_failing, &r, NULL), 0);
    ck_assert_int_eq(r.rc, CW_ECONNREFUSED);
    ck_assert_int_eq(r.state, CW_FAILED);
    ck_assert_str_eq(r.message, "could not reach the server");
    ck_assert_int_eq(r.rc2, CW_ETOOBIG);
    ck_assert_str_eq(r.message2, cw_strerror(CW_ETOOBIG));
}
END_TEST

/* ------------------------------------------------------------ sleep */

typedef struct sleeper {
    uint64_t ms;
    double start, end;
    int rc;
    int *order, *n;
} sleeper;

static void *timed_sleep(void *arg)
{
    sleeper *s = arg;
    s->start = now_ms();
    s->rc = cw_sleep(s->ms);
    s->end = now_ms();
    if (s->order)
        s->order[(*s->n)++] = (int)s->ms;
    return NULL;
}

static void *sleep_three(void *arg)
{
    sleeper *s = arg;
    cw_future *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = cw_spawn(timed_sleep, &s[i]);
    for (int i = 0; i < 3; i++)
        cw_await(t[i]);
    cw_future_release_all(t, 3);
    return NULL;
}

START_TEST(test_sleep_waits_and_overlaps)
{
    int order[3], n = 0;
    sleeper s[3] = {
        { .ms = 300, .order = order, .n = &n },
        { .ms = 100, .order = order, .n = &n },
        { .ms = 200, .order = order, .n = &n },
    };
    ck_assert_int_eq(cw_run(sleep_three, s, NULL), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(s[i].rc, 0);
        ck_assert_msg(s[i].end - s[i].start >= s[i].ms - 5, "cw_sleep(%d) returned after %.1f ms",
                      (int)s[i].ms, s[i].end - s[i].start);
    }
    /* They ran at the same time: the intervals overlap, and they ended shortest first. */
    ck_assert_msg(s[1].start < s[0].end && s[0].start < s[1].end, "sleeping tasks should overlap");
    ck_assert_msg(s[2].start < s[0].end && s[0].start < s[2].end, "sleeping tasks should overlap");
    ck_assert_int_eq(order[0], 100);
    ck_assert_int_eq(order[1], 200);
    ck_assert_int_eq(order[2], 300);
    ck_assert_msg(s[0].end - s[1].start < backstop(2000), "three overlapping sleeps took far too long");
}
END_TEST

static int sleep0_log[8], sleep0_n;

static void *yield_twice(void *arg)
{
    int id = (int)(intptr_t)arg;
    sleep0_log[sleep0_n++] = id;
    cw_sleep(0);
    sleep0_log[sleep0_n++] = id;
    return NULL;
}

static void *interleave(void *arg)
{
    (void)arg;
    cw_future *a = cw_spawn(yield_twice, (void *)1);
    cw_future *b = cw_spawn(yield_twice, (void *)2);
    cw_await(a);
    cw_await(b);
    cw_future_release(a);
    cw_future_release(b);
    return NULL;
}

START_TEST(test_sleep0_lets_others_run)
{
    sleep0_n = 0;
    ck_assert_int_eq(cw_run(interleave, NULL, NULL), 0);
    ck_assert_int_eq(sleep0_n, 4);
    /* 1 and 2 start, each yields, then both finish: 1 2 1 2 */
    ck_assert_int_eq(sleep0_log[0], 1);
    ck_assert_int_eq(sleep0_log[1], 2);
    ck_assert_int_eq(sleep0_log[2], 1);
    ck_assert_int_eq(sleep0_log[3], 2);
}
END_TEST

/* ------------------------------------------------------------ cancel */

typedef struct cancel_record {
    int started;
    int sleep_rc;
    int after_cancel;
    int cancel_rc;
    int await_rc;
    int state;
    int state_after_cancel_call;
    double elapsed;
    cw_future *awaited;
    int awaited_state;
    int second_cancel_rc;
    int inner_rc;
    int inner_state;
} cancel_record;

/* The usual idiom: pass the error on with cw_fail(). */
static void *sleep_then_pass_error(void *arg)
{
    cancel_record *r = arg;
    r->started = 1;
    r->sleep_rc = cw_sleep(60 * 1000);
    r->after_cancel = 1;
    if (r->sleep_rc < 0)
        return cw_fail(r->sleep_rc, "sleep ended: %s", cw_strerror(r->sleep_rc));
    return NULL;
}

/* The other idiom: stop quietly. */
static void *sleep_then_return(void *arg)
{
    cancel_record *r = arg;
    r->started = 1;
    r->sleep_rc = cw_sleep(60 * 1000);
    r->after_cancel = 1;
    return NULL;
}

/** Inside a task: spawn @p fn(r), let it start, cancel it and await it; the caller releases the task. */
static cw_future *spawn_then_cancel(cw_task_fn fn, cancel_record *r)
{
    cw_future *t = cw_spawn(fn, r);
    cw_sleep(10);
    r->cancel_rc = cw_future_cancel(t);
    r->await_rc = cw_await(t);
    r->state = cw_future_state(t);
    return t;
}

static cw_task_fn cancel_target;

static void *cancel_sleeper(void *arg)
{
    cancel_record *r = arg;
    double start = now_ms();
    cw_future *t = spawn_then_cancel(cancel_target, r);
    r->elapsed = now_ms() - start;
    r->second_cancel_rc = cw_future_cancel(t);
    cw_future_release(t);
    return NULL;
}

static void check_cancelled_sleeper(const cancel_record *r)
{
    ck_assert(r->started);
    ck_assert_int_eq(r->cancel_rc, 0);
    ck_assert_msg(r->sleep_rc == CW_ECANCELLED, "the cancelled task's cw_sleep should return CW_ECANCELLED, got %s",
                  cw_error_name(r->sleep_rc));
    ck_assert(r->after_cancel);
    ck_assert_msg(r->await_rc == CW_ECANCELLED, "awaiting the cancelled task should give CW_ECANCELLED, got %s",
                  cw_error_name(r->await_rc));
    ck_assert_msg(r->state == CW_CANCELLED, "the cancelled task should end CW_CANCELLED, state %d", r->state);
    ck_assert_int_eq(r->second_cancel_rc, CW_EDONE);
    ck_assert(r->elapsed < backstop(5000));
}

START_TEST(test_cancel_sleeping_task_passing_error_on)
{
    cancel_record r = { 0 };
    cancel_target = sleep_then_pass_error;
    ck_assert_int_eq(cw_run(cancel_sleeper, &r, NULL), 0);
    check_cancelled_sleeper(&r);
}
END_TEST

START_TEST(test_cancel_sleeping_task_returning)
{
    cancel_record r = { 0 };
    cancel_target = sleep_then_return;
    ck_assert_int_eq(cw_run(cancel_sleeper, &r, NULL), 0);
    check_cancelled_sleeper(&r);
}
END_TEST

static void *cancel_before_start(void *arg)
{
    cancel_record *r = arg;
    cw_future *t = cw_spawn(sleep_then_return, r);
    r->cancel_rc = cw_future_cancel(t);
    r->await_rc = cw_await(t);
    r->state = cw_future_state(t);
    cw_future_release(t);
    return NULL;
}

START_TEST(test_cancel_task_before_it_starts)
{
    cancel_record r = { 0 };
    double start = now_ms();
    ck_assert_int_eq(cw_run(cancel_before_start, &r, NULL), 0);
    ck_assert_int_eq(r.cancel_rc, 0);
    ck_assert_int_eq(r.await_rc, CW_ECANCELLED);
    ck_assert_int_eq(r.state, CW_CANCELLED);
    ck_assert(now_ms() - start < backstop(5000));
}
END_TEST

static void *cancel_finished(void *arg)
{
    cancel_record *r = arg;
    cw_future *t = cw_spawn(return_value, (void *)&cancel_finished);
    cw_await(t);
    r->cancel_rc = cw_future_cancel(t);
    r->state = cw_future_state(t);
    r->awaited = cw_future_result(t);
    r->await_rc = cw_await(t);
    cw_future_release(t);
    return NULL;
}

START_TEST(test_cancel_finished_task_changes_nothing)
{
    cancel_record r = { 0 };
    ck_assert_int_eq(cw_run(cancel_finished, &r, NULL), 0);
    ck_assert_int_eq(r.cancel_rc, CW_EDONE);
    ck_assert_int_eq(r.state, CW_RESOLVED);
    ck_assert_ptr_eq(r.awaited, (void *)&cancel_finished);
    ck_assert_int_eq(r.await_rc, 0);
}
END_TEST

static void *await_given(void *arg)
{
    cancel_record *r = arg;
    r->started = 1;
    r->inner_rc = cw_await(r->awaited);
    r->after_cancel = 1;
    return NULL;
}

static void *cancel_awaiting_task(void *arg)
{
    cancel_record *r = arg;
    r->awaited = cw_future_new();
    cw_future_release(spawn_then_cancel(await_given, r));
    r->awaited_state = cw_future_state(r->awaited);
    cw_future_release(r->awaited);
    return NULL;
}

START_TEST(test_cancel_task_cancels_awaited_future)
{
    cancel_record r = { 0 };
    ck_assert_int_eq(cw_run(cancel_awaiting_task, &r, NULL), 0);
    ck_assert(r.started);
    ck_assert_int_eq(r.inner_rc, CW_ECANCELLED);
    ck_assert_int_eq(r.await_rc, CW_ECANCELLED);
    ck_assert_int_eq(r.state, CW_CANCELLED);
    ck_assert_msg(r.awaited_state == CW_CANCELLED,
                  "the future the task was awaiting should be cancelled too, state %d", r.awaited_state);
}
END_TEST

/* Cancellation travels down a chain of awaiting tasks. */
static void *outer_awaits_inner(void *arg)
{
    cancel_record *r = arg;
    cw_future *inner = cw_spawn(sleep_then_return, r);
    r->inner_rc = cw_await(inner);
    r->inner_state = cw_future_state(inner);
    cw_future_release(inner);
    return NULL;
}

static void *cancel_outer(void *arg)
{
    cw_future_release(spawn_then_cancel(outer_awaits_inner, arg));
    return NULL;
}

START_TEST(test_cancel_propagates_to_awaited_task)
{
    cancel_record r = { 0 };
    double start = now_ms();
    ck_assert_int_eq(cw_run(cancel_outer, &r, NULL), 0);
    ck_assert(now_ms() - start < backstop(5000));
    ck_assert(r.started);
    ck_assert_int_eq(r.sleep_rc, CW_ECANCELLED);
    ck_assert_int_eq(r.inner_rc, CW_ECANCELLED);
    ck_assert_int_eq(r.inner_state, CW_CANCELLED);
    ck_assert_int_eq(r.await_rc, CW_ECANCELLED);
    ck_assert_int_eq(r.state, CW_CANCELLED);
}
END_TEST

/* asyncio's Task.cancel() of a task awaiting another task only passes the request on. When the
 * awaited task swallows it (uncancels itself and returns), the awaiting task gets that result and
 * goes on, not cancelled, though its request still counts (cancelling() is 1), as in asyncio 3.11. */
typedef struct swallow_record {
    int inner_sleep_rc, inner_cleanup_rc;
    int outer_await_rc, outer_sleep_rc;
    intptr_t outer_saw;
    int cancel_rc, outer_state, outer_cancelling;
    intptr_t outer_result;
} swallow_record;

static void *swallow_cancellation(void *arg)
{
    swallow_record *r = arg;
    r->inner_sleep_rc = cw_sleep(60 * 1000);
    if (r->inner_sleep_rc != CW_ECANCELLED)
        return (void *)102;
    cw_task_uncancel(cw_current_task()); /* except CancelledError: uncancel(), clean up, return */
    r->inner_cleanup_rc = cw_sleep(20);
    return (void *)202;
}

static void *await_swallower(void *arg)
{
    swallow_record *r = arg;
    cw_future *inner = cw_spawn(swallow_cancellation, r);
    r->outer_await_rc = cw_await(inner);
    r->outer_saw = (intptr_t)cw_future_result(inner);
    cw_future_release(inner);
    r->outer_sleep_rc = cw_sleep(20); /* not cancelled: the request went to inner */
    return (void *)(r->outer_saw + 1);
}

static void *cancel_awaiter_of_swallower(void *arg)
{
    swallow_record *r = arg;
    cw_future *outer = cw_spawn(await_swallower, r);
    cw_sleep(10);
    r->cancel_rc = cw_future_cancel_msg(outer, "m");
    cw_await(outer);
    r->outer_state = cw_future_state(outer);
    r->outer_result = (intptr_t)cw_future_result(outer);
    r->outer_cancelling = cw_task_cancelling(outer);
    cw_future_release(outer);
    return NULL;
}

START_TEST(test_cancel_passed_on_and_swallowed)
{
    swallow_record r = { 0 };
    ck_assert_int_eq(cw_run(cancel_awaiter_of_swallower, &r, NULL), 0);
    ck_assert_int_eq(r.cancel_rc, 0);
    ck_assert_int_eq(r.inner_sleep_rc, CW_ECANCELLED);
    ck_assert_int_eq(r.inner_cleanup_rc, 0);
    ck_assert_msg(r.outer_await_rc == 0, "the awaiting task should get the swallower's result, got %s",
                  cw_error_name(r.outer_await_rc));
    ck_assert_int_eq(r.outer_saw, 202);
    ck_assert_msg(r.outer_sleep_rc == 0, "the awaiting task was not cancelled itself, its sleep got %s",
                  cw_error_name(r.outer_sleep_rc));
    ck_assert_int_eq(r.outer_state, CW_RESOLVED);
    ck_assert_int_eq(r.outer_result, 203);
    ck_assert_int_eq(r.outer_cancelling, 1); /* Task.cancel() counted it all the same */
}
END_TEST

/* A task that cancels itself and then awaits: as asyncio's __step with _must_cancel, the request
 * goes to what it awaits, and a swallower's result comes back; the task is not cancelled. */
static void *cancel_self_then_await(void *arg)
{
    swallow_record *r = arg;
    cw_future *inner = cw_spawn(swallow_cancellation, r);
    cw_sleep(10);
    r->cancel_rc = cw_future_cancel(cw_current_task());
    r->outer_await_rc = cw_await(inner);
    r->outer_saw = (intptr_t)cw_future_result(inner);
    cw_future_release(inner);
    r->outer_sleep_rc = cw_sleep(10);
    r->outer_cancelling = cw_task_cancelling(cw_current_task());
    return (void *)r->outer_saw;
}

START_TEST(test_pending_cancel_passed_on_at_next_await)
{
    swallow_record r = { 0 };
    void *result = NULL;
    ck_assert_int_eq(cw_run(cancel_self_then_await, &r, &result), 0);
    ck_assert_int_eq(r.cancel_rc, 0);
    ck_assert_int_eq(r.inner_sleep_rc, CW_ECANCELLED);
    ck_assert_msg(r.outer_await_rc == 0, "the request should go to the awaited task, which swallows it; got %s",
                  cw_error_name(r.outer_await_rc));
    ck_assert_int_eq(r.outer_saw, 202);
    ck_assert_int_eq(r.outer_sleep_rc, 0);
    ck_assert_int_eq(r.outer_cancelling, 1);
    ck_assert_int_eq((intptr_t)result, 202);
}
END_TEST

/* Which message a cancelled task ends with, as in asyncio 3.11 (checked on /usr/bin/python3): a
 * pending request takes the latest message (none for a cancel without one), and a task cancelled
 * again while it cleans up ends with the message of the second cancellation, the one that left. */
static void *yield_then_sleep(void *arg)
{
    (void)arg;
    if (cw_sleep(0) == 0) /* cancelled here: stop */
        cw_sleep(60 * 1000);
    return NULL;
}

static void *clean_up_slowly(void *arg)
{
    (void)arg;
    if (cw_sleep(60 * 1000) == CW_ECANCELLED)
        cw_sleep(60 * 1000); /* cleaning up, cancelled again */
    return NULL;
}

static void *cancel_with_messages(void *arg)
{
    char(*messages)[32] = arg;
    const char *second[3] = { "b", NULL, NULL };
    for (int i = 0; i < 3; i++) {
        cw_future *t = cw_spawn(i < 2 ? yield_then_sleep : clean_up_slowly, NULL);
        cw_sleep(i < 2 ? 0 : 10); /* 0: t is ready (after its sleep(0)), not awaiting */
        cw_future_cancel_msg(t, "a");
        if (i == 2)
            cw_sleep(10); /* t caught "a" and cleans up */
        cw_future_cancel_msg(t, second[i]);
        cw_await(t);
        snprintf(messages[i], sizeof messages[i], "%s", cw_future_message(t));
        cw_future_release(t);
    }
    return NULL;
}

START_TEST(test_cancel_message_is_the_latest)
{
    char messages[3][32] = { "", "", "" };
    ck_assert_int_eq(cw_run(cancel_with_messages, messages, NULL), 0);
    ck_assert_str_eq(messages[0], "b");
    ck_assert_str_eq(messages[1], "cancelled"); /* the latest request had none */
    ck_assert_str_eq(messages[2], "cancelled"); /* the second cancellation, with none, is the one that left */
}
END_TEST

/* A task cancelled while ready (not awaiting) sees it at its next await. */
static void *busy_then_sleep(void *arg)
{
    cancel_record *r = arg;
    r->started = 1;
    r->sleep_rc = cw_sleep(0); /* cancelled while ready: this is the await that sees it */
    if (r->sleep_rc == 0)
        cw_sleep(60 * 1000);
    r->after_cancel = 1;
    return NULL;
}

static void *cancel_ready_task(void *arg)
{
    cancel_record *r = arg;
    cw_future *t = cw_spawn(busy_then_sleep, r);
    cw_sleep(0); /* t started and yielded with sleep(0): it is ready, not awaiting */
    r->cancel_rc = cw_future_cancel(t);
    r->await_rc = cw_await(t);
    r->state = cw_future_state(t);
    cw_future_release(t);
    return NULL;
}

START_TEST(test_cancel_ready_task_seen_at_next_await)
{
    cancel_record r = { 0 };
    double start = now_ms();
    ck_assert_int_eq(cw_run(cancel_ready_task, &r, NULL), 0);
    ck_assert(now_ms() - start < backstop(5000));
    ck_assert(r.started);
    ck_assert_int_eq(r.cancel_rc, 0);
    ck_assert_int_eq(r.sleep_rc, CW_ECANCELLED);
    ck_assert_int_eq(r.await_rc, CW_ECANCELLED);
    ck_assert_int_eq(r.state, CW_CANCELLED);
}
END_TEST

/* After a cancellation was delivered a task may still await, to clean up. */
static void *cleanup_after_cancel(void *arg)
{
    cancel_record *r = arg;
    r->started = 1;
    r->sleep_rc = cw_sleep(60 * 1000);
    r->inner_rc = cw_sleep(20); /* the cleanup's own await works */
    r->after_cancel = 1;
    return NULL;
}

static void *cancel_cleaner(void *arg)
{
    cw_future_release(spawn_then_cancel(cleanup_after_cancel, arg));
    return NULL;
}

START_TEST(test_cancelled_task_can_still_await_cleanup)
{
    cancel_record r = { 0 };
    ck_assert_int_eq(cw_run(cancel_cleaner, &r, NULL), 0);
    ck_assert_int_eq(r.sleep_rc, CW_ECANCELLED);
    ck_assert_msg(r.inner_rc == 0, "an await after a delivered cancellation should work, got %s",
                  cw_error_name(r.inner_rc));
    ck_assert(r.after_cancel);
    ck_assert_int_eq(r.await_rc, CW_ECANCELLED);
}
END_TEST

/* A task cancelling its main: cw_run returns CW_ECANCELLED. */
static cw_future *main_task;

static void *cancel_main(void *arg)
{
    (void)arg;
    cw_future_cancel(main_task);
    return NULL;
}

static void *main_cancelled(void *arg)
{
    int *rc = arg;
    main_task = cw_current_task();
    cw_future *t = cw_spawn(cancel_main, NULL);
    *rc = cw_sleep(60 * 1000);
    cw_future_release(t);
    return *rc ? cw_fail(*rc, NULL) : NULL;
}

START_TEST(test_run_returns_ecancelled_when_main_cancelled)
{
    int rc = 0;
    double start = now_ms();
    ck_assert_int_eq(cw_run(main_cancelled, &rc, NULL), CW_ECANCELLED);
    ck_assert_int_eq(rc, CW_ECANCELLED);
    ck_assert(now_ms() - start < backstop(5000));
}
END_TEST

/* ------------------------------------------------------------ cancel messages, cancelling, uncancel */

/* The same as this asyncio 3.11 program, whose output the assertions below quote:
 *     t = create_task(sleeper()); await sleep(0)
 *     t.cancel("why") -> True, cancelling 1; t.cancel("second") -> True, cancelling 2
 *     await t raises CancelledError('why'); t.cancelled() True, cancelling() still 2
 *     f.cancel("fmsg"): f.result() raises CancelledError('fmsg')
 *     catcher: catches the cancel, cancelling() 1, uncancel() -> 0, returns "cleaned":
 *              result "cleaned", cancelled() False
 *     a fresh task: uncancel() -> 0
 *     gather(a, b).cancel("gmsg"): await raises CancelledError('gmsg')
 *     create_task(...).cancel("before start"): await raises CancelledError('before start') */
typedef struct msg_record {
    int cancel_rc[2], cancelling_after[2], await_rc, state, cancelling_at_end;
    char message[64], future_message[64], gather_message[64], child_message[64], early_message[64];
    int catcher_cancelling, catcher_uncancel, catcher_state, catcher_cancelling_at_end;
    char catcher_result[16];
    int fresh_uncancel, not_a_task;
} msg_record;

static void *sleep_ten_seconds(void *arg)
{
    (void)arg;
    cw_sleep(10000);
    return NULL;
}

static void *catcher(void *arg)
{
    msg_record *r = arg;
    if (cw_sleep(10000) == CW_ECANCELLED) {
        r->catcher_cancelling = cw_task_cancelling(cw_current_task());
        r->catcher_uncancel = cw_task_uncancel(cw_current_task());
        return "cleaned";
    }
    return NULL;
}

static void *cancel_messages(void *arg)
{
    msg_record *r = arg;
    cw_future *t = cw_spawn(sleep_ten_seconds, NULL);
    cw_sleep(0);
    r->cancel_rc[0] = cw_future_cancel_msg(t, "why");
    r->cancelling_after[0] = cw_task_cancelling(t);
    r->cancel_rc[1] = cw_future_cancel_msg(t, "second");
    r->cancelling_after[1] = cw_task_cancelling(t);
    r->await_rc = cw_await(t);
    r->state = cw_future_state(t);
    r->cancelling_at_end = cw_task_cancelling(t);
    snprintf(r->message, sizeof r->message, "%s", cw_future_message(t));
    cw_future_release(t);

    cw_future *f = cw_future_new();
    cw_future_cancel_msg(f, "fmsg");
    snprintf(r->future_message, sizeof r->future_message, "%s", cw_future_message(f));
    r->not_a_task = cw_task_cancelling(f);
    cw_future_release(f);

    cw_future *c = cw_spawn(catcher, r);
    cw_sleep(0);
    cw_future_cancel_msg(c, "stop");
    cw_await(c);
    r->catcher_state = cw_future_state(c);
    r->catcher_cancelling_at_end = cw_task_cancelling(c);
    snprintf(r->catcher_result, sizeof r->catcher_result, "%s", (const char *)cw_future_result(c));
    cw_future_release(c);

    cw_future *u = cw_spawn(sleep_ten_seconds, NULL);
    r->fresh_uncancel = cw_task_uncancel(u);
    cw_future_cancel(u);
    cw_await(u);
    cw_future_release(u);

    cw_future *kids[2] = { cw_spawn(sleep_ten_seconds, NULL), cw_spawn(sleep_ten_seconds, NULL) };
    cw_sleep(0);
    cw_future *g = cw_gather(kids, 2, false);
    cw_future_cancel_msg(g, "gmsg");
    cw_await(g);
    snprintf(r->gather_message, sizeof r->gather_message, "%s", cw_future_message(g));
    cw_await(kids[0]);
    snprintf(r->child_message, sizeof r->child_message, "%s", cw_future_message(kids[0]));
    cw_future_release(g);
    cw_await(kids[1]);
    cw_future_release_all(kids, 2);

    cw_future *d = cw_spawn(sleep_ten_seconds, NULL);
    cw_future_cancel_msg(d, "before start");
    cw_await(d);
    snprintf(r->early_message, sizeof r->early_message, "%s", cw_future_message(d));
    cw_future_release(d);
    return NULL;
}

START_TEST(test_cancel_message_cancelling_uncancel)
{
    msg_record r = { 0 };
    ck_assert_int_eq(cw_run(cancel_messages, &r, NULL), 0);
    ck_assert_int_eq(r.cancel_rc[0], 0);
    ck_assert_int_eq(r.cancelling_after[0], 1);
    ck_assert_int_eq(r.cancel_rc[1], 0);
    ck_assert_int_eq(r.cancelling_after[1], 2);
    ck_assert_int_eq(r.await_rc, CW_ECANCELLED);
    ck_assert_int_eq(r.state, CW_CANCELLED);
    ck_assert_int_eq(r.cancelling_at_end, 2);
    ck_assert_str_eq(r.message, "why");
    ck_assert_str_eq(r.future_message, "fmsg");
    ck_assert_int_eq(r.not_a_task, CW_EINVAL);
    ck_assert_int_eq(r.catcher_cancelling, 1);
    ck_assert_int_eq(r.catcher_uncancel, 0);
    ck_assert_msg(r.catcher_state == CW_RESOLVED, "a task that uncancelled itself should end with its result, ended %d",
                  r.catcher_state);
    ck_assert_str_eq(r.catcher_result, "cleaned");
    ck_assert_int_eq(r.catcher_cancelling_at_end, 0);
    ck_assert_int_eq(r.fresh_uncancel, 0);
    ck_assert_str_eq(r.gather_message, "gmsg");
    ck_assert_str_eq(r.child_message, "gmsg");
    ck_assert_str_eq(r.early_message, "before start");
}
END_TEST

/* A task that ends cancelled keeps what its function returned: its owner can still free it
 * (valgrind reports the leak otherwise). */
static void *return_after_cancel(void *arg)
{
    (void)arg;
    char *buffer = strdup("partial work");
    cw_sleep(10000); /* cancelled here */
    return buffer;
}

static void *read_cancelled_result(void *arg)
{
    char **out = arg;
    cw_future *t = cw_spawn(return_after_cancel, NULL);
    cw_sleep(0);
    cw_future_cancel(t);
    int rc = cw_await(t);
    ck_assert_int_eq(rc, CW_ECANCELLED);
    *out = cw_future_result(t); /* ours to free */
    cw_future_release(t);
    return NULL;
}

START_TEST(test_cancelled_task_result_has_an_owner)
{
    char *result = NULL;
    ck_assert_int_eq(cw_run(read_cancelled_result, &result, NULL), 0);
    ck_assert_msg(result != NULL, "a cancelled task's result should still be readable by its owner");
    ck_assert_str_eq(result, "partial work");
    free(result);
}
END_TEST

/* Two tasks stuck after cw_run()'s cancellation, one awaiting the other: abandoning the first
 * ends it, which wakes the second, which is abandoned in turn. Nothing may run or touch a task
 * after it was freed (valgrind and ASan would report it). */
static cw_future *stuck_inner;
static cw_future *never, *never_again; /* the test frees them: an abandoned task never returns */

static void *await_forever_after_cancel(void *arg)
{
    (void)arg;
    if (cw_await(never) == CW_ECANCELLED)
        cw_await(never_again); /* ignores the cancellation: stuck */
    return NULL;
}

static void *await_inner_twice(void *arg)
{
    (void)arg;
    while (cw_await(stuck_inner) == CW_ECANCELLED && !cw_future_done(stuck_inner))
        ;
    return NULL;
}

static void *leave_two_stuck(void *arg)
{
    (void)arg;
    cw_future *outer = cw_spawn(await_inner_twice, NULL); /* older: abandoned last */
    stuck_inner = cw_spawn(await_forever_after_cancel, NULL);
    cw_sleep(10);
    cw_future_release(outer);
    cw_future_release(stuck_inner);
    return NULL;
}

START_TEST(test_abandoned_tasks_freed_once)
{
    never = cw_future_new();
    never_again = cw_future_new();
    ck_assert_int_eq(cw_run(leave_two_stuck, NULL, NULL), 0);
    ck_assert_int_eq(cw_run(return_value, NULL, NULL), 0); /* the runtime is whole again */
    cw_future_release(never);
    cw_future_release(never_again);
}
END_TEST

/* ------------------------------------------------------------ many tasks */

/* Many tasks spawned at once, each ending on its first step: the cost per task must not grow with
 * the number of tasks still queued (a task that ends used to be searched for in the whole queue).
 * Process CPU time, not the wall clock: the limit is a backstop (100,000 tasks take about 2 s). */
static void *end_at_once(void *arg)
{
    return arg;
}

static void *spawn_many(void *arg)
{
    int *n = arg;
    cw_future **ts = malloc(*n * sizeof *ts);
    for (int i = 0; i < *n; i++)
        ts[i] = cw_spawn(end_at_once, NULL);
    for (int i = 0; i < *n; i++)
        cw_await(ts[i]);
    cw_future_release_all(ts, *n);
    free(ts);
    return NULL;
}

START_TEST(test_many_tasks_at_once_stay_linear)
{
    int n = RUNNING_ON_VALGRIND ? 5000 : 100000;
    clock_t start = clock();
    ck_assert_int_eq(cw_run(spawn_many, &n, NULL), 0);
    double cpu_s = (double)(clock() - start) / CLOCKS_PER_SEC;
    ck_assert_msg(cpu_s < backstop(20), "%d tasks spawned at once took %.1f s of CPU", n, cpu_s);
}
END_TEST

/* ------------------------------------------------------------ stack overflow */

/* A frame larger than a task's whole stack; only its lowest 4 KiB are written. Without a guard
 * region wide enough, or without probing, those bytes land in the stack mapped just below. */
#define OVERFLOW_FRAME (CW_TASK_STACK_SIZE + 20 * 1024)
#define CANARY_SIZE (32 * 1024)

static __attribute__((noinline)) char write_far_below(void)
{
    volatile char big[OVERFLOW_FRAME];
    for (int i = 0; i < 4096; i++)
        big[i] = 0x66;
    return big[0];
}

static void *overflow_later(void *arg)
{
    (void)arg;
    cw_sleep(20); /* first let the neighbour take the stack mapped below this one */
    write_far_below();
    return NULL;
}

static void *neighbour_with_canary(void *arg)
{
    bool *intact = arg;
    volatile unsigned char canary[CANARY_SIZE];
    for (int i = 0; i < CANARY_SIZE; i++)
        canary[i] = 0x5a;
    cw_sleep(200);
    *intact = true;
    for (int i = 0; i < CANARY_SIZE; i++)
        *intact = *intact && canary[i] == 0x5a;
    return NULL;
}

static void *overflow_beside_neighbour(void *arg)
{
    bool *intact = arg;
    cw_future *bad = cw_spawn(overflow_later, NULL);
    cw_future *good = cw_spawn(neighbour_with_canary, intact);
    cw_await(good);
    cw_await(bad);
    cw_future_release(good);
    cw_future_release(bad);
    return NULL;
}

/* A task that overflows its stack must stop the program (a fault, or a clear message from a
 * sanitizer), never write into the stack of the task next to it and carry on. */
START_TEST(test_stack_overflow_faults)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 }); /* an expected crash: no core file */
        bool intact = false;
        cw_run(overflow_beside_neighbour, &intact, NULL);
        _exit(intact ? 0 : 3);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) == 3),
                  "the overflowing task wrote into its neighbour's stack, and nothing stopped it");
    ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) == 0),
                  "a task used %d KiB on a %d KiB stack and nothing stopped it", OVERFLOW_FRAME / 1024,
                  CW_TASK_STACK_SIZE / 1024);
}
END_TEST

START_TEST(test_now_us_is_monotonic)
{
    uint64_t a = cw_now_us();
    struct timespec ts = { 0, 5 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    uint64_t b = cw_now_us();
    ck_assert_msg(b >= a + 4000 && b < a + 5000000, "5 ms of sleep moved cw_now_us by %llu us",
                  (unsigned long long)(b - a));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("task");

    TCase *tc = add_case(s, "run", 10, NULL, NULL);
    tcase_add_test(tc, test_run_returns_main_result);
    tcase_add_test(tc, test_run_returns_main_error);
    tcase_add_test(tc, test_run_cancels_and_reaps_leftover_tasks);
    tcase_add_test(tc, test_run_inside_task_is_einval);
    tcase_add_test(tc, test_calls_outside_task);
    tcase_add_test(tc, test_calls_in_loop_callback_are_enotask);
    tcase_add_test(tc, test_run_detects_deadlock);
    tcase_add_test(tc, test_run_detects_deadlock_through_task);
    tcase_add_test(tc, test_run_returns_ecancelled_when_main_cancelled);
    tcase_add_test(tc, test_now_us_is_monotonic);
    tcase_add_test(tc, test_abandoned_tasks_freed_once);
    tcase_add_test(tc, test_stack_overflow_faults);

    tc = add_case(s, "many tasks", 300, NULL, NULL); /* CPU-bound: a backstop for a loaded machine */
    tcase_add_test(tc, test_many_tasks_at_once_stay_linear);

    tc = add_case(s, "spawn", 10, NULL, NULL);
    tcase_add_test(tc, test_spawn_starts_later);
    tcase_add_test(tc, test_spawn_then_await);
    tcase_add_test(tc, test_spawn_named_labels_timeline);
    tcase_add_test(tc, test_unread_task_failure_is_reported);
    tcase_add_test(tc, test_task_failure_reaches_awaiter);

    tc = add_case(s, "sleep", 10, NULL, NULL);
    tcase_add_test(tc, test_sleep_waits_and_overlaps);
    tcase_add_test(tc, test_sleep0_lets_others_run);

    tc = add_case(s, "cancel", 10, NULL, NULL);
    tcase_add_test(tc, test_cancel_sleeping_task_passing_error_on);
    tcase_add_test(tc, test_cancel_sleeping_task_returning);
    tcase_add_test(tc, test_cancel_task_before_it_starts);
    tcase_add_test(tc, test_cancel_finished_task_changes_nothing);
    tcase_add_test(tc, test_cancel_task_cancels_awaited_future);
    tcase_add_test(tc, test_cancel_propagates_to_awaited_task);
    tcase_add_test(tc, test_cancel_passed_on_and_swallowed);
    tcase_add_test(tc, test_pending_cancel_passed_on_at_next_await);
    tcase_add_test(tc, test_cancel_message_is_the_latest);
    tcase_add_test(tc, test_cancel_ready_task_seen_at_next_await);
    tcase_add_test(tc, test_cancelled_task_can_still_await_cleanup);
    tcase_add_test(tc, test_cancel_message_cancelling_uncancel);
    tcase_add_test(tc, test_cancelled_task_result_has_an_owner);

    return run_suite(s);
}
