/*
 * 04_timeouts.c -- graded tests of exercise 04: a total timeout fails a slow
 * response near its limit and leaves the session usable; a request-level
 * timeout replaces the session's; a read timeout limits each gap of /drip but
 * not the whole, while the total still applies; a connect timeout fails on a
 * loopback listener that never accepts, and counts the wait for a pooled
 * connection. Times are checked only loosely (generous backstops).
 */
#include <stdio.h>

#include "grade.h"
#include "exercise.h"
#include "cw_fixture.h"
#include <stdlib.h>

/* How much slower than usual this run may be: CW_TIMEOUT_SCALE (set for the valgrind and sanitizer runs of
 * make test), between 1 and 4. Time margins and backstops are stretched by it, so that a slow run under
 * valgrind on a loaded machine keeps the structure the test checks. */
static double slack(void)
{
    const char *scale = getenv("CW_TIMEOUT_SCALE");
    double f = scale ? atof(scale) : 1;
    return f < 1 ? 1 : f > 4 ? 4 : f;
}

static double ms_since(uint64_t started_us)
{
    return (double)(cw_now_us() - started_us) / 1000.0;
}

static const char *name(long result)
{
    return result < 0 ? cw_error_name((int)result) : "a status";
}

/* ---- 1-2. fetch_within ---- */

typedef struct within_case {
    cw_fixture *fx;
    unsigned long session_total_ms; /* 0: a default session */
    long slow, after;
    double slow_ms;
    long answered; /* requests the server had answered when both fetches were done */
} within_case;

static void *within_main(void *arg)
{
    within_case *c = arg;
    cw_session_options options = cw_session_options_default();
    if (c->session_total_ms)
        options.timeouts.total_ms = c->session_total_ms;
    cw_session *session;
    if (cw_session_open(&session, &options) < 0)
        return cw_fail(CW_EFAILED, "no session");
    char url[128];
    uint64_t started = cw_now_us();
    if (c->session_total_ms) /* the session would give up after 150 ms; the request allows 3 s */
        c->slow = fetch_within(session, cw_fixture_url(c->fx, "/delay/400", url, sizeof url), 3000);
    else
        c->slow = fetch_within(session, cw_fixture_url(c->fx, "/delay/3000", url, sizeof url), 300);
    c->slow_ms = ms_since(started);
    c->after = fetch_within(session, cw_fixture_url(c->fx, "/get", url, sizeof url), 3000);
    c->answered = cw_fixture_stats_get(c->fx).requests;
    cw_session_close(session);
    return NULL;
}

static void run_within(within_case *c)
{
    c->fx = cw_fixture_start(0);
    ck_assert_msg(c->fx != NULL, "the fixture server did not start");
    c->slow = c->after = 1;
    ck_assert_int_eq(cw_run(within_main, c, NULL), 0);
    cw_fixture_stop(c->fx);
}

START_TEST(test_total_timeout)
{
    within_case c = { 0 };
    run_within(&c);
    ck_assert_msg(c.slow == CW_ETIMEDOUT,
                  "fetch_within(/delay/3000, 300 ms) should fail with CW_ETIMEDOUT (%d), got %ld (%s)",
                  CW_ETIMEDOUT, c.slow, name(c.slow));
    ck_assert_msg(c.slow_ms >= 200 && c.slow_ms < 2000 * slack(),
                  "a 300 ms total timeout should fire near 300 ms, it took %.0f ms", c.slow_ms);
    ck_assert_msg(c.after == 200, "after a timeout the session should still work: /get gave %ld (%s)", c.after,
                  name(c.after));
    ck_assert_msg(c.answered >= 1,
                  "the server answered no request, yet fetch_within(/get) returned 200: a status must come from a "
                  "real request");
}
END_TEST

START_TEST(test_request_timeout_replaces_session_timeout)
{
    within_case c = { .session_total_ms = 150 };
    run_within(&c);
    ck_assert_msg(c.slow == 200,
                  "a request-level total of 3000 ms replaces the session's 150 ms, so /delay/400 should give 200; "
                  "got %ld (%s) after %.0f ms",
                  c.slow, name(c.slow), c.slow_ms);
    ck_assert_msg(c.answered == 2,
                  "the server should have answered /delay/400 and /get, but it answered %ld request(s): a status "
                  "must come from a real request", c.answered);
}
END_TEST

/* ---- 3-4. fetch_stream ---- */

