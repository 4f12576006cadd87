/*
 * 07_as_completed.c -- graded tests of exercise 07.
 *
 * Part 1 (fetch_as_completed): steps come in completion order and map back to
 * their URLs, a failed request is a step like any other, past the timeout each
 * remaining step times out without waiting for the slow requests, and those
 * are cancelled before the function returns (the fixture server sees their
 * connections close).
 * Part 2 (my_as_completed_*): the originals in completion order then CW_EEOF,
 * the deadline (timeouts, nothing cancelled, late finishers never handed
 * out), references held until cleanup and released there, and cleanup that
 * stops watching without cancelling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw_fixture.h"
#include "grade.h"
#include "exercise.h"

/* How much slower than usual this run may be: CW_TIMEOUT_SCALE (set for the valgrind and sanitizer runs of
 * make test), between 1 and 4. Time margins and backstops are stretched by it, so that a slow run under
 * valgrind on a loaded machine keeps the structure the test checks. */
static double slack(void)
{
    const char *scale = getenv("CW_TIMEOUT_SCALE");
    double f = scale ? atof(scale) : 1;
    return f < 1 ? 1 : f > 4 ? 4 : f;
}

/* ---- helpers ---- */

enum { MAX_URLS = 8 };

/* A fetch_as_completed() call against a fixture server, and what came back. */
typedef struct fetch_case {
    cw_fixture *fx;
    const char *paths[MAX_URLS];
    int n;
    uint64_t timeout_ms;
    int rc;
    arrival steps[MAX_URLS];
    int still_running;
    long answered_at_return; /* requests the server had answered when the function returned */
    long open_after;         /* server connections open shortly after it returned */
} fetch_case;

static void *fetch_main(void *arg)
{
    fetch_case *c = arg;
    char urls[MAX_URLS][128];
    const char *url_ptrs[MAX_URLS];
    for (int i = 0; i < c->n; i++) {
        if (strstr(c->paths[i], "://"))
            snprintf(urls[i], sizeof urls[i], "%s", c->paths[i]);
        else
            cw_fixture_url(c->fx, c->paths[i], urls[i], sizeof urls[i]);
        url_ptrs[i] = urls[i];
    }
    for (int k = 0; k < MAX_URLS; k++)
        c->steps[k] = (arrival){ .index = 99, .status = -1, .error = 1 };
    c->still_running = -1;
    cw_session *session;
    if (cw_session_open(&session, NULL) != 0)
        return cw_fail(CW_EFAILED, "could not open a session");
    c->rc = fetch_as_completed(session, url_ptrs, c->n, c->timeout_ms, c->steps, &c->still_running);
    c->answered_at_return = cw_fixture_stats_get(c->fx).requests;
    /* Cancelled transfers close their connections; give the server up to 1 s to notice. */
    for (int i = 0; i < 100; i++) {
        c->open_after = cw_fixture_stats_get(c->fx).open;
        if (c->open_after <= 2)
            break;
        cw_sleep(10);
    }
    cw_session_close(session);
    return NULL;
}

static void run_fetch(fetch_case *c)
{
    c->fx = cw_fixture_start(0);
    ck_assert_msg(c->fx != NULL, "the fixture server did not start");
    c->rc = 1;
    int rc = cw_run(fetch_main, c, NULL);
    cw_fixture_stop(c->fx);
    ck_assert_msg(rc == 0, "the test's main task failed: %s", cw_error_name(rc));
}

static void check_step(const fetch_case *c, int k, int index, long status, int error)
{
    const arrival *s = &c->steps[k];
    ck_assert_msg(s->index == index && s->status == status && s->error == error,
                  "step %d should be {index %d, status %ld, error %s}, got {index %d, status %ld, error %s}", k,
                  index, status, cw_error_name(error), s->index, s->status, cw_error_name(s->error));
}

/* A task that sleeps for the given number of ms and returns its argument. */
static void *sleeper(void *arg)
{
    cw_sleep((uint64_t)(uintptr_t)arg);
    return arg;
}

static cw_future *spawn_sleeper(uint64_t ms)
{
    return cw_spawn(sleeper, (void *)(uintptr_t)ms);
}

