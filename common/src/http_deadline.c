/*
 * http_deadline.c -- the timeouts aiohttp has: one uv_timer per request watches the nearest of its
 * total, connect, sock_connect and sock_read deadlines, and ends the request with CW_ETIMEDOUT
 * when one passes.
 *
 * The timer is set once for most requests: when the request is queued, for the earliest moment any
 * of its deadlines could come (sock_connect counted as if it started at once). A deadline that moves
 * later (the request starts late, connects, receives data) leaves the timer alone; when it fires
 * early it looks again and sleeps for the rest. Setting a libuv timer again costs a remove and an
 * insert in the loop's heap of timers, which holds one timer per queued request: with 10,000 queued,
 * that was the dearest thing a request did in libuv.
 */
#include <stdint.h>
#include "cw_timeline.h"
#include "http.h"

typedef struct deadline {
    uint64_t at;
    const char *kind;
    unsigned long ms;
} deadline;

/* A timeout so long that since + ms would pass the end of the clock (say (unsigned long)-1) never fires. */
static void consider(deadline *d, bool applies, uint64_t since, unsigned long ms, const char *kind)
{
    if (applies && ms && ms < UINT64_MAX - since && since + ms < d->at)
        *d = (deadline){ since + ms, kind, ms };
}

/* The nearest deadline that applies now; with @p earliest, the nearest that may yet apply, which is
 * never later: a queued request's sock_connect counts from now, the earliest it can start. */
static deadline next_deadline(const request *r, bool earliest)
{
    const cw_timeouts *t = &r->timeouts;
    deadline d = { UINT64_MAX, NULL, 0 };
    consider(&d, true, r->queued_at, t->total_ms, "total");
    consider(&d, !r->connected, r->queued_at, t->connect_ms, "connect");
    if (r->phase == ACTIVE)
        consider(&d, !r->connected, r->started_at, t->sock_connect_ms, "sock_connect");
    else if (r->phase == QUEUED && earliest)
        consider(&d, true, cw__fresh_now(r->session), t->sock_connect_ms, "sock_connect");
    consider(&d, r->connected, r->last_data_at, t->sock_read_ms, "sock_read");
    return d;
}

static void deadline_fired(uv_timer_t *timer)
{
    request *r = timer->data;
    deadline d = next_deadline(r, false);
    r->armed_for = 0; /* the timer has fired: whatever comes next must be armed again */
    if (d.at <= cw__fresh_now(r->session))
        cw__request_end(r, CW_ETIMEDOUT, "%s: %s %s (%s timeout of %lu ms)", cw_strerror(CW_ETIMEDOUT), r->method,
                        r->url, d.kind, d.ms);
    else
        cw__deadline_arm(r);
}

void cw__deadline_arm(request *r)
{
    deadline d = next_deadline(r, true);
    if (d.at == UINT64_MAX || (r->armed_for && r->armed_for <= d.at))
        return; /* no deadline, or the timer fires no later than this one: then it looks again */
    r->armed_for = d.at;
    uint64_t now = cw__fresh_now(r->session);
    uv_timer_start(&r->deadline, deadline_fired, d.at > now ? d.at - now : 0, 0);
}

int cw__deadline_connected(void *userdata, char *ip, char *local_ip, int port, int local_port)
{
    (void)ip, (void)local_ip, (void)port, (void)local_port;
    request *r = userdata;
    r->connected = true;
    r->last_data_at = cw__fresh_now(r->session);
    cw_timeline_start(r->span);
    cw__deadline_arm(r); /* from now on sock_read counts, and the connect deadlines no longer do */
    return CURL_PREREQFUNC_OK;
}
