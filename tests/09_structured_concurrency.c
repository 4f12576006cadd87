/*
 * 09_structured_concurrency.c -- graded tests of exercise 09.
 *
 * Part 1 (fetch_all): results in place; the first failure cancels the other
 * fetches (the server sees their connections closed, and the call does not
 * wait for them); a status of 400 or more is a failure.
 * Part 2 (fetch_all_within): the deadline cancels what is left and says
 * CW_ETIMEDOUT; a batch in time is fine; a failure before the deadline stays a
 * group error; a cancellation from outside stays a cancellation.
 * Part 3 (fetch_bounded): never more than k requests in flight, and k reached
 * (the server's most-open figure); a failure is only a result and gives its
 * slot back; a cancellation from outside cancels everything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw_fixture.h"
#include "grade.h"
#include "exercise.h"

enum { MAX_URLS = 16 };
typedef enum { ALL, WITHIN, BOUNDED } which;

/* One call of an exercise function, in a task of its own, against a fresh fixture server. */
typedef struct batch {
    which fn;
    const char *paths[MAX_URLS];
    int n;
    uint64_t deadline_ms;
    int k;
    uint64_t cancel_after_ms; /* cancel the calling task this long after it starts (0: never) */
    cw_fixture *fx;
    cw_session *session;
    int rc;
    fetch_result results[MAX_URLS];
    double took_ms;
    cw_fixture_stats at_return; /* the server's counters when the call returned */
    bool check_open;            /* wait for the server to see cancelled connections close, then count them */
    long open_allowed;          /* the connections that may stay open (idle ones in the pool) */
    long open_later;            /* connections open once at most open_allowed are, or after a second */
    cw_state caller_state;
} batch;

static double backstop(double ms)
{
    const char *scale = getenv("CW_TIMEOUT_SCALE");
    double factor = scale ? atof(scale) : 1.0;
    return ms * (factor > 1.0 ? factor : 1.0);
}

static void *call_task(void *arg)
{
    batch *b = arg;
    char urls[MAX_URLS][128];
    const char *url_ptrs[MAX_URLS];
    for (int i = 0; i < b->n; i++) {
        if (strstr(b->paths[i], "://"))
            snprintf(urls[i], sizeof urls[i], "%s", b->paths[i]);
        else
            cw_fixture_url(b->fx, b->paths[i], urls[i], sizeof urls[i]);
        url_ptrs[i] = urls[i];
    }
    uint64_t start = cw_now_us();
    if (b->fn == ALL)
        b->rc = fetch_all(b->session, url_ptrs, b->n, b->results);
    else if (b->fn == WITHIN)
        b->rc = fetch_all_within(b->session, url_ptrs, b->n, b->deadline_ms, b->results);
    else
        b->rc = fetch_bounded(b->session, url_ptrs, b->n, b->k, b->results);
    b->took_ms = (double)(cw_now_us() - start) / 1000.0;
    b->at_return = cw_fixture_stats_get(b->fx);
    return NULL;
}

static void *batch_main(void *arg)
{
    batch *b = arg;
    if (cw_session_open(&b->session, NULL) != 0)
        return cw_fail(CW_EFAILED, "could not open a session");
    cw_fixture_stats_reset(b->fx);
    cw_future *caller = cw_spawn_named(call_task, b, "caller");
    if (b->cancel_after_ms) {
        cw_sleep(b->cancel_after_ms);
        cw_future_cancel(caller);
    }
    cw_await(caller);
    b->caller_state = cw_future_state(caller);
    cw_future_release(caller);
    /* A cancelled transfer closes its connection; the server's thread sees it soon, later under load. */
    for (double waited = 0; b->check_open; waited += 20) {
        b->open_later = cw_fixture_stats_get(b->fx).open;
        if (b->open_later <= b->open_allowed || waited >= backstop(1000))
            break;
        cw_sleep(20);
    }
    cw_session_close(b->session);
    return NULL;
}

static void run_batch(batch *b)
{
    b->fx = cw_fixture_start(0);
    ck_assert_msg(b->fx != NULL, "the fixture server did not start");
    b->rc = 1;
    for (int i = 0; i < MAX_URLS; i++)
        b->results[i] = (fetch_result){ .status = -1, .error = 1 };
    int rc = cw_run(batch_main, b, NULL);
    cw_fixture_stop(b->fx);
    ck_assert_msg(rc == 0, "the test's main task failed: %s", cw_error_name(rc));
}


static void check_rc(const batch *b, const char *fn, int expected, const char *why)
{
    ck_assert_msg(b->rc == expected, "%s() should return %s (%s), got %d (%s)", fn, cw_error_name(expected), why,
                  b->rc, cw_error_name(b->rc));
}