static int index_in(cw_future *const *fs, int n, const cw_future *f)
{
    for (int i = 0; i < n; i++)
        if (fs[i] == f)
            return i;
    return -1;
}

/* ---- Part 1 ---- */

START_TEST(test_fetch_completion_order)
{
    /* Half a second between finishes (more under valgrind), so the order holds on a loaded machine. */
    static char paths[3][32];
    const int delays[3] = { 1100, 100, 600 };
    for (int i = 0; i < 3; i++)
        snprintf(paths[i], sizeof paths[i], "/delay/%d", (int)(delays[i] * slack()));
    fetch_case c = { .paths = { paths[0], paths[1], paths[2] }, .n = 3 };
    run_fetch(&c);
    ck_assert_msg(c.rc == 3, "fetch_as_completed() should return 3 (three requests handed out), got %d (%s)", c.rc,
                  cw_error_name(c.rc));
    /* Delays 1100, 100, 600 ms finish in the order 1, 2, 0. */
    check_step(&c, 0, 1, 200, 0);
    check_step(&c, 1, 2, 200, 0);
    check_step(&c, 2, 0, 200, 0);
    ck_assert_msg(c.still_running == 0, "no request should still be running at the end, got still_running = %d",
                  c.still_running);
}
END_TEST

START_TEST(test_fetch_failed_request_is_a_step)
{
    fetch_case c = { .paths = { "/delay/200", "python://bad", "/status/404" }, .n = 3 };
    run_fetch(&c);
    ck_assert_msg(c.rc == 3, "fetch_as_completed() should return 3 (a failed request is handed out too), got %d (%s)",
                  c.rc, cw_error_name(c.rc));
    /* python://bad fails at once, the 404 answers at once, the delay comes last. */
    check_step(&c, 0, 1, 0, CW_ESCHEME);
    check_step(&c, 1, 2, 404, 0);
    check_step(&c, 2, 0, 200, 0);
}
END_TEST

static fetch_case timeout_case(void)
{
    /* Wide margins on both sides of the deadline: the test must pass under valgrind on a loaded machine. */
    return (fetch_case){ .paths = { "/get", "/get", "/delay/8000", "/delay/8000" },
                         .n = 4,
                         .timeout_ms = (uint64_t)(1500 * slack()) };
}

START_TEST(test_fetch_timeout_fails_remaining_steps)
{
    fetch_case c = timeout_case();
    run_fetch(&c);
    ck_assert_msg(c.rc == 2, "with a 1500 ms timeout, two of the four requests (the two quick ones) should be "
                             "handed out, and fetch_as_completed() return 2; got %d (%s)",
                  c.rc, cw_error_name(c.rc));
    ck_assert_msg((c.steps[0].index == 0 && c.steps[1].index == 1) || (c.steps[0].index == 1 && c.steps[1].index == 0),
                  "the first two steps should be the two quick requests (indexes 0 and 1), got indexes %d and %d",
                  c.steps[0].index, c.steps[1].index);
    ck_assert_msg(c.steps[0].status == 200 && c.steps[1].status == 200,
                  "the first two steps should record status 200, got %ld and %ld", c.steps[0].status,
                  c.steps[1].status);
    check_step(&c, 2, -1, 0, CW_ETIMEDOUT);
    check_step(&c, 3, -1, 0, CW_ETIMEDOUT);
    ck_assert_msg(c.still_running == 2,
                  "the two 8000 ms requests should still be running after the timeout (as_completed does not "
                  "cancel them), so still_running should be 2; got %d",
                  c.still_running);
    ck_assert_msg(c.answered_at_return == 2,
                  "fetch_as_completed() should return at the deadline, without waiting for the slow requests: the "
                  "server had answered %ld requests when it returned, expected 2",
                  c.answered_at_return);
}
END_TEST

START_TEST(test_fetch_cancels_stragglers)
{
    fetch_case c = timeout_case();
    run_fetch(&c);
    ck_assert_msg(c.rc == 2, "fetch_as_completed() should return 2 here, got %d (%s)", c.rc, cw_error_name(c.rc));
    ck_assert_msg(c.open_after <= 2,
                  "the requests still running at the end should be cancelled, which closes their connections: "
                  "the server still had %ld connections open after fetch_as_completed() returned, expected at most 2 "
                  "(the two idle ones the session keeps)",
                  c.open_after);
}
END_TEST

