/**
 * @file test_combine.c
 * @brief Tests of the combinators: gather, as_completed and wait.
 *
 * Children are small tasks that sleep and then return a value or fail, plus a
 * few HTTP requests. What matters is structure: slot order, completion order,
 * which futures are done when a combinator returns, and that nothing is
 * cancelled unless the contract says so.
 */
#include "cw.h"
#include "cw_fixture.h"
#include "support.h"
#include "../../common/src/internal.h" /* to look at a future's callback storage */

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ children */

/** A child task: sleeps @c ms, then returns @c value or fails with @c fail (and @c message). */
typedef struct job {
    uint64_t ms;
    int fail;
    const char *message;
    intptr_t value;
    int sleep_rc;
    int ended;
} job;

static int finish_order[16];
static int n_finished;

static void *run_job(void *arg)
{
    job *j = arg;
    j->sleep_rc = cw_sleep(j->ms);
    j->ended = 1;
    if (j->sleep_rc < 0)
        return NULL; /* cancelled: end quietly */
    finish_order[n_finished++] = (int)j->value;
    if (j->fail)
        return cw_fail(j->fail, "%s", j->message ? j->message : "job failed");
    return (void *)j->value;
}

static void spawn_jobs(job *jobs, cw_future **tasks, int n)
{
    n_finished = 0;
    for (int i = 0; i < n; i++)
        tasks[i] = cw_spawn(run_job, &jobs[i]);
}

/* Await each task (ignoring errors) and release it. */
static void finish_jobs(cw_future **tasks, int n)
{
    for (int i = 0; i < n; i++) {
        cw_await(tasks[i]);
        cw_future_release(tasks[i]);
    }
}

/* ------------------------------------------------------------ gather */

typedef struct gather_record {
    int rc;
    int state;
    char message[128];
    bool slots_are_inputs;
    int slot_errors[4];
    intptr_t slot_values[4];
    bool done_when_gather_ended[4];
    int later_rc[4];
    char later_message[4][128];
    intptr_t later_values[4];
    long status[4];
    int cancel_rc;
    double elapsed;
} gather_record;

/* A task that fetches one URL and records when it finished. */
typedef struct fetch_job {
    const char *path;
    int index;
} fetch_job;

static void *fetch(void *arg)
{
    fetch_job *j = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    cw_future *req = cw_session_get(s, url(j->path));
    int rc = cw_await(req);
    long status = rc == 0 ? cw_response_of(req)->status : 0;
    finish_order[n_finished++] = j->index;
    cw_future_release(req);
    cw_session_close(s);
    return rc < 0 ? cw_fail(rc, "fetch failed") : (void *)(intptr_t)status;
}

static void *gather_fetches(void *arg)
{
    gather_record *r = arg;
    fetch_job jobs[2] = { { "/delay/300", 0 }, { "/delay/100", 1 } };
    cw_future *tasks[2];
    n_finished = 0;
    for (int i = 0; i < 2; i++)
        tasks[i] = cw_spawn(fetch, &jobs[i]);
    cw_future *g = cw_gather(tasks, 2, false);
    r->rc = cw_await(g);
    cw_future **slots = cw_future_result(g);
    r->slots_are_inputs = slots && slots[0] == tasks[0] && slots[1] == tasks[1];
    for (int i = 0; slots && i < 2; i++)
        r->status[i] = (long)(intptr_t)cw_future_result(slots[i]);
    cw_future_release(g);
    cw_future_release_all(tasks, 2);
    return NULL;
}

START_TEST(test_gather_keeps_input_order)
{
    server_setup();
    gather_record r = { 0 };
    ck_assert_int_eq(cw_run(gather_fetches, &r, NULL), 0);
    server_teardown();
    ck_assert_int_eq(r.rc, 0);
    ck_assert_msg(r.slots_are_inputs, "slot i should be futures[i], in input order");
    ck_assert_int_eq(r.status[0], 200);
    ck_assert_int_eq(r.status[1], 200);
    ck_assert_int_eq(n_finished, 2);
    ck_assert_msg(finish_order[0] == 1 && finish_order[1] == 0,
                  "the /delay/100 task should have finished first (completion order %d, %d)", finish_order[0],
                  finish_order[1]);
}
END_TEST

/* Requests themselves can be gathered. */
static void *gather_requests(void *arg)
{
    gather_record *r = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    cw_future *reqs[2] = {
        cw_session_get(s, url("/delay/200")),
        cw_session_get(s, url("/status/404")),
    };
    cw_future *g = cw_gather(reqs, 2, false);
    r->rc = cw_await(g);
    cw_future **slots = cw_future_result(g);
    r->slots_are_inputs = slots && slots[0] == reqs[0] && slots[1] == reqs[1];
    for (int i = 0; slots && i < 2; i++)
        r->status[i] = cw_response_of(slots[i]) ? cw_response_of(slots[i])->status : -1;
    cw_future_release(g);
    cw_future_release_all(reqs, 2);
    cw_session_close(s);
    return NULL;
}

START_TEST(test_gather_requests)
{
    server_setup();
    gather_record r = { 0 };
    ck_assert_int_eq(cw_run(gather_requests, &r, NULL), 0);
    server_teardown();
    ck_assert_int_eq(r.rc, 0);
    ck_assert(r.slots_are_inputs);
    ck_assert_int_eq(r.status[0], 200);
    ck_assert_int_eq(r.status[1], 404);
}
END_TEST

/** Three children: A slow and fine, B fails first, C fails later. */
static job mixed[3];

static void mixed_jobs(void)
{
    mixed[0] = (job){ .ms = 300, .value = 1 };
    mixed[1] = (job){ .ms = 50, .value = 2, .fail = CW_EHTTP, .message = "B broke" };
    mixed[2] = (job){ .ms = 150, .value = 3, .fail = CW_ETIMEDOUT, .message = "C was late" };
}

static void *gather_mixed(void *arg)
{
    gather_record *r = arg;
    bool return_exceptions = r->rc;
    cw_future *tasks[3];
    mixed_jobs();
    spawn_jobs(mixed, tasks, 3);
    cw_future *g = cw_gather(tasks, 3, return_exceptions);
    double start = now_ms();
    r->rc = cw_await(g);
    r->elapsed = now_ms() - start;
    r->state = cw_future_state(g);
    snprintf(r->message, sizeof r->message, "%s", cw_future_message(g));
    for (int i = 0; i < 3; i++)
        r->done_when_gather_ended[i] = cw_future_done(tasks[i]);
    cw_future **slots = cw_future_result(g);
    r->slots_are_inputs = slots != NULL;
    for (int i = 0; slots && i < 3; i++) {
        r->slots_are_inputs = r->slots_are_inputs && slots[i] == tasks[i];
        r->slot_errors[i] = cw_future_error(slots[i]);
        r->slot_values[i] = (intptr_t)cw_future_result(slots[i]);
    }
    cw_future_release(g);
    /* The siblings keep running and keep their own outcome. */
    for (int i = 0; i < 3; i++) {
        r->later_rc[i] = cw_await(tasks[i]);
        r->later_values[i] = (intptr_t)cw_future_result(tasks[i]);
        snprintf(r->later_message[i], sizeof r->later_message[i], "%s", cw_future_message(tasks[i]));
    }
    cw_future_release_all(tasks, 3);
    return NULL;
}

