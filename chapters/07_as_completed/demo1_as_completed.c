/*
 * demo1_as_completed.c -- results as they complete: three GETs that take 100,
 * 100 and 1000 ms (the lesson's 1, 1 and 10 s, scaled down) are handled the
 * moment each one finishes: two results at once, the last one later. Each
 * step hands back the original request, so every result maps back to its URL.
 *
 * With --url URL the three requests fetch URL itself (e.g. https://example.org/;
 * then all three take about as long as that site does).
 */
#include <stdio.h>
#include <string.h>
#include "cw.h"
#include "cw_fixture.h"

enum { N = 3 };

typedef struct demo {
    char urls[N][512];
    int failures;
} demo;

//! [which]
/* The iterator hands back one of our own request futures: its place in our array names its URL. */
static int which(cw_future *const *requests, const cw_future *request)
{
    for (int i = 0; i < N; i++)
        if (requests[i] == request)
            return i;
    return -1;
}
//! [which]

static void *fetch_as_they_complete(void *arg)
{
    demo *d = arg;
    cw_session *session;
    if (cw_session_open(&session, NULL) < 0)
        return cw_fail(CW_EFAILED, "could not open a session");
    uint64_t begin = cw_now_us();
//! [loop]
    cw_future *requests[N];
    for (int i = 0; i < N; i++)
        requests[i] = cw_session_get(session, d->urls[i]); /* all three start now */

    cw_as_completed *it = cw_as_completed_new(requests, N, CW_NO_TIMEOUT);
    cw_future *done;
    while (cw_as_completed_next(it, &done) == 0) { /* the next one to finish */
        int i = which(requests, done);
        printf("  after %4.0f ms: request %d, %s -> ", (double)(cw_now_us() - begin) / 1000.0, i, d->urls[i]);
        if (cw_future_error(done) == 0) {
            printf("status %ld\n", cw_response_of(done)->status);
        } else {
            printf("failed: %s\n", cw_future_message(done));
            d->failures++;
        }
    }
    cw_as_completed_free(it);
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
    demo d = { .failures = 0 };
    const char *paths[N] = { "/delay/100", "/delay/100", "/delay/1000" };
    for (int i = 0; i < N; i++)
        snprintf(d.urls[i], sizeof d.urls[i], "%s%s", base, fixture ? paths[i] : "");
    cw_timeline_enable(true);

    if (fixture)
        printf("Three GETs taking 100, 100 and 1000 ms (the lesson's 1, 1 and 10 s, scaled down),\n"
               "each handled as soon as it completes:\n");
    else
        printf("Three GETs of %s, each handled as soon as it completes:\n", base);
    int rc = cw_run(fetch_as_they_complete, &d, NULL);
    if (fixture)
        printf("\nThe two quick ones arrive together (in either order: run it again), the slow one later.");
    printf("\n\n");
    cw_timeline_print(stdout, "Timeline:");
    cw_fixture_stop(fixture);
    return rc == 0 && d.failures == 0 ? 0 : 1;
}