/* ---- Part 2 ---- */

typedef struct order_case {
    int init_rc;
    int rcs[6];
    int got[6];     /* index of the future handed out at each step, -1 for none */
} order_case;

static void *order_main(void *arg)
{
    order_case *c = arg;
    cw_future *fs[4] = { spawn_sleeper(300), spawn_sleeper(100), spawn_sleeper(200), cw_future_new() };
    cw_future_resolve(fs[3], NULL, NULL); /* already finished before init */
    my_as_completed it = { 0 };
    c->init_rc = my_as_completed_init(&it, fs, 4, 0);
    for (int k = 0; k < 6; k++) {
        c->rcs[k] = 1;
        c->got[k] = -1;
    }
    if (c->init_rc == 0) {
        for (int k = 0; k < 6; k++) {
            cw_future *f = NULL;
            c->rcs[k] = my_as_completed_next(&it, &f);
            c->got[k] = f ? index_in(fs, 4, f) : -1;
            if (c->rcs[k] != 0 && c->rcs[k] != CW_EEOF)
                break;
        }
    }
    my_as_completed_cleanup(&it);
    cw_future_release_all(fs, 4);
    return NULL;
}

START_TEST(test_my_completion_order_and_eof)
{
    order_case c = { .init_rc = 1 };
    ck_assert_int_eq(cw_run(order_main, &c, NULL), 0);
    ck_assert_msg(c.init_rc == 0, "my_as_completed_init() should return 0, got %d (%s)", c.init_rc,
                  cw_error_name(c.init_rc));
    /* Futures 0..3 finish at 300, 100, 200 ms and before init: order 3, 1, 2, 0. */
    const int expected[4] = { 3, 1, 2, 0 };
    for (int k = 0; k < 4; k++)
        ck_assert_msg(c.rcs[k] == 0 && c.got[k] == expected[k],
                      "step %d should hand out the original future %d (they finish in the order 3, 1, 2, 0), "
                      "got rc %s and future %d",
                      k, expected[k], cw_error_name(c.rcs[k]), c.got[k]);
    ck_assert_msg(c.rcs[4] == CW_EEOF && c.rcs[5] == CW_EEOF,
                  "once every future was handed out, next() should return CW_EEOF (twice in a row), got %s then %s",
                  cw_error_name(c.rcs[4]), cw_error_name(c.rcs[5]));
}
END_TEST

typedef struct timeout_case_t {
    int init_rc;
    int rc[4];
    int got0;
    bool slow_done_at_step1; /* the 400 ms future had finished when step 1 returned */
    cw_state late_state;     /* the 400 ms future after the deadline */
    cw_state slow_state;     /* the 5 s future after cleanup */
    int late_rc[4];          /* second iterator: steps taken only after the deadline */
    int late_got0;
} timeout_case_t;

static void *timeout_main(void *arg)
{
    timeout_case_t *c = arg;
    cw_future *fs[3] = { spawn_sleeper(50), spawn_sleeper(400), spawn_sleeper(5000) };
    my_as_completed it = { 0 };
    c->init_rc = my_as_completed_init(&it, fs, 3, 250);
    c->got0 = -1;
    for (int k = 0; k < 4; k++)
        c->rc[k] = 1;
    if (c->init_rc == 0) {
        cw_future *f = NULL;
        c->rc[0] = my_as_completed_next(&it, &f);
        c->got0 = f ? index_in(fs, 3, f) : -1;
        c->rc[1] = my_as_completed_next(&it, &f); /* should return at the deadline, 250 ms */
        c->slow_done_at_step1 = cw_future_done(fs[1]);
        cw_sleep(300);                            /* now the 400 ms future has finished, too late */
        c->late_state = cw_future_state(fs[1]);
        c->rc[2] = my_as_completed_next(&it, &f);
        c->rc[3] = my_as_completed_next(&it, &f);
    }
    my_as_completed_cleanup(&it);
    c->slow_state = cw_future_state(fs[2]);
    cw_future_cancel(fs[2]);
    cw_future_release_all(fs, 3);

    /* No step before the deadline: what finished in time still comes first, what finished late never. */
    cw_future *gs[3] = { spawn_sleeper(30), spawn_sleeper(400), spawn_sleeper(5000) };
    for (int k = 0; k < 4; k++)
        c->late_rc[k] = 1;
    c->late_got0 = -1;
    if (my_as_completed_init(&it, gs, 3, 250) == 0) {
        cw_sleep(500);
        cw_future *f = NULL;
        for (int k = 0; k < 4; k++) {
            c->late_rc[k] = my_as_completed_next(&it, &f);
            if (k == 0)
                c->late_got0 = f ? index_in(gs, 3, f) : -1;
        }
    }
    my_as_completed_cleanup(&it);
    cw_future_cancel(gs[2]);
    cw_future_release_all(gs, 3);
    return NULL;
}

