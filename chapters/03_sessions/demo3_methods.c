/*
 * demo3_methods.c -- GET, POST, PUT and DELETE through one session. POST and
 * PUT carry a body; the server answers with JSON saying what it received.
 * Runs against the embedded fixture server, or `--url URL` for a site with
 * the same routes (https://httpbin.org has /get, /post, /put and /delete).
 */
#include <stdio.h>
#include <string.h>
#include "cw.h"
#include "cw_fixture.h"

static void show(const char *what, cw_future *request)
{
    int rc = cw_await(request);
    if (rc == 0)
        printf("%-7s -> %ld %s", what, cw_response_of(request)->status, cw_response_of(request)->body);
    else
        printf("%-7s -> failed: %s\n", what, cw_future_message(request));
    cw_future_release(request);
}

static void *demo(void *arg)
{
    const char *base = arg;
    char get[512], post[512], put[512], del[512];
    snprintf(get, sizeof get, "%s/get", base);
    snprintf(post, sizeof post, "%s/post", base);
    snprintf(put, sizeof put, "%s/put", base);
    snprintf(del, sizeof del, "%s/delete", base);
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
    cw_fixture *fixture;
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &fixture) < 0)
        return 1;
    cw_timeline_enable(true);
    int rc = cw_run(demo, base, NULL);
    printf("\n");
    cw_timeline_print(stdout, "Four methods, one after another, over one connection");
    cw_fixture_stop(fixture);
    return rc == 0 ? 0 : 1;
}