typedef struct stream_case {
    cw_fixture *fx;
    const char *first_path, *second_path;
    unsigned long gap_ms[2], total_ms[2];
    long result[2];
    double took_ms[2];
    long answered; /* requests the server had answered (a drip counts as it starts) when the fetches were done */
} stream_case;

static void *stream_main(void *arg)
{
    stream_case *c = arg;
    cw_session *session;
    if (cw_session_open(&session, NULL) < 0)
        return cw_fail(CW_EFAILED, "no session");
    const char *paths[2] = { c->first_path, c->second_path };
    for (int i = 0; i < 2 && paths[i]; i++) {
        char url[128];
        uint64_t started = cw_now_us();
        c->result[i] = fetch_stream(session, cw_fixture_url(c->fx, paths[i], url, sizeof url), c->gap_ms[i],
                                    c->total_ms[i]);
        c->took_ms[i] = ms_since(started);
    }
    c->answered = cw_fixture_stats_get(c->fx).requests;
    cw_session_close(session);
    return NULL;
}

static void run_stream(stream_case *c)
{
    c->fx = cw_fixture_start(0);
    ck_assert_msg(c->fx != NULL, "the fixture server did not start");
    c->result[0] = c->result[1] = 1;
    ck_assert_int_eq(cw_run(stream_main, c, NULL), 0);
    cw_fixture_stop(c->fx);
}

START_TEST(test_read_timeout_limits_each_gap)
{
    stream_case c = {
        .first_path = "/drip?bytes=4&duration_ms=600", /* a byte every 150 ms, 600 ms in all */
        .gap_ms = { 400, 250 },
        .total_ms = { 5000, 5000 },
        .second_path = "/drip?bytes=2&duration_ms=1200", /* a byte every 600 ms */
    };
    run_stream(&c);
    ck_assert_msg(c.result[0] == 200,
                  "a drip with 150 ms gaps lasting 600 ms should succeed with a 400 ms read timeout (it limits each "
                  "gap, not the whole); got %ld (%s) after %.0f ms",
                  c.result[0], name(c.result[0]), c.took_ms[0]);
    ck_assert_msg(c.result[1] == CW_ETIMEDOUT,
                  "a drip with 600 ms gaps should fail with CW_ETIMEDOUT under a 250 ms read timeout; got %ld (%s)",
                  c.result[1], name(c.result[1]));
    ck_assert_msg(c.took_ms[1] < 1100,
                  "the read timeout should fire at the first long gap, long before the 1200 ms drip ends; "
                  "it took %.0f ms",
                  c.took_ms[1]);
    ck_assert_msg(c.answered == 2,
                  "the server should have started answering both drips, but it answered %ld: a result must come "
                  "from a real request", c.answered);
}
END_TEST

START_TEST(test_total_timeout_still_applies_to_a_stream)
{
    stream_case c = {
        .first_path = "/drip?bytes=20&duration_ms=2000", /* a byte every 100 ms for 2 s */
        .gap_ms = { 500 },
        .total_ms = { 600 },
    };
    run_stream(&c);
    ck_assert_msg(c.result[0] == CW_ETIMEDOUT,
                  "a 2-second drip with short gaps should still fail with CW_ETIMEDOUT under a 600 ms total; "
                  "got %ld (%s) after %.0f ms",
                  c.result[0], name(c.result[0]), c.took_ms[0]);
    ck_assert_msg(c.took_ms[0] < 1500 * slack(), "the 600 ms total should stop the drip near 600 ms, it took %.0f ms",
                  c.took_ms[0]);
    ck_assert_msg(c.answered == 1,
                  "the server should have started answering the drip, but it answered %ld request(s): a timeout "
                  "must come from a real request", c.answered);
}
END_TEST

/* ---- 5-6. open_impatient_session ---- */

/* Await a request, but at most @p backstop_ms: past that, cancel it and report CW_EPENDING. */
static long await_status(cw_future *request, uint64_t backstop_ms)
{
    cw_wait_sets sets;
    cw_wait(&request, 1, CW_ALL_COMPLETED, backstop_ms, &sets);
    cw_wait_sets_free(&sets);
    long status = CW_EPENDING;
    if (cw_future_done(request)) {
        int rc = cw_await(request);
        status = rc == 0 ? cw_response_of(request)->status : rc;
    } else {
        cw_future_cancel(request);
        cw_await(request);
    }
    cw_future_release(request);
    return status;
}

