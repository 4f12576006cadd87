/*
 * exercise.c -- exercise 04: set timeouts on a request, on a slow stream and
 * on a session. See exercise.h for the contract, hints.md when stuck, and
 * `make grade CH=04` to check your work.
 */
#include "exercise.h"

long fetch_within(cw_session *session, const char *url, unsigned long total_ms)
{
    /* TODO(04.1): send a GET whose cw_request carries its own cw_timeouts
     * with total_ms; return its status or its error. */
    (void)session;
    (void)url;
    (void)total_ms;
    return CW_EFAILED;
}

long fetch_stream(cw_session *session, const char *url, unsigned long gap_ms, unsigned long total_ms)
{
    /* TODO(04.2): the same, with a read timeout of gap_ms (sock_read) and a
     * total of total_ms. */
    (void)session;
    (void)url;
    (void)gap_ms;
    (void)total_ms;
    return CW_EFAILED;
}

int open_impatient_session(cw_session **out, int limit, unsigned long connect_ms)
{
    /* TODO(04.3): open a session with this limit and this connect timeout,
     * keeping the other defaults. */
    (void)out;
    (void)limit;
    (void)connect_ms;
    return CW_EFAILED;
}