START_TEST(test_gather_fails_with_first_error_at_once)
{
    gather_record r = { 0 };
    r.rc = false; /* return_exceptions */
    ck_assert_int_eq(cw_run(gather_mixed, &r, NULL), 0);
    ck_assert_msg(r.rc == CW_EHTTP, "the gather should fail with B's error, got %s", cw_error_name(r.rc));
    ck_assert_int_eq(r.state, CW_FAILED);
    ck_assert_msg(strstr(r.message, "B broke") != NULL, "the gather's message should be B's, got \"%s\"", r.message);
    ck_assert_msg(!r.done_when_gather_ended[0] && !r.done_when_gather_ended[2],
                  "the gather should fail at once, while A and C still run");
    ck_assert(r.done_when_gather_ended[1]);
    ck_assert_msg(r.elapsed < backstop(250), "the gather should fail when B fails (50 ms), not after %.0f ms", r.elapsed);
    /* The others finished later with their own outcomes. */
    ck_assert_int_eq(r.later_rc[0], 0);
    ck_assert_int_eq(r.later_values[0], 1);
    ck_assert_int_eq(r.later_rc[2], CW_ETIMEDOUT);
    ck_assert_str_eq(r.later_message[2], "C was late");
    ck_assert_int_eq(mixed[0].sleep_rc, 0);
    ck_assert_int_eq(mixed[2].sleep_rc, 0);
}
END_TEST

START_TEST(test_gather_return_exceptions_puts_errors_in_slots)
{
    gather_record r = { 0 };
    r.rc = true; /* return_exceptions */
    ck_assert_int_eq(cw_run(gather_mixed, &r, NULL), 0);
    ck_assert_msg(r.rc == 0, "with return_exceptions the gather never fails, got %s", cw_error_name(r.rc));
    ck_assert_int_eq(r.state, CW_RESOLVED);
    ck_assert(r.slots_are_inputs);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(r.done_when_gather_ended[i], "child %d should be done when the gather resolves", i);
    ck_assert_int_eq(r.slot_errors[0], 0);
    ck_assert_int_eq(r.slot_values[0], 1);
    ck_assert_int_eq(r.slot_errors[1], CW_EHTTP);
    ck_assert_int_eq(r.slot_errors[2], CW_ETIMEDOUT);
    ck_assert_str_eq(r.later_message[1], "B broke");
}
END_TEST

static job slow[3];

static void *cancel_gather(void *arg)
{
    gather_record *r = arg;
    slow[0] = (job){ .ms = 5000, .value = 1 };
    slow[1] = (job){ .ms = 10, .value = 2 };
    slow[2] = (job){ .ms = 5000, .value = 3 };
    cw_future *tasks[3];
    spawn_jobs(slow, tasks, 3);
    cw_future *g = cw_gather(tasks, 3, false);
    cw_sleep(100);
    r->cancel_rc = cw_future_cancel(g);
    r->rc = cw_await(g);
    r->state = cw_future_state(g);
    cw_future_release(g);
    for (int i = 0; i < 3; i++) {
        r->later_rc[i] = cw_await(tasks[i]);
        r->slot_errors[i] = cw_future_error(tasks[i]);
    }
    cw_future_release_all(tasks, 3);
    return NULL;
}

START_TEST(test_cancel_gather_cancels_children)
{
    gather_record r = { 0 };
    double start = now_ms();
    ck_assert_int_eq(cw_run(cancel_gather, &r, NULL), 0);
    ck_assert(now_ms() - start < backstop(3000));
    ck_assert_int_eq(r.cancel_rc, 0);
    ck_assert_int_eq(r.rc, CW_ECANCELLED);
    ck_assert_int_eq(r.state, CW_FAILED); /* asyncio's cancelled gather fails with CancelledError */
    ck_assert_msg(slow[0].sleep_rc == CW_ECANCELLED && slow[2].sleep_rc == CW_ECANCELLED,
                  "cancelling the gather should cancel its unfinished children");
    ck_assert_int_eq(r.slot_errors[0], CW_ECANCELLED);
    ck_assert_int_eq(r.slot_errors[2], CW_ECANCELLED);
    ck_assert_msg(r.slot_errors[1] == 0 && slow[1].sleep_rc == 0, "the finished child keeps its result");
}
END_TEST

/* A task awaiting a gather is cancelled: the gather, then its children, are cancelled. */
static void *await_gather(void *arg)
{
    return (void *)(intptr_t)cw_await(arg);
}

static void *cancel_task_awaiting_gather(void *arg)
{
    gather_record *r = arg;
    slow[0] = (job){ .ms = 5000, .value = 1 };
    slow[1] = (job){ .ms = 5000, .value = 2 };
    cw_future *tasks[2];
    spawn_jobs(slow, tasks, 2);
    cw_future *g = cw_gather(tasks, 2, true);
    cw_future *waiter = cw_spawn(await_gather, g);
    cw_sleep(50);
    cw_future_cancel(waiter);
    r->rc = cw_await(waiter);
    r->state = cw_future_state(g);
    r->cancel_rc = cw_future_error(g);
    for (int i = 0; i < 2; i++)
        r->later_rc[i] = cw_await(tasks[i]);
    cw_future_release(waiter);
    cw_future_release(g);
    cw_future_release_all(tasks, 2);
    return NULL;
}

START_TEST(test_cancel_task_awaiting_gather)
{
    gather_record r = { 0 };
    double start = now_ms();
    ck_assert_int_eq(cw_run(cancel_task_awaiting_gather, &r, NULL), 0);
    ck_assert(now_ms() - start < backstop(3000));
    ck_assert_int_eq(r.rc, CW_ECANCELLED);
    ck_assert_int_eq(r.state, CW_FAILED);
    ck_assert_int_eq(r.cancel_rc, CW_ECANCELLED); /* the gather's error */
    ck_assert_int_eq(slow[0].sleep_rc, CW_ECANCELLED);
    ck_assert_int_eq(slow[1].sleep_rc, CW_ECANCELLED);
}
END_TEST

/* A child that catches its cancellation and cleans up for a while before passing it on. */
static void *slow_to_cancel(void *arg)
{
    job *j = arg;
    j->sleep_rc = cw_sleep(j->ms);
    if (j->sleep_rc == CW_ECANCELLED)
        cw_sleep(300); /* cleaning up */
    j->ended = 1;
    return j->sleep_rc < 0 ? cw_fail(j->sleep_rc, NULL) : (void *)j->value;
}

/* asyncio: a gather without return_exceptions that is cancelled ends as soon as one child ends
 * cancelled; with return_exceptions it waits for all. Either way it fails with CW_ECANCELLED. */
static void *cancel_gather_with_slow_cleanup(void *arg)
{
    gather_record *r = arg;
    bool return_exceptions = r->rc;
    slow[0] = (job){ .ms = 5000, .value = 1 };
    slow[1] = (job){ .ms = 5000, .value = 2 };
    cw_future *tasks[2] = { cw_spawn(slow_to_cancel, &slow[0]), cw_spawn(run_job, &slow[1]) };
    cw_future *g = cw_gather(tasks, 2, return_exceptions);
    cw_sleep(20);
    r->cancel_rc = cw_future_cancel_msg(g, "stop");
    r->rc = cw_await(g);
    r->state = cw_future_state(g);
    snprintf(r->message, sizeof r->message, "%s", cw_future_message(g));
    for (int i = 0; i < 2; i++)
        r->done_when_gather_ended[i] = cw_future_done(tasks[i]);
    cw_future_release(g);
    for (int i = 0; i < 2; i++)
        r->later_rc[i] = cw_await(tasks[i]);
    cw_future_release_all(tasks, 2);
    return NULL;
}

