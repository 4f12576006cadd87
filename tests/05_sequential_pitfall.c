/*
 * 05_sequential_pitfall.c -- graded tests of exercise 05: the pitfall (create
 * and await in one step) runs tasks and requests one after another; the fix
 * (create all, then await) runs them at the same time.
 *
 * Concurrency is checked by structure, not speed: each test task records when
 * it started and ended, and the intervals either overlap or follow each other;
 * for requests, the fixture server counts the connections open at once.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "grade.h"
#include "exercise.h"
#include "cw_fixture.h"

/* ---- test tasks that record when they ran ---- */

typedef struct job {
    int delay_ms;
    int fail_code;     /* 0: succeed; else end with this error */
    uint64_t start_us; /* 0 until the task started */
    uint64_t end_us;   /* 0 until the task finished */
} job;

static void *job_run(void *arg)
{
    job *j = arg;
    j->start_us = cw_now_us();
    cw_sleep((uint64_t)j->delay_ms);
    j->end_us = cw_now_us();
    if (j->fail_code)
        return cw_fail(j->fail_code, "job of %d ms failed on purpose", j->delay_ms);
    return j; /* the result is the job itself, so a slot can be checked */
}

typedef struct jobs_case {
    job jobs[4];
    int n;
    bool one_by_one;
    void *results[4];
    int rc;
} jobs_case;

static void *jobs_main(void *arg)
{
    jobs_case *c = arg;
    void *args[4];
    for (int i = 0; i < c->n; i++) {
        args[i] = &c->jobs[i];
        c->results[i] = (void *)"not written";
    }
    c->rc = (c->one_by_one ? run_one_by_one : run_all_at_once)(job_run, args, c->n, c->results);
    return NULL;
}

static void run_jobs(jobs_case *c)
{
    ck_assert_msg(cw_run(jobs_main, c, NULL) == 0, "cw_run() of the test's main task failed");
}

static void assert_every_job_ran(const jobs_case *c, const char *function)
{
    for (int i = 0; i < c->n; i++)
        ck_assert_msg(c->jobs[i].start_us && c->jobs[i].end_us,
                      "%s() returned before task %d (of %d) had run to its end: every task must be awaited",
                      function, i, c->n);
}

/* ---- 1. the fix: tasks overlap ---- */

START_TEST(test_tasks_all_at_once_overlap)
{
    jobs_case c = { .jobs = { { 300, 0, 0, 0 }, { 100, 0, 0, 0 }, { 200, 0, 0, 0 } }, .n = 3 };
    run_jobs(&c);
    ck_assert_msg(c.rc == 0, "run_all_at_once() should return 0 when every task succeeds, got %d (%s)",
                  c.rc, cw_error_name(c.rc));
    assert_every_job_ran(&c, "run_all_at_once");
    for (int i = 0; i < c.n; i++)
        ck_assert_msg(c.results[i] == &c.jobs[i],
                      "results[%d] should be the result of the task for args[%d] (input order)", i, i);
    uint64_t last_start = 0, first_end = UINT64_MAX;
    for (int i = 0; i < c.n; i++) {
        if (c.jobs[i].start_us > last_start)
            last_start = c.jobs[i].start_us;
        if (c.jobs[i].end_us < first_end)
            first_end = c.jobs[i].end_us;
    }
    ck_assert_msg(last_start < first_end,
                  "the tasks should run at the same time (all started before the first one ended), but the "
                  "last one started %.0f ms after the first one ended: spawn them all before awaiting any",
                  (double)(last_start - first_end) / 1000.0);
}
END_TEST

/* ---- 2. the pitfall: tasks one after another ---- */

START_TEST(test_tasks_one_by_one_do_not_overlap)
{
    jobs_case c = { .jobs = { { 100, 0, 0, 0 }, { 100, 0, 0, 0 }, { 100, 0, 0, 0 } }, .n = 3, .one_by_one = true };
    run_jobs(&c);
    ck_assert_msg(c.rc == 0, "run_one_by_one() should return 0 when every task succeeds, got %d (%s)",
                  c.rc, cw_error_name(c.rc));
    assert_every_job_ran(&c, "run_one_by_one");
    for (int i = 0; i < c.n; i++)
        ck_assert_msg(c.results[i] == &c.jobs[i],
                      "results[%d] should be the result of the task for args[%d] (input order)", i, i);
    for (int i = 1; i < c.n; i++)
        ck_assert_msg(c.jobs[i].start_us >= c.jobs[i - 1].end_us,
                      "task %d started %.0f ms before task %d ended: in the pitfall each task is awaited "
                      "before the next one is even spawned",
                      i, (double)(c.jobs[i - 1].end_us - c.jobs[i].start_us) / 1000.0, i - 1);
}
END_TEST