START_TEST(test_my_timeout)
{
    timeout_case_t c = { .init_rc = 1 };
    ck_assert_int_eq(cw_run(timeout_main, &c, NULL), 0);
    ck_assert_msg(c.init_rc == 0, "my_as_completed_init() should return 0, got %d (%s)", c.init_rc,
                  cw_error_name(c.init_rc));
    ck_assert_msg(c.rc[0] == 0 && c.got0 == 0,
                  "step 0 should hand out the 50 ms future (index 0), got rc %s and future %d", cw_error_name(c.rc[0]),
                  c.got0);
    ck_assert_msg(c.rc[1] == CW_ETIMEDOUT, "step 1 should fail with CW_ETIMEDOUT at the 250 ms deadline, got %s",
                  cw_error_name(c.rc[1]));
    ck_assert_msg(!c.slow_done_at_step1,
                  "step 1 should return at the 250 ms deadline, but it waited until the 400 ms future finished");
    ck_assert_msg(c.late_state == CW_RESOLVED,
                  "the timeout should not cancel anything: the 400 ms future should still finish, but its state "
                  "was %d, not CW_RESOLVED",
                  (int)c.late_state);
    ck_assert_msg(c.rc[2] == CW_ETIMEDOUT,
                  "step 2 should fail with CW_ETIMEDOUT: past the deadline, a future that finished late is not "
                  "handed out; got %s",
                  cw_error_name(c.rc[2]));
    ck_assert_msg(c.rc[3] == CW_EEOF, "after 3 steps for 3 futures, next() should return CW_EEOF, got %s",
                  cw_error_name(c.rc[3]));
    ck_assert_msg(c.late_rc[0] == 0 && c.late_got0 == 0,
                  "a future that finished before the deadline should still be handed out by a step taken after it: "
                  "the first step, taken at 500 ms, should hand out the 30 ms future (index 0), got rc %s and "
                  "future %d",
                  cw_error_name(c.late_rc[0]), c.late_got0);
    ck_assert_msg(c.late_rc[1] == CW_ETIMEDOUT && c.late_rc[2] == CW_ETIMEDOUT && c.late_rc[3] == CW_EEOF,
                  "then, with a 400 ms future that finished after the 250 ms deadline, the steps should be "
                  "CW_ETIMEDOUT, CW_ETIMEDOUT, CW_EEOF (a late finisher is never handed out); got %s, %s, %s",
                  cw_error_name(c.late_rc[1]), cw_error_name(c.late_rc[2]), cw_error_name(c.late_rc[3]));
    ck_assert_msg(c.slow_state == CW_PENDING,
                  "neither the timeout nor cleanup should cancel the 5 s future: it should still be pending, but "
                  "its state was %d",
                  (int)c.slow_state);
}
END_TEST

static int freed;

static void count_free(void *result)
{
    free(result);
    freed++;
}

static void *resolver(void *arg)
{
    cw_future **fs = arg; /* this task holds its own references to fs[1] and fs[2] */
    cw_sleep(50);
    cw_future_resolve(fs[2], malloc(1), count_free);
    cw_sleep(50);
    cw_future_resolve(fs[1], malloc(1), count_free);
    cw_future_release(fs[1]);
    cw_future_release(fs[2]);
    return NULL;
}

typedef struct refs_case {
    int init_rc;
    int freed_after_release, freed_before_cleanup, freed_after_cleanup;
    int got[3];
} refs_case;