START_TEST(test_cancelled_gather_ends_at_first_cancelled_child)
{
    gather_record r = { 0 };
    r.rc = false;
    ck_assert_int_eq(cw_run(cancel_gather_with_slow_cleanup, &r, NULL), 0);
    ck_assert_int_eq(r.cancel_rc, 0);
    ck_assert_int_eq(r.rc, CW_ECANCELLED);
    ck_assert_int_eq(r.state, CW_FAILED);
    ck_assert_str_eq(r.message, "stop"); /* the cancelled child's message */
    ck_assert_msg(!r.done_when_gather_ended[0] && r.done_when_gather_ended[1],
                  "the gather should end with the first child that ends cancelled, not wait for the cleanup");
    ck_assert_int_eq(r.later_rc[0], CW_ECANCELLED); /* the other child keeps its cancellation */
    ck_assert_int_eq(r.later_rc[1], CW_ECANCELLED);

    r = (gather_record){ .rc = true };
    ck_assert_int_eq(cw_run(cancel_gather_with_slow_cleanup, &r, NULL), 0);
    ck_assert_int_eq(r.rc, CW_ECANCELLED);
    ck_assert_int_eq(r.state, CW_FAILED);
    ck_assert_str_eq(r.message, "stop"); /* the message of the last child, as in asyncio */
    ck_assert_msg(r.done_when_gather_ended[0] && r.done_when_gather_ended[1],
                  "with return_exceptions the cancelled gather waits for every child");
}
END_TEST

/* A cancelled gather has failed (CW_ECANCELLED): cw_wait(CW_FIRST_EXCEPTION) returns on it at
 * once, as asyncio.wait does on a gather that raised CancelledError. */
static void *wait_for_cancelled_gather(void *arg)
{
    gather_record *r = arg;
    slow[0] = (job){ .ms = 5000, .value = 1 };
    slow[1] = (job){ .ms = 3000, .value = 2 };
    cw_future *tasks[2];
    spawn_jobs(slow, tasks, 2);
    cw_future *g = cw_gather(tasks, 1, true);
    cw_sleep(20);
    r->cancel_rc = cw_future_cancel(g);
    cw_future *watched[2] = { g, tasks[1] };
    cw_wait_sets sets;
    r->rc = cw_wait(watched, 2, CW_FIRST_EXCEPTION, CW_NO_TIMEOUT, &sets);
    r->slot_values[0] = sets.n_done == 1 && sets.done[0] == g;
    r->slot_values[1] = sets.n_pending == 1 && sets.pending[0] == tasks[1];
    cw_wait_sets_free(&sets);
    r->state = cw_future_state(g);
    r->slot_errors[0] = cw_future_error(g);
    cw_future_release(g);
    cw_future_cancel(tasks[1]);
    finish_jobs(tasks, 2);
    return NULL;
}

START_TEST(test_cancelled_gather_counts_as_exception_for_wait)
{
    gather_record r = { 0 };
    double start = now_ms();
    ck_assert_int_eq(cw_run(wait_for_cancelled_gather, &r, NULL), 0);
    ck_assert(now_ms() - start < backstop(3000));
    ck_assert_int_eq(r.cancel_rc, 0);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_int_eq(r.state, CW_FAILED);
    ck_assert_int_eq(r.slot_errors[0], CW_ECANCELLED);
    ck_assert_msg(r.slot_values[0] && r.slot_values[1],
                  "FIRST_EXCEPTION should return once the cancelled gather has failed, the other task pending");
}
END_TEST

static void *gather_with_cancelled_child(void *arg)
{
    gather_record *r = arg;
    bool return_exceptions = r->rc;
    slow[0] = (job){ .ms = 5000, .value = 1 };
    slow[1] = (job){ .ms = 200, .value = 2 };
    cw_future *tasks[2];
    spawn_jobs(slow, tasks, 2);
    cw_future *g = cw_gather(tasks, 2, return_exceptions);
    cw_sleep(20);
    cw_future_cancel(tasks[0]);
    r->rc = cw_await(g);
    r->state = cw_future_state(g);
    r->done_when_gather_ended[1] = cw_future_done(tasks[1]);
    cw_future **slots = cw_future_result(g);
    for (int i = 0; slots && i < 2; i++)
        r->slot_errors[i] = cw_future_error(slots[i]);
    cw_future_release(g);
    for (int i = 0; i < 2; i++) {
        r->later_rc[i] = cw_await(tasks[i]);
        r->later_values[i] = (intptr_t)cw_future_result(tasks[i]);
    }
    cw_future_release_all(tasks, 2);
    return NULL;
}

START_TEST(test_cancelled_child_is_gather_error)
{
    gather_record r = { 0 };
    r.rc = false;
    double start = now_ms();
    ck_assert_int_eq(cw_run(gather_with_cancelled_child, &r, NULL), 0);
    ck_assert(now_ms() - start < backstop(3000));
    ck_assert_msg(r.rc == CW_ECANCELLED, "a cancelled child is the gather's error CW_ECANCELLED, got %s",
                  cw_error_name(r.rc));
    ck_assert_msg(r.state == CW_FAILED, "the gather fails (CW_FAILED) rather than being cancelled, state %d", r.state);
    ck_assert_msg(!r.done_when_gather_ended[1], "the gather should fail at once, while the other child runs");
    ck_assert_int_eq(r.later_rc[1], 0); /* the sibling keeps running */
    ck_assert_int_eq(r.later_values[1], 2);
}
END_TEST

START_TEST(test_cancelled_child_in_slot_with_return_exceptions)
{
    gather_record r = { 0 };
    r.rc = true;
    ck_assert_int_eq(cw_run(gather_with_cancelled_child, &r, NULL), 0);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_int_eq(r.state, CW_RESOLVED);
    ck_assert_int_eq(r.slot_errors[0], CW_ECANCELLED);
    ck_assert_int_eq(r.slot_errors[1], 0);
}
END_TEST

typedef struct edge_record {
    bool zero_done;
    int zero_state;
    int zero_rc;
    bool negative_null, null_array_null, null_entry_null;
    int done_rc;
    bool slots_ok;
} edge_record;

static void *gather_edges(void *arg)
{
    edge_record *r = arg;
    cw_future *dummy[1] = { NULL };
    cw_future *g = cw_gather(dummy, 0, false);
    r->zero_done = g && cw_future_done(g);
    r->zero_state = cw_future_state(g);
    r->zero_rc = cw_await(g);
    cw_future_release(g);

    cw_future *one[2] = { cw_future_new(), NULL };
    r->negative_null = cw_gather(one, -1, false) == NULL;
    r->null_array_null = cw_gather(NULL, 1, false) == NULL;
    r->null_entry_null = cw_gather(one, 2, false) == NULL;

    /* Already finished children: the gather resolves without anything to wait for. */
    cw_future *fs[2] = { one[0], cw_future_new() };
    cw_future_resolve(fs[0], (void *)1, NULL);
    cw_future_fail(fs[1], CW_EHTTP, "already failed");
    g = cw_gather(fs, 2, true);
    r->done_rc = cw_await(g);
    cw_future **slots = cw_future_result(g);
    r->slots_ok = slots && slots[0] == fs[0] && slots[1] == fs[1] && cw_future_error(slots[1]) == CW_EHTTP;
    cw_future_release(g);
    cw_future_release_all(fs, 2);
    return NULL;
}

