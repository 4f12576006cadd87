/**
 * @file test_memory.c
 * @brief Tests that memory stays bounded: thousands of requests, tasks and gathers whose futures
 *        are released as they finish leave nothing behind.
 *
 * Two witnesses: the heap in use (mallinfo2) must not grow between an early
 * and a late snapshot, and valgrind (CK_FORK=no valgrind --leak-check=full)
 * must find no leak at exit. Under valgrind or AddressSanitizer the heap
 * snapshot is skipped, since they replace the allocator that mallinfo2 reads.
 */
#include "cw.h"
#include "cw_fixture.h"
#include "support.h"

#include <check.h>
#include <stdbool.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/valgrind.h>

/* A leak of one small future per item would be 100+ bytes x 1800 items; allow far less. */
#define GROWTH_LIMIT (96 * 1024)

static size_t heap_in_use(void)
{
    return mallinfo2().uordblks;
}

typedef struct load {
    int total;      /* items to run */
    int started;    /* handed out so far */
    int ok;         /* finished well */
    int snapshot_at;
    size_t early, late;
    cw_session *s;
    char url[128];
} load;

static void take_snapshots(load *l)
{
    int done = l->ok;
    if (done == l->snapshot_at && l->early == 0)
        l->early = heap_in_use();
}

/** A worker: takes the next request number until none is left. */
static void *request_worker(void *arg)
{
    load *l = arg;
    while (l->started < l->total) {
        l->started++;
        cw_future *req = cw_session_get(l->s, l->url);
        if (cw_await(req) == 0 && cw_response_of(req)->status == 200)
            l->ok++;
        cw_future_release(req); /* one release per request frees the response too */
        take_snapshots(l);
    }
    return NULL;
}

enum { WORKERS = 20 };

static void *many_requests(void *arg)
{
    load *l = arg;
    cw_session_options o = cw_session_options_default();
    o.limit = WORKERS;
    cw_session_open(&l->s, &o);
    cw_fixture_url(fx, "/get", l->url, sizeof l->url);
    cw_future *workers[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        workers[i] = cw_spawn(request_worker, l);
    for (int i = 0; i < WORKERS; i++) {
        cw_await(workers[i]);
        cw_future_release(workers[i]);
    }
    l->late = heap_in_use();
    cw_session_close(l->s);
    return NULL;
}

/** True when mallinfo2 sees our allocations (glibc's allocator, not valgrind's or a sanitizer's). */
static bool heap_measurable(void)
{
    if (RUNNING_ON_VALGRIND)
        return false;
    size_t before = heap_in_use();
    char *volatile p = malloc(64 * 1024);
    size_t during = heap_in_use();
    free(p);
    return during >= before + 64 * 1024;
}

static void check_growth(const load *l, const char *what)
{
    if (!heap_measurable())
        return;
    ck_assert_msg(l->early > 0, "no early heap snapshot was taken");
    long growth = (long)l->late - (long)l->early;
    ck_assert_msg(growth < GROWTH_LIMIT, "%s: the heap grew by %ld bytes between item %d and item %d", what, growth,
                  l->snapshot_at, l->total);
}

START_TEST(test_2000_requests_released_as_they_finish)
{
    load l = { .total = 2000, .snapshot_at = 200 };
    ck_assert_int_eq(cw_run(many_requests, &l, NULL), 0);
    ck_assert_msg(l.ok == 2000, "every request should succeed, %d did", l.ok);
    ck_assert_int_eq(cw_fixture_stats_get(fx).requests, 2000);
    check_growth(&l, "2000 requests");
}
END_TEST

/* Tasks: spawn, await, release, many times over. */
static void *tiny(void *arg)
{
    cw_sleep(0);
    return arg;
}

static void *many_tasks(void *arg)
{
    load *l = arg;
    for (int round = 0; round < l->total / 100; round++) {
        cw_future *ts[100];
        for (int i = 0; i < 100; i++)
            ts[i] = cw_spawn(tiny, (void *)l);
        for (int i = 0; i < 100; i++) {
            if (cw_await(ts[i]) == 0 && cw_future_result(ts[i]) == l)
                l->ok++;
        }
        cw_future_release_all(ts, 100);
        take_snapshots(l);
    }
    l->late = heap_in_use();
    return NULL;
}

START_TEST(test_many_tasks_released)
{
    load l = { .total = 5000, .snapshot_at = 500 };
    ck_assert_int_eq(cw_run(many_tasks, &l, NULL), 0);
    ck_assert_int_eq(l.ok, 5000);
    check_growth(&l, "5000 tasks");
}
END_TEST

/* Combinators built and released over and over. */
static void *many_combinators(void *arg)
{
    load *l = arg;
    for (int round = 0; round < l->total / 10; round++) {
        cw_future *ts[10];
        for (int i = 0; i < 10; i++)
            ts[i] = cw_spawn(tiny, NULL);
        cw_future *g = cw_gather(ts, 10, round % 2);
        cw_wait_sets sets;
        if (cw_wait(ts, 10, CW_FIRST_COMPLETED, 1000, &sets) == 0)
            cw_wait_sets_free(&sets);
        cw_as_completed *it = cw_as_completed_new(ts, 10, 1000);
        cw_future *f;
        while (cw_as_completed_next(it, &f) == 0)
            ;
        cw_as_completed_free(it);
        if (cw_await(g) == 0)
            l->ok += 10;
        cw_future_release(g);
        cw_future_release_all(ts, 10);
        take_snapshots(l);
    }
    l->late = heap_in_use();
    return NULL;
}

START_TEST(test_many_combinators_released)
{
    load l = { .total = 2000, .snapshot_at = 200 };
    ck_assert_int_eq(cw_run(many_combinators, &l, NULL), 0);
    ck_assert_int_eq(l.ok, 2000);
    check_growth(&l, "200 rounds of gather, wait and as_completed");
}
END_TEST

/* Failed and timed-out requests are freed as well. */
static void *many_failures(void *arg)
{
    load *l = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    const char *status = url("/status/500"), *stall = url("/stall");
    cw_timeouts quick = { .total_ms = 5 };
    for (int i = 0; i < l->total; i++) {
        cw_future *fs[3] = { cw_session_get(s, "python://bad"), cw_session_get(s, status), NULL };
        cw_request req = { .url = stall, .timeouts = &quick };
        fs[2] = cw_session_request(s, &req);
        int ok = 0;
        ok += cw_await(fs[0]) == CW_ESCHEME;
        ok += cw_await(fs[1]) == 0;
        ok += cw_await(fs[2]) == CW_ETIMEDOUT;
        l->ok += ok == 3;
        cw_future_release_all(fs, 3);
        take_snapshots(l);
    }
    l->late = heap_in_use();
    cw_session_close(s);
    return NULL;
}

START_TEST(test_failed_requests_released)
{
    load l = { .total = 200, .snapshot_at = 20 };
    ck_assert_int_eq(cw_run(many_failures, &l, NULL), 0);
    ck_assert_int_eq(l.ok, 200);
    check_growth(&l, "200 rounds of failed requests");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("memory");
    TCase *tc = add_case(s, "bounded", 60, server_setup, server_teardown);
    tcase_add_test(tc, test_2000_requests_released_as_they_finish);
    tcase_add_test(tc, test_many_tasks_released);
    tcase_add_test(tc, test_many_combinators_released);
    tcase_add_test(tc, test_failed_requests_released);

    return run_suite(s);
}
