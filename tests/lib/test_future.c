/**
 * @file test_future.c
 * @brief Tests of futures: finishing once, done callbacks, references, messages, and awaiting them.
 *
 * Futures need no loop, so most tests use them directly; the await tests run
 * inside cw_run() and record what they saw in a struct that is checked after.
 */
#include "cw.h"
#include "support.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

/** Counts how often it was called, so a test sees a result being freed. */
static int freed;

static void count_free(void *result)
{
    (void)result;
    freed++;
}

/** A done-callback log: which callbacks ran, in order, and on which future. */
typedef struct call_log {
    int order[8];
    int n;
    cw_future *seen[8];
} call_log;

static call_log calls;

static void record_a(cw_future *f, void *arg)
{
    (void)arg;
    calls.seen[calls.n] = f;
    calls.order[calls.n++] = 1;
}

static void record_b(cw_future *f, void *arg)
{
    (void)arg;
    calls.seen[calls.n] = f;
    calls.order[calls.n++] = 2;
}

static void record_arg(cw_future *f, void *arg)
{
    calls.seen[calls.n] = f;
    calls.order[calls.n++] = *(int *)arg;
}

/* ------------------------------------------------------------ states */

START_TEST(test_new_future_is_pending)
{
    cw_future *f = cw_future_new();
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(cw_future_state(f), CW_PENDING);
    ck_assert(!cw_future_done(f));
    ck_assert_ptr_null(cw_future_result(f));
    ck_assert_int_eq(cw_future_error(f), CW_EPENDING);
    ck_assert_str_eq(cw_future_message(f), "pending");
    cw_future_release(f);
}
END_TEST

START_TEST(test_resolve_sets_result)
{
    int value = 42;
    cw_future *f = cw_future_new();
    ck_assert_int_eq(cw_future_resolve(f, &value, NULL), 0);
    ck_assert_int_eq(cw_future_state(f), CW_RESOLVED);
    ck_assert(cw_future_done(f));
    ck_assert_ptr_eq(cw_future_result(f), &value);
    ck_assert_int_eq(cw_future_error(f), 0);
    ck_assert_str_eq(cw_future_message(f), "ok");
    cw_future_release(f);
}
END_TEST

START_TEST(test_resolve_twice_gives_edone_and_frees_second)
{
    int first = 1;
    freed = 0;
    cw_future *f = cw_future_new();
    ck_assert_int_eq(cw_future_resolve(f, &first, NULL), 0);
    /* The second result is refused and freed at once: nothing leaks. */
    char *second = strdup("second result");
    ck_assert_int_eq(cw_future_resolve(f, second, free), CW_EDONE);
    ck_assert_int_eq(cw_future_resolve(f, &first, count_free), CW_EDONE);
    ck_assert_msg(freed == 1, "a refused result with a free function should be freed at once, freed %d times", freed);
    ck_assert_ptr_eq(cw_future_result(f), &first);
    cw_future_release(f);
    ck_assert_int_eq(freed, 1);
}
END_TEST

START_TEST(test_owned_result_freed_with_future)
{
    freed = 0;
    cw_future *f = cw_future_new();
    ck_assert_int_eq(cw_future_resolve(f, &freed, count_free), 0);
    ck_assert_int_eq(freed, 0);
    cw_future_release(f);
    ck_assert_msg(freed == 1, "the future should free the result it owns when freed, freed %d times", freed);

    /* A malloc'd result: valgrind proves it is freed. */
    f = cw_future_new();
    ck_assert_int_eq(cw_future_resolve(f, strdup("owned"), free), 0);
    ck_assert_str_eq(cw_future_result(f), "owned");
    cw_future_release(f);
}
END_TEST

START_TEST(test_fail_sets_code_and_message)
{
    cw_future *f = cw_future_new();
    ck_assert_int_eq(cw_future_fail(f, CW_EHTTP, "got %d from %s", 503, "the server"), 0);
    ck_assert_int_eq(cw_future_state(f), CW_FAILED);
    ck_assert(cw_future_done(f));
    ck_assert_int_eq(cw_future_error(f), CW_EHTTP);
    ck_assert_ptr_null(cw_future_result(f));
    ck_assert_str_eq(cw_future_message(f), "got 503 from the server");
    cw_future_release(f);
}
END_TEST