START_TEST(test_gather_edges)
{
    edge_record r = { 0 };
    ck_assert_int_eq(cw_run(gather_edges, &r, NULL), 0);
    ck_assert_msg(r.zero_done, "gather of 0 futures should be already resolved");
    ck_assert_int_eq(r.zero_state, CW_RESOLVED);
    ck_assert_int_eq(r.zero_rc, 0);
    ck_assert(r.negative_null);
    ck_assert(r.null_array_null);
    ck_assert(r.null_entry_null);
    ck_assert_int_eq(r.done_rc, 0);
    ck_assert(r.slots_ok);
}
END_TEST

/* Plain futures resolved in reverse order still land in input order. */
static void *gather_plain(void *arg)
{
    gather_record *r = arg;
    cw_future *fs[3] = { cw_future_new(), cw_future_new(), cw_future_new() };
    cw_future *g = cw_gather(fs, 3, false);
    for (int i = 2; i >= 0; i--)
        cw_future_resolve(fs[i], (void *)(intptr_t)(10 + i), NULL);
    r->rc = cw_await(g);
    cw_future **slots = cw_future_result(g);
    r->slots_are_inputs = slots != NULL;
    for (int i = 0; slots && i < 3; i++) {
        r->slots_are_inputs = r->slots_are_inputs && slots[i] == fs[i];
        r->slot_values[i] = (intptr_t)cw_future_result(slots[i]);
    }
    cw_future_release(g);
    cw_future_release_all(fs, 3);
    return NULL;
}

START_TEST(test_gather_plain_futures)
{
    gather_record r = { 0 };
    ck_assert_int_eq(cw_run(gather_plain, &r, NULL), 0);
    ck_assert_int_eq(r.rc, 0);
    ck_assert(r.slots_are_inputs);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(r.slot_values[i], 10 + i);
}
END_TEST

/* A done callback that drops the only reference to the future it watches. */
static void release_watched(cw_future *f, void *arg)
{
    *(int *)arg += 1;
    cw_future_error(f); /* read: no "nobody read its error" warning */
    cw_future_release(f);
}

/* The gather's own callback frees it while the gather is still finishing (a failing child, then
 * a cancel). Outside cw_run() callbacks run inline: the library must not read the freed gather
 * (valgrind and ASan report it when it does). */
START_TEST(test_gather_freed_by_its_own_callback)
{
    int released = 0;
    cw_future *fs[2] = { cw_future_new(), cw_future_new() };
    cw_future *g = cw_gather(fs, 2, false);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(cw_future_on_done(g, release_watched, &released), 0);
    ck_assert_int_eq(cw_future_fail(fs[0], CW_EHTTP, "first child failed"), 0);
    ck_assert_int_eq(released, 1);
    ck_assert_int_eq(cw_future_resolve(fs[1], NULL, NULL), 0);
    ck_assert_int_eq(cw_future_error(fs[0]), CW_EHTTP);
    cw_future_release_all(fs, 2);

    cw_future *gs[2] = { cw_future_new(), cw_future_new() };
    g = cw_gather(gs, 2, false);
    ck_assert_int_eq(cw_future_on_done(g, release_watched, &released), 0);
    ck_assert_int_eq(cw_future_cancel(g), 0); /* cancels both children: the first ends the gather */
    ck_assert_int_eq(released, 2);
    ck_assert_int_eq(cw_future_state(gs[0]), CW_CANCELLED);
    ck_assert_int_eq(cw_future_state(gs[1]), CW_CANCELLED);
    cw_future_release_all(gs, 2);
}
END_TEST

/* A cancelled gather with return_exceptions fails, once every child has ended, with the message of
 * its last child in input order if that one ended cancelled, else with none: asyncio 3.11's
 * _done_callback raises the CancelledError of the child its results loop ends on. */
START_TEST(test_cancelled_gather_message_is_last_childs)
{
    cw_future *fs[2] = { cw_future_new(), cw_future_new() };
    cw_future *g = cw_gather(fs, 2, true);
    cw_future_resolve(fs[1], NULL, NULL); /* the last child returned */
    ck_assert_int_eq(cw_future_cancel_msg(g, "why"), 0);
    ck_assert_int_eq(cw_future_state(fs[0]), CW_CANCELLED);
    ck_assert_int_eq(cw_future_state(g), CW_FAILED);
    ck_assert_int_eq(cw_future_error(g), CW_ECANCELLED);
    ck_assert_str_eq(cw_future_message(g), "cancelled"); /* no message, though fs[0] ended last with one */
    cw_future_release(g);
    cw_future_release_all(fs, 2);

    cw_future *hs[2] = { cw_future_new(), cw_future_new() };
    g = cw_gather(hs, 2, true);
    cw_future_resolve(hs[0], NULL, NULL);
    ck_assert_int_eq(cw_future_cancel_msg(g, "why"), 0);
    ck_assert_int_eq(cw_future_error(g), CW_ECANCELLED);
    ck_assert_str_eq(cw_future_message(g), "why"); /* the last child ended cancelled with it */
    ck_assert_int_eq(cw_future_cancel(g), CW_EDONE);
    cw_future_release(g);

    g = cw_gather(hs, 2, true); /* every child finished: the callbacks ran inline, it is done */
    ck_assert_int_eq(cw_future_cancel(g), CW_EDONE);
    ck_assert_int_eq(cw_future_state(g), CW_RESOLVED);
    cw_future_release(g);
    cw_future_release_all(hs, 2);
}
END_TEST

/* A failed gather carries the child's own code and message, unchanged (asyncio raises the child's
 * own exception), and says which child it was. */
START_TEST(test_gather_keeps_child_error)
{
    cw_future *fs[3] = { cw_future_new(), cw_future_new(), cw_future_new() };
    cw_future *g = cw_gather(fs, 3, false);
    ck_assert_ptr_null(cw_gather_failed_child(g));
    cw_future_resolve(fs[0], NULL, NULL);
    cw_future_fail(fs[1], CW_ETIMEDOUT, "B was late");
    cw_future_fail(fs[2], CW_EHTTP, "C broke");
    ck_assert_int_eq(cw_future_error(g), CW_ETIMEDOUT);
    ck_assert_str_eq(cw_future_message(g), "B was late");
    ck_assert_ptr_eq(cw_gather_failed_child(g), fs[1]);
    ck_assert_ptr_null(cw_gather_failed_child(fs[0])); /* not a gather */
    ck_assert_ptr_null(cw_gather_failed_child(NULL));
    cw_future_error(fs[2]);
    cw_future_release(g);

    cw_future *hs[2] = { cw_future_new(), cw_future_new() };
    g = cw_gather(hs, 2, false);
    cw_future_cancel(hs[1]); /* a cancelled child is the gather's error: CW_ECANCELLED */
    ck_assert_int_eq(cw_future_error(g), CW_ECANCELLED);
    ck_assert_ptr_eq(cw_gather_failed_child(g), hs[1]);
    cw_future_release(g);
    cw_future *r = cw_gather(fs, 3, true); /* return_exceptions: the gather itself never fails */
    ck_assert_int_eq(cw_future_error(r), 0);
    ck_assert_ptr_null(cw_gather_failed_child(r));
    cw_future_release(r);
    cw_future_release_all(fs, 3);
    cw_future_release_all(hs, 2);
}
END_TEST

/* ------------------------------------------------------------ as_completed */

typedef struct ac_record {
    int rc[6];
    cw_future *out[6];
    double at[6];
    bool pending_when_timed_out[3];
    int later_rc[3];
    intptr_t later_values[3];
    int later_sleep_rc[3];
    cw_future *tasks[3];
    int errors[3];
} ac_record;

static job ac_jobs[3];