/* ---- 3. a failing task: the first error in input order, every task awaited ---- */

START_TEST(test_tasks_errors_are_reported)
{
    /* Task 2 fails first in time, task 1 first in input order. */
    jobs_case c = { .jobs = { { 100, 0, 0, 0 }, { 200, CW_ETIMEDOUT, 0, 0 }, { 50, CW_ECONNRESET, 0, 0 },
                              { 300, 0, 0, 0 } },
                    .n = 4 };
    run_jobs(&c);
    ck_assert_msg(c.rc == CW_ETIMEDOUT,
                  "run_all_at_once() should return the error of the first failing task in input order "
                  "(CW_ETIMEDOUT, task 1), got %d (%s)", c.rc, cw_error_name(c.rc));
    assert_every_job_ran(&c, "run_all_at_once");
    ck_assert_msg(c.results[0] == &c.jobs[0] && c.results[3] == &c.jobs[3],
                  "the tasks that succeeded should still have their results in results[0] and results[3]");
    ck_assert_msg(c.results[1] == NULL && c.results[2] == NULL,
                  "results[i] should be NULL for a task that failed (slots 1 and 2)");

    jobs_case d = { .jobs = { { 50, CW_EHOST, 0, 0 }, { 50, 0, 0, 0 }, { 20, CW_ECONNRESET, 0, 0 } },
                    .n = 3,
                    .one_by_one = true };
    run_jobs(&d);
    ck_assert_msg(d.rc == CW_EHOST, "run_one_by_one() should return the first task's error (CW_EHOST), got %d (%s)",
                  d.rc, cw_error_name(d.rc));
    assert_every_job_ran(&d, "run_one_by_one");
    ck_assert_msg(d.results[0] == NULL && d.results[1] == &d.jobs[1] && d.results[2] == NULL,
                  "run_one_by_one() should go on after a failed task: results should be { NULL, the second job, NULL }");
}
END_TEST

/* ---- requests against the fixture server ---- */

typedef struct fetch_case {
    cw_fixture *fixture;
    const char *paths[4]; /* "/..." goes to the fixture server; anything else is used as the URL */
    int n;
    bool one_by_one;
    long statuses[4];
    int rc;
} fetch_case;

static void *fetch_main(void *arg)
{
    fetch_case *c = arg;
    char buffers[4][128];
    const char *urls[4];
    for (int i = 0; i < c->n; i++) {
        if (c->paths[i][0] == '/')
            urls[i] = cw_fixture_url(c->fixture, c->paths[i], buffers[i], sizeof buffers[i]);
        else
            urls[i] = c->paths[i];
        c->statuses[i] = 0;
    }
    cw_session *session;
    if (cw_session_open(&session, NULL) < 0)
        return cw_fail(CW_EFAILED, "could not open a session");
    c->rc = (c->one_by_one ? fetch_one_by_one : fetch_all_at_once)(session, urls, c->n, c->statuses);
    cw_session_close(session);
    return NULL;
}

/* Run the case against a fresh fixture server; return its counters. */
static cw_fixture_stats run_fetch(fetch_case *c)
{
    c->fixture = cw_fixture_start(0);
    ck_assert_msg(c->fixture != NULL, "the fixture server did not start");
    int rc = cw_run(fetch_main, c, NULL);
    cw_fixture_stats stats = cw_fixture_stats_get(c->fixture);
    cw_fixture_stop(c->fixture);
    ck_assert_msg(rc == 0, "cw_run() of the test's main task failed: %s", cw_error_name(rc));
    return stats;
}

/* ---- 4. the fix: requests share the server ---- */

START_TEST(test_requests_all_at_once_overlap)
{
    fetch_case c = { .paths = { "/delay/300", "/delay/300", "/delay/300" }, .n = 3 };
    cw_fixture_stats stats = run_fetch(&c);
    ck_assert_msg(c.rc == 0, "fetch_all_at_once() should return 0 when every request got a response, got %d (%s)",
                  c.rc, cw_error_name(c.rc));
    for (int i = 0; i < c.n; i++)
        ck_assert_msg(c.statuses[i] == 200, "statuses[%d] should be 200, got %ld", i, c.statuses[i]);
    ck_assert_msg(stats.requests == 3, "the server should have answered 3 requests, it answered %ld", stats.requests);
    ck_assert_msg(stats.max_open > 1,
                  "the requests should be in flight at the same time (more than one connection open at once), "
                  "but the server never had more than %ld open: start every request before awaiting any",
                  stats.max_open);
}
END_TEST