START_TEST(test_fail_without_message_uses_strerror)
{
    cw_future *f = cw_future_new();
    ck_assert_int_eq(cw_future_fail(f, CW_ETIMEDOUT, NULL), 0);
    ck_assert_int_eq(cw_future_error(f), CW_ETIMEDOUT);
    ck_assert_str_eq(cw_future_message(f), cw_strerror(CW_ETIMEDOUT));
    cw_future_release(f);
}
END_TEST

START_TEST(test_fail_rejects_non_negative_code)
{
    cw_future *f = cw_future_new();
    ck_assert_int_eq(cw_future_fail(f, 0, "not an error"), CW_EINVAL);
    ck_assert_int_eq(cw_future_fail(f, 5, "not an error"), CW_EINVAL);
    ck_assert_msg(cw_future_state(f) == CW_PENDING, "a refused fail must leave the future pending");
    cw_future_release(f);
}
END_TEST

START_TEST(test_finish_only_once)
{
    int value = 7;
    freed = 0;

    cw_future *f = cw_future_new();
    ck_assert_int_eq(cw_future_fail(f, CW_EHTTP, "first"), 0);
    ck_assert_int_eq(cw_future_fail(f, CW_ETIMEDOUT, "second"), CW_EDONE);
    ck_assert_int_eq(cw_future_resolve(f, &value, count_free), CW_EDONE);
    ck_assert_int_eq(cw_future_cancel(f), CW_EDONE);
    ck_assert_int_eq(cw_future_state(f), CW_FAILED);
    ck_assert_int_eq(cw_future_error(f), CW_EHTTP);
    ck_assert_str_eq(cw_future_message(f), "first");
    ck_assert_int_eq(freed, 1);
    cw_future_release(f);

    f = cw_future_new();
    ck_assert_int_eq(cw_future_resolve(f, &value, NULL), 0);
    ck_assert_int_eq(cw_future_fail(f, CW_EHTTP, "late"), CW_EDONE);
    ck_assert_int_eq(cw_future_cancel(f), CW_EDONE);
    ck_assert_int_eq(cw_future_state(f), CW_RESOLVED);
    ck_assert_ptr_eq(cw_future_result(f), &value);
    cw_future_release(f);
}
END_TEST

START_TEST(test_cancel_pending_future)
{
    freed = 0;
    cw_future *f = cw_future_new();
    ck_assert_int_eq(cw_future_cancel(f), 0);
    ck_assert_int_eq(cw_future_state(f), CW_CANCELLED);
    ck_assert(cw_future_done(f));
    ck_assert_int_eq(cw_future_error(f), CW_ECANCELLED);
    ck_assert_ptr_null(cw_future_result(f));
    ck_assert_str_eq(cw_future_message(f), "cancelled");
    ck_assert_int_eq(cw_future_cancel(f), CW_EDONE);
    ck_assert_int_eq(cw_future_resolve(f, &freed, count_free), CW_EDONE);
    ck_assert_int_eq(freed, 1);
    ck_assert_int_eq(cw_future_fail(f, CW_EHTTP, "late"), CW_EDONE);
    ck_assert_int_eq(cw_future_state(f), CW_CANCELLED);
    cw_future_release(f);
}
END_TEST

START_TEST(test_null_arguments)
{
    cw_future_release(NULL); /* ignored */
    cw_future *f = cw_future_new();
    ck_assert_int_eq(cw_future_on_done(NULL, record_a, NULL), CW_EINVAL);
    ck_assert_int_eq(cw_future_on_done(f, NULL, NULL), CW_EINVAL);
    cw_future_release(f);
}
END_TEST

/* ------------------------------------------------------------ done callbacks */