static void *as_completed_order(void *arg)
{
    ac_record *r = arg;
    ac_jobs[0] = (job){ .ms = 300, .value = 1 };
    ac_jobs[1] = (job){ .ms = 100, .value = 2 };
    ac_jobs[2] = (job){ .ms = 200, .value = 3, .fail = CW_EHTTP, .message = "third failed" };
    spawn_jobs(ac_jobs, r->tasks, 3);
    cw_as_completed *it = cw_as_completed_new(r->tasks, 3, CW_NO_TIMEOUT);
    for (int i = 0; i < 5; i++) {
        r->rc[i] = cw_as_completed_next(it, &r->out[i]);
        if (r->rc[i] == 0)
            r->errors[i] = cw_future_error(r->out[i]);
    }
    cw_as_completed_free(it);
    finish_jobs(r->tasks, 3);
    return NULL;
}

START_TEST(test_as_completed_order)
{
    ac_record r = { 0 };
    ck_assert_int_eq(cw_run(as_completed_order, &r, NULL), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(r.rc[i] == 0, "next #%d should succeed, got %s", i, cw_error_name(r.rc[i]));
    ck_assert_msg(r.out[0] == r.tasks[1] && r.out[1] == r.tasks[2] && r.out[2] == r.tasks[0],
                  "as_completed should hand out the original futures in completion order (100, 200, 300 ms)");
    ck_assert_int_eq(r.errors[0], 0);
    ck_assert_int_eq(r.errors[1], CW_EHTTP); /* a failed future is handed out like the others */
    ck_assert_int_eq(r.rc[3], CW_EEOF);
    ck_assert_int_eq(r.rc[4], CW_EEOF);
}
END_TEST

static void *as_completed_timeout(void *arg)
{
    ac_record *r = arg;
    ac_jobs[0] = (job){ .ms = 50, .value = 1 };
    ac_jobs[1] = (job){ .ms = 1000, .value = 2 };
    ac_jobs[2] = (job){ .ms = 1200, .value = 3 };
    spawn_jobs(ac_jobs, r->tasks, 3);
    double start = now_ms();
    cw_as_completed *it = cw_as_completed_new(r->tasks, 3, 300);
    for (int i = 0; i < 4; i++) {
        r->out[i] = NULL;
        r->rc[i] = cw_as_completed_next(it, &r->out[i]);
        r->at[i] = now_ms() - start;
    }
    r->pending_when_timed_out[1] = !cw_future_done(r->tasks[1]);
    r->pending_when_timed_out[2] = !cw_future_done(r->tasks[2]);
    cw_as_completed_free(it);
    /* The unfinished tasks were not cancelled: they finish with their results. */
    for (int i = 0; i < 3; i++) {
        r->later_rc[i] = cw_await(r->tasks[i]);
        r->later_values[i] = (intptr_t)cw_future_result(r->tasks[i]);
    }
    cw_future_release_all(r->tasks, 3);
    return NULL;
}

START_TEST(test_as_completed_timeout)
{
    ac_record r = { 0 };
    ck_assert_int_eq(cw_run(as_completed_timeout, &r, NULL), 0);
    ck_assert_int_eq(r.rc[0], 0);
    ck_assert(r.out[0] == r.tasks[0]);
    /* Each of the two remaining calls times out, as asyncio's as_completed does; then the end. */
    for (int i = 1; i < 3; i++)
        ck_assert_msg(r.rc[i] == CW_ETIMEDOUT, "next #%d past the deadline should be CW_ETIMEDOUT, got %s", i,
                      cw_error_name(r.rc[i]));
    ck_assert_msg(r.rc[3] == CW_EEOF, "after the remaining futures timed out, next should be CW_EEOF, got %s",
                  cw_error_name(r.rc[3]));
    ck_assert_msg(r.at[1] >= 250 && r.at[1] < backstop(900), "the timeout of 300 ms fired after %.0f ms", r.at[1]);
    ck_assert_msg(r.pending_when_timed_out[1] && r.pending_when_timed_out[2],
                  "the timeout should come before the slow tasks finish");
    for (int i = 0; i < 3; i++) {
        ck_assert_msg(r.later_rc[i] == 0, "task %d should finish after the timeout, got %s", i,
                      cw_error_name(r.later_rc[i]));
        ck_assert_int_eq(r.later_values[i], i + 1);
    }
    ck_assert_int_eq(ac_jobs[1].sleep_rc, 0);
    ck_assert_int_eq(ac_jobs[2].sleep_rc, 0);
}
END_TEST

/* The iterator holds its own references: the caller may release its futures at once. */
typedef struct resolver_arg {
    cw_future *fs[3];
} resolver_arg;

static void *resolve_in_reverse(void *arg)
{
    resolver_arg *a = arg;
    for (int i = 2; i >= 0; i--) {
        cw_sleep(10);
        cw_future_resolve(a->fs[i], (void *)(intptr_t)(i + 1), NULL);
    }
    return NULL;
}

static void *as_completed_retains(void *arg)
{
    ac_record *r = arg;
    resolver_arg a;
    for (int i = 0; i < 3; i++)
        r->tasks[i] = a.fs[i] = cw_future_new();
    cw_as_completed *it = cw_as_completed_new(a.fs, 3, CW_NO_TIMEOUT);
    cw_future_release_all(a.fs, 3); /* only the iterator keeps them alive now */
    cw_future *resolver = cw_spawn(resolve_in_reverse, &a);
    for (int i = 0; i < 4; i++) {
        r->rc[i] = cw_as_completed_next(it, &r->out[i]);
        if (r->rc[i] == 0)
            r->later_values[i < 3 ? i : 0] = (intptr_t)cw_future_result(r->out[i]);
    }
    cw_as_completed_free(it);
    cw_await(resolver);
    cw_future_release(resolver);
    return NULL;
}

START_TEST(test_as_completed_retains_futures)
{
    ac_record r = { 0 };
    ck_assert_int_eq(cw_run(as_completed_retains, &r, NULL), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(r.rc[i], 0);
        ck_assert_ptr_eq(r.out[i], r.tasks[2 - i]); /* compared as addresses only */
        ck_assert_int_eq(r.later_values[i], 3 - i);
    }
    ck_assert_int_eq(r.rc[3], CW_EEOF);
}
END_TEST

typedef struct ac_bad {
    bool null_futures, negative;
    int next_null;
    int cancelled_rc;
    bool futures_untouched;
} ac_bad;

static int iterate_rc;

static void *iterate_forever(void *arg)
{
    cw_as_completed *it = arg;
    cw_future *out;
    iterate_rc = cw_as_completed_next(it, &out);
    return NULL;
}

static void *as_completed_bad(void *arg)
{
    ac_bad *r = arg;
    cw_future *fs[1] = { cw_future_new() };
    r->null_futures = cw_as_completed_new(NULL, 1, CW_NO_TIMEOUT) == NULL;
    r->negative = cw_as_completed_new(fs, -1, CW_NO_TIMEOUT) == NULL;
    cw_as_completed *it = cw_as_completed_new(fs, 1, CW_NO_TIMEOUT);
    r->next_null = cw_as_completed_next(NULL, NULL);
    /* Cancelling the iterating task ends its next() with CW_ECANCELLED. */
    cw_future *t = cw_spawn(iterate_forever, it);
    cw_sleep(20);
    cw_future_cancel(t);
    cw_await(t);
    r->cancelled_rc = iterate_rc;
    r->futures_untouched = !cw_future_done(fs[0]);
    cw_future_release(t);
    cw_as_completed_free(it);
    cw_as_completed_free(NULL);
    cw_future_release(fs[0]);
    return NULL;
}

START_TEST(test_as_completed_bad_arguments_and_cancel)
{
    ac_bad r = { 0 };
    ck_assert_int_eq(cw_run(as_completed_bad, &r, NULL), 0);
    ck_assert(r.null_futures);
    ck_assert(r.negative);
    ck_assert_int_eq(r.next_null, CW_EINVAL);
    ck_assert_msg(r.cancelled_rc == CW_ECANCELLED, "next() in a cancelled task should return CW_ECANCELLED, got %s",
                  cw_error_name(r.cancelled_rc));
    ck_assert_msg(r.futures_untouched, "cancelling the iterating task should not cancel the futures it watches");
}
END_TEST

/* ------------------------------------------------------------ wait */

typedef struct wait_record {
    int rc;
    cw_wait_sets sets;
    cw_future *tasks[3];
    bool done_now[3];
    double elapsed;
    int later_rc[3];
    intptr_t later_values[3];
    int empty_rc, null_rc;
} wait_record;

static job wait_jobs[3];

static void *wait_for(void *arg, cw_return_when when, uint64_t timeout_ms, int n)
{
    wait_record *r = arg;
    spawn_jobs(wait_jobs, r->tasks, n);
    double start = now_ms();
    r->rc = cw_wait(r->tasks, n, when, timeout_ms, &r->sets);
    r->elapsed = now_ms() - start;
    for (int i = 0; i < n; i++)
        r->done_now[i] = cw_future_done(r->tasks[i]);
    for (int i = 0; i < n; i++) {
        r->later_rc[i] = cw_await(r->tasks[i]);
        r->later_values[i] = (intptr_t)cw_future_result(r->tasks[i]);
    }
    /* The tasks stay referenced until the test has compared pointers. */
    return NULL;
}

static void *wait_all(void *arg) { return wait_for(arg, CW_ALL_COMPLETED, CW_NO_TIMEOUT, 2); }
static void *wait_first_completed(void *arg) { return wait_for(arg, CW_FIRST_COMPLETED, CW_NO_TIMEOUT, 3); }
static void *wait_first_exception(void *arg) { return wait_for(arg, CW_FIRST_EXCEPTION, CW_NO_TIMEOUT, 3); }
static void *wait_timeout(void *arg) { return wait_for(arg, CW_ALL_COMPLETED, 200, 2); }

static void wait_record_free(wait_record *r, int n)
{
    cw_wait_sets_free(&r->sets);
    cw_future_release_all(r->tasks, n);
}

START_TEST(test_wait_all_completed)
{
    wait_record r = { 0 };
    wait_jobs[0] = (job){ .ms = 150, .value = 1 };
    wait_jobs[1] = (job){ .ms = 50, .value = 2, .fail = CW_EHTTP };
    ck_assert_int_eq(cw_run(wait_all, &r, NULL), 0);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_int_eq(r.sets.n_done, 2);
    ck_assert_int_eq(r.sets.n_pending, 0);
    ck_assert_msg(r.sets.done[0] == r.tasks[0] && r.sets.done[1] == r.tasks[1],
                  "done should hold the original futures in input order");
    ck_assert(r.done_now[0] && r.done_now[1]);
    wait_record_free(&r, 2);
}
END_TEST

START_TEST(test_wait_first_completed)
{
    wait_record r = { 0 };
    wait_jobs[0] = (job){ .ms = 300, .value = 1 };
    wait_jobs[1] = (job){ .ms = 50, .value = 2 };
    wait_jobs[2] = (job){ .ms = 400, .value = 3 };
    ck_assert_int_eq(cw_run(wait_first_completed, &r, NULL), 0);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_msg(r.sets.n_done == 1 && r.sets.done[0] == r.tasks[1], "done should hold the fast task alone (%d done)",
                  r.sets.n_done);
    ck_assert_int_eq(r.sets.n_pending, 2);
    ck_assert_msg(r.sets.pending[0] == r.tasks[0] && r.sets.pending[1] == r.tasks[2],
                  "pending should hold the other originals in input order");
    ck_assert(!r.done_now[0] && !r.done_now[2]);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(r.later_rc[i], 0);
        ck_assert_int_eq(r.later_values[i], i + 1);
    }
    wait_record_free(&r, 3);
}
END_TEST

