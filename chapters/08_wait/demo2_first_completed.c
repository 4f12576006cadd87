/*
 * demo2_first_completed.c -- CW_FIRST_COMPLETED and the loop that waits until
 * nothing is pending: three GETs taking 300, 100 and 200 ms are handled as
 * each finishes, one wait per round, each round waiting only on what is
 * still pending.
 *
 * The lesson's seconds are scaled down to hundreds of milliseconds. With
 * --url URL the three requests fetch URL itself (e.g. https://example.org/).
 */
#include <stdio.h>
#include <string.h>
#include "cw.h"
#include "cw_fixture.h"

enum { N = 3 };

typedef struct demo {
    char urls[N][512];
    int handled, failures;
} demo;

static int which(cw_future *const *requests, const cw_future *request)
{
    for (int i = 0; i < N; i++)
        if (requests[i] == request)
            return i;
    return -1;
}

static void *demo_main(void *arg)
{
    demo *d = arg;
    cw_session *session;
    if (cw_session_open(&session, NULL) < 0)
        return cw_fail(CW_EFAILED, "could not open a session");
    uint64_t begin = cw_now_us();
//! [loop]
    cw_future *requests[N], *pending[N];
    for (int i = 0; i < N; i++)
        pending[i] = requests[i] = cw_session_get(session, d->urls[i]);
    int n_pending = N;

    for (int round = 1; n_pending > 0; round++) {
        cw_wait_sets sets;
        if (cw_wait(pending, n_pending, CW_FIRST_COMPLETED, CW_NO_TIMEOUT, &sets) != 0)
            break;
        printf("  round %d after %3.0f ms: %d done, %d pending\n", round, (double)(cw_now_us() - begin) / 1000.0,
               sets.n_done, sets.n_pending);
        for (int k = 0; k < sets.n_done; k++) {
            cw_future *request = sets.done[k];
            int i = which(requests, request);
            if (cw_future_error(request) == 0) {
                printf("    request %d, %s: status %ld\n", i, d->urls[i], cw_response_of(request)->status);
            } else {
                printf("    request %d, %s: failed, %s\n", i, d->urls[i], cw_future_message(request));
                d->failures++;
            }
            d->handled++;
        }
        n_pending = sets.n_pending; /* the next round waits on what is left */
        for (int k = 0; k < n_pending; k++)
            pending[k] = sets.pending[k];
        cw_wait_sets_free(&sets);
    }
    cw_future_release_all(requests, N);
//! [loop]
    cw_session_close(session);
    return NULL;
}

int main(int argc, char **argv)
{
    char base[400];
    cw_fixture *fixture;
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &fixture) < 0)
        return 1;
    demo d = { .handled = 0 };
    const char *paths[N] = { "/delay/300", "/delay/100", "/delay/200" };
    for (int i = 0; i < N; i++)
        snprintf(d.urls[i], sizeof d.urls[i], "%s%s", base, fixture ? paths[i] : ""); /* --url: that page */
    cw_timeline_enable(true);
    if (fixture)
        printf("Three GETs taking 300, 100 and 200 ms, waited on with CW_FIRST_COMPLETED until none is pending:\n");
    else
        printf("Three GETs of %s, waited on with CW_FIRST_COMPLETED until none is pending:\n", base);
    int rc = cw_run(demo_main, &d, NULL);
    printf("\n%d handled, %d failed\n\n", d.handled, d.failures);
    cw_timeline_print(stdout, "Timeline:");
    cw_fixture_stop(fixture);
    return rc == 0 && d.handled == N && d.failures == 0 ? 0 : 1;
}
