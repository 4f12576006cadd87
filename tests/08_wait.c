/*
 * 08_wait.c -- graded tests of exercise 08.
 *
 * Part 1 (fetch_and_wait, fetch_until_none_pending): ALL_COMPLETED with a
 * failed request checked by its error; FIRST_EXCEPTION returning at the
 * failure with the pending requests cancelled (the fixture server sees no
 * connection left open), and waiting for all when none fails;
 * FIRST_COMPLETED; a timeout that is not an error; the FIRST_COMPLETED loop
 * handling requests in completion order.
 * Part 2 (my_wait): each return_when, several futures done in the same loop
 * turn, the original pointers in input order, a timeout that neither fails
 * nor cancels, and an empty input rejected.
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

/* A call of fetch_and_wait() or fetch_until_none_pending() against a fixture server. */
typedef struct fetch_case {
    cw_fixture *fx;
    const char *paths[MAX_URLS];
    int n;
    cw_return_when when;
    uint64_t timeout_ms;
    bool loop;               /* call fetch_until_none_pending() instead */
    int rc;
    outcome outcomes[MAX_URLS];
    int order[MAX_URLS];
    int rounds;
    long answered_at_return; /* requests the server had answered when the function returned */
    long open_later;         /* connections open on the server 300 ms after it returned */
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
    for (int i = 0; i < MAX_URLS; i++) {
        c->outcomes[i] = (outcome){ .done = false, .status = -1, .error = 1 };
        c->order[i] = -1;
    }
    c->rounds = -1;
    cw_session *session;
    if (cw_session_open(&session, NULL) != 0)
        return cw_fail(CW_EFAILED, "could not open a session");
    if (c->loop)
        c->rc = fetch_until_none_pending(session, url_ptrs, c->n, c->order, &c->rounds);
    else
        c->rc = fetch_and_wait(session, url_ptrs, c->n, c->when, c->timeout_ms, c->outcomes);
    c->answered_at_return = cw_fixture_stats_get(c->fx).requests;
    cw_sleep(300);
    c->open_later = cw_fixture_stats_get(c->fx).open;
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

static void check_outcome(const fetch_case *c, int i, bool done, long status, int error)
{
    const outcome *o = &c->outcomes[i];
    ck_assert_msg(o->done == done && o->status == status && o->error == error,
                  "outcome %d (%s) should be {done %s, status %ld, error %s}, got {done %s, status %ld, error %s}", i,
                  c->paths[i], done ? "true" : "false", status, cw_error_name(error), o->done ? "true" : "false",
                  o->status, cw_error_name(o->error));
}

static void *sleeper(void *arg)
{
    cw_sleep((uint64_t)(uintptr_t)arg);
    return arg;
}

static cw_future *spawn_sleeper(uint64_t ms)
{
    return cw_spawn(sleeper, (void *)(uintptr_t)ms);
}

static void *failer(void *arg)
{
    cw_sleep((uint64_t)(uintptr_t)arg);
    return cw_fail(CW_EHTTP, "failing on purpose after %lu ms", (unsigned long)(uintptr_t)arg);
}

/* "done {0, 2} pending {1}" for a message. */
static const char *describe(const cw_wait_sets *s, cw_future *const *fs, int n, char *buf, size_t size)
{
    size_t len = (size_t)snprintf(buf, size, "done {");
    for (int pass = 0; pass < 2; pass++) {
        cw_future **set = pass ? s->pending : s->done;
        int count = pass ? s->n_pending : s->n_done;
        for (int k = 0; k < count && len < size; k++) {
            int index = -1;
            for (int i = 0; i < n; i++)
                if (fs[i] == set[k])
                    index = i;
            len += (size_t)snprintf(buf + len, size - len, "%s%d", k ? ", " : "", index);
        }
        if (len < size)
            len += (size_t)snprintf(buf + len, size - len, pass ? "}" : "} pending {");
    }
    return buf;
}

/* True when the sets are exactly done = fs[done_idx...] and pending = fs[pending_idx...], in that order. */
static bool sets_are(const cw_wait_sets *s, cw_future *const *fs, const int *done_idx, int n_done,
                     const int *pending_idx, int n_pending)
{
    if (s->n_done != n_done || s->n_pending != n_pending)
        return false;
    for (int k = 0; k < n_done; k++)
        if (!s->done || s->done[k] != fs[done_idx[k]])
            return false;
    for (int k = 0; k < n_pending; k++)
        if (!s->pending || s->pending[k] != fs[pending_idx[k]])
            return false;
    return true;
}

/* ---- Part 1 ---- */

START_TEST(test_all_completed_checks_errors)
{
    fetch_case c = { .paths = { "/get", "python://bad", "/status/404" }, .n = 3, .when = CW_ALL_COMPLETED };
    run_fetch(&c);
    ck_assert_msg(c.rc == 3, "with CW_ALL_COMPLETED all 3 requests should be done; fetch_and_wait() returned %d (%s)",
                  c.rc, cw_error_name(c.rc));
    check_outcome(&c, 0, true, 200, 0);
    check_outcome(&c, 1, true, 0, CW_ESCHEME);
    check_outcome(&c, 2, true, 404, 0);
}
END_TEST

START_TEST(test_first_exception_cancels_pending)
{
    fetch_case c = { .paths = { "/delay/2000", "python://bad", "/delay/2000" }, .n = 3, .when = CW_FIRST_EXCEPTION };
    run_fetch(&c);
    ck_assert_msg(c.rc == 1, "with CW_FIRST_EXCEPTION the wait should return at the failure of python://bad, with 1 "
                             "request done; fetch_and_wait() returned %d (%s)",
                  c.rc, cw_error_name(c.rc));
    check_outcome(&c, 1, true, 0, CW_ESCHEME);
    check_outcome(&c, 0, false, 0, CW_ECANCELLED);
    check_outcome(&c, 2, false, 0, CW_ECANCELLED);
    ck_assert_msg(c.answered_at_return == 0,
                  "fetch_and_wait() should not wait for the 2000 ms requests, but the server had answered %ld",
                  c.answered_at_return);
    ck_assert_msg(c.open_later == 0,
                  "the pending requests should be cancelled, which closes their connections; 300 ms after "
                  "fetch_and_wait() returned, the server still had %ld open",
                  c.open_later);
}
END_TEST

START_TEST(test_first_exception_without_failure)
{
    fetch_case c = { .paths = { "/delay/100", "/delay/300" }, .n = 2, .when = CW_FIRST_EXCEPTION };
    run_fetch(&c);
    ck_assert_msg(c.rc == 2, "when nothing fails, CW_FIRST_EXCEPTION waits for every request: 2 should be done, "
                             "fetch_and_wait() returned %d (%s)",
                  c.rc, cw_error_name(c.rc));
    check_outcome(&c, 0, true, 200, 0);
    check_outcome(&c, 1, true, 200, 0);
}
END_TEST

START_TEST(test_first_completed)
{
    fetch_case c = { .paths = { "/delay/1500", "/delay/100", "/delay/1500" }, .n = 3, .when = CW_FIRST_COMPLETED };
    run_fetch(&c);
    ck_assert_msg(c.rc == 1, "with CW_FIRST_COMPLETED only the 100 ms request should be done; fetch_and_wait() "
                             "returned %d (%s)",
                  c.rc, cw_error_name(c.rc));
    check_outcome(&c, 1, true, 200, 0);
    check_outcome(&c, 0, false, 0, CW_ECANCELLED);
    check_outcome(&c, 2, false, 0, CW_ECANCELLED);
    ck_assert_msg(c.open_later <= 1,
                  "the two slow requests should be cancelled, closing their connections; 300 ms after "
                  "fetch_and_wait() returned, the server still had %ld open, expected at most 1 (the idle one the "
                  "session keeps)",
                  c.open_later);
}
END_TEST

START_TEST(test_timeout_is_not_an_error)
{
    /* Wide margins on both sides of the timeout: the test must pass under valgrind on a loaded machine. */
    fetch_case c = { .paths = { "/get", "/delay/8000" }, .n = 2, .when = CW_ALL_COMPLETED,
                     .timeout_ms = (uint64_t)(1500 * slack()) };
    run_fetch(&c);
    ck_assert_msg(c.rc == 1, "a 1500 ms timeout should return normally with the quick request done: "
                             "fetch_and_wait() should return 1, got %d (%s)",
                  c.rc, cw_error_name(c.rc));
    check_outcome(&c, 0, true, 200, 0);
    check_outcome(&c, 1, false, 0, CW_ECANCELLED);
    ck_assert_msg(c.answered_at_return == 1,
                  "fetch_and_wait() should return at the timeout, not wait for the 8000 ms request: the server had "
                  "answered %ld requests, expected 1",
                  c.answered_at_return);
}
END_TEST

START_TEST(test_loop_until_none_pending)
{
    /* Half a second between finishes (more under valgrind), so the order holds on a loaded machine. */
    static char paths[3][32];
    const int delays[3] = { 1100, 100, 600 };
    for (int i = 0; i < 3; i++)
        snprintf(paths[i], sizeof paths[i], "/delay/%d", (int)(delays[i] * slack()));
    fetch_case c = { .paths = { paths[0], paths[1], paths[2] }, .n = 3, .loop = true };
    run_fetch(&c);
    ck_assert_msg(c.rc == 0, "fetch_until_none_pending() should return 0, got %d (%s)", c.rc, cw_error_name(c.rc));
    ck_assert_msg(c.order[0] == 1 && c.order[1] == 2 && c.order[2] == 0,
                  "requests taking 1100, 100 and 600 ms should be handled in the order 1, 2, 0; got %d, %d, %d",
                  c.order[0], c.order[1], c.order[2]);
    ck_assert_msg(c.rounds == 3,
                  "each FIRST_COMPLETED wait should return as one request finishes, so 3 rounds; got %d", c.rounds);
    ck_assert_msg(c.answered_at_return == 3,
                  "the server had answered %ld requests when fetch_until_none_pending() returned, not 3: every "
                  "request must really go out and be awaited", c.answered_at_return);

    /* Two bad URLs fail before the first wait: one round hands out both. */
    fetch_case d = { .paths = { "python://bad", "/delay/100", "python://x" }, .n = 3, .loop = true };
    run_fetch(&d);
    ck_assert_msg(d.rc == 0, "fetch_until_none_pending() should return 0, got %d (%s)", d.rc, cw_error_name(d.rc));
    ck_assert_msg(d.order[0] == 0 && d.order[1] == 2 && d.order[2] == 1,
                  "two bad URLs fail at once, then /delay/100 finishes: the order should be 0, 2, 1 (a done set "
                  "in input order); got %d, %d, %d",
                  d.order[0], d.order[1], d.order[2]);
    ck_assert_msg(d.rounds == 2,
                  "the first wait's done set holds both failed requests, the second the last one: rounds counts "
                  "the calls of cw_wait(), so 2; got %d",
                  d.rounds);
}
END_TEST

/* ---- Part 2 ---- */

typedef struct wait_case {
    int rc;
    char sets[128];
    bool sets_ok;
    bool all_done_at_return; /* ALL_COMPLETED: nothing still running when it returned */
    bool first_done_before_slow;
    cw_state later[4];       /* states some time after the wait */
} wait_case;

static void *all_main(void *arg)
{
    wait_case *c = arg;
    cw_future *fs[4] = { spawn_sleeper(100), spawn_sleeper(200), cw_future_new(), spawn_sleeper(50) };
    cw_future_resolve(fs[2], NULL, NULL); /* already done */
    cw_wait_sets s = { 0 };
    c->rc = my_wait(fs, 4, CW_ALL_COMPLETED, 0, &s);
    c->all_done_at_return = true;
    for (int i = 0; i < 4; i++)
        c->all_done_at_return &= cw_future_done(fs[i]);
    const int done[4] = { 0, 1, 2, 3 };
    c->sets_ok = sets_are(&s, fs, done, 4, NULL, 0);
    describe(&s, fs, 4, c->sets, sizeof c->sets);
    cw_wait_sets_free(&s);
    for (int i = 0; i < 4; i++)
        cw_future_cancel(fs[i]);
    cw_future_release_all(fs, 4);
    return NULL;
}

START_TEST(test_my_wait_all_completed)
{
    wait_case c = { .rc = 1 };
    ck_assert_int_eq(cw_run(all_main, &c, NULL), 0);
    ck_assert_msg(c.rc == 0, "my_wait() should return 0, got %d (%s)", c.rc, cw_error_name(c.rc));
    ck_assert_msg(c.all_done_at_return, "with CW_ALL_COMPLETED, my_wait() returned while a future was still running");
    ck_assert_msg(c.sets_ok, "the sets should be done {0, 1, 2, 3} pending {} (input order, original pointers); got %s",
                  c.sets);
}
END_TEST

static void *resolve_two_at_once(void *arg)
{
    cw_future **fs = arg;
    cw_sleep(50);
    cw_future_resolve(fs[2], NULL, NULL); /* two in the same loop turn, the later one first */
    cw_future_resolve(fs[0], NULL, NULL);
    return NULL;
}

static void *first_completed_main(void *arg)
{
    wait_case *c = arg;
    cw_future *fs[4] = { cw_future_new(), spawn_sleeper(300), cw_future_new(), spawn_sleeper(300) };
    cw_future *helper = cw_spawn(resolve_two_at_once, fs);
    cw_wait_sets s = { 0 };
    c->rc = my_wait(fs, 4, CW_FIRST_COMPLETED, 0, &s);
    const int done[2] = { 0, 2 }, pending[2] = { 1, 3 };
    c->sets_ok = sets_are(&s, fs, done, 2, pending, 2);
    describe(&s, fs, 4, c->sets, sizeof c->sets);
    cw_wait_sets_free(&s);
    cw_sleep(400); /* the pending ones finish after the wait: nothing may call back into it */
    for (int i = 0; i < 4; i++)
        c->later[i] = cw_future_state(fs[i]);
    cw_await(helper);
    cw_future_release(helper);
    cw_future_release_all(fs, 4);
    return NULL;
}

START_TEST(test_my_wait_first_completed)
{
    wait_case c = { .rc = 1 };
    ck_assert_int_eq(cw_run(first_completed_main, &c, NULL), 0);
    ck_assert_msg(c.rc == 0, "my_wait() should return 0, got %d (%s)", c.rc, cw_error_name(c.rc));
    ck_assert_msg(c.sets_ok,
                  "futures 2 and 0 finish in the same loop turn, 1 and 3 later: with CW_FIRST_COMPLETED the sets "
                  "should be done {0, 2} pending {1, 3} (every finished one, in input order); got %s",
                  c.sets);
    ck_assert_msg(c.later[1] == CW_RESOLVED && c.later[3] == CW_RESOLVED,
                  "my_wait() should not cancel the pending futures: they should finish normally later, but their "
                  "states were %d and %d",
                  (int)c.later[1], (int)c.later[3]);
}
END_TEST

typedef struct exception_case {
    wait_case first, second;
    int failed_error; /* the error of the future that failed */
} exception_case;

static void *first_exception_main(void *arg)
{
    exception_case *c = arg;
    cw_future *fs[3] = { spawn_sleeper(300), cw_spawn(failer, (void *)(uintptr_t)100), spawn_sleeper(600) };
    cw_wait_sets s = { 0 };
    c->first.rc = my_wait(fs, 3, CW_FIRST_EXCEPTION, 0, &s);
    const int done[1] = { 1 }, pending[2] = { 0, 2 };
    c->first.sets_ok = sets_are(&s, fs, done, 1, pending, 2);
    describe(&s, fs, 3, c->first.sets, sizeof c->first.sets);
    cw_wait_sets_free(&s);
    c->failed_error = cw_future_error(fs[1]);
    for (int i = 0; i < 3; i++)
        cw_future_cancel(fs[i]);
    cw_future_release_all(fs, 3);

    cw_future *gs[2] = { spawn_sleeper(50), spawn_sleeper(150) };
    c->second.rc = my_wait(gs, 2, CW_FIRST_EXCEPTION, 0, &s);
    const int all[2] = { 0, 1 };
    c->second.sets_ok = sets_are(&s, gs, all, 2, NULL, 0);
    describe(&s, gs, 2, c->second.sets, sizeof c->second.sets);
    cw_wait_sets_free(&s);
    cw_future_release_all(gs, 2);
    return NULL;
}

START_TEST(test_my_wait_first_exception)
{
    exception_case c = { .first = { .rc = 1 }, .second = { .rc = 1 } };
    ck_assert_int_eq(cw_run(first_exception_main, &c, NULL), 0);
    ck_assert_msg(c.first.rc == 0, "my_wait() should return 0, got %d (%s)", c.first.rc, cw_error_name(c.first.rc));
    ck_assert_msg(c.first.sets_ok,
                  "future 1 fails at 100 ms while 0 and 2 take 300 and 600 ms: with CW_FIRST_EXCEPTION the sets "
                  "should be done {1} pending {0, 2}; got %s",
                  c.first.sets);
    ck_assert_msg(c.failed_error == CW_EHTTP, "the failed future should keep its error CW_EHTTP, got %s",
                  cw_error_name(c.failed_error));
    ck_assert_msg(c.second.rc == 0, "my_wait() should return 0, got %d (%s)", c.second.rc,
                  cw_error_name(c.second.rc));
    ck_assert_msg(c.second.sets_ok,
                  "when nothing fails, CW_FIRST_EXCEPTION waits for all: the sets should be done {0, 1} pending {}; "
                  "got %s",
                  c.second.sets);
}
END_TEST

typedef struct timeout_wait_case {
    wait_case w;
    cw_state slow_state;
    int empty_rc;
    bool empty_sets_zero;
} timeout_wait_case;

static void *timeout_main(void *arg)
{
    timeout_wait_case *c = arg;
    cw_future *fs[2] = { spawn_sleeper(100), spawn_sleeper(1500) };
    cw_wait_sets s = { 0 };
    c->w.rc = my_wait(fs, 2, CW_ALL_COMPLETED, 300, &s);
    const int done[1] = { 0 }, pending[1] = { 1 };
    c->w.sets_ok = sets_are(&s, fs, done, 1, pending, 1);
    describe(&s, fs, 2, c->w.sets, sizeof c->w.sets);
    cw_wait_sets_free(&s);
    cw_sleep(50);
    c->slow_state = cw_future_state(fs[1]);
    cw_future_cancel(fs[1]);
    cw_future_release_all(fs, 2);

    s = (cw_wait_sets){ .n_done = 7, .n_pending = 7 };
    c->empty_rc = my_wait(fs, 0, CW_ALL_COMPLETED, 0, &s);
    c->empty_sets_zero = s.n_done == 0 && s.n_pending == 0 && !s.done && !s.pending;
    return NULL;
}

START_TEST(test_my_wait_timeout)
{
    timeout_wait_case c = { .w = { .rc = 1 }, .empty_rc = 1 };
    ck_assert_int_eq(cw_run(timeout_main, &c, NULL), 0);
    ck_assert_msg(c.w.rc == 0, "a timeout is not an error: my_wait() should return 0, got %d (%s)", c.w.rc,
                  cw_error_name(c.w.rc));
    ck_assert_msg(c.w.sets_ok,
                  "after a 300 ms timeout, with futures taking 100 and 1500 ms, the sets should be done {0} "
                  "pending {1}; got %s",
                  c.w.sets);
    ck_assert_msg(c.slow_state == CW_PENDING,
                  "a timeout cancels nothing: the 1500 ms future should still be running, but its state was %d",
                  (int)c.slow_state);
    ck_assert_msg(c.empty_rc == CW_EINVAL, "my_wait() on 0 futures should return CW_EINVAL, got %d (%s)", c.empty_rc,
                  cw_error_name(c.empty_rc));
    ck_assert_msg(c.empty_sets_zero, "on an error, my_wait() should leave the sets zeroed (empty, NULL arrays)");
}
END_TEST

/* ---- FIRST_EXCEPTION: a cancelled future is no exception ---- */

static void *cancel_later(void *arg)
{
    cw_sleep(50);
    cw_future_cancel(arg);
    return NULL;
}

static void *cancelled_main(void *arg)
{
    wait_case *c = arg;
    cw_future *fs[2] = { cw_future_new(), spawn_sleeper(300) };
    cw_future *helper = cw_spawn(cancel_later, fs[0]);
    cw_wait_sets s = { 0 };
    c->rc = my_wait(fs, 2, CW_FIRST_EXCEPTION, 0, &s);
    const int done[2] = { 0, 1 };
    c->sets_ok = sets_are(&s, fs, done, 2, NULL, 0);
    describe(&s, fs, 2, c->sets, sizeof c->sets);
    cw_wait_sets_free(&s);
    cw_await(helper);
    cw_future_release(helper);
    cw_future_cancel(fs[1]);
    cw_future_release_all(fs, 2);
    return NULL;
}

START_TEST(test_my_wait_cancelled_is_no_exception)
{
    wait_case c = { .rc = 1 };
    ck_assert_int_eq(cw_run(cancelled_main, &c, NULL), 0);
    ck_assert_msg(c.rc == 0, "my_wait() should return 0, got %d (%s)", c.rc, cw_error_name(c.rc));
    ck_assert_msg(c.sets_ok,
                  "future 0 is cancelled at 50 ms, future 1 finishes at 300 ms: a cancelled future is not an "
                  "exception (asyncio.wait does not count it), so CW_FIRST_EXCEPTION waits for all and the sets "
                  "should be done {0, 1} pending {}; got %s",
                  c.sets);
}
END_TEST

/* ---- no callback outlives my_wait() ---- */

/* my_wait() at a fixed depth: its frame (and anything it keeps there) lies just below this one's. */
static __attribute__((noinline)) int wait_here(cw_future **fs, int n, cw_return_when when, uint64_t timeout_ms,
                                               cw_wait_sets *s)
{
    return my_wait(fs, n, when, timeout_ms, s);
}

enum { PAD = 16 * 1024 };

/* Called at the same depth as wait_here(), once it returned: this frame's zeroed pad now covers the
 * memory of my_wait()'s finished frame. Finish the futures my_wait() left pending, let the loop run,
 * and report whether anything wrote into the pad: only a callback left behind by my_wait() can. */
static __attribute__((noinline)) bool finish_and_watch(cw_future **pending, int n)
{
    volatile unsigned char pad[PAD];
    for (int i = 0; i < PAD; i++)
        pad[i] = 0;
    for (int i = 0; i < n; i++)
        cw_future_resolve(pending[i], NULL, NULL);
    cw_sleep(100); /* callbacks run; a timer my_wait() cancelled ends */
    bool written = false;
    for (int i = 0; i < PAD; i++)
        written |= pad[i] != 0;
    return written;
}

typedef struct leftover_case {
    int rc[2];
    bool written[2]; /* something wrote into the finished frame of my_wait() */
} leftover_case;

static void *resolve_first(void *arg)
{
    cw_sleep(30);
    cw_future_resolve(arg, NULL, NULL);
    return NULL;
}

static void *leftover_main(void *arg)
{
    leftover_case *c = arg;
    /* FIRST_COMPLETED: one finishes, two stay pending, and the timer is cancelled before its time. */
    cw_future *fs[3] = { cw_future_new(), cw_future_new(), cw_future_new() };
    cw_future *helper = cw_spawn(resolve_first, fs[0]);
    cw_wait_sets s = { 0 };
    c->rc[0] = wait_here(fs, 3, CW_FIRST_COMPLETED, 5000, &s);
    cw_wait_sets_free(&s);
    c->written[0] = finish_and_watch(fs + 1, 2);
    cw_await(helper);
    cw_future_release(helper);
    cw_future_release_all(fs, 3);

    /* A timeout: both stay pending. */
    cw_future *gs[2] = { cw_future_new(), cw_future_new() };
    c->rc[1] = wait_here(gs, 2, CW_ALL_COMPLETED, 60, &s);
    cw_wait_sets_free(&s);
    c->written[1] = finish_and_watch(gs, 2);
    cw_future_release_all(gs, 2);
    return NULL;
}

START_TEST(test_my_wait_leaves_no_callback)
{
    leftover_case c = { .rc = { 1, 1 } };
    ck_assert_int_eq(cw_run(leftover_main, &c, NULL), 0);
    ck_assert_msg(c.rc[0] == 0 && c.rc[1] == 0, "my_wait() should return 0, got %s and %s", cw_error_name(c.rc[0]),
                  cw_error_name(c.rc[1]));
    ck_assert_msg(!c.written[0],
                  "after my_wait(CW_FIRST_COMPLETED, timeout 5 s) returned, a callback of my_wait() still ran (on a "
                  "future left pending, which finished later, or on the timer it cancelled): it wrote into my_wait()'s "
                  "finished stack frame. Remove every callback you added before returning (the futures outlive the "
                  "call; remove the timer's before cancelling it), or it dangles");
    ck_assert_msg(!c.written[1],
                  "after my_wait() returned on its timeout, the futures left pending finished, and a done callback of "
                  "my_wait() still ran: it wrote into my_wait()'s finished stack frame. Remove every callback you "
                  "added before returning (the futures outlive the call), or it dangles");
}
END_TEST

/* ---- the caller cancelled while it waits ---- */

typedef struct cancelled_caller_case {
    cw_future *watched;
    int rc;
    bool sets_zero;
    bool returned_in_time;
    cw_state watched_state;
} cancelled_caller_case;

static void *waiting_caller(void *arg)
{
    cancelled_caller_case *c = arg;
    cw_wait_sets s = { .n_done = 7, .n_pending = 7 };
    c->rc = my_wait(&c->watched, 1, CW_ALL_COMPLETED, 0, &s);
    c->sets_zero = s.n_done == 0 && s.n_pending == 0 && !s.done && !s.pending;
    cw_wait_sets_free(&s);
    return NULL;
}

static void *cancelled_caller_main(void *arg)
{
    cancelled_caller_case *c = arg;
    c->rc = 1;
    c->watched = cw_future_new(); /* never finishes by itself */
    cw_future *caller = cw_spawn(waiting_caller, c);
    cw_sleep(50);
    cw_future_cancel(caller);
    for (int i = 0; i < 100 && !cw_future_done(caller); i++)
        cw_sleep(20);
    c->returned_in_time = cw_future_done(caller);
    c->watched_state = cw_future_state(c->watched);
    if (!c->returned_in_time) /* let a my_wait() that keeps waiting end, so the test can report */
        cw_future_resolve(c->watched, NULL, NULL);
    cw_await(caller);
    cw_future_release(caller);
    cw_future_release(c->watched);
    return NULL;
}

START_TEST(test_my_wait_cancelled_caller)
{
    cancelled_caller_case c = { .rc = 1 };
    ck_assert_int_eq(cw_run(cancelled_caller_main, &c, NULL), 0);
    ck_assert_msg(c.returned_in_time && c.rc == CW_ECANCELLED,
                  "a task cancelled while my_wait() waits should get CW_ECANCELLED back at once, but my_wait() %s "
                  "(it returned %s)",
                  c.returned_in_time ? "returned something else" : "kept waiting for 2 s", cw_error_name(c.rc));
    ck_assert_msg(c.sets_zero, "when my_wait() returns an error, the sets should be left zeroed (empty, NULL arrays)");
    ck_assert_msg(c.watched_state == CW_PENDING,
                  "cancelling the task that waits should not cancel the futures it waits on, but the watched one's "
                  "state is %d", (int)c.watched_state);
}
END_TEST

int main(int argc, char **argv)
{
    const cw_graded_test tests[] = {
        { "fetch_and_wait: ALL_COMPLETED, a failed request by its error", test_all_completed_checks_errors, 3, 10 },
        { "fetch_and_wait: FIRST_EXCEPTION, then pending ones cancelled", test_first_exception_cancels_pending, 3, 10 },
        { "fetch_and_wait: FIRST_EXCEPTION waits for all when none fails", test_first_exception_without_failure, 2, 10 },
        { "fetch_and_wait: FIRST_COMPLETED returns with the first one", test_first_completed, 2, 10 },
        { "fetch_and_wait: a timeout returns normally, with both sets", test_timeout_is_not_an_error, 2, 10 },
        { "fetch_until_none_pending: FIRST_COMPLETED rounds in order", test_loop_until_none_pending, 3, 10 },
        { "my_wait: ALL_COMPLETED, original pointers in input order", test_my_wait_all_completed, 2, 10 },
        { "my_wait: no callback outlives the call", test_my_wait_leaves_no_callback, 3, 10 },
        { "my_wait: FIRST_COMPLETED, every finished one in done", test_my_wait_first_completed, 3, 10 },
        { "my_wait: FIRST_EXCEPTION, with and without a failure", test_my_wait_first_exception, 3, 10 },
        { "my_wait: a timeout neither fails nor cancels; empty is invalid", test_my_wait_timeout, 3, 10 },
        { "my_wait: FIRST_EXCEPTION does not count a cancelled future", test_my_wait_cancelled_is_no_exception, 2, 10 },
        { "my_wait: a task cancelled while it waits gets CW_ECANCELLED", test_my_wait_cancelled_caller, 1, 10 },
    };
    return cw_grade_main("08_wait", tests, sizeof tests / sizeof tests[0], argc, argv);
}
