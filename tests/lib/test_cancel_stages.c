/**
 * @file test_cancel_stages.c
 * @brief Cancelling a request at every stage of its life, and closing a session with requests in flight.
 *
 * The stages: waiting in the session's own queue (limit 1), connecting (a
 * loopback listener whose accept queue is full), sending (a large POST to a
 * listener that never reads), waiting for the answer (/delay), and reading the
 * body (/drip). Each is cancelled two ways: directly (cw_future_cancel on the
 * request) and by cancelling the task that awaits it. Every time the future
 * must end cancelled at once, the server must see its connection closed, and
 * nothing may leak (make test runs this file under valgrind and ASan too).
 *
 * Then the same without aiming: a request is cancelled after k turns of the
 * loop (cw_sleep(0) k times), for k = 0, 1, 2, ... until the request has
 * finished before the cancel, so that every turn of its life is hit once:
 * queued, connecting, connected, sending, reading. On loopback that is only
 * a few turns, so slow routes are swept in steps of a millisecond or two
 * (cw_sleep(step) k times) to hit the waits too: awaiting the answer, and
 * between the bytes of a dripping body. Every cancel must leave the process
 * alive and the session usable.
 */
#include "cw.h"
#include "cw_fixture.h"
#include "support.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    SINK_BODY = 16 * 1024 * 1024, /* far more than the socket buffers hold: the send cannot finish */
    BACKSTOP_MS = 5000,           /* generous: only there so that a broken library fails instead of hanging */
};

/* ------------------------------------------------------------ a listener that never reads */

/** A loopback listener with a tiny receive buffer that nobody accepts from: a POST to it stalls while sending. */
static int sink_open(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small); /* inherited by the accepted connection */
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    ck_assert_msg(fd >= 0 && bind(fd, (struct sockaddr *) &addr, sizeof addr) == 0 && listen(fd, 16) == 0 &&
                      getsockname(fd, (struct sockaddr *) &addr, &len) == 0,
                  "the sink listener should open");
    *port = ntohs(addr.sin_port);
    return fd;
}

/** Accept the one connection the client made and read it to its end: true when the client closed it. */
static bool sink_saw_close(int listener)
{
    struct pollfd p = { .fd = listener, .events = POLLIN };
    if (poll(&p, 1, 2000) != 1)
        return false;
    int fd = accept(listener, NULL, NULL);
    if (fd < 0)
        return false;
    p = (struct pollfd){ .fd = fd, .events = POLLIN };
    char buf[65536];
    bool closed = false;
    double until = now_ms() + 3000;
    while (now_ms() < until && poll(&p, 1, 100) >= 0) {
        if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            closed = true; /* EOF or reset: the client let go of the connection */
            break;
        }
    }
    close(fd);
    return closed;
}

/* ------------------------------------------------------------ one stage, cancelled one way */

typedef enum stage { QUEUED, CONNECTING, SENDING, AWAITING_ANSWER, READING_BODY } stage;
typedef enum how { DIRECTLY, VIA_TASK } how;

static const char *const stage_names[] = { "queued", "connecting", "sending", "awaiting the answer", "reading the body" };

typedef struct trial {
    stage stage;
    how how;
    int sink_port;        /* SENDING: the sink */
    int blackhole_port;   /* CONNECTING: the blackhole */
    /* results */
    bool reached;         /* the request got to its stage before the backstop */
    int state_before;     /* the request's state just before cancelling */
    int cancel_rc;        /* what cw_future_cancel returned (on the request or the task) */
    int state_after;      /* the request's state right after */
    int awaiter_rc;       /* VIA_TASK: what the task's cw_await returned */
    int task_state;       /* VIA_TASK: how the task ended */
    int blocker_rc;       /* QUEUED: the request ahead of it */
    long accepted;        /* QUEUED: connections the server accepted (1: the queued one never connected) */
    long open_after;      /* fixture connections open once the session is closed */
    int close_rc;
} trial;

typedef struct awaiter {
    cw_future *request;
    int rc;
} awaiter;