static void check_result(const batch *b, int i, long status, int error)
{
    const fetch_result *r = &b->results[i];
    ck_assert_msg(r->status == status && r->error == error,
                  "results[%d] (%s) should be {status %ld, error %s}, got {status %ld, error %s}", i, b->paths[i],
                  status, cw_error_name(error), r->status, cw_error_name(r->error));
}

/* ---- Part 1 ---- */

START_TEST(test_all_succeed)
{
    batch b = { .fn = ALL, .paths = { "/get", "/status/201", "/delay/100" }, .n = 3 };
    run_batch(&b);
    check_rc(&b, "fetch_all", 0, "every fetch succeeded");
    check_result(&b, 0, 200, 0);
    check_result(&b, 1, 201, 0);
    check_result(&b, 2, 200, 0);
    ck_assert_msg(b.at_return.requests == 3, "the server should have answered 3 requests when fetch_all() returned, "
                  "it had answered %ld: fetch_all() must wait for every task", b.at_return.requests);
}
END_TEST

START_TEST(test_first_failure_cancels_the_rest)
{
    batch b = { .fn = ALL, .paths = { "/delay/3000", "/reset", "/delay/3000" }, .n = 3, .check_open = true };
    run_batch(&b);
    check_rc(&b, "fetch_all", CW_EGROUP, "the /reset fetch failed");
    check_result(&b, 1, 0, CW_ECONNRESET);
    check_result(&b, 0, 0, CW_ECANCELLED);
    check_result(&b, 2, 0, CW_ECANCELLED);
    ck_assert_msg(b.took_ms < backstop(2500),
                  "fetch_all() took %.0f ms: the first failure should cancel the two 3000 ms fetches", b.took_ms);
    ck_assert_msg(b.open_later == 0,
                  "a second after fetch_all() returned the server still had %ld connections open: the fetches "
                  "cancelled by the group should have their requests cancelled (nothing outlives the group)",
                  b.open_later);
}
END_TEST

START_TEST(test_http_error_is_a_failure)
{
    batch b = { .fn = ALL, .paths = { "/status/404", "/delay/2000" }, .n = 2 };
    run_batch(&b);
    check_rc(&b, "fetch_all", CW_EGROUP, "a status of 404 is a failure");
    check_result(&b, 0, 404, CW_EHTTP);
    check_result(&b, 1, 0, CW_ECANCELLED);
}
END_TEST

/* ---- Part 2 ---- */

START_TEST(test_deadline_passes)
{
    batch b = { .fn = WITHIN, .paths = { "/delay/100", "/stall" }, .n = 2, .deadline_ms = (uint64_t)backstop(600),
                .check_open = true, .open_allowed = 1 };
    run_batch(&b);
    check_rc(&b, "fetch_all_within", CW_ETIMEDOUT, "/stall never answers: it outlasts the 600 ms deadline");
    check_result(&b, 0, 200, 0);
    check_result(&b, 1, 0, CW_ECANCELLED);
    ck_assert_msg(b.took_ms < backstop(2500), "fetch_all_within() took %.0f ms with a deadline of 600 ms", b.took_ms);
    ck_assert_msg(b.took_ms >= 550, "fetch_all_within() returned after %.0f ms, before its 600 ms deadline", b.took_ms);
    ck_assert_msg(b.open_later <= 1,
                  "a second after fetch_all_within() returned the server still had %ld connections open (1 may be the "
                  "idle one of /delay/100): the fetch of /stall still running at the deadline should be cancelled",
                  b.open_later);
}
END_TEST

START_TEST(test_deadline_not_reached)
{
    batch b = { .fn = WITHIN, .paths = { "/delay/50", "/get", "/delay/100" }, .n = 3,
                .deadline_ms = (uint64_t)backstop(3000) };
    run_batch(&b);
    check_rc(&b, "fetch_all_within", 0, "everything finished well before the 3000 ms deadline");
    for (int i = 0; i < 3; i++)
        check_result(&b, i, 200, 0);
    ck_assert_msg(b.at_return.requests == 3,
                  "the server answered %ld requests by the time fetch_all_within() returned, not 3: every result "
                  "must come from a real request", b.at_return.requests);
}
END_TEST

START_TEST(test_failure_before_deadline)
{
    batch b = { .fn = WITHIN, .paths = { "/reset", "/stall" }, .n = 2, .deadline_ms = (uint64_t)backstop(2000) };
    run_batch(&b);
    check_rc(&b, "fetch_all_within", CW_EGROUP, "/reset failed long before the deadline");
    check_result(&b, 0, 0, CW_ECONNRESET);
    check_result(&b, 1, 0, CW_ECANCELLED);
}
END_TEST