START_TEST(test_done_callbacks_run_in_order_at_completion)
{
    memset(&calls, 0, sizeof calls);
    int three = 3;
    cw_future *f = cw_future_new();
    ck_assert_int_eq(cw_future_on_done(f, record_a, NULL), 0);
    ck_assert_int_eq(cw_future_on_done(f, record_b, NULL), 0);
    ck_assert_int_eq(cw_future_on_done(f, record_arg, &three), 0);
    ck_assert_msg(calls.n == 0, "callbacks must not run before the future finishes, %d ran", calls.n);
    cw_future_resolve(f, NULL, NULL);
    ck_assert_msg(calls.n == 3, "every callback should have run when resolve returns, %d ran", calls.n);
    ck_assert_int_eq(calls.order[0], 1);
    ck_assert_int_eq(calls.order[1], 2);
    ck_assert_int_eq(calls.order[2], 3);
    for (int i = 0; i < 3; i++)
        ck_assert_ptr_eq(calls.seen[i], f);
    /* They run once: finishing again (refused) runs nothing. */
    cw_future_resolve(f, NULL, NULL);
    cw_future_cancel(f);
    ck_assert_int_eq(calls.n, 3);
    cw_future_release(f);
}
END_TEST

START_TEST(test_done_callbacks_run_on_fail_and_cancel)
{
    memset(&calls, 0, sizeof calls);
    cw_future *f = cw_future_new();
    cw_future *g = cw_future_new();
    cw_future_on_done(f, record_a, NULL);
    cw_future_on_done(g, record_b, NULL);
    cw_future_fail(f, CW_EHTTP, "failed");
    cw_future_cancel(g);
    ck_assert_int_eq(calls.n, 2);
    ck_assert_int_eq(calls.order[0], 1);
    ck_assert_int_eq(calls.order[1], 2);
    ck_assert_int_eq(cw_future_error(f), CW_EHTTP);
    cw_future_release(f);
    cw_future_release(g);
}
END_TEST

/* Without a loop (outside cw_run()) there is nothing to schedule on: callbacks run at once. */
START_TEST(test_done_callback_immediate_when_done)
{
    memset(&calls, 0, sizeof calls);
    cw_future *f = cw_future_new();
    cw_future_resolve(f, NULL, NULL);
    ck_assert_int_eq(cw_future_on_done(f, record_a, NULL), 0);
    ck_assert_msg(calls.n == 1, "a callback added to a finished future should run at once, %d ran", calls.n);
    ck_assert_ptr_eq(calls.seen[0], f);
    cw_future_release(f);
}
END_TEST

START_TEST(test_remove_done)
{
    memset(&calls, 0, sizeof calls);
    int one = 1, two = 2;
    cw_future *f = cw_future_new();
    cw_future_on_done(f, record_arg, &one);
    cw_future_on_done(f, record_arg, &two);
    cw_future_on_done(f, record_b, NULL);
    /* Same fn, other arg: only the exact pair is removed. */
    ck_assert_int_eq(cw_future_remove_done(f, record_arg, &one), 0);
    ck_assert_int_eq(cw_future_remove_done(f, record_arg, &one), CW_EINVAL);
    ck_assert_int_eq(cw_future_remove_done(f, record_a, NULL), CW_EINVAL);
    cw_future_resolve(f, NULL, NULL);
    ck_assert_int_eq(calls.n, 2);
    ck_assert_int_eq(calls.order[0], 2);
    ck_assert_int_eq(calls.order[1], 2); /* record_b */
    cw_future_release(f);
}
END_TEST

/* A callback may release the last reference the program holds. */
static void release_in_callback(cw_future *f, void *arg)
{
    (void)arg;
    calls.n++;
    cw_future_release(f);
}

START_TEST(test_callback_may_release_future)
{
    memset(&calls, 0, sizeof calls);
    cw_future *f = cw_future_new();
    cw_future_on_done(f, release_in_callback, NULL);
    cw_future_on_done(f, record_a, NULL);
    cw_future_resolve(f, NULL, NULL); /* valgrind: no use after free */
    ck_assert_int_eq(calls.n, 2);
}
END_TEST

/* ------------------------------------------------------------ references */

START_TEST(test_retain_release)
{
    freed = 0;
    cw_future *f = cw_future_new();
    ck_assert_ptr_eq(cw_future_retain(f), f);
    ck_assert_ptr_eq(cw_future_retain(f), f);
    cw_future_resolve(f, &freed, count_free);
    cw_future_release(f);
    cw_future_release(f);
    ck_assert_msg(freed == 0, "the future must live until its last reference is released");
    ck_assert_ptr_eq(cw_future_result(f), &freed);
    cw_future_release(f);
    ck_assert_int_eq(freed, 1);
}
END_TEST

