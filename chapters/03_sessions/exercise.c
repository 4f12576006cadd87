/*
 * exercise.c -- exercise 03: make requests through a session you are given,
 * crawl with one bounded session, and send GET/POST/PUT/DELETE. See
 * exercise.h for the contract, hints.md when stuck, and `make grade CH=03`.
 */
#include "exercise.h"

long fetch_status(cw_session *session, const char *url)
{
    /* TODO(03.1): fetch_status() as exercise.h states it. */
    (void)session;
    (void)url;
    return CW_EFAILED;
}

int crawl(const char *const *urls, int n, int limit, int limit_per_host, long *statuses)
{
    /* TODO(03.2): crawl() as exercise.h states it. */
    (void)urls;
    (void)n;
    (void)limit;
    (void)limit_per_host;
    (void)statuses;
    return CW_EFAILED;
}

long send_request(cw_session *session, const char *method, const char *url, const char *body, char *out,
                  size_t size)
{
    /* TODO(03.3): send_request() as exercise.h states it. */
    (void)session;
    (void)method;
    (void)url;
    (void)body;
    if (size > 0)
        out[0] = '\0';
    return CW_EFAILED;
}