START_TEST(test_wait_first_exception)
{
    wait_record r = { 0 };
    wait_jobs[0] = (job){ .ms = 300, .value = 1 };
    wait_jobs[1] = (job){ .ms = 50, .value = 2, .fail = CW_EHTTP, .message = "boom" };
    wait_jobs[2] = (job){ .ms = 400, .value = 3 };
    ck_assert_int_eq(cw_run(wait_first_exception, &r, NULL), 0);
    ck_assert_msg(r.rc == 0, "a failure is not cw_wait's own error, got %s", cw_error_name(r.rc));
    ck_assert_msg(r.sets.n_done == 1 && r.sets.done[0] == r.tasks[1], "done should hold the failed task (%d done)",
                  r.sets.n_done);
    ck_assert_int_eq(r.sets.n_pending, 2);
    ck_assert(r.sets.pending[0] == r.tasks[0] && r.sets.pending[1] == r.tasks[2]);
    ck_assert(!r.done_now[0] && !r.done_now[2]);
    ck_assert_int_eq(r.later_rc[1], CW_EHTTP);
    ck_assert_int_eq(r.later_rc[0], 0);
    ck_assert_int_eq(r.later_rc[2], 0);
    wait_record_free(&r, 3);
}
END_TEST

START_TEST(test_wait_first_exception_without_failure)
{
    wait_record r = { 0 };
    wait_jobs[0] = (job){ .ms = 150, .value = 1 };
    wait_jobs[1] = (job){ .ms = 50, .value = 2 };
    wait_jobs[2] = (job){ .ms = 100, .value = 3 };
    ck_assert_int_eq(cw_run(wait_first_exception, &r, NULL), 0);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_msg(r.sets.n_done == 3 && r.sets.n_pending == 0,
                  "with no failure FIRST_EXCEPTION waits for all, %d done %d pending", r.sets.n_done, r.sets.n_pending);
    for (int i = 0; i < 3; i++)
        ck_assert(r.sets.done[i] == r.tasks[i]);
    wait_record_free(&r, 3);
}
END_TEST

START_TEST(test_wait_timeout_cancels_nothing)
{
    wait_record r = { 0 };
    wait_jobs[0] = (job){ .ms = 1000, .value = 1 };
    wait_jobs[1] = (job){ .ms = 50, .value = 2 };
    ck_assert_int_eq(cw_run(wait_timeout, &r, NULL), 0);
    ck_assert_msg(r.rc == 0, "a timeout is not an error for cw_wait, got %s", cw_error_name(r.rc));
    ck_assert_msg(r.elapsed >= 150 && r.elapsed < backstop(900), "the 200 ms timeout returned after %.0f ms", r.elapsed);
    ck_assert_int_eq(r.sets.n_done, 1);
    ck_assert(r.sets.done[0] == r.tasks[1]);
    ck_assert_int_eq(r.sets.n_pending, 1);
    ck_assert(r.sets.pending[0] == r.tasks[0]);
    ck_assert(!r.done_now[0]);
    ck_assert_msg(r.later_rc[0] == 0 && r.later_values[0] == 1 && wait_jobs[0].sleep_rc == 0,
                  "the pending task should not be cancelled by the timeout, it ended %s", cw_error_name(r.later_rc[0]));
    wait_record_free(&r, 2);
}
END_TEST