START_TEST(test_release_all_skips_null)
{
    freed = 0;
    cw_future *fs[4] = { cw_future_new(), NULL, cw_future_new(), NULL };
    cw_future_resolve(fs[0], &freed, count_free);
    cw_future_resolve(fs[2], &freed, count_free);
    cw_future_release_all(fs, 4);
    ck_assert_int_eq(freed, 2);
    cw_future_release_all(NULL, 0);
}
END_TEST

/* ------------------------------------------------------------ awaiting */

typedef struct await_record {
    cw_future *f;
    int started;
    int rc[3];
    void *result[3];
    int woken;
    int await_null;
    int await_done_rc;
    int await_failed_rc;
    const char *failed_message;
} await_record;

static void *awaiter(void *arg)
{
    await_record *r = arg;
    int i = r->started++;
    r->rc[i] = cw_await(r->f);
    r->result[i] = cw_future_result(r->f);
    r->woken++;
    return NULL;
}

static void *resolve_later(void *arg)
{
    await_record *r = arg;
    static int value = 99;
    r->f = cw_future_new();
    cw_future *tasks[3];
    for (int i = 0; i < 3; i++)
        tasks[i] = cw_spawn(awaiter, r);
    cw_sleep(20);
    if (r->woken != 0)
        return cw_fail(CW_EFAILED, "an awaiter woke before the future was resolved");
    cw_future_resolve(r->f, &value, NULL);
    for (int i = 0; i < 3; i++) {
        cw_await(tasks[i]);
        cw_future_release(tasks[i]);
    }

    /* Awaiting a finished future returns at once with its outcome. */
    r->await_done_rc = cw_await(r->f);
    cw_future *failed = cw_future_new();
    cw_future_fail(failed, CW_ECONNRESET, "reset by peer");
    r->await_failed_rc = cw_await(failed);
    r->failed_message = strdup(cw_future_message(failed));
    cw_future_release(failed);
    r->await_null = cw_await(NULL);
    cw_future_release(r->f);
    return NULL;
}

START_TEST(test_await_wakes_every_awaiter)
{
    await_record r = { 0 };
    ck_assert_int_eq(cw_run(resolve_later, &r, NULL), 0);
    ck_assert_msg(r.woken == 3, "all three awaiters should wake, %d did", r.woken);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(r.rc[i], 0);
        ck_assert_int_eq(*(int *)r.result[i], 99);
    }
    ck_assert_int_eq(r.await_done_rc, 0);
    ck_assert_int_eq(r.await_failed_rc, CW_ECONNRESET);
    ck_assert_str_eq(r.failed_message, "reset by peer");
    ck_assert_int_eq(r.await_null, CW_EINVAL);
    free((char *)r.failed_message);
}
END_TEST

/* A future failed (or cancelled) from another task wakes its awaiter with the code. */
typedef struct fail_record {
    bool cancel; /* cancel the future instead of failing it */
    cw_future *f;
    int rc;
    int state;
} fail_record;

static void *await_it(void *arg)
{
    fail_record *r = arg;
    r->rc = cw_await(r->f);
    r->state = cw_future_state(r->f);
    return NULL;
}

static void *finish_later(void *arg)
{
    fail_record *r = arg;
    r->f = cw_future_new();
    cw_future *t = cw_spawn(await_it, r);
    cw_sleep(10);
    if (r->cancel)
        cw_future_cancel(r->f);
    else
        cw_future_fail(r->f, CW_ETOOBIG, "too big");
    cw_await(t);
    cw_future_release(t);
    cw_future_release(r->f);
    return NULL;
}

START_TEST(test_await_failed_future)
{
    fail_record r = { .cancel = false };
    ck_assert_int_eq(cw_run(finish_later, &r, NULL), 0);
    ck_assert_int_eq(r.rc, CW_ETOOBIG);
    ck_assert_int_eq(r.state, CW_FAILED);
}
END_TEST

START_TEST(test_await_cancelled_future)
{
    fail_record r = { .cancel = true };
    ck_assert_int_eq(cw_run(finish_later, &r, NULL), 0);
    ck_assert_int_eq(r.rc, CW_ECANCELLED);
    ck_assert_int_eq(r.state, CW_CANCELLED);
}
END_TEST

/* ------------------------------------------------------------ callbacks inside the loop */

