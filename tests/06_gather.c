/*
 * 06_gather.c -- graded tests of exercise 06.
 *
 * Part 1 (cw_gather() on requests to the fixture server): statuses in input
 * order whatever the completion order, requests in flight together, errors in
 * their slots or returned at once, errors filtered out.
 * Part 2 (gather_by_hand()): its semantics, mostly checked on futures the test
 * finishes by hand, in an order it chooses: input order, the first error at
 * once, every error in its slot, empty and already finished inputs, no leaks.
 */
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "grade.h"
#include "exercise.h"
#include "cw_fixture.h"

/* ==== Part 1: requests ==== */

enum { MAX_URLS = 6 };

typedef int (*fetch_fn)(cw_session *, const char *const *, int, long *);

typedef struct fetch_case {
    cw_fixture *fixture;
    fetch_fn fetch;
    const char *paths[MAX_URLS]; /* "/..." goes to the fixture server; anything else is the URL itself */
    int n;
    long statuses[MAX_URLS];
    int rc;
    double elapsed_ms; /* how long the exercise function took */
    int linger_ms;     /* at most how long the session stays open after the exercise function returned, */
    long linger_for;   /* waiting for the server to have answered this many requests */
} fetch_case;

static void *fetch_main(void *arg)
{
    fetch_case *c = arg;
    char buffers[MAX_URLS][128];
    const char *urls[MAX_URLS];
    for (int i = 0; i < c->n; i++) {
        urls[i] = c->paths[i][0] == '/' ? cw_fixture_url(c->fixture, c->paths[i], buffers[i], sizeof buffers[i])
                                        : c->paths[i];
        c->statuses[i] = 0;
    }
    cw_session *session;
    if (cw_session_open(&session, NULL) < 0)
        return cw_fail(CW_EFAILED, "could not open a session");
    uint64_t begin = cw_now_us();
    c->rc = c->fetch(session, urls, c->n, c->statuses);
    c->elapsed_ms = (double)(cw_now_us() - begin) / 1000.0;
    for (int t = 0; t < c->linger_ms && cw_fixture_stats_get(c->fixture).requests < c->linger_for; t += 20)
        cw_sleep(20); /* requests left running may finish meanwhile */
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

/* "{ 200, 418, ... }" for messages (n <= MAX_URLS, so it always fits). */
static const char *list(const long *values, int n)
{
    static char text[MAX_URLS * 24 + 8];
    int at = snprintf(text, sizeof text, "{");
    for (int i = 0; i < n; i++)
        at += snprintf(text + at, sizeof text - at, "%s %ld", i ? "," : "", values[i]);
    snprintf(text + at, sizeof text - at, " }");
    return text;
}

static bool same(const long *got, const long *want, int n)
{
    for (int i = 0; i < n; i++)
        if (got[i] != want[i])
            return false;
    return true;
}

START_TEST(test_fetch_all_input_order)
{
    /* They finish in the order 418, 404, 200 (100 ms), 200 (300 ms). */
    fetch_case c = { .fetch = fetch_all, .paths = { "/delay/300", "/status/418", "/delay/100", "/status/404" }, .n = 4 };
    cw_fixture_stats stats = run_fetch(&c);
    const long want[] = { 200, 418, 200, 404 };
    ck_assert_msg(c.rc == 0, "fetch_all() should return 0, got %d (%s)", c.rc, cw_error_name(c.rc));
    ck_assert_msg(same(c.statuses, want, 4),
                  "statuses should be in input order, { 200, 418, 200, 404 }, whatever order the requests "
                  "finished in; got %s", list(c.statuses, 4));
    ck_assert_msg(stats.max_open > 1,
                  "the requests should be in flight at the same time, but the server never had more than %ld "
                  "connection open: start them all, then await one gather", stats.max_open);
}
END_TEST

START_TEST(test_fetch_all_errors_in_slots)
{
    fetch_case c = { .fetch = fetch_all, .paths = { "/get", "python://bad", "/status/500", "http://127.0.0.1:1/" },
                     .n = 4 };
    run_fetch(&c);
    ck_assert_msg(c.rc == 0, "fetch_all() gathers with return_exceptions on, so it should return 0 even when a "
                  "request fails; got %d (%s)", c.rc, cw_error_name(c.rc));
    ck_assert_msg(c.statuses[0] == 200 && c.statuses[1] == CW_ESCHEME && c.statuses[2] == 500,
                  "statuses[0..2] should be { 200, CW_ESCHEME (%d), 500 }: an error in its own slot, a 500 is a "
                  "response; got %s", CW_ESCHEME, list(c.statuses, 3));
    ck_assert_msg(c.statuses[3] < 0, "statuses[3] (nothing listens on port 1) should hold a negative error code, "
                  "got %ld", c.statuses[3]);
}
END_TEST

START_TEST(test_fetch_all_or_fail_first_error_at_once)
{
    fetch_case c = { .fetch = fetch_all_or_fail, .paths = { "/delay/3000", "python://bad", "/get" }, .n = 3 };
    run_fetch(&c);
    ck_assert_msg(c.rc == CW_ESCHEME, "fetch_all_or_fail() should return the error of python://bad (CW_ESCHEME), "
                  "got %d (%s)", c.rc, cw_error_name(c.rc));
    ck_assert_msg(c.elapsed_ms < 1500,
                  "fetch_all_or_fail() should return the first error at once, without waiting for the 3-second "
                  "request; it took %.0f ms", c.elapsed_ms);

    fetch_case d = { .fetch = fetch_all_or_fail, .paths = { "/delay/200", "/status/201", "/status/404" }, .n = 3 };
    run_fetch(&d);
    const long want[] = { 200, 201, 404 };
    ck_assert_msg(d.rc == 0, "fetch_all_or_fail() should return 0 when every request got a response (a 404 is a "
                  "response), got %d (%s)", d.rc, cw_error_name(d.rc));
    ck_assert_msg(same(d.statuses, want, 3), "statuses should be { 200, 201, 404 }, got %s", list(d.statuses, 3));

    fetch_case e = { .fetch = fetch_all_or_fail, .paths = { "/delay/300", "python://bad" }, .n = 2, .linger_ms = 3000,
                     .linger_for = 1 };
    cw_fixture_stats stats = run_fetch(&e);
    ck_assert_msg(e.rc == CW_ESCHEME, "fetch_all_or_fail() should return the error of python://bad (CW_ESCHEME), "
                  "got %d (%s)", e.rc, cw_error_name(e.rc));
    ck_assert_msg(stats.requests == 1,
                  "when one request fails, the others keep running (as with asyncio.gather): /delay/300 should "
                  "still have been answered while the session stayed open, but the server answered %ld requests. "
                  "Was it cancelled?", stats.requests);
}
END_TEST

START_TEST(test_fetch_successes_filters_errors)
{
    fetch_case c = { .fetch = fetch_successes,
                     .paths = { "python://bad", "/status/404", "http://127.0.0.1:1/", "/delay/100", "python://x",
                                "/status/503" },
                     .n = 6 };
    cw_fixture_stats stats = run_fetch(&c);
    const long want[] = { 404, 200, 503 };
    ck_assert_msg(c.rc == 3, "fetch_successes() should return 3 (the requests that got a response), got %d", c.rc);
    ck_assert_msg(same(c.statuses, want, 3),
                  "statuses[0..2] should be the successes in input order, { 404, 200, 503 }; got %s",
                  list(c.statuses, 3));
    ck_assert_msg(stats.requests == 3,
                  "the server should have answered the 3 requests that get a response, but it answered %ld: a status "
                  "must come from a real request", stats.requests);
}
END_TEST

/* ==== Part 2: gather_by_hand() ==== */

static const char *state_name(cw_state state)
{
    static const char *const names[] = { "pending", "resolved", "failed", "cancelled" };
    return names[state];
}

static void new_futures(cw_future **futures, int n)
{
    for (int i = 0; i < n; i++)
        futures[i] = cw_future_new();
}

/* Release children after reading their errors (an unread error is reported on stderr). */
static void release_children(cw_future **futures, int n)
{
    for (int i = 0; i < n; i++) {
        cw_future_error(futures[i]);
        cw_future_release(futures[i]);
    }
}

static gather_slot *slots_of(cw_future *gather)
{
    return cw_future_result(gather);
}

/* ---- input order, by hand and with real tasks ---- */

static void *sleeper(void *arg)
{
    cw_sleep((uint64_t) * (int *)arg);
    return arg;
}

typedef struct order_case {
    int delays[3];
    int rc;
    gather_slot slots[3];
    bool all_done_when_resolved;
} order_case;

static void *order_main(void *arg)
{
    order_case *c = arg;
    cw_future *tasks[3];
    for (int i = 0; i < 3; i++)
        tasks[i] = cw_spawn(sleeper, &c->delays[i]);
    cw_future *all = gather_by_hand(tasks, 3, false);
    c->rc = all ? cw_await(all) : CW_ENOMEM;
    if (c->rc == 0 && slots_of(all))
        memcpy(c->slots, slots_of(all), sizeof c->slots);
    c->all_done_when_resolved = true;
    for (int i = 0; i < 3; i++)
        c->all_done_when_resolved &= cw_future_done(tasks[i]);
    cw_future_release(all);
    cw_future_release_all(tasks, 3);
    return NULL;
}

START_TEST(test_gather_by_hand_input_order)
{
    static char a[] = "a", b[] = "b", c[] = "c";
    cw_future *kids[3];
    new_futures(kids, 3);
    cw_future *all = gather_by_hand(kids, 3, true);
    ck_assert_msg(all != NULL, "gather_by_hand() returned NULL");
    cw_future_resolve(kids[2], c, NULL);
    cw_future_resolve(kids[1], b, NULL);
    ck_assert_msg(!cw_future_done(all), "the gather should stay pending while a child has not finished, but it is %s",
                  state_name(cw_future_state(all)));
    cw_future_resolve(kids[0], a, NULL);
    ck_assert_msg(cw_future_state(all) == CW_RESOLVED,
                  "the gather should be resolved as soon as its last child finished, but it is %s",
                  state_name(cw_future_state(all)));
    gather_slot *slots = slots_of(all);
    ck_assert_msg(slots != NULL, "the gather's result should be its array of slots, got NULL");
    ck_assert_msg(slots[0].value == a && slots[1].value == b && slots[2].value == c,
                  "slot i should hold child i's result (\"a\", \"b\", \"c\") although they finished in reverse order");
    ck_assert_msg(slots[0].error == 0 && slots[1].error == 0 && slots[2].error == 0,
                  "the slots of resolved children should have error 0");
    cw_future_release(all);
    release_children(kids, 3);

    order_case oc = { .delays = { 300, 100, 200 } };
    ck_assert_int_eq(cw_run(order_main, &oc, NULL), 0);
    ck_assert_msg(oc.rc == 0, "awaiting gather_by_hand() of three tasks should give 0, got %d (%s)", oc.rc,
                  cw_error_name(oc.rc));
    ck_assert_msg(oc.all_done_when_resolved, "the gather resolved before every task had finished");
    for (int i = 0; i < 3; i++)
        ck_assert_msg(oc.slots[i].value == &oc.delays[i],
                      "with tasks sleeping 300, 100 and 200 ms, slot %d should hold the result of task %d", i, i);
}
END_TEST

/* ---- return_exceptions off: the first error, at once ---- */

START_TEST(test_gather_by_hand_fails_at_once)
{
    static char a[] = "a";
    cw_future *kids[3];
    new_futures(kids, 3);
    cw_future *all = gather_by_hand(kids, 3, false);
    ck_assert_msg(all != NULL, "gather_by_hand() returned NULL");
    cw_future_fail(kids[1], CW_ETIMEDOUT, "child 1 timed out");
    ck_assert_msg(cw_future_state(all) == CW_FAILED,
                  "with return_exceptions off the gather should fail the moment a child fails, but it is %s",
                  state_name(cw_future_state(all)));
    ck_assert_msg(cw_future_error(all) == CW_ETIMEDOUT, "the gather should fail with the child's code CW_ETIMEDOUT, "
                  "got %s", cw_error_name(cw_future_error(all)));
    ck_assert_msg(strstr(cw_future_message(all), "child 1 timed out") != NULL,
                  "the gather's message should carry the child's (\"child 1 timed out\"), got \"%s\"",
                  cw_future_message(all));
    ck_assert_msg(!cw_future_done(kids[0]) && !cw_future_done(kids[2]),
                  "the other children should keep running (not be cancelled) when the gather fails");
    cw_future_fail(kids[2], CW_ECONNRESET, "child 2 was reset");
    cw_future_resolve(kids[0], a, NULL);
    ck_assert_msg(cw_future_error(all) == CW_ETIMEDOUT,
                  "later errors should not change the gather's: it should still be CW_ETIMEDOUT, got %s",
                  cw_error_name(cw_future_error(all)));

    cw_future *cancelled[2];
    new_futures(cancelled, 2);
    cw_future *other = gather_by_hand(cancelled, 2, false);
    ck_assert_msg(other != NULL, "gather_by_hand() returned NULL");
    cw_future_cancel(cancelled[0]);
    ck_assert_msg(cw_future_state(other) == CW_FAILED && cw_future_error(other) == CW_ECANCELLED,
                  "a cancelled child counts as that child's error: the gather should fail with CW_ECANCELLED, "
                  "but it is %s (%s)", state_name(cw_future_state(other)), cw_error_name(cw_future_error(other)));
    cw_future_resolve(cancelled[1], NULL, NULL);

    cw_future_release(all);
    cw_future_release(other);
    release_children(kids, 3);
    release_children(cancelled, 2);
}
END_TEST

/* ---- return_exceptions on: every slot ---- */

START_TEST(test_gather_by_hand_collects_errors)
{
    static char a[] = "a", d[] = "d";
    cw_future *kids[4];
    new_futures(kids, 4);
    cw_future *all = gather_by_hand(kids, 4, true);
    ck_assert_msg(all != NULL, "gather_by_hand() returned NULL");
    cw_future_fail(kids[1], CW_EHTTP, "child 1 failed");
    cw_future_cancel(kids[2]);
    cw_future_resolve(kids[0], a, NULL);
    ck_assert_msg(!cw_future_done(all), "with return_exceptions on the gather should wait for every child, "
                  "but it is %s with one child still pending", state_name(cw_future_state(all)));
    cw_future_resolve(kids[3], d, NULL);
    ck_assert_msg(cw_future_state(all) == CW_RESOLVED,
                  "with return_exceptions on the gather should resolve (never fail) once every child finished, "
                  "but it is %s", state_name(cw_future_state(all)));
    gather_slot *slots = slots_of(all);
    ck_assert_msg(slots != NULL, "the gather's result should be its array of slots, got NULL");
    ck_assert_msg(slots[0].value == a && slots[0].error == 0, "slot 0 should hold \"a\" with error 0");
    ck_assert_msg(slots[1].value == NULL && slots[1].error == CW_EHTTP,
                  "slot 1 should hold no value and the error CW_EHTTP, got error %s", cw_error_name(slots[1].error));
    ck_assert_msg(slots[2].value == NULL && slots[2].error == CW_ECANCELLED,
                  "slot 2 (a cancelled child) should hold no value and CW_ECANCELLED, got error %s",
                  cw_error_name(slots[2].error));
    ck_assert_msg(slots[3].value == d && slots[3].error == 0, "slot 3 should hold \"d\" with error 0");
    cw_future_release(all);
    release_children(kids, 4);
}
END_TEST

/* ---- nothing to wait for ---- */

START_TEST(test_gather_by_hand_finished_at_once)
{
    for (int flag = 0; flag < 2; flag++) {
        cw_future *none = gather_by_hand(NULL, 0, flag);
        ck_assert_msg(none != NULL, "gather_by_hand(NULL, 0, ...) returned NULL");
        ck_assert_msg(cw_future_state(none) == CW_RESOLVED,
                      "a gather of no futures should be resolved at once (return_exceptions %s), but it is %s",
                      flag ? "on" : "off", state_name(cw_future_state(none)));
        cw_future_release(none);
    }

    static char a[] = "a", b[] = "b";
    cw_future *kids[2];
    new_futures(kids, 2);
    cw_future_resolve(kids[0], a, NULL);
    cw_future_resolve(kids[1], b, NULL);
    cw_future *all = gather_by_hand(kids, 2, false);
    ck_assert_msg(all != NULL, "gather_by_hand() returned NULL");
    ck_assert_msg(cw_future_state(all) == CW_RESOLVED,
                  "a gather of children that had all resolved already should be resolved at once, but it is %s",
                  state_name(cw_future_state(all)));
    ck_assert_msg(slots_of(all) && slots_of(all)[0].value == a && slots_of(all)[1].value == b,
                  "its slots should hold \"a\" and \"b\", in that order");
    cw_future_release(all);

    cw_future *mixed[2];
    new_futures(mixed, 2);
    cw_future_fail(mixed[1], CW_EHOST, "no such host");
    cw_future *failing = gather_by_hand(mixed, 2, false);
    ck_assert_msg(failing != NULL, "gather_by_hand() returned NULL");
    ck_assert_msg(cw_future_state(failing) == CW_FAILED && cw_future_error(failing) == CW_EHOST,
                  "a gather (return_exceptions off) of a child that had already failed should fail at once with "
                  "its error CW_EHOST, but it is %s (%s)", state_name(cw_future_state(failing)),
                  cw_error_name(cw_future_error(failing)));
    cw_future_resolve(mixed[0], NULL, NULL);
    cw_future_release(failing);
    release_children(kids, 2);
    release_children(mixed, 2);
}
END_TEST

/* ---- no leaks ---- */

static long results_freed;

static void count_free(void *result)
{
    (void)result;
    results_freed++;
}

static char token[] = "token";

/* One round of three ways to use a gather; each child's result is counted when freed.
 * Returns false when the gather is NULL or does not fail at once (other tests say more). */
static bool leak_round(void)
{
    /* Off: fails early, released before the others finish. */
    cw_future *kids[3];
    new_futures(kids, 3);
    cw_future *all = gather_by_hand(kids, 3, false);
    if (!all)
        return false;
    cw_future_fail(kids[1], CW_EHTTP, "failed on purpose");
    if (cw_future_error(all) != CW_EHTTP) {
        cw_future_release(all);
        release_children(kids, 3);
        return false;
    }
    cw_future_release(all);
    cw_future_resolve(kids[0], token, count_free);
    cw_future_resolve(kids[2], token, count_free);
    release_children(kids, 3);

    /* On: every child resolves, the result is read, then released. */
    new_futures(kids, 2);
    all = gather_by_hand(kids, 2, true);
    if (!all)
        return false;
    cw_future_resolve(kids[1], token, count_free);
    cw_future_resolve(kids[0], token, count_free);
    slots_of(all);
    cw_future_release(all);
    release_children(kids, 2);

    /* Released by the caller before any child finished. */
    new_futures(kids, 2);
    all = gather_by_hand(kids, 2, true);
    if (!all)
        return false;
    cw_future_release(all);
    cw_future_resolve(kids[0], token, count_free);
    cw_future_cancel(kids[1]);
    release_children(kids, 2);
    return true;
}

START_TEST(test_gather_by_hand_leaks_nothing)
{
    enum { WARMUP = 100, ROUNDS = 5000, PER_ROUND = 5 };
    for (int i = 0; i < WARMUP; i++)
        ck_assert_msg(leak_round(), "gather_by_hand() returned NULL or did not fail at once with return_exceptions "
                      "off (see the other tests)");
    ck_assert_msg(results_freed == WARMUP * PER_ROUND,
                  "every child should be freed once the test releases it, but %ld of %d were: the gather keeps "
                  "a reference to a child it never releases", results_freed, WARMUP * PER_ROUND);
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < ROUNDS; i++)
        if (!leak_round())
            break;
    struct mallinfo2 after = mallinfo2();
    long grown = (long)after.uordblks - (long)before.uordblks;
    ck_assert_msg(grown < 100 * 1000,
                  "memory in use grew by %ld bytes over %d rounds of gathers that were all released: free what "
                  "gather_by_hand() allocates once the last child has finished (and release its own reference)",
                  grown, ROUNDS);
}
END_TEST

int main(int argc, char **argv)
{
    const cw_graded_test tests[] = {
        { "fetch_all: statuses in input order, requests in flight together", test_fetch_all_input_order, 3, 10 },
        { "fetch_all: with return_exceptions on, errors stay in their slots", test_fetch_all_errors_in_slots, 2, 10 },
        { "fetch_all_or_fail: the first error comes back at once", test_fetch_all_or_fail_first_error_at_once, 3, 10 },
        { "fetch_successes: errors filtered out, input order kept", test_fetch_successes_filters_errors, 2, 10 },
        { "gather_by_hand: results in input order", test_gather_by_hand_input_order, 3, 10 },
        { "gather_by_hand: return_exceptions off fails at the first error", test_gather_by_hand_fails_at_once, 3, 10 },
        { "gather_by_hand: return_exceptions on collects every error", test_gather_by_hand_collects_errors, 2, 10 },
        { "gather_by_hand: nothing to wait for means finished at once", test_gather_by_hand_finished_at_once, 2, 10 },
        { "gather_by_hand: nothing leaks", test_gather_by_hand_leaks_nothing, 2, 20 },
    };
    return cw_grade_main("06_gather", tests, sizeof tests / sizeof tests[0], argc, argv);
}