/* ---- 5. the pitfall: requests one after another ---- */

START_TEST(test_requests_one_by_one_do_not_overlap)
{
    fetch_case c = { .paths = { "/delay/100", "/delay/100", "/delay/100" }, .n = 3, .one_by_one = true };
    cw_fixture_stats stats = run_fetch(&c);
    ck_assert_msg(c.rc == 0, "fetch_one_by_one() should return 0 when every request got a response, got %d (%s)",
                  c.rc, cw_error_name(c.rc));
    for (int i = 0; i < c.n; i++)
        ck_assert_msg(c.statuses[i] == 200, "statuses[%d] should be 200, got %ld", i, c.statuses[i]);
    ck_assert_msg(stats.requests == 3, "the server should have answered 3 requests, it answered %ld", stats.requests);
    ck_assert_msg(stats.max_open == 1,
                  "one request at a time needs one connection at a time, but the server had %ld open at once: "
                  "await each request before starting the next", stats.max_open);
}
END_TEST

/* ---- 6. statuses and errors in their slots ---- */

START_TEST(test_requests_statuses_and_errors)
{
    fetch_case c = { .paths = { "/status/404", "python://bad", "/get" }, .n = 3 };
    run_fetch(&c);
    ck_assert_msg(c.rc == CW_ESCHEME,
                  "fetch_all_at_once() should return the error of the failed request (CW_ESCHEME for python://bad), "
                  "got %d (%s)", c.rc, cw_error_name(c.rc));
    ck_assert_msg(c.statuses[0] == 404 && c.statuses[1] == CW_ESCHEME && c.statuses[2] == 200,
                  "fetch_all_at_once() statuses should be { 404, CW_ESCHEME (%d), 200 }, got { %ld, %ld, %ld }",
                  CW_ESCHEME, c.statuses[0], c.statuses[1], c.statuses[2]);

    fetch_case d = { .paths = { "python://bad", "/status/500", "/get" }, .n = 3, .one_by_one = true };
    run_fetch(&d);
    ck_assert_msg(d.rc == CW_ESCHEME, "fetch_one_by_one() should return CW_ESCHEME for python://bad, got %d (%s)",
                  d.rc, cw_error_name(d.rc));
    ck_assert_msg(d.statuses[0] == CW_ESCHEME && d.statuses[1] == 500 && d.statuses[2] == 200,
                  "fetch_one_by_one() should go on after a failed request: statuses should be "
                  "{ CW_ESCHEME (%d), 500, 200 }, got { %ld, %ld, %ld }",
                  CW_ESCHEME, d.statuses[0], d.statuses[1], d.statuses[2]);

    fetch_case e = { .paths = { "/status/404", "/status/500" }, .n = 2, .one_by_one = true };
    run_fetch(&e);
    ck_assert_msg(e.rc == 0 && e.statuses[0] == 404 && e.statuses[1] == 500,
                  "a 404 and a 500 are responses: fetch_one_by_one() should return 0 with statuses { 404, 500 }, "
                  "got %d (%s) with { %ld, %ld }",
                  e.rc, cw_error_name(e.rc), e.statuses[0], e.statuses[1]);
}
END_TEST

int main(int argc, char **argv)
{
    const cw_graded_test tests[] = {
        { "tasks spawned first, then awaited, run at the same time", test_tasks_all_at_once_overlap, 3, 10 },
        { "tasks spawned and awaited in one step run one after another", test_tasks_one_by_one_do_not_overlap, 2, 10 },
        { "a failing task: first error in input order, every task awaited", test_tasks_errors_are_reported, 2, 10 },
        { "requests started first, then awaited, are in flight together", test_requests_all_at_once_overlap, 3, 10 },
        { "requests awaited one by one use one connection at a time", test_requests_one_by_one_do_not_overlap, 2, 10 },
        { "statuses and errors land in their own slots", test_requests_statuses_and_errors, 2, 10 },
    };
    return cw_grade_main("05_sequential_pitfall", tests, sizeof tests / sizeof tests[0], argc, argv);
}
