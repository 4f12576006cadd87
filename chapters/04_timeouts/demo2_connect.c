/*
 * demo2_connect.c -- connect timeouts. A loopback listener that never
 * accepts (its accept queue is full) makes connecting hang: sock_connect or
 * connect cut it short. connect also counts the wait for a pooled connection:
 * 8 slow requests through 2 connections (the lesson's 1000 through 100, scaled
 * down) time out in the queue under connect, but not under sock_connect.
 * And the classic surprise: a request-level timeout replaces the session's
 * whole, so the session's connect limit no longer applies to that request.
 * Every request here is meant to time out or to wait in a queue, so all of
 * them stay on loopback: with `--url URL` the demo says so and runs the same.
 */
#include <stdio.h>
#include "cw.h"
#include "cw_fixture.h"

static void fetch(cw_session *session, const char *url, const cw_timeouts *timeouts, const char *how)
{
    cw_request request = { .url = url, .timeouts = timeouts };
    uint64_t started = cw_now_us();
    cw_future *f = cw_session_request(session, &request);
    int rc = cw_await(f);
    printf("  %-48s -> %s after %4.0f ms\n", how, rc == 0 ? "200" : cw_error_name(rc),
           (double)(cw_now_us() - started) / 1000.0);
    cw_future_release(f);
}

/* 8 requests at once through 2 connections; print how each ended. */
static void through_the_pool(const char *url, const cw_timeouts *timeouts, const char *how)
{
    //! [pool]
    cw_session_options options = cw_session_options_default();
    options.limit = 2;                             /* 2 connections for 8 requests of 300 ms */
    options.timeouts = *timeouts;
    cw_session *session;
    cw_session_open(&session, &options);
    cw_future *requests[8];
    for (int i = 0; i < 8; i++)
        requests[i] = cw_session_get(session, url);
    //! [pool]
    printf("  %-48s ->", how);
    for (int i = 0; i < 8; i++) {
        int rc = cw_await(requests[i]);
        printf(" %s", rc == 0 ? "ok" : rc == CW_ETIMEDOUT ? "TIMEOUT" : cw_error_name(rc));
    }
    printf("\n");
    cw_future_release_all(requests, 8);
    cw_session_close(session);
}

static void *demo(void *arg)
{
    const char *slow = arg; /* a fixture server's /delay/300 */
    int port;
    int hole = cw_fixture_blackhole_open(&port);
    if (hole < 0)
        return cw_fail(CW_EFAILED, "could not open the never-accepting listener");
    char never[128];
    snprintf(never, sizeof never, "http://127.0.0.1:%d/get", port);

    printf("A listener that never accepts:\n");
    //! [connect_timeout]
    cw_session_options options = cw_session_options_default();
    options.timeouts.connect_ms = 300;             /* the defaults (total 5 minutes...) and connect=0.3 */
    cw_session *session;
    cw_session_open(&session, &options);
    //! [connect_timeout]
    fetch(session, never, NULL, "session: connect 300 ms");
    //! [surprise]
    cw_timeouts only_total = { .total_ms = 1000 }; /* connect is 0 here: off for this request */
    fetch(session, never, &only_total, "request: total 1000 ms (session's connect gone)");
    //! [surprise]
    cw_session_close(session);
    cw_fixture_blackhole_close(hole);

    printf("\n8 requests of 300 ms through 2 connections:\n");
    //! [connect_vs_sock_connect]
    cw_timeouts connect = { .connect_ms = 400 };        /* queue wait + connecting */
    cw_timeouts sock_connect = { .sock_connect_ms = 400 }; /* connecting alone */
    //! [connect_vs_sock_connect]
    through_the_pool(slow, &connect, "connect 400 ms (counts the queue)");
    through_the_pool(slow, &sock_connect, "sock_connect 400 ms (does not)");
    return NULL;
}

int main(int argc, char **argv)
{
    char base[512], slow[512];
    cw_fixture *fixture;
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &fixture) < 0)
        return 1;
    /* The queue needs pages that are slow for sure: with --url, a fixture server of our own serves them. */
    cw_fixture *own = fixture ? NULL : cw_fixture_start(0);
    if (!fixture && !own)
        return 1;
    if (own)
        printf("(--url: not used here; this demo's timeouts need a listener and a slow page on loopback)\n\n");
    cw_fixture_url(fixture ? fixture : own, "/delay/300", slow, sizeof slow);
    cw_timeline_enable(true);
    int rc = cw_run(demo, slow, NULL);
    printf("\n");
    cw_timeline_print(stdout, "Connect timeouts: a listener that never accepts, then a queue for 2 connections");
    cw_fixture_stop(own);
    cw_fixture_stop(fixture);
    return rc == 0 ? 0 : 1;
}