static void *wait_empty(void *arg)
{
    wait_record *r = arg;
    cw_future *none[1] = { NULL };
    r->empty_rc = cw_wait(none, 0, CW_ALL_COMPLETED, CW_NO_TIMEOUT, &r->sets);
    r->null_rc = cw_wait(NULL, 2, CW_ALL_COMPLETED, CW_NO_TIMEOUT, &r->sets);
    return NULL;
}

START_TEST(test_wait_empty_is_einval)
{
    wait_record r = { 0 };
    ck_assert_int_eq(cw_run(wait_empty, &r, NULL), 0);
    ck_assert_int_eq(r.empty_rc, CW_EINVAL);
    ck_assert_int_eq(r.null_rc, CW_EINVAL);
}
END_TEST

/* The FIRST_COMPLETED loop of chapter 08: wait on what is pending until nothing is. */
static void *wait_loop(void *arg)
{
    int *rounds = arg;
    wait_jobs[0] = (job){ .ms = 750, .value = 1 };
    wait_jobs[1] = (job){ .ms = 50, .value = 2 };
    wait_jobs[2] = (job){ .ms = 400, .value = 3 };
    cw_future *tasks[3];
    spawn_jobs(wait_jobs, tasks, 3);
    cw_future *pending[3] = { tasks[0], tasks[1], tasks[2] };
    int n = 3;
    while (n > 0 && *rounds < 10) {
        cw_wait_sets sets;
        if (cw_wait(pending, n, CW_FIRST_COMPLETED, CW_NO_TIMEOUT, &sets) < 0 || sets.n_done < 1) {
            cw_wait_sets_free(&sets);
            break;
        }
        (*rounds)++;
        memcpy(pending, sets.pending, sets.n_pending * sizeof *pending);
        n = sets.n_pending;
        cw_wait_sets_free(&sets);
    }
    cw_future_release_all(tasks, 3);
    return NULL;
}

START_TEST(test_wait_first_completed_loop)
{
    int rounds = 0;
    ck_assert_int_eq(cw_run(wait_loop, &rounds, NULL), 0);
    /* Three rounds, one per task; on a loaded machine a stall of more than 350 ms may let two tasks
     * finish in the same loop turn (then both are done at once, as in asyncio), but never all three. */
    ck_assert_msg(rounds >= 2 && rounds <= 3, "three tasks 350 ms apart should take three rounds, took %d", rounds);
    ck_assert_int_eq(finish_order[0], 2);
    ck_assert_int_eq(finish_order[1], 3);
    ck_assert_int_eq(finish_order[2], 1);
}
END_TEST

/* The same loop over many futures, one finishing per round. Each round adds a callback to every
 * pending future and removes it again: the callback storage of a future that stays pending to
 * the end must not grow with the number of rounds. */
enum { MANY = 3000 };

typedef struct many_record {
    int rounds;
    int last_capacity;
    double elapsed;
} many_record;

static void *wait_loop_many(void *arg)
{
    many_record *r = arg;
    cw_future **fs = malloc(MANY * sizeof *fs);
    cw_future **pending = malloc(MANY * sizeof *pending);
    for (int i = 0; i < MANY; i++)
        pending[i] = fs[i] = cw_future_new();
    int n = MANY, next = 0;
    double start = now_ms();
    while (n > 0) {
        if (next == MANY - 1)
            r->last_capacity = fs[next]->cap_callbacks; /* pending through every round so far */
        cw_future_resolve(fs[next++], NULL, NULL); /* one more is done: wait returns at once */
        cw_wait_sets sets;
        if (cw_wait(pending, n, CW_FIRST_COMPLETED, CW_NO_TIMEOUT, &sets) < 0)
            break;
        r->rounds++;
        memcpy(pending, sets.pending, sets.n_pending * sizeof *pending);
        n = sets.n_pending;
        cw_wait_sets_free(&sets);
    }
    r->elapsed = now_ms() - start;
    cw_future_release_all(fs, MANY);
    free(fs);
    free(pending);
    return NULL;
}

START_TEST(test_wait_loop_storage_stays_flat)
{
    many_record r = { 0 };
    ck_assert_int_eq(cw_run(wait_loop_many, &r, NULL), 0);
    ck_assert_int_eq(r.rounds, MANY);
    ck_assert_msg(r.last_capacity <= 4, "a future that went through %d rounds of wait holds room for %d callbacks",
                  MANY - 1, r.last_capacity);
    ck_assert_msg(r.elapsed < backstop(60000), "%d rounds of wait took %.0f ms", MANY, r.elapsed); /* a backstop */
}
END_TEST

/* timeout 0 looks once and returns, as asyncio's timeout=0 (timeout=None is CW_NO_TIMEOUT). The
 * same program on asyncio prints: wait: 1 done 1 pending; nothing done: 0 1; as_completed: [1,
 * 'timeout']; a future finished by a callback already scheduled: 1 0. */
typedef struct zero_record {
    int rc[4];
    int n_done[4], n_pending[4];
    int ac_rc[3];
    bool ac_first_is_a;
} zero_record;

static void resolve_arg(cw_future *f, void *arg)
{
    (void)f;
    cw_future_resolve(arg, NULL, NULL);
}

static void *timeout_zero(void *arg)
{
    zero_record *r = arg;
    cw_future *a = cw_future_new(), *b = cw_future_new(), *c = cw_future_new();
    cw_future_resolve(a, (void *)1, NULL);
    cw_future *ab[2] = { a, b };
    cw_wait_sets sets;
    r->rc[0] = cw_wait(ab, 2, CW_ALL_COMPLETED, 0, &sets);
    r->n_done[0] = sets.n_done, r->n_pending[0] = sets.n_pending;
    cw_wait_sets_free(&sets);
    r->rc[1] = cw_wait(&b, 1, CW_ALL_COMPLETED, 0, &sets);
    r->n_done[1] = sets.n_done, r->n_pending[1] = sets.n_pending;
    cw_wait_sets_free(&sets);
    cw_as_completed *it = cw_as_completed_new(ab, 2, 0);
    cw_future *out[3];
    for (int i = 0; i < 3; i++)
        r->ac_rc[i] = cw_as_completed_next(it, &out[i]);
    r->ac_first_is_a = out[0] == a;
    cw_as_completed_free(it);
    cw_future_on_done(a, resolve_arg, c); /* loop.call_soon(c.set_result, 3) */
    r->rc[2] = cw_wait(&c, 1, CW_ALL_COMPLETED, 0, &sets);
    r->n_done[2] = sets.n_done, r->n_pending[2] = sets.n_pending;
    cw_wait_sets_free(&sets);
    cw_future_release(a);
    cw_future_release(b);
    cw_future_release(c);
    return NULL;
}

START_TEST(test_timeout_zero_looks_once)
{
    zero_record r = { 0 };
    ck_assert_int_eq(cw_run(timeout_zero, &r, NULL), 0);
    ck_assert_int_eq(r.rc[0], 0);
    ck_assert_msg(r.n_done[0] == 1 && r.n_pending[0] == 1, "wait(timeout=0): %d done, %d pending; asyncio: 1, 1",
                  r.n_done[0], r.n_pending[0]);
    ck_assert_msg(r.n_done[1] == 0 && r.n_pending[1] == 1, "wait(timeout=0), nothing done: %d done, %d pending",
                  r.n_done[1], r.n_pending[1]);
    ck_assert_int_eq(r.ac_rc[0], 0);
    ck_assert_msg(r.ac_first_is_a, "as_completed(timeout=0) first hands out what is done");
    ck_assert_int_eq(r.ac_rc[1], CW_ETIMEDOUT);
    ck_assert_int_eq(r.ac_rc[2], CW_EEOF);
    ck_assert_msg(r.n_done[2] == 1 && r.n_pending[2] == 0,
                  "wait(timeout=0) on a future a scheduled callback finishes: %d done, %d pending; asyncio: 1, 0",
                  r.n_done[2], r.n_pending[2]);
}
END_TEST

