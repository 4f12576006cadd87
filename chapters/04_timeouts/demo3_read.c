/*
 * demo3_read.c -- the read timeout (sock_read) limits the gap between two
 * pieces of data, not the whole response. /drip sends 5 bytes over 1 second,
 * one every 200 ms: a 400 ms read timeout lets it finish, a 100 ms one does
 * not, and a 500 ms total stops it whatever the gaps.
 * /drip is a fixture route with no counterpart on a real site, so with
 * `--url URL` the demo says so and still drips from a fixture server of its own.
 */
#include <stdio.h>
#include "cw.h"
#include "cw_fixture.h"

static void *demo(void *arg)
{
    const char *url = arg; /* a fixture server's /drip?bytes=5&duration_ms=1000 */
    cw_session *session;
    cw_session_open(&session, NULL);

    //! [read_timeouts]
    const cw_timeouts tries[] = {
        { .sock_read_ms = 400 },                   /* each gap is 200 ms: fine */
        { .sock_read_ms = 100 },                   /* the first gap is too long */
        { .sock_read_ms = 400, .total_ms = 500 },  /* gaps fine, the whole too long */
    };
    //! [read_timeouts]
    const char *how[] = { "sock_read 400 ms", "sock_read 100 ms", "sock_read 400 ms, total 500 ms" };

    printf("GET /drip: 5 bytes over 1000 ms, one every 200 ms\n");
    for (int i = 0; i < 3; i++) {
        cw_request request = { .url = url, .timeouts = &tries[i] };
        uint64_t started = cw_now_us();
        cw_future *f = cw_session_request(session, &request);
        int rc = cw_await(f);
        double ms = (double)(cw_now_us() - started) / 1000.0;
        if (rc == 0)
            printf("  %-32s -> %ld, %zu bytes after %4.0f ms\n", how[i], cw_response_of(f)->status,
                   cw_response_of(f)->body_len, ms);
        else
            printf("  %-32s -> %s after %4.0f ms\n", how[i], cw_error_name(rc), ms);
        cw_future_release(f);
    }
    cw_session_close(session);
    return NULL;
}

int main(int argc, char **argv)
{
    char base[512], url[512];
    cw_fixture *fixture;
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &fixture) < 0)
        return 1;
    cw_fixture *own = fixture ? NULL : cw_fixture_start(0); /* --url: /drip from a server of our own */
    if (!fixture && !own)
        return 1;
    if (own)
        printf("(--url: not used here; the drip comes from a fixture server on loopback)\n\n");
    cw_fixture_url(fixture ? fixture : own, "/drip?bytes=5&duration_ms=1000", url, sizeof url);
    cw_timeline_enable(true);
    int rc = cw_run(demo, url, NULL);
    printf("\n");
    cw_timeline_print(stdout, "Read timeouts on a slow drip");
    cw_fixture_stop(own);
    cw_fixture_stop(fixture);
    return rc == 0 ? 0 : 1;
}