typedef struct connect_case {
    cw_fixture *fx;
    int rc;
    long blackhole, slow, first, second;
    double blackhole_ms;
} connect_case;

static void *blackhole_main(void *arg)
{
    connect_case *c = arg;
    int port;
    int hole = cw_fixture_blackhole_open(&port);
    if (hole < 0)
        return cw_fail(CW_EFAILED, "no blackhole listener");
    cw_session *session;
    c->rc = open_impatient_session(&session, 10, 200);
    if (c->rc == 0) {
        char url[128];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/get", port);
        uint64_t started = cw_now_us();
        c->blackhole = await_status(cw_session_get(session, url), 3000);
        c->blackhole_ms = ms_since(started);
        c->slow = await_status(cw_session_get(session, cw_fixture_url(c->fx, "/delay/500", url, sizeof url)), 3000);
        cw_session_close(session);
    }
    cw_fixture_blackhole_close(hole);
    return NULL;
}

static void *pool_wait_main(void *arg)
{
    connect_case *c = arg;
    cw_session *session;
    c->rc = open_impatient_session(&session, 1, 300);
    if (c->rc == 0) {
        char url[128];
        cw_fixture_url(c->fx, "/delay/700", url, sizeof url);
        cw_future *first = cw_session_get(session, url);
        cw_future *second = cw_session_get(session, url); /* waits for the one connection */
        c->first = await_status(first, 3000);
        c->second = await_status(second, 3000);
        cw_session_close(session);
    }
    return NULL;
}

static void run_connect(connect_case *c, cw_task_fn fn)
{
    c->fx = cw_fixture_start(0);
    ck_assert_msg(c->fx != NULL, "the fixture server did not start");
    c->rc = c->blackhole = c->slow = c->first = c->second = 1;
    ck_assert_int_eq(cw_run(fn, c, NULL), 0);
    cw_fixture_stop(c->fx);
    ck_assert_msg(c->rc == 0, "open_impatient_session() should return 0, got %d (%s)", c->rc, cw_error_name(c->rc));
}

START_TEST(test_connect_timeout)
{
    connect_case c = { 0 };
    run_connect(&c, blackhole_main);
    ck_assert_msg(c.blackhole == CW_ETIMEDOUT,
                  "connecting to a listener that never accepts should fail with CW_ETIMEDOUT under a 200 ms connect "
                  "timeout; got %ld (%s)%s",
                  c.blackhole, name(c.blackhole), c.blackhole == CW_EPENDING ? ": still connecting after 3 s" : "");
    ck_assert_msg(c.blackhole_ms < 2000 * slack(), "a 200 ms connect timeout should fire near 200 ms, it took %.0f ms",
                  c.blackhole_ms);
    ck_assert_msg(c.slow == 200,
                  "the connect timeout covers getting a connection only: /delay/500 through the same session should "
                  "give 200; got %ld (%s)",
                  c.slow, name(c.slow));
}
END_TEST

START_TEST(test_connect_timeout_counts_the_pool_wait)
{
    connect_case c = { 0 };
    run_connect(&c, pool_wait_main);
    ck_assert_msg(c.first == 200, "with limit 1, the first /delay/700 should get the connection and 200; got %ld (%s)",
                  c.first, name(c.first));
    ck_assert_msg(c.second == CW_ETIMEDOUT,
                  "with limit 1, the second request waits 700 ms for the connection: a 300 ms connect timeout "
                  "(which counts that wait) should fail it with CW_ETIMEDOUT; got %ld (%s)",
                  c.second, name(c.second));
}
END_TEST

int main(int argc, char **argv)
{
    const cw_graded_test tests[] = {
        { "a total timeout fails a slow response near the limit", test_total_timeout, 3, 10 },
        { "a request-level timeout replaces the session's", test_request_timeout_replaces_session_timeout, 3, 10 },
        { "a read timeout limits each gap of a drip, not the whole", test_read_timeout_limits_each_gap, 3, 10 },
        { "the total timeout still applies to a slow drip", test_total_timeout_still_applies_to_a_stream, 2, 10 },
        { "a connect timeout fails on a listener that never accepts", test_connect_timeout, 3, 10 },
        { "the connect timeout counts the wait for a pooled connection", test_connect_timeout_counts_the_pool_wait, 2,
          10 },
    };
    return cw_grade_main("04_timeouts", tests, sizeof tests / sizeof tests[0], argc, argv);
}
