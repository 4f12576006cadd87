/**
 * @file test_timeouts.c
 * @brief Tests of request timeouts with aiohttp's meaning: total, connect (queue wait included),
 *        sock_connect, sock_read, and request-level timeouts replacing the session's.
 *
 * Time limits here are generous backstops: a timeout must fire long before the
 * slow answer would have come, never "within 5 ms".
 */
#include "cw.h"
#include "cw_fixture.h"
#include "support.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

/** One request under test: what to ask, with which timeouts, and what came back. */
typedef struct probe {
    const char *path;          /* on the fixture server, or NULL to use full_url */
    const char *full_url;
    cw_timeouts session;       /* the session's timeouts */
    const cw_timeouts *request; /* request-level timeouts, or NULL */
    int rc;
    long status;
    size_t body_len;
    double elapsed;
    char message[256];
} probe;

static void probe_run(cw_session *s, probe *p)
{
    cw_request req = { .url = p->path ? url(p->path) : p->full_url, .timeouts = p->request };
    double start = now_ms();
    cw_future *f = cw_session_request(s, &req);
    p->rc = cw_await(f);
    p->elapsed = now_ms() - start;
    snprintf(p->message, sizeof p->message, "%s", cw_future_message(f));
    if (p->rc == 0) {
        p->status = cw_response_of(f)->status;
        p->body_len = cw_response_of(f)->body_len;
    }
    cw_future_release(f);
}

/** Open a session with the probe's timeouts, run it, close. */
static void *run_probe(void *arg)
{
    probe *p = arg;
    cw_session_options o = cw_session_options_default();
    o.timeouts = p->session;
    cw_session *s;
    if (cw_session_open(&s, &o) < 0)
        return cw_fail(CW_EFAILED, "session open failed");
    probe_run(s, p);
    cw_session_close(s);
    return NULL;
}

#define assert_timed_out(p, before_ms)                                                                   \
    do {                                                                                                 \
        ck_assert_msg((p).rc == CW_ETIMEDOUT, "%s: expected CW_ETIMEDOUT, got %s (%s)",                  \
                      (p).path ? (p).path : (p).full_url, cw_error_name((p).rc), (p).message);           \
        ck_assert_msg((p).elapsed < backstop(before_ms), "%s timed out only after %.0f ms",              \
                      (p).path ? (p).path : (p).full_url, (p).elapsed);                                  \
        ck_assert_msg((p).message[0] != '\0', "a timeout should come with a message");                   \
    } while (0)

#define assert_ok(p)                                                                                     \
    do {                                                                                                 \
        ck_assert_msg((p).rc == 0, "%s: expected success, got %s (%s) after %.0f ms",                    \
                      (p).path, cw_error_name((p).rc), (p).message, (p).elapsed);                        \
        ck_assert_int_eq((p).status, 200);                                                               \
    } while (0)

/* ------------------------------------------------------------ total */

START_TEST(test_total_timeout)
{
    probe p = { .path = "/delay/2000", .session = { .total_ms = 200 } };
    ck_assert_int_eq(cw_run(run_probe, &p, NULL), 0);
    assert_timed_out(p, 1500);
    ck_assert_msg(p.elapsed >= 150, "total 200 ms fired after only %.0f ms (%s)", p.elapsed, p.message);
}
END_TEST

START_TEST(test_request_total_timeout)
{
    cw_timeouts t = { .total_ms = 200 };
    probe p = { .path = "/delay/2000", .session = cw_session_options_default().timeouts, .request = &t };
    ck_assert_int_eq(cw_run(run_probe, &p, NULL), 0);
    assert_timed_out(p, 1500);
}
END_TEST

START_TEST(test_total_timeout_not_hit)
{
    probe p = { .path = "/delay/100", .session = { .total_ms = 2000 } };
    ck_assert_int_eq(cw_run(run_probe, &p, NULL), 0);
    assert_ok(p);
}
END_TEST

/* ------------------------------------------------------------ sock_read */

START_TEST(test_sock_read_timeout)
{
    /* 5 bytes over 2 s: a gap of about 400 ms between bytes. */
    probe p = { .path = "/drip?bytes=5&duration_ms=2000", .session = { .sock_read_ms = 100 } };
    ck_assert_int_eq(cw_run(run_probe, &p, NULL), 0);
    assert_timed_out(p, 1500);
}
END_TEST