static void *await_request(void *arg)
{
    awaiter *a = arg;
    a->rc = cw_await(a->request);
    return NULL;
}

/** Inside a task: sleep until @p ok() holds or the backstop passes. */
static bool await_until(bool (*ok)(void), double backstop_ms)
{
    double start = now_ms();
    while (!ok()) {
        if (now_ms() - start > backstop(backstop_ms))
            return false;
        cw_sleep(5);
    }
    return true;
}

static bool one_accepted(void)
{
    return cw_fixture_stats_get(fx).accepted >= 1;
}

static bool body_started(void)
{
    return cw_fixture_stats_get(fx).requests >= 1; /* /drip counts when its headers go out */
}

static void *run_trial(void *arg)
{
    trial *t = arg;
    cw_session_options o = cw_session_options_default();
    o.limit = t->stage == QUEUED ? 1 : 10;
    o.timeouts = (cw_timeouts){ 0 }; /* no timeout may end a request before the cancel does */
    cw_session *s;
    if (cw_session_open(&s, &o) < 0)
        return cw_fail(CW_EFAILED, "session open failed");
    cw_fixture_stats_reset(fx);

    char port_url[256]; /* http://127.0.0.1:PORT/... on the blackhole or the sink */
    cw_future *blocker = NULL, *req = NULL;
    char *body;
    switch (t->stage) {
    case QUEUED:
        blocker = cw_session_get(s, url("/delay/300"));
        req = cw_session_get(s, url("/get"));
        t->reached = await_until(one_accepted, BACKSTOP_MS);
        break;
    case CONNECTING:
        snprintf(port_url, sizeof port_url, "http://127.0.0.1:%d/get", t->blackhole_port);
        req = cw_session_get(s, port_url);
        cw_sleep(100);
        t->reached = true;
        break;
    case SENDING:
        body = calloc(1, SINK_BODY);
        snprintf(port_url, sizeof port_url, "http://127.0.0.1:%d/upload", t->sink_port);
        req = cw_session_post(s, port_url, body, SINK_BODY);
        free(body);
        cw_sleep(200);
        t->reached = true;
        break;
    case AWAITING_ANSWER:
        req = cw_session_get(s, url("/delay/10000"));
        t->reached = await_until(one_accepted, BACKSTOP_MS);
        cw_sleep(20);
        break;
    case READING_BODY:
        req = cw_session_get(s, url("/drip?bytes=100&duration_ms=10000"));
        t->reached = await_until(body_started, BACKSTOP_MS);
        cw_sleep(250); /* a few bytes of the body have arrived */
        break;
    }

    t->state_before = cw_future_state(req);
    if (t->how == DIRECTLY) {
        t->cancel_rc = cw_future_cancel(req);
        t->state_after = cw_future_state(req);
    } else {
        awaiter a = { .request = req, .rc = 1 };
        cw_future *task = cw_spawn(await_request, &a);
        cw_sleep(10); /* the task is now suspended in cw_await(req) */
        t->cancel_rc = cw_future_cancel(task);
        cw_await(task);
        t->state_after = cw_future_state(req);
        t->awaiter_rc = a.rc;
        t->task_state = cw_future_state(task);
        cw_future_release(task);
    }
    if (blocker) {
        t->blocker_rc = cw_await(blocker);
        t->accepted = cw_fixture_stats_get(fx).accepted;
    }
    cw_future_release(blocker);
    cw_future_release(req);
    t->close_rc = cw_session_close(s);
    await_open(0, BACKSTOP_MS);
    t->open_after = cw_fixture_stats_get(fx).open;
    return NULL;
}

