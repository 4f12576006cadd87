/*
 * http_deadline.c -- the timeouts aiohttp has: one uv_timer per request watches the nearest of its
 * total, connect, sock_connect and sock_read deadlines, and ends the request with CW_ETIMEDOUT
 * when one passes.
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

static deadline next_deadline(const request *r)
{
    const cw_timeouts *t = &r->timeouts;
    deadline d = { UINT64_MAX, NULL, 0 };
    consider(&d, true, r->queued_at, t->total_ms, "total");
    consider(&d, !r->connected, r->queued_at, t->connect_ms, "connect");
    consider(&d, !r->connected && r->phase == ACTIVE, r->started_at, t->sock_connect_ms, "sock_connect");
    consider(&d, r->connected, r->last_data_at, t->sock_read_ms, "sock_read");
    return d;
}

/* Data arriving pushes the sock_read deadline back without touching the timer:
 * when the timer fires early, it looks again and sleeps for the rest. */
static void deadline_fired(uv_timer_t *timer)
{
    request *r = timer->data;
    deadline d = next_deadline(r);
    r->armed_for = 0; /* the timer has fired: whatever comes next must be armed again */
    if (d.at <= cw__fresh_now(r->session))
        cw__request_end(r, CW_ETIMEDOUT, "%s: %s %s (%s timeout of %lu ms)", cw_strerror(CW_ETIMEDOUT), r->method,
                        r->url, d.kind, d.ms);
    else
        cw__deadline_arm(r);
}

void cw__deadline_arm(request *r)
{
    deadline d = next_deadline(r);
    if (d.at == r->armed_for)
        return; /* most requests keep one deadline (the total) from start to end */
    r->armed_for = d.at;
    uint64_t now = cw__fresh_now(r->session);
    if (d.at == UINT64_MAX)
        uv_timer_stop(&r->deadline);
    else
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