START_TEST(test_total_alone_lets_drip_finish)
{
    probe p = { .path = "/drip?bytes=5&duration_ms=2000", .session = { .total_ms = 5000 } };
    ck_assert_int_eq(cw_run(run_probe, &p, NULL), 0);
    assert_ok(p);
    ck_assert_uint_eq(p.body_len, 5);
}
END_TEST

START_TEST(test_sock_read_is_a_gap_not_a_total)
{
    /* 20 bytes over 600 ms: 30 ms gaps, far below 300 ms, though the whole takes twice that. */
    probe p = { .path = "/drip?bytes=20&duration_ms=600", .session = { .sock_read_ms = 300 } };
    ck_assert_int_eq(cw_run(run_probe, &p, NULL), 0);
    assert_ok(p);
    ck_assert_uint_eq(p.body_len, 20);
}
END_TEST

/* ------------------------------------------------------------ connect */

static void *run_blackhole_probe(void *arg)
{
    probe *p = arg;
    int port = 0;
    int bh = cw_fixture_blackhole_open(&port);
    if (bh < 0)
        return cw_fail(CW_EFAILED, "no blackhole listener");
    char buf[128];
    snprintf(buf, sizeof buf, "http://127.0.0.1:%d/get", port);
    p->full_url = buf;
    run_probe(p);
    p->full_url = "blackhole";
    cw_fixture_blackhole_close(bh);
    return NULL;
}

START_TEST(test_connect_timeout)
{
    probe p = { .session = { .connect_ms = 200 } };
    ck_assert_int_eq(cw_run(run_blackhole_probe, &p, NULL), 0);
    assert_timed_out(p, 1500);
}
END_TEST

START_TEST(test_sock_connect_timeout)
{
    probe p = { .session = { .sock_connect_ms = 200 } };
    ck_assert_int_eq(cw_run(run_blackhole_probe, &p, NULL), 0);
    assert_timed_out(p, 1500);
}
END_TEST

START_TEST(test_total_covers_connect)
{
    probe p = { .session = { .total_ms = 200 } };
    ck_assert_int_eq(cw_run(run_blackhole_probe, &p, NULL), 0);
    assert_timed_out(p, 1500);
}
END_TEST

/** Two requests on a session with limit 1: the second waits in the queue. */
typedef struct queue_probe {
    cw_timeouts second_timeouts;
    int first_rc, second_rc;
    bool first_done_when_second_ended;
    double second_elapsed;
    char message[256];
} queue_probe;

static void *queue_then_second(void *arg)
{
    queue_probe *q = arg;
    cw_session_options o = cw_session_options_default();
    o.limit = 1;
    cw_session *s;
    cw_session_open(&s, &o);
    cw_future *first = cw_session_get(s, url("/delay/1000"));
    cw_request req = { .url = url("/get"), .timeouts = &q->second_timeouts };
    double start = now_ms();
    cw_future *second = cw_session_request(s, &req);
    q->second_rc = cw_await(second);
    q->second_elapsed = now_ms() - start;
    q->first_done_when_second_ended = cw_future_done(first);
    snprintf(q->message, sizeof q->message, "%s", cw_future_message(second));
    q->first_rc = cw_await(first);
    cw_future_release(first);
    cw_future_release(second);
    cw_session_close(s);
    return NULL;
}

START_TEST(test_connect_includes_queue_wait)
{
    queue_probe q = { .second_timeouts = { .connect_ms = 200 } };
    ck_assert_int_eq(cw_run(queue_then_second, &q, NULL), 0);
    ck_assert_msg(q.second_rc == CW_ETIMEDOUT,
                  "connect 200 ms must count the wait for a pooled connection; got %s (%s) after %.0f ms",
                  cw_error_name(q.second_rc), q.message, q.second_elapsed);
    ck_assert_msg(!q.first_done_when_second_ended, "the second request should time out while still queued");
    ck_assert_int_eq(q.first_rc, 0);
}
END_TEST

START_TEST(test_sock_connect_excludes_queue_wait)
{
    queue_probe q = { .second_timeouts = { .sock_connect_ms = 200 } };
    ck_assert_int_eq(cw_run(queue_then_second, &q, NULL), 0);
    ck_assert_msg(q.second_rc == 0, "sock_connect covers the connect alone, not the queue; got %s (%s)",
                  cw_error_name(q.second_rc), q.message);
    ck_assert_msg(q.first_done_when_second_ended, "the second request could only run after the first");
    ck_assert_int_eq(q.first_rc, 0);
}
END_TEST