static void check_trial(stage st, how h)
{
    trial t = { .stage = st, .how = h };
    int sink = -1, hole = -1;
    if (st == SENDING)
        sink = sink_open(&t.sink_port);
    if (st == CONNECTING)
        ck_assert_msg((hole = cw_fixture_blackhole_open(&t.blackhole_port)) >= 0, "the blackhole should open");

    ck_assert_int_eq(cw_run(run_trial, &t, NULL), 0);
    const char *name = stage_names[st];
    const char *way = h == DIRECTLY ? "cancelling the request" : "cancelling the task that awaits it";
    ck_assert_msg(t.reached, "%s: the request never got to that stage", name);
    ck_assert_msg(t.state_before == CW_PENDING, "%s: the request should still be pending before the cancel, state %d",
                  name, t.state_before);
    ck_assert_msg(t.cancel_rc == 0, "%s, %s: cw_future_cancel should give 0, got %s", name, way,
                  cw_error_name(t.cancel_rc));
    ck_assert_msg(t.state_after == CW_CANCELLED, "%s, %s: the request should end cancelled at once, state %d", name,
                  way, t.state_after);
    if (h == VIA_TASK) {
        ck_assert_msg(t.awaiter_rc == CW_ECANCELLED, "%s: the awaiting task's cw_await should give CW_ECANCELLED, got %s",
                      name, cw_error_name(t.awaiter_rc));
        ck_assert_msg(t.task_state == CW_CANCELLED, "%s: the task should end cancelled, state %d", name, t.task_state);
    }
    if (st == QUEUED) {
        ck_assert_msg(t.blocker_rc == 0, "queued: the request ahead should still succeed, got %s",
                      cw_error_name(t.blocker_rc));
        ck_assert_msg(t.accepted == 1, "queued: the cancelled request should never connect; the server accepted %ld",
                      t.accepted);
    }
    ck_assert_msg(t.close_rc == 0, "%s: closing the session should give 0, got %s", name, cw_error_name(t.close_rc));
    ck_assert_msg(t.open_after == 0, "%s, %s: the server should see every connection closed, %ld still open", name,
                  way, t.open_after);
    if (sink >= 0) {
        ck_assert_msg(sink_saw_close(sink), "sending, %s: the listener should see the connection closed", way);
        close(sink);
    }
    if (hole >= 0)
        cw_fixture_blackhole_close(hole);
}

START_TEST(test_cancel_queued)
{
    check_trial(QUEUED, DIRECTLY);
}
END_TEST

START_TEST(test_cancel_queued_via_task)
{
    check_trial(QUEUED, VIA_TASK);
}
END_TEST

START_TEST(test_cancel_connecting)
{
    check_trial(CONNECTING, DIRECTLY);
}
END_TEST

START_TEST(test_cancel_connecting_via_task)
{
    check_trial(CONNECTING, VIA_TASK);
}
END_TEST

START_TEST(test_cancel_sending)
{
    check_trial(SENDING, DIRECTLY);
}
END_TEST

START_TEST(test_cancel_sending_via_task)
{
    check_trial(SENDING, VIA_TASK);
}
END_TEST

START_TEST(test_cancel_awaiting_answer)
{
    check_trial(AWAITING_ANSWER, DIRECTLY);
}
END_TEST

START_TEST(test_cancel_awaiting_answer_via_task)
{
    check_trial(AWAITING_ANSWER, VIA_TASK);
}
END_TEST

START_TEST(test_cancel_reading_body)
{
    check_trial(READING_BODY, DIRECTLY);
}
END_TEST

START_TEST(test_cancel_reading_body_via_task)
{
    check_trial(READING_BODY, VIA_TASK);
}
END_TEST

/* ------------------------------------------------------------ cancelling at every turn of the loop */

enum { MAX_TURNS = 3000 }; /* a backstop: the requests below finish in far fewer turns */

typedef enum sweep_kind { FRESH_CONNECTION, POOLED_CONNECTION, BEHIND_ANOTHER } sweep_kind;

typedef struct sweep {
    sweep_kind kind;
    const char *path;
    int step_ms; /* each turn is cw_sleep(step_ms): 0 for one turn of the loop */
    /* results */
    int turns;          /* the first k at which the request had finished before the cancel */
    int cancelled;      /* how many of the k's cancelled a pending request */
    int bad_k, bad_state, bad_rc; /* the first k where something went wrong, and what */
    const char *bad_what;
} sweep;

