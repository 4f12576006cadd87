/*
 * demo3_methods.c -- GET, POST, PUT and DELETE through one session. POST and
 * PUT carry a body; the server answers with JSON saying what it received.
 * Runs against the embedded fixture server, or with `--url URL` sends all
 * four to URL itself (the site answers each method as it likes: 405 is common).
 */
#include <stdio.h>
#include <string.h>
#include "cw.h"
#include "cw_fixture.h"

static void show(const char *what, cw_future *request)
{
    int rc = cw_await(request);
    if (rc == 0) {
        const char *body = cw_response_of(request)->body;
        int shown = (int)strcspn(body, "\r\n");      /* the first line: a real site's page is long */
        printf("%-7s -> %ld %.*s\n", what, cw_response_of(request)->status, shown > 160 ? 160 : shown, body);
    } else {
        printf("%-7s -> failed: %s\n", what, cw_future_message(request));
    }
    cw_future_release(request);
}

typedef struct job {
    const char *base;
    cw_fixture *fixture; /* NULL with --url */
} job;

static void *demo(void *arg)
{
    const job *j = arg;
    char get[512], post[512], put[512], del[512];
    const bool routes = j->fixture != NULL;        /* --url: every method goes to URL itself */
    snprintf(get, sizeof get, "%s%s", j->base, routes ? "/get" : "");
    snprintf(post, sizeof post, "%s%s", j->base, routes ? "/post" : "");
    snprintf(put, sizeof put, "%s%s", j->base, routes ? "/put" : "");
    snprintf(del, sizeof del, "%s%s", j->base, routes ? "/delete" : "");
    const char *order = "{\"dish\": \"soup\"}";

    cw_session *session;
    cw_session_open(&session, NULL);
    //! [methods]
    show("GET", cw_session_get(session, get));
    show("POST", cw_session_post(session, post, order, strlen(order)));
    show("PUT", cw_session_put(session, put, order, strlen(order)));
    show("DELETE", cw_session_delete(session, del));
    //! [methods]
    cw_session_close(session);
    return NULL;
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
    cw_timeline_print(stdout, "Four methods, one after another, over one connection");
    cw_fixture_stop(j.fixture);
    return rc == 0 ? 0 : 1;
}