START_TEST(test_cancel_from_outside_is_no_timeout)
{
    batch b = { .fn = WITHIN, .paths = { "/delay/3000", "/stall" }, .n = 2, .deadline_ms = (uint64_t)backstop(1000),
                .cancel_after_ms = 100, .check_open = true };
    run_batch(&b);
    check_rc(&b, "fetch_all_within", CW_ECANCELLED,
             "the calling task was cancelled from outside at 100 ms: that is no timeout");
    check_result(&b, 0, 0, CW_ECANCELLED);
    ck_assert_msg(b.caller_state == CW_CANCELLED, "the calling task should end cancelled");
    ck_assert_msg(b.open_later == 0, "the server still had %ld connections open: the fetches should be cancelled",
                  b.open_later);
}
END_TEST

/* ---- Part 3 ---- */

START_TEST(test_bounded_never_more_than_k)
{
    batch b = { .fn = BOUNDED, .n = 12, .k = 3 };
    for (int i = 0; i < b.n; i++)
        b.paths[i] = "/delay/150";
    run_batch(&b);
    check_rc(&b, "fetch_bounded", 0, "every URL was fetched");
    for (int i = 0; i < b.n; i++)
        check_result(&b, i, 200, 0);
    ck_assert_msg(b.at_return.max_open <= 3,
                  "the server saw %ld connections open at once: fetch_bounded(k = 3) should never have more than 3 "
                  "requests in flight", b.at_return.max_open);
    ck_assert_msg(b.at_return.max_open == 3,
                  "the server never saw more than %ld connections open at once: fetch_bounded(k = 3) should have "
                  "3 requests in flight while 12 wait", b.at_return.max_open);
    ck_assert_msg(b.at_return.requests == 12, "the server answered %ld requests, not 12", b.at_return.requests);
}
END_TEST

START_TEST(test_bounded_failures_are_results)
{
    batch b = { .fn = BOUNDED, .paths = { "python://bad", "/reset", "/status/500", "/get", "/delay/50" }, .n = 5,
                .k = 1 };
    run_batch(&b);
    check_rc(&b, "fetch_bounded", 0, "a failed fetch is only a result here");
    check_result(&b, 0, 0, CW_ESCHEME);
    check_result(&b, 1, 0, CW_ECONNRESET);
    check_result(&b, 2, 500, CW_EHTTP);
    check_result(&b, 3, 200, 0);
    check_result(&b, 4, 200, 0);
}
END_TEST

START_TEST(test_bounded_cancelled)
{
    batch b = { .fn = BOUNDED, .n = 8, .k = 2, .cancel_after_ms = 200, .check_open = true };
    for (int i = 0; i < b.n; i++)
        b.paths[i] = "/delay/3000";
    run_batch(&b);
    check_rc(&b, "fetch_bounded", CW_ECANCELLED, "the calling task was cancelled at 200 ms");
    for (int i = 0; i < b.n; i++)
        check_result(&b, i, 0, CW_ECANCELLED);
    ck_assert_msg(b.took_ms < backstop(2500), "fetch_bounded() took %.0f ms after being cancelled at 200 ms",
                  b.took_ms);
    ck_assert_msg(b.open_later == 0,
                  "a second after fetch_bounded() returned the server still had %ld connections open: the requests "
                  "in flight should be cancelled", b.open_later);
}
END_TEST

START_TEST(test_bounded_bad_arguments)
{
    batch b = { .fn = BOUNDED, .paths = { "/get" }, .n = 1, .k = 0 };
    run_batch(&b);
    check_rc(&b, "fetch_bounded", CW_EINVAL, "k = 0 lets nothing run");
    ck_assert_msg(b.at_return.requests == 0, "fetch_bounded(k = 0) should send nothing");
}
END_TEST

int main(int argc, char **argv)
{
    const cw_graded_test tests[] = {
        { "fetch_all: every result in place when all succeed", test_all_succeed, 2, 10 },
        { "fetch_all: the first failure cancels the rest", test_first_failure_cancels_the_rest, 4, 10 },
        { "fetch_all: a status of 400 or more is a failure", test_http_error_is_a_failure, 2, 10 },
        { "fetch_all_within: the deadline cancels what is left", test_deadline_passes, 3, 10 },
        { "fetch_all_within: a batch in time is fine", test_deadline_not_reached, 1, 10 },
        { "fetch_all_within: a failure before the deadline is no timeout", test_failure_before_deadline, 2, 10 },
        { "fetch_all_within: a cancellation from outside stays one", test_cancel_from_outside_is_no_timeout, 3, 10 },
        { "fetch_bounded: never more than k in flight, and k reached", test_bounded_never_more_than_k, 4, 15 },
        { "fetch_bounded: failures are results and free their slot", test_bounded_failures_are_results, 3, 10 },
        { "fetch_bounded: a cancellation cancels every request", test_bounded_cancelled, 2, 10 },
        { "fetch_bounded: k < 1 is invalid", test_bounded_bad_arguments, 1, 10 },
    };
    return cw_grade_main("09_structured_concurrency", tests, sizeof tests / sizeof tests[0], argc, argv);
}
