/*
 * exercise.c -- reference solution of exercise 03: requests through a session
 * passed in, a crawl with one bounded session, and the four methods.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exercise.h"

long fetch_status(cw_session *session, const char *url)
{
    cw_future *request = cw_session_get(session, url);
    if (request == NULL)
        return CW_ENOMEM;
    int rc = cw_await(request);
    long status = rc == 0 ? cw_response_of(request)->status : rc;
    cw_future_release(request);
    return status;
}

int crawl(const char *const *urls, int n, int limit, int limit_per_host, long *statuses)
{
    cw_session_options options = cw_session_options_default();
    options.limit = limit;
    options.limit_per_host = limit_per_host;
    cw_session *session;
    int rc = cw_session_open(&session, &options);
    if (rc < 0)
        return rc;

    cw_future **requests = calloc((size_t)n, sizeof *requests);
    if (requests == NULL) {
        cw_session_close(session);
        return CW_ENOMEM;
    }
    for (int i = 0; i < n; i++) /* all start now; the session queues what is over the limit */
        requests[i] = cw_session_get(session, urls[i]);
    for (int i = 0; i < n; i++) {
        int err = requests[i] ? cw_await(requests[i]) : CW_ENOMEM;
        statuses[i] = err == 0 ? cw_response_of(requests[i])->status : err;
    }
    cw_future_release_all(requests, n);
    free(requests);
    cw_session_close(session);
    return 0;
}

long send_request(cw_session *session, const char *method, const char *url, const char *body, char *out,
                  size_t size)
{
    cw_request request = {
        .method = method,
        .url = url,
        .body = body,
        .body_len = body ? strlen(body) : 0,
    };
    cw_future *f = cw_session_request(session, &request);
    out[0] = '\0';
    if (f == NULL)
        return CW_ENOMEM;
    int rc = cw_await(f);
    long status = rc;
    if (rc == 0) {
        const cw_response *response = cw_response_of(f);
        status = response->status;
        snprintf(out, size, "%s", response->body); /* copy before the release frees it */
    }
    cw_future_release(f);
    return status;
}