/* What happened, in order, as short labels: the same script runs on asyncio (see below). */
typedef struct event_log {
    const char *events[16];
    int n;
} event_log;

static event_log events;

static void log_event(cw_future *f, void *label)
{
    (void)f;
    if (events.n < 16)
        events.events[events.n++] = label;
}

static cw_future *shared_future;

static void *await_and_log(void *label)
{
    cw_await(shared_future);
    log_event(NULL, label);
    return NULL;
}

/* The same as this asyncio program, which prints
 * ['resolved', 't1 woke', 'cb', 't2 woke', 'late cb', 'g cb', 'main after sleep0']:
 *
 *     f = loop.create_future()
 *     t1 = asyncio.create_task(waiter('t1', f)); await asyncio.sleep(0)
 *     f.add_done_callback(lambda _: log.append('cb'))
 *     t2 = asyncio.create_task(waiter('t2', f)); await asyncio.sleep(0)
 *     f.set_result(1); log.append('resolved')
 *     f.add_done_callback(lambda _: log.append('late cb'))
 *     g = loop.create_future(); g.add_done_callback(lambda _: log.append('g cb')); g.set_result(2)
 *     await asyncio.sleep(0); log.append('main after sleep0')
 */
static void *callbacks_scheduled(void *arg)
{
    (void)arg;
    memset(&events, 0, sizeof events);
    shared_future = cw_future_new();
    cw_future *t1 = cw_spawn(await_and_log, "t1 woke");
    cw_sleep(0);
    cw_future_on_done(shared_future, log_event, "cb");
    cw_future *t2 = cw_spawn(await_and_log, "t2 woke");
    cw_sleep(0);
    cw_future_resolve(shared_future, NULL, NULL);
    log_event(NULL, "resolved");
    cw_future_on_done(shared_future, log_event, "late cb");
    cw_future *g = cw_future_new();
    cw_future_on_done(g, log_event, "g cb");
    cw_future_resolve(g, NULL, NULL);
    cw_sleep(0);
    log_event(NULL, "main after sleep0");
    cw_await(t1);
    cw_await(t2);
    cw_future_release(t1);
    cw_future_release(t2);
    cw_future_release(g);
    cw_future_release(shared_future);
    return NULL;
}

START_TEST(test_done_callbacks_scheduled_like_asyncio)
{
    static const char *asyncio[] = { "resolved", "t1 woke", "cb", "t2 woke", "late cb", "g cb", "main after sleep0" };
    ck_assert_int_eq(cw_run(callbacks_scheduled, NULL, NULL), 0);
    ck_assert_int_eq(events.n, 7);
    for (int i = 0; i < 7; i++)
        ck_assert_msg(strcmp(events.events[i], asyncio[i]) == 0, "event %d: asyncio has '%s', we had '%s'", i,
                      asyncio[i], events.events[i]);
}
END_TEST

/* Removing a callback that is scheduled but has not run yet: it never runs. */
static void *remove_scheduled(void *arg)
{
    int *ran = arg;
    cw_future *f = cw_future_new();
    cw_future_on_done(f, record_arg, ran);
    cw_future_resolve(f, NULL, NULL);
    cw_future_on_done(f, record_arg, ran + 1); /* late: scheduled on its own */
    ck_assert_int_eq(cw_future_remove_done(f, record_arg, ran), 0);
    ck_assert_int_eq(cw_future_remove_done(f, record_arg, ran + 1), 0);
    cw_future_release(f); /* the schedule keeps it alive until its turn */
    cw_sleep(0);
    return NULL;
}

START_TEST(test_remove_scheduled_callback)
{
    memset(&calls, 0, sizeof calls);
    int ran[2] = { 1, 2 };
    ck_assert_int_eq(cw_run(remove_scheduled, ran, NULL), 0);
    ck_assert_msg(calls.n == 0, "a removed callback ran %d times", calls.n);
}
END_TEST

/* A chain of futures, each finished by the previous one's callback. Run inline, that recursion
 * would be as deep as the chain and overflow a task's stack; scheduled, it is a loop. */
enum { CHAIN = 100000 };

static void finish_next(cw_future *f, void *arg)
{
    (void)f;
    cw_future *next = arg;
    cw_future_resolve(next, NULL, NULL);
}

