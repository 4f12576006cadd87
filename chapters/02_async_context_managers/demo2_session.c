/*
 * demo2_session.c -- the session, the asynchronous context manager used most:
 * opening it is enter, closing it is exit (awaited: every connection closed).
 * with_session() runs the body between the two so the session is closed on
 * every path, like `async with aiohttp.ClientSession() as session:`.
 * Runs against the embedded fixture server, or with `--url URL` fetches URL
 * itself three times (e.g. https://example.org/).
 */
#include <stdio.h>
#include "cw.h"
#include "cw_fixture.h"

//! [with_session]
typedef int (*session_body_fn)(cw_session *session, void *arg);

/* async with ClientSession() as session: body(session) */
static int with_session(const cw_session_options *options, session_body_fn body, void *arg)
{
    cw_session *session;
    int rc = cw_session_open(&session, options);   /* __aenter__ */
    if (rc < 0)
        return rc;
    rc = body(session, arg);
    cw_session_close(session);                     /* __aexit__: awaited */
    return rc;
}
//! [with_session]

typedef struct job {
    const char *base;
    cw_fixture *fixture; /* NULL with --url */
} job;

//! [body]
/* The body: three requests through one session, one after another. */
static int fetch_three(cw_session *session, void *arg)
{
    const job *j = arg;
    const char *paths[] = { "/get", "/status/404", "/delay/200" };
    for (int i = 0; i < 3; i++) {
        char url[512];
        snprintf(url, sizeof url, "%s%s", j->base, j->fixture ? paths[i] : ""); /* --url: that page */
        cw_future *request = cw_session_get(session, url);
        int rc = cw_await(request);
        if (rc == 0)
            printf("  %-40s -> %ld\n", url, cw_response_of(request)->status);
        else
            printf("  %-40s -> failed: %s\n", url, cw_future_message(request));
        cw_future_release(request);                /* frees the response too */
        if (rc < 0)
            return rc;                             /* the session still gets closed */
    }
    return 0;
}
//! [body]

static void *demo(void *arg)
{
    job *j = arg;
    printf("Inside the session:\n");
    int rc = with_session(NULL, fetch_three, j);
    printf("with_session returned %s\n", cw_error_name(rc));
    if (j->fixture != NULL) {
        cw_fixture_stats stats = cw_fixture_stats_get(j->fixture);
        for (int i = 0; i < 100 && stats.open > 0; i++) { /* the server notices the close a moment later */
            cw_sleep(10);
            stats = cw_fixture_stats_get(j->fixture);
        }
        printf("Server: %ld requests over %ld connection(s); %ld still open after the session closed\n",
               stats.requests, stats.accepted, stats.open);
    }
    return rc < 0 ? cw_fail(rc, "a request failed") : NULL;
}

int main(int argc, char **argv)
{
    char base[512];
    job j = { .base = base };
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &j.fixture) < 0)
        return 1;
    cw_timeline_enable(true);
    int rc = cw_run(demo, &j, NULL);
    printf("\n");
    cw_timeline_print(stdout, "One session: open, three requests one after another, close");
    cw_fixture_stop(j.fixture);
    return rc == 0 ? 0 : 1;
}