static void *refs_main(void *arg)
{
    refs_case *c = arg;
    freed = 0;
    cw_future *fs[3] = { cw_future_new(), cw_future_new(), cw_future_new() };
    cw_future_resolve(fs[0], malloc(1), count_free);
    cw_future *mine[3] = { fs[0], fs[1], fs[2] };
    cw_future *for_resolver[3] = { NULL, cw_future_retain(fs[1]), cw_future_retain(fs[2]) };
    cw_future *res = cw_spawn(resolver, for_resolver);

    my_as_completed it = { 0 };
    c->init_rc = my_as_completed_init(&it, fs, 3, 0);
    for (int k = 0; k < 3; k++)
        c->got[k] = -1;
    if (c->init_rc == 0) {
        cw_future_release_all(fs, 3); /* the iterator must keep them alive by itself */
        c->freed_after_release = freed;
        for (int k = 0; k < 3; k++) {
            cw_future *f = NULL;
            if (my_as_completed_next(&it, &f) != 0)
                break;
            c->got[k] = index_in(mine, 3, f);
        }
        cw_await(res);
        c->freed_before_cleanup = freed;
        my_as_completed_cleanup(&it);
        c->freed_after_cleanup = freed;
    } else {
        cw_await(res);
        my_as_completed_cleanup(&it);
        cw_future_release_all(fs, 3);
    }
    cw_future_release(res);
    return NULL;
}

START_TEST(test_my_references)
{
    refs_case c = { .init_rc = 1 };
    ck_assert_int_eq(cw_run(refs_main, &c, NULL), 0);
    ck_assert_msg(c.init_rc == 0, "my_as_completed_init() should return 0, got %d (%s)", c.init_rc,
                  cw_error_name(c.init_rc));
    ck_assert_msg(c.freed_after_release == 0,
                  "the iterator should retain every future: after the caller released its references, %d "
                  "future(s) were freed, expected 0",
                  c.freed_after_release);
    ck_assert_msg(c.got[0] == 0 && c.got[1] == 2 && c.got[2] == 1,
                  "the futures finish in the order 0, 2, 1 and should be handed out so; got %d, %d, %d", c.got[0],
                  c.got[1], c.got[2]);
    ck_assert_msg(c.freed_before_cleanup == 0, "no future should be freed before cleanup, but %d were",
                  c.freed_before_cleanup);
    ck_assert_msg(c.freed_after_cleanup == 3,
                  "cleanup should release the iterator's reference to each future, freeing all 3 (no leak); "
                  "%d were freed",
                  c.freed_after_cleanup);
}
END_TEST

typedef struct early_case {
    int init_rc;
    bool trap_changed; /* something wrote into the iterator after cleanup */
    cw_state states[2];
} early_case;

static void *early_main(void *arg)
{
    early_case *c = arg;
    cw_future *fs[2] = { spawn_sleeper(50), spawn_sleeper(100) };
    my_as_completed it = { 0 };
    c->init_rc = my_as_completed_init(&it, fs, 2, 80);
    my_as_completed_cleanup(&it); /* stop watching before anything finished */
    /* The memory is the caller's again. Fill it with a trap that a callback left behind would change
     * (without crashing): a queue with room, no wake-up, not timed out. */
    cw_future *scratch[4] = { NULL };
    it = (my_as_completed){ .finished = scratch };
    cw_sleep(200); /* the futures finish, and the deadline would have passed */
    c->trap_changed = it.finished != scratch || it.n_finished != 0 || scratch[0] != NULL || it.timed_out ||
                      it.wakeup != NULL || it.n_handed_out != 0;
    c->states[0] = cw_future_state(fs[0]);
    c->states[1] = cw_future_state(fs[1]);
    cw_future_release_all(fs, 2);
    return NULL;
}

