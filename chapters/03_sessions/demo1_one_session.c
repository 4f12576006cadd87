/*
 * demo1_one_session.c -- one session for the whole program, passed to the
 * function that makes requests, against the classic mistake of a session per
 * request. The fixture server counts the connections it accepted: the shared
 * session reuses one, the per-request sessions open one each. Each new
 * connection costs CONNECT_COST_MS on the server, as a handshake would across
 * the internet, so the mistake shows in the times too.
 * Runs against the embedded fixture server, or with `--url URL` fetches URL
 * itself (then the connection counts are not available, only the times).
 */
#include <stdio.h>
#include "cw.h"
#include "cw_fixture.h"

#define N_REQUESTS 10
#define CONNECT_COST_MS 20 /* TCP + TLS across the internet: a few round trips */

typedef struct job {
    const char *base;
    cw_fixture *fixture; /* NULL with --url */
} job;

//! [fetch_status]
/* async def fetch_status(session, url): the session comes from the caller. */
static long fetch_status(cw_session *session, const char *url)
{
    cw_future *request = cw_session_get(session, url);
    int rc = cw_await(request);
    long status = rc == 0 ? cw_response_of(request)->status : rc;
    cw_future_release(request);
    return status;
}
//! [fetch_status]

static void report(const job *j, const char *how, uint64_t started_us)
{
    printf("%-28s %d requests in %4.0f ms", how, N_REQUESTS, (double)(cw_now_us() - started_us) / 1000.0);
    if (j->fixture != NULL) {
        cw_fixture_stats stats = cw_fixture_stats_get(j->fixture);
        printf(", %2ld connection(s) accepted by the server", stats.accepted);
        cw_fixture_stats_reset(j->fixture);
    }
    printf("\n");
}

static void *demo(void *arg)
{
    const job *j = arg;
    char url[512];
    snprintf(url, sizeof url, "%s%s", j->base, j->fixture ? "/get" : ""); /* --url: that page itself */
    if (j->fixture)
        cw_fixture_stats_reset(j->fixture);

    uint64_t started = cw_now_us();
    //! [one_session]
    cw_session *session;
    cw_session_open(&session, NULL);               /* one browser window for everything */
    for (int i = 0; i < N_REQUESTS; i++)
        fetch_status(session, url);
    cw_session_close(session);
    //! [one_session]
    report(j, "One session, passed around:", started);

    started = cw_now_us();
    //! [session_per_request]
    for (int i = 0; i < N_REQUESTS; i++) {         /* the classic mistake */
        cw_session *throwaway;
        cw_session_open(&throwaway, NULL);
        fetch_status(throwaway, url);
        cw_session_close(throwaway);               /* and its connection with it */
    }
    //! [session_per_request]
    report(j, "A session per request:", started);
    return NULL;
}

int main(int argc, char **argv)
{
    char base[512];
    job j = { .base = base };
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &j.fixture) < 0)
        return 1;
    if (j.fixture) {
        cw_fixture_set_connect_cost(j.fixture, CONNECT_COST_MS);
        printf("Each new connection costs %d ms on the fixture server, as a handshake would.\n", CONNECT_COST_MS);
    }
    cw_timeline_enable(true);
    int rc = cw_run(demo, &j, NULL);
    printf("\n");
    cw_timeline_print(stdout, "Ten requests through one session, then ten sessions of one request");
    cw_fixture_stop(j.fixture);
    return rc == 0 ? 0 : 1;
}