static void *long_chain(void *arg)
{
    int *resolved = arg;
    cw_future **chain = malloc(CHAIN * sizeof *chain);
    for (int i = 0; i < CHAIN; i++)
        chain[i] = cw_future_new();
    for (int i = 0; i + 1 < CHAIN; i++)
        cw_future_on_done(chain[i], finish_next, chain[i + 1]);
    cw_future_resolve(chain[0], NULL, NULL);
    cw_await(chain[CHAIN - 1]);
    for (int i = 0; i < CHAIN; i++)
        *resolved += cw_future_state(chain[i]) == CW_RESOLVED;
    cw_future_release_all(chain, CHAIN);
    free(chain);
    return NULL;
}

START_TEST(test_long_callback_chain)
{
    int resolved = 0;
    ck_assert_int_eq(cw_run(long_chain, &resolved, NULL), 0);
    ck_assert_int_eq(resolved, CHAIN);
}
END_TEST

/* A million futures finished in one step, each with a callback: every callback runs, once. */
static void count_call(cw_future *f, void *arg)
{
    (void)f;
    ++*(int *)arg;
}

static void *million(void *arg)
{
    int *counts = arg; /* [0]: ran before the step ended, [1]: ran in all */
    int n = getenv("CW_TIMEOUT_SCALE") ? 100000 : 1000000; /* valgrind is 50 times slower */
    counts[2] = n;
    cw_future **fs = malloc(n * sizeof *fs);
    for (int i = 0; i < n; i++) {
        fs[i] = cw_future_new();
        cw_future_on_done(fs[i], count_call, &counts[1]);
    }
    for (int i = 0; i < n; i++)
        cw_future_resolve(fs[i], NULL, NULL);
    counts[0] = counts[1];
    cw_future_release_all(fs, n); /* scheduled callbacks keep their futures alive */
    free(fs);
    cw_sleep(0);
    return NULL;
}

START_TEST(test_million_scheduled_callbacks)
{
    int counts[3] = { 0 };
    ck_assert_int_eq(cw_run(million, counts, NULL), 0);
    ck_assert_msg(counts[0] == 0, "%d callbacks ran inside the code that finished their futures", counts[0]);
    ck_assert_int_eq(counts[1], counts[2]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("future");

    TCase *tc = add_case(s, "states", 10, NULL, NULL);
    tcase_add_test(tc, test_new_future_is_pending);
    tcase_add_test(tc, test_resolve_sets_result);
    tcase_add_test(tc, test_resolve_twice_gives_edone_and_frees_second);
    tcase_add_test(tc, test_owned_result_freed_with_future);
    tcase_add_test(tc, test_fail_sets_code_and_message);
    tcase_add_test(tc, test_fail_without_message_uses_strerror);
    tcase_add_test(tc, test_fail_rejects_non_negative_code);
    tcase_add_test(tc, test_finish_only_once);
    tcase_add_test(tc, test_cancel_pending_future);
    tcase_add_test(tc, test_null_arguments);

    tc = add_case(s, "callbacks", 10, NULL, NULL);
    tcase_add_test(tc, test_done_callbacks_run_in_order_at_completion);
    tcase_add_test(tc, test_done_callbacks_run_on_fail_and_cancel);
    tcase_add_test(tc, test_done_callback_immediate_when_done);
    tcase_add_test(tc, test_remove_done);
    tcase_add_test(tc, test_callback_may_release_future);

    /* About a second of CPU for a million futures: the time limit is a backstop for a loaded machine. */
    tc = add_case(s, "callbacks in the loop", 300, NULL, NULL);
    tcase_add_test(tc, test_done_callbacks_scheduled_like_asyncio);
    tcase_add_test(tc, test_remove_scheduled_callback);
    tcase_add_test(tc, test_long_callback_chain);
    tcase_add_test(tc, test_million_scheduled_callbacks);

    tc = add_case(s, "references", 10, NULL, NULL);
    tcase_add_test(tc, test_retain_release);
    tcase_add_test(tc, test_release_all_skips_null);

    tc = add_case(s, "await", 10, NULL, NULL);
    tcase_add_test(tc, test_await_wakes_every_awaiter);
    tcase_add_test(tc, test_await_failed_future);
    tcase_add_test(tc, test_await_cancelled_future);

    return run_suite(s);
}