START_TEST(test_my_cleanup_stops_watching)
{
    early_case c = { .init_rc = 1 };
    ck_assert_int_eq(cw_run(early_main, &c, NULL), 0);
    ck_assert_msg(c.init_rc == 0, "my_as_completed_init() should return 0, got %d (%s)", c.init_rc,
                  cw_error_name(c.init_rc));
    ck_assert_msg(!c.trap_changed,
                  "after my_as_completed_cleanup(), a done callback of the iterator still ran and wrote into memory "
                  "that is no longer the iterator's: cleanup must remove every callback it added (on each future "
                  "and on the deadline task) before it cancels the deadline, or they dangle");
    ck_assert_msg(c.states[0] == CW_RESOLVED && c.states[1] == CW_RESOLVED,
                  "cleanup should cancel nothing: futures still running at cleanup should finish normally, but "
                  "their states were %d and %d (expected %d, CW_RESOLVED)",
                  (int)c.states[0], (int)c.states[1], (int)CW_RESOLVED);
}
END_TEST

/* ---- a task cancelled while next() waits ---- */

typedef struct cancel_case {
    int init_rc;
    int next_rc;
    bool returned_in_time;     /* next() returned within 2 s of the cancellation */
    cw_state watched_state;    /* the watched future, after the cancellation */
    cw_future *watched;
} cancel_case;

static void *next_waiter(void *arg)
{
    cancel_case *c = arg;
    my_as_completed it = { 0 };
    c->init_rc = my_as_completed_init(&it, &c->watched, 1, 0);
    if (c->init_rc == 0) {
        cw_future *f = NULL;
        c->next_rc = my_as_completed_next(&it, &f);
    }
    my_as_completed_cleanup(&it);
    return NULL;
}

static void *cancel_main(void *arg)
{
    cancel_case *c = arg;
    c->next_rc = 1;
    c->watched = cw_future_new(); /* never finishes by itself */
    cw_future *waiter = cw_spawn(next_waiter, c);
    cw_sleep(50);
    cw_future_cancel(waiter);
    for (int i = 0; i < 100 && !cw_future_done(waiter); i++)
        cw_sleep(20);
    c->returned_in_time = cw_future_done(waiter);
    c->watched_state = cw_future_state(c->watched);
    if (!c->returned_in_time) /* let a next() that keeps waiting end, so the test can report */
        cw_future_resolve(c->watched, NULL, NULL);
    cw_await(waiter);
    cw_future_release(waiter);
    cw_future_release(c->watched);
    return NULL;
}

START_TEST(test_my_next_cancelled)
{
    cancel_case c = { .init_rc = 1 };
    ck_assert_int_eq(cw_run(cancel_main, &c, NULL), 0);
    ck_assert_msg(c.init_rc == 0, "my_as_completed_init() should return 0, got %d (%s)", c.init_rc,
                  cw_error_name(c.init_rc));
    ck_assert_msg(c.returned_in_time && c.next_rc == CW_ECANCELLED,
                  "a task cancelled while my_as_completed_next() waits should get CW_ECANCELLED back at once, but "
                  "next() %s (it returned %s)",
                  c.returned_in_time ? "returned something else" : "kept waiting for 2 s", cw_error_name(c.next_rc));
    ck_assert_msg(c.watched_state == CW_PENDING,
                  "cancelling the task that waits in next() should not cancel the watched future, but its state "
                  "is %d", (int)c.watched_state);
}
END_TEST

int main(int argc, char **argv)
{
    const cw_graded_test tests[] = {
        { "fetch_as_completed: completion order, mapped back to each URL", test_fetch_completion_order, 3, 10 },
        { "fetch_as_completed: a failed request is a step, with its error", test_fetch_failed_request_is_a_step, 2, 10 },
        { "fetch_as_completed: past the timeout, remaining steps time out", test_fetch_timeout_fails_remaining_steps, 3, 10 },
        { "fetch_as_completed: requests still running are cancelled", test_fetch_cancels_stragglers, 2, 10 },
        { "my_as_completed: originals in completion order, then CW_EEOF", test_my_completion_order_and_eof, 3, 10 },
        { "my_as_completed: the deadline times out steps, cancels nothing", test_my_timeout, 3, 10 },
        { "my_as_completed: references held until cleanup, released there", test_my_references, 2, 10 },
        { "my_as_completed: cleanup stops watching without cancelling", test_my_cleanup_stops_watching, 2, 10 },
        { "my_as_completed: a task cancelled in next() gets CW_ECANCELLED", test_my_next_cancelled, 1, 10 },
    };
    return cw_grade_main("07_as_completed", tests, sizeof tests / sizeof tests[0], argc, argv);
}