START_TEST(test_total_includes_queue_wait)
{
    queue_probe q = { .second_timeouts = { .total_ms = 200 } };
    ck_assert_int_eq(cw_run(queue_then_second, &q, NULL), 0);
    ck_assert_msg(q.second_rc == CW_ETIMEDOUT, "total must count the queue wait; got %s (%s)",
                  cw_error_name(q.second_rc), q.message);
    ck_assert(!q.first_done_when_second_ended);
    ck_assert_int_eq(q.first_rc, 0);
}
END_TEST

/* ------------------------------------------------------------ many deadlines at once */

/** 40 requests that never finish in time, queued in a shuffled order of their total timeouts, two
 * at a time on the session: each must end by its own deadline, never before it, and they must end
 * in the order of their deadlines, whichever order they were queued in and whichever were running. */
#define N_DEADLINES 40

typedef struct many_deadlines {
    unsigned long total_ms[N_DEADLINES];
    double queued_at[N_DEADLINES], ended_at[N_DEADLINES];
    int rc[N_DEADLINES];
    int order[N_DEADLINES], n_ended;
} many_deadlines;

typedef struct ending {
    many_deadlines *m;
    int i;
} ending;

static void note_ending(cw_future *f, void *arg)
{
    ending *e = arg;
    e->m->ended_at[e->i] = now_ms();
    e->m->rc[e->i] = cw_future_error(f);
    e->m->order[e->m->n_ended++] = e->i;
}

static void *queue_shuffled_deadlines(void *arg)
{
    many_deadlines *m = arg;
    cw_session_options o = cw_session_options_default();
    o.limit = 2;
    cw_session *s;
    cw_session_open(&s, &o);
    cw_future *f[N_DEADLINES];
    cw_timeouts t[N_DEADLINES];
    ending e[N_DEADLINES];
    for (int i = 0; i < N_DEADLINES; i++) {
        m->total_ms[i] = 200 + 25 * (unsigned long)((i * 17) % N_DEADLINES); /* a permutation of 0..39 */
        t[i] = (cw_timeouts){ .total_ms = m->total_ms[i] };
        cw_request req = { .url = url("/delay/60000"), .timeouts = &t[i] };
        m->queued_at[i] = now_ms();
        f[i] = cw_session_request(s, &req);
        e[i] = (ending){ m, i };
        cw_future_on_done(f[i], note_ending, &e[i]);
    }
    cw_future *all = cw_gather(f, N_DEADLINES, true);
    cw_await(all);
    cw_future_release(all);
    cw_future_release_all(f, N_DEADLINES);
    cw_session_close(s);
    return NULL;
}

START_TEST(test_many_deadlines_end_in_their_order)
{
    many_deadlines m = { .n_ended = 0 };
    ck_assert_int_eq(cw_run(queue_shuffled_deadlines, &m, NULL), 0);
    ck_assert_int_eq(m.n_ended, N_DEADLINES);
    for (int k = 0; k < N_DEADLINES; k++) {
        int i = m.order[k];
        ck_assert_msg(m.rc[i] == CW_ETIMEDOUT, "request %d (total %lu ms) should time out, got %s", i, m.total_ms[i],
                      cw_error_name(m.rc[i]));
        double took = m.ended_at[i] - m.queued_at[i];
        ck_assert_msg(took >= m.total_ms[i] - 1, "request %d ended after %.0f ms, before its total of %lu ms", i, took,
                      m.total_ms[i]);
        ck_assert_msg(took < backstop(m.total_ms[i] + 2000), "request %d (total %lu ms) ended only after %.0f ms", i,
                      m.total_ms[i], took);
        if (k > 0)
            ck_assert_msg(m.total_ms[m.order[k - 1]] <= m.total_ms[i],
                          "the request with a total of %lu ms ended before the one with %lu ms",
                          m.total_ms[m.order[k - 1]], m.total_ms[i]);
    }
}
END_TEST

/* ------------------------------------------------------------ request-level replaces session-level */

START_TEST(test_request_timeouts_all_off_replace_session)
{
    cw_timeouts off = { 0 };
    probe p = { .path = "/delay/300", .session = { .total_ms = 100 }, .request = &off };
    ck_assert_int_eq(cw_run(run_probe, &p, NULL), 0);
    assert_ok(p);
}
END_TEST