/** One k: make the request, turn the loop k times, cancel it, then check the session still serves. */
static bool sweep_once(sweep *w, int k)
{
    cw_session_options o = cw_session_options_default();
    o.limit = w->kind == BEHIND_ANOTHER ? 1 : 10;
    o.timeouts = (cw_timeouts){ 0 };
    cw_session *s;
    if (cw_session_open(&s, &o) < 0) {
        w->bad_k = k, w->bad_what = "the session should open";
        return true;
    }
    cw_future *warm = NULL, *blocker = NULL;
    if (w->kind == POOLED_CONNECTION) { /* the request goes out on a kept-alive connection */
        warm = cw_session_get(s, url("/get"));
        cw_await(warm);
    } else if (w->kind == BEHIND_ANOTHER) {
        blocker = cw_session_get(s, url("/get")); /* the swept request waits in the queue behind it */
    }
    cw_future *req = cw_session_get(s, url(w->path));
    for (int i = 0; i < k; i++)
        cw_sleep(w->step_ms);
    bool done = cw_future_done(req);
    int rc = cw_future_cancel(req);
    int state = cw_future_state(req);
    bool finished = false;
    if (done) {
        finished = true; /* the whole life of the request fits in k turns: the sweep is complete */
        if (state != CW_RESOLVED || rc != CW_EDONE)
            w->bad_k = k, w->bad_what = "a finished request should stay resolved and the cancel say CW_EDONE",
            w->bad_state = state, w->bad_rc = rc;
    } else {
        w->cancelled++;
        if (state != CW_CANCELLED || rc != 0)
            w->bad_k = k, w->bad_what = "a pending request should end cancelled at once", w->bad_state = state,
            w->bad_rc = rc;
    }
    if (blocker && !w->bad_what && (rc = cw_await(blocker)) != 0)
        w->bad_k = k, w->bad_what = "the request ahead in the queue should still succeed", w->bad_rc = rc;
    cw_future *after = cw_session_get(s, url("/get"));
    if (!w->bad_what && (rc = cw_await(after)) != 0)
        w->bad_k = k, w->bad_what = "the session should still serve a request after the cancel", w->bad_rc = rc;
    cw_future_release(after);
    cw_future_release(req);
    cw_future_release(blocker);
    cw_future_release(warm);
    rc = cw_session_close(s);
    if (!w->bad_what && rc != 0)
        w->bad_k = k, w->bad_what = "the session should close", w->bad_rc = rc;
    return finished || w->bad_what;
}

static void *run_sweep(void *arg)
{
    sweep *w = arg;
    int k = 0;
    while (k < MAX_TURNS && !sweep_once(w, k))
        k++;
    w->turns = k;
    return NULL;
}

static void check_sweep(sweep_kind kind, const char *path, int step_ms)
{
    sweep w = { .kind = kind, .path = path, .step_ms = step_ms };
    ck_assert_int_eq(cw_run(run_sweep, &w, NULL), 0);
    ck_assert_msg(!w.bad_what, "%s, cancelled after %d loop turns: %s (state %d, %s)", path, w.bad_k, w.bad_what,
                  w.bad_state, cw_error_name(w.bad_rc));
    ck_assert_msg(w.turns < MAX_TURNS, "%s should finish within %d loop turns", path, MAX_TURNS);
    ck_assert_msg(w.cancelled >= 1, "%s: at least the first turn should find the request pending", path);
    ck_assert_msg(wait_open(0, BACKSTOP_MS), "the server should see every connection closed");
    if (getenv("CW_VERBOSE"))
        printf("%s: %d turns swept, %d cancels\n", path, w.turns, w.cancelled);
}

/* The defect this catches: cancelled in the turn its connect starts, libcurl closed the socket
 * without saying so and a poll left running on it made libuv abort the whole process. */
