/*
 * exercise.c -- reference solution of exercise 04: a request-level total
 * timeout, a read timeout with a total, and a session with a connect timeout.
 */
#include "exercise.h"

/* GET url with these timeouts in place of the session's. */
static long fetch_with(cw_session *session, const char *url, const cw_timeouts *timeouts)
{
    cw_request request = { .url = url, .timeouts = timeouts };
    cw_future *f = cw_session_request(session, &request);
    if (f == NULL)
        return CW_ENOMEM;
    int rc = cw_await(f);
    long status = rc == 0 ? cw_response_of(f)->status : rc;
    cw_future_release(f);
    return status;
}

long fetch_within(cw_session *session, const char *url, unsigned long total_ms)
{
    cw_timeouts timeouts = { .total_ms = total_ms };
    return fetch_with(session, url, &timeouts);
}

long fetch_stream(cw_session *session, const char *url, unsigned long gap_ms, unsigned long total_ms)
{
    cw_timeouts timeouts = { .total_ms = total_ms, .sock_read_ms = gap_ms };
    return fetch_with(session, url, &timeouts);
}

int open_impatient_session(cw_session **out, int limit, unsigned long connect_ms)
{
    cw_session_options options = cw_session_options_default();
    options.limit = limit;
    options.timeouts.connect_ms = connect_ms; /* pool wait + connect; total stays 5 minutes */
    return cw_session_open(out, &options);
}