START_TEST(test_request_total_replaces_session)
{
    cw_timeouts longer = { .total_ms = 2000 };
    probe p = { .path = "/delay/300", .session = { .total_ms = 100 }, .request = &longer };
    ck_assert_int_eq(cw_run(run_probe, &p, NULL), 0);
    assert_ok(p);
}
END_TEST

START_TEST(test_request_replaces_session_field_by_field)
{
    /* The session's sock_read 100 is not kept when the request gives only a total. */
    cw_timeouts total_only = { .total_ms = 3000 };
    probe p = { .path = "/drip?bytes=3&duration_ms=600", .session = { .sock_read_ms = 100 }, .request = &total_only };
    ck_assert_int_eq(cw_run(run_probe, &p, NULL), 0);
    assert_ok(p);
    ck_assert_uint_eq(p.body_len, 3);
}
END_TEST

START_TEST(test_session_timeout_applies_without_request_timeouts)
{
    probe p = { .path = "/delay/300", .session = { .total_ms = 100 } };
    ck_assert_int_eq(cw_run(run_probe, &p, NULL), 0);
    assert_timed_out(p, 1500);
}
END_TEST

/* ------------------------------------------------------------ after a timeout */

typedef struct after_probe {
    probe slow;
    int rc;
    long status;
    long open_after;
} after_probe;

static void *timeout_then_get(void *arg)
{
    after_probe *a = arg;
    cw_session_options o = cw_session_options_default();
    o.timeouts.total_ms = 200;
    cw_session *s;
    cw_session_open(&s, &o);
    probe_run(s, &a->slow);
    cw_future *f = cw_session_get(s, url("/get"));
    a->rc = cw_await(f);
    if (a->rc == 0)
        a->status = cw_response_of(f)->status;
    cw_future_release(f);
    cw_session_close(s);
    await_open(0, 2000);
    a->open_after = cw_fixture_stats_get(fx).open;
    return NULL;
}

START_TEST(test_session_usable_after_timeout)
{
    after_probe a = { .slow = { .path = "/delay/2000" } };
    ck_assert_int_eq(cw_run(timeout_then_get, &a, NULL), 0);
    assert_timed_out(a.slow, 1500);
    ck_assert_msg(a.rc == 0 && a.status == 200, "a GET after a timeout should work, got %s", cw_error_name(a.rc));
    ck_assert_msg(a.open_after == 0, "every connection should be closed at the end, %ld open", a.open_after);
}
END_TEST

START_TEST(test_default_total_is_five_minutes)
{
    ck_assert_uint_eq(cw_session_options_default().timeouts.total_ms, 5 * 60 * 1000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("timeouts");

    TCase *tc = add_case(s, "total", 15, server_setup, server_teardown);
    tcase_add_test(tc, test_total_timeout);
    tcase_add_test(tc, test_request_total_timeout);
    tcase_add_test(tc, test_total_timeout_not_hit);
    tcase_add_test(tc, test_default_total_is_five_minutes);

    tc = add_case(s, "sock_read", 15, server_setup, server_teardown);
    tcase_add_test(tc, test_sock_read_timeout);
    tcase_add_test(tc, test_total_alone_lets_drip_finish);
    tcase_add_test(tc, test_sock_read_is_a_gap_not_a_total);

    tc = add_case(s, "connect", 15, server_setup, server_teardown);
    tcase_add_test(tc, test_connect_timeout);
    tcase_add_test(tc, test_sock_connect_timeout);
    tcase_add_test(tc, test_total_covers_connect);
    tcase_add_test(tc, test_connect_includes_queue_wait);
    tcase_add_test(tc, test_sock_connect_excludes_queue_wait);
    tcase_add_test(tc, test_total_includes_queue_wait);
    tcase_add_test(tc, test_many_deadlines_end_in_their_order);

    tc = add_case(s, "replace", 15, server_setup, server_teardown);
    tcase_add_test(tc, test_request_timeouts_all_off_replace_session);
    tcase_add_test(tc, test_request_total_replaces_session);
    tcase_add_test(tc, test_request_replaces_session_field_by_field);
    tcase_add_test(tc, test_session_timeout_applies_without_request_timeouts);
    tcase_add_test(tc, test_session_usable_after_timeout);

    return run_suite(s);
}