/* wait(FIRST_EXCEPTION) reads the errors it sees, as asyncio's (f.exception()): releasing that
 * future prints nothing. An error that comes after wait returned stays unread, and
 * ALL_COMPLETED reads none (asyncio prints "Task exception was never retrieved" for those). */
typedef struct read_record {
    bool seen_read, later_read, all_completed_read;
} read_record;

static void *wait_reads_errors(void *arg)
{
    read_record *r = arg;
    cw_future *fs[2] = { cw_future_new(), cw_future_new() };
    cw_future_fail(fs[0], CW_EHTTP, "one");
    cw_wait_sets sets;
    cw_wait(fs, 2, CW_FIRST_EXCEPTION, CW_NO_TIMEOUT, &sets);
    cw_wait_sets_free(&sets);
    cw_future_fail(fs[1], CW_EHTTP, "two");
    r->seen_read = fs[0]->observed;
    r->later_read = fs[1]->observed;
    cw_future *gs[1] = { cw_future_new() };
    cw_future_fail(gs[0], CW_EHTTP, "three");
    cw_wait(gs, 1, CW_ALL_COMPLETED, CW_NO_TIMEOUT, &sets);
    cw_wait_sets_free(&sets);
    r->all_completed_read = gs[0]->observed;
    cw_future_error(fs[1]);
    cw_future_error(gs[0]);
    cw_future_release_all(fs, 2);
    cw_future_release(gs[0]);
    return NULL;
}

START_TEST(test_wait_first_exception_reads_error)
{
    read_record r = { 0 };
    ck_assert_int_eq(cw_run(wait_reads_errors, &r, NULL), 0);
    ck_assert_msg(r.seen_read, "wait(FIRST_EXCEPTION) should count the error it saw as read");
    ck_assert_msg(!r.later_read, "an error after wait returned should stay unread");
    ck_assert_msg(!r.all_completed_read, "wait(ALL_COMPLETED) reads no error, as asyncio's");
}
END_TEST

/* A task stuck in cw_wait() after its cancellation is abandoned by cw_run(); the waiter on its
 * stack must not stay registered on a future that outlives cw_run(): finishing that future later
 * would write into a stack that is gone (a crash, or an invalid write under valgrind). */
static void *stuck_in_wait(void *arg)
{
    cw_future *outside = arg;
    cw_wait_sets sets;
    while (cw_wait(&outside, 1, CW_ALL_COMPLETED, CW_NO_TIMEOUT, &sets) == CW_ECANCELLED)
        ; /* ignores the cancellation: cw_run() has to abandon it */
    cw_wait_sets_free(&sets);
    return NULL;
}

static void *leave_task_stuck(void *arg)
{
    cw_future *t = cw_spawn(stuck_in_wait, arg);
    cw_sleep(10);
    cw_future_release(t);
    return NULL;
}

START_TEST(test_wait_abandoned_task_leaves_no_callback)
{
    cw_future *outside = cw_future_new(); /* made and finished outside cw_run() */
    ck_assert_int_eq(cw_run(leave_task_stuck, outside, NULL), 0);
    ck_assert_int_eq(cw_future_resolve(outside, NULL, NULL), 0); /* its callbacks run now, inline */
    cw_future_release(outside);
}
END_TEST

/* wait on requests: done holds the fast request. */
static void *wait_requests(void *arg)
{
    wait_record *r = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    r->tasks[0] = cw_session_get(s, url("/delay/400"));
    r->tasks[1] = cw_session_get(s, url("/delay/50"));
    r->rc = cw_wait(r->tasks, 2, CW_FIRST_COMPLETED, CW_NO_TIMEOUT, &r->sets);
    r->done_now[0] = cw_future_done(r->tasks[0]);
    r->later_rc[0] = cw_await(r->tasks[0]);
    cw_session_close(s);
    return NULL;
}

START_TEST(test_wait_on_requests)
{
    server_setup();
    wait_record r = { 0 };
    ck_assert_int_eq(cw_run(wait_requests, &r, NULL), 0);
    server_teardown();
    ck_assert_int_eq(r.rc, 0);
    ck_assert_int_eq(r.sets.n_done, 1);
    ck_assert(r.sets.done[0] == r.tasks[1]);
    ck_assert_int_eq(r.sets.n_pending, 1);
    ck_assert(r.sets.pending[0] == r.tasks[0]);
    ck_assert(!r.done_now[0]);
    ck_assert_int_eq(r.later_rc[0], 0);
    wait_record_free(&r, 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("combine");

    TCase *tc = add_case(s, "gather", 10, NULL, NULL);
    tcase_add_test(tc, test_gather_keeps_input_order);
    tcase_add_test(tc, test_gather_requests);
    tcase_add_test(tc, test_gather_fails_with_first_error_at_once);
    tcase_add_test(tc, test_gather_return_exceptions_puts_errors_in_slots);
    tcase_add_test(tc, test_cancel_gather_cancels_children);
    tcase_add_test(tc, test_cancel_task_awaiting_gather);
    tcase_add_test(tc, test_cancelled_gather_ends_at_first_cancelled_child);
    tcase_add_test(tc, test_cancelled_gather_counts_as_exception_for_wait);
    tcase_add_test(tc, test_cancelled_gather_message_is_last_childs);
    tcase_add_test(tc, test_cancelled_child_is_gather_error);
    tcase_add_test(tc, test_cancelled_child_in_slot_with_return_exceptions);
    tcase_add_test(tc, test_gather_edges);
    tcase_add_test(tc, test_gather_plain_futures);
    tcase_add_test(tc, test_gather_freed_by_its_own_callback);
    tcase_add_test(tc, test_gather_keeps_child_error);

    tc = add_case(s, "as_completed", 10, NULL, NULL);
    tcase_add_test(tc, test_as_completed_order);
    tcase_add_test(tc, test_as_completed_timeout);
    tcase_add_test(tc, test_as_completed_retains_futures);
    tcase_add_test(tc, test_as_completed_bad_arguments_and_cancel);

    tc = add_case(s, "wait", 10, NULL, NULL);
    tcase_add_test(tc, test_wait_all_completed);
    tcase_add_test(tc, test_wait_first_completed);
    tcase_add_test(tc, test_wait_first_exception);
    tcase_add_test(tc, test_wait_first_exception_without_failure);
    tcase_add_test(tc, test_wait_timeout_cancels_nothing);
    tcase_add_test(tc, test_wait_empty_is_einval);
    tcase_add_test(tc, test_wait_first_completed_loop);
    tcase_add_test(tc, test_timeout_zero_looks_once);
    tcase_add_test(tc, test_wait_first_exception_reads_error);
    tcase_add_test(tc, test_wait_abandoned_task_leaves_no_callback);
    tcase_add_test(tc, test_wait_on_requests);

    tc = add_case(s, "wait, many futures", 300, NULL, NULL); /* CPU-bound: a backstop for a loaded machine */
    tcase_add_test(tc, test_wait_loop_storage_stays_flat);

    return run_suite(s);
}