START_TEST(test_cancel_at_every_turn_fresh_connection)
{
    check_sweep(FRESH_CONNECTION, "/get", 0);
    check_sweep(FRESH_CONNECTION, "/bytes/4194304", 0); /* a body larger than the socket buffers */
}
END_TEST

START_TEST(test_cancel_at_every_turn_pooled_connection)
{
    check_sweep(POOLED_CONNECTION, "/get", 0);
    check_sweep(POOLED_CONNECTION, "/bytes/4194304", 0);
}
END_TEST

START_TEST(test_cancel_at_every_turn_queued)
{
    check_sweep(BEHIND_ANOTHER, "/get", 0);
}
END_TEST

START_TEST(test_cancel_at_every_step_of_slow_answers)
{
    check_sweep(FRESH_CONNECTION, "/delay/30", 1);                     /* awaiting the answer */
    check_sweep(FRESH_CONNECTION, "/drip?bytes=4&duration_ms=40", 2);  /* between the bytes of the body */
    check_sweep(POOLED_CONNECTION, "/drip?bytes=4&duration_ms=40", 2);
}
END_TEST

/* ------------------------------------------------------------ closing a session with everything in flight */

enum { IN_FLIGHT = 8 };

typedef struct close_all {
    int sink_port, blackhole_port;
    bool reached;
    int pending_before;
    int close_rc;
    int states[IN_FLIGHT];
    int awaiter_rc;
    long open_after;
    long accepted_before;
} close_all;

static bool three_in_progress(void)
{
    cw_fixture_stats st = cw_fixture_stats_get(fx);
    return st.accepted >= 3 && st.requests >= 1;
}

static void *close_with_everything_in_flight(void *arg)
{
    close_all *c = arg;
    cw_session_options o = cw_session_options_default();
    o.limit = 5; /* the last three wait in the queue */
    o.timeouts = (cw_timeouts){ 0 };
    cw_session *s;
    if (cw_session_open(&s, &o) < 0)
        return cw_fail(CW_EFAILED, "session open failed");
    cw_fixture_stats_reset(fx);
    char urls[IN_FLIGHT][128];
    cw_fixture_url(fx, "/stall", urls[0], sizeof urls[0]);
    cw_fixture_url(fx, "/delay/10000", urls[1], sizeof urls[1]);
    cw_fixture_url(fx, "/drip?bytes=100&duration_ms=10000", urls[2], sizeof urls[2]);
    snprintf(urls[3], sizeof urls[3], "http://127.0.0.1:%d/get", c->blackhole_port);
    snprintf(urls[4], sizeof urls[4], "http://127.0.0.1:%d/upload", c->sink_port);
    for (int i = 5; i < IN_FLIGHT; i++)
        cw_fixture_url(fx, "/get", urls[i], sizeof urls[i]);

    cw_future *reqs[IN_FLIGHT];
    char *body = calloc(1, SINK_BODY);
    for (int i = 0; i < IN_FLIGHT; i++)
        reqs[i] = i == 4 ? cw_session_post(s, urls[i], body, SINK_BODY) : cw_session_get(s, urls[i]);
    free(body);
    awaiter a = { .request = reqs[IN_FLIGHT - 1], .rc = 1 };
    cw_future *task = cw_spawn(await_request, &a);
    c->reached = await_until(three_in_progress, BACKSTOP_MS);
    cw_sleep(100);
    c->accepted_before = cw_fixture_stats_get(fx).accepted;
    for (int i = 0; i < IN_FLIGHT; i++)
        c->pending_before += cw_future_state(reqs[i]) == CW_PENDING;

    c->close_rc = cw_session_close(s);
    for (int i = 0; i < IN_FLIGHT; i++)
        c->states[i] = cw_future_state(reqs[i]);
    cw_await(task);
    c->awaiter_rc = a.rc;
    cw_future_release(task);
    cw_future_release_all(reqs, IN_FLIGHT);
    await_open(0, BACKSTOP_MS);
    c->open_after = cw_fixture_stats_get(fx).open;
    return NULL;
}

