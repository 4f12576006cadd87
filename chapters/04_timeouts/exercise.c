/*
 * exercise.c -- exercise 04: set timeouts on a request, on a slow stream and
 * on a session. See exercise.h for the contract, hints.md when stuck, and
 * `make grade CH=04` to check your work.
 */
#include "exercise.h"

long fetch_within(cw_session *session, const char *url, unsigned long total_ms)
{
    /* TODO(04.1): fetch_within() as exercise.h states it. */
    (void)session;
    (void)url;
    (void)total_ms;
    return CW_EFAILED;
}

long fetch_stream(cw_session *session, const char *url, unsigned long gap_ms, unsigned long total_ms)
{
    /* TODO(04.2): fetch_stream() as exercise.h states it. */
    (void)session;
    (void)url;
    (void)gap_ms;
    (void)total_ms;
    return CW_EFAILED;
}

int open_impatient_session(cw_session **out, int limit, unsigned long connect_ms)
{
    /* TODO(04.3): open_impatient_session() as exercise.h states it. */
    (void)out;
    (void)limit;
    (void)connect_ms;
    return CW_EFAILED;
}