START_TEST(test_close_session_with_everything_in_flight)
{
    close_all c = { 0 };
    int sink = sink_open(&c.sink_port);
    int hole = cw_fixture_blackhole_open(&c.blackhole_port);
    ck_assert_msg(hole >= 0, "the blackhole should open");
    ck_assert_int_eq(cw_run(close_with_everything_in_flight, &c, NULL), 0);
    ck_assert_msg(c.reached, "the stalled, delayed and dripping requests should reach the server");
    ck_assert_msg(c.pending_before == IN_FLIGHT, "all %d requests should be pending before the close, %d were",
                  IN_FLIGHT, c.pending_before);
    ck_assert_msg(c.close_rc == 0, "closing should give 0, got %s", cw_error_name(c.close_rc));
    for (int i = 0; i < IN_FLIGHT; i++)
        ck_assert_msg(c.states[i] == CW_CANCELLED, "request %d should be cancelled by the close, state %d", i,
                      c.states[i]);
    ck_assert_msg(c.awaiter_rc == CW_ECANCELLED, "a task awaiting a queued request should get CW_ECANCELLED, got %s",
                  cw_error_name(c.awaiter_rc));
    ck_assert_msg(c.accepted_before == 3, "only the three fixture requests within the limit should connect, %ld did",
                  c.accepted_before);
    ck_assert_msg(c.open_after == 0, "the server should see every connection closed, %ld still open", c.open_after);
    ck_assert_msg(sink_saw_close(sink), "the listener that never read should see its connection closed");
    close(sink);
    cw_fixture_blackhole_close(hole);
}
END_TEST

/* A session closed by cw_run's cleanup (main returned without closing) ends its requests the same way. */
typedef struct leftover {
    cw_future *req;
    bool reached;
} leftover;

static void *leave_a_drip(void *arg)
{
    leftover *l = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    l->req = cw_session_get(s, url("/drip?bytes=100&duration_ms=10000"));
    l->reached = await_until(body_started, BACKSTOP_MS);
    return NULL;
}

START_TEST(test_run_ends_leftover_requests)
{
    leftover l = { 0 };
    cw_fixture_stats_reset(fx);
    ck_assert_int_eq(cw_run(leave_a_drip, &l, NULL), 0);
    ck_assert_msg(l.reached, "the drip should start");
    ck_assert_msg(cw_future_state(l.req) == CW_CANCELLED, "a request left in flight should end cancelled, state %d",
                  cw_future_state(l.req));
    cw_future_release(l.req);
    ck_assert_msg(wait_open(0, BACKSTOP_MS), "the server should see the connection closed");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cancel_stages");

    TCase *tc = add_case(s, "stages", 20, server_setup, server_teardown);
    tcase_add_test(tc, test_cancel_queued);
    tcase_add_test(tc, test_cancel_queued_via_task);
    tcase_add_test(tc, test_cancel_connecting);
    tcase_add_test(tc, test_cancel_connecting_via_task);
    tcase_add_test(tc, test_cancel_sending);
    tcase_add_test(tc, test_cancel_sending_via_task);
    tcase_add_test(tc, test_cancel_awaiting_answer);
    tcase_add_test(tc, test_cancel_awaiting_answer_via_task);
    tcase_add_test(tc, test_cancel_reading_body);
    tcase_add_test(tc, test_cancel_reading_body_via_task);

    tc = add_case(s, "every_turn", 120, server_setup, server_teardown);
    tcase_add_test(tc, test_cancel_at_every_turn_fresh_connection);
    tcase_add_test(tc, test_cancel_at_every_turn_pooled_connection);
    tcase_add_test(tc, test_cancel_at_every_turn_queued);
    tcase_add_test(tc, test_cancel_at_every_step_of_slow_answers);

    tc = add_case(s, "close", 20, server_setup, server_teardown);
    tcase_add_test(tc, test_close_session_with_everything_in_flight);
    tcase_add_test(tc, test_run_ends_leftover_requests);

    return run_suite(s);
}
