/*
 * http_deadline.c -- the timeouts aiohttp has: the total, connect, sock_connect and sock_read
 * deadlines of every request, watched by one libuv timer per session; a request that passes one
 * ends with CW_ETIMEDOUT.
 *
 * Each request waits in the session's heap of deadlines (a binary heap in an array, nearest first)
 * from the moment it is queued until it ends, keyed by the earliest moment any of its deadlines
 * could come (a queued request's sock_connect counted as if it started at once). A deadline that
 * moves later (the request starts late, connects, receives data) leaves the heap alone: when the
 * timer reaches a request early, it looks again and puts it back for the rest. So most requests
 * are put in the heap once and taken out once, and the session's timer is set again only when the
 * nearest deadline changes. One libuv timer per request did the same work in libuv's own heap,
 * whose nodes live in the requests: with 10,000 requests queued, every step down that heap was a
 * cache miss, and it was the dearest thing a request did in libuv.
 */
#include <stdint.h>
#include <stdlib.h>
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
    consider(&d, r->sends == 0, r->queued_at, t->connect_ms, "connect");
    if (r->phase == ACTIVE)
        consider(&d, r->sends == 0, r->started_at, t->sock_connect_ms, "sock_connect");
    else if (r->phase == QUEUED && earliest)
        consider(&d, true, cw__fresh_now(r->session), t->sock_connect_ms, "sock_connect");
    consider(&d, r->sends > 0, r->last_data_at, t->sock_read_ms, "sock_read");
    return d;
}

/* ---- the heap: deadlines[0] has the nearest due_at ---------------------------------------- */

static void place(cw_session *s, int i, request *r)
{
    s->deadlines[i] = r;
    r->deadline_index = i;
}

static void sift_up(cw_session *s, int i)
{
    request *r = s->deadlines[i];
    while (i > 0 && s->deadlines[(i - 1) / 2]->due_at > r->due_at) {
        place(s, i, s->deadlines[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    place(s, i, r);
}

static void sift_down(cw_session *s, int i)
{
    request *r = s->deadlines[i];
    for (;;) {
        int child = 2 * i + 1;
        if (child >= s->n_deadlines)
            break;
        if (child + 1 < s->n_deadlines && s->deadlines[child + 1]->due_at < s->deadlines[child]->due_at)
            child++;
        if (s->deadlines[child]->due_at >= r->due_at)
            break;
        place(s, i, s->deadlines[child]);
        i = child;
    }
    place(s, i, r);
}

/* ---- the session's timer -------------------------------------------------------------------- */

static void timer_fired(uv_timer_t *timer);

/* Set the timer for the nearest deadline, or stop it when there is none (a stopped timer keeps no
 * loop alive). */
static void set_timer(cw_session *s)
{
    uint64_t at = s->n_deadlines > 0 ? s->deadlines[0]->due_at : UINT64_MAX;
    if (at == s->timer_due_at)
        return;
    s->timer_due_at = at;
    if (at == UINT64_MAX) {
        uv_timer_stop(&s->deadline_timer);
    } else {
        uint64_t now = cw__fresh_now(s);
        uv_timer_start(&s->deadline_timer, timer_fired, at > now ? at - now : 0, 0);
    }
}

/* End every request whose deadline has passed; put back those the timer reached early. */
static void timer_fired(uv_timer_t *timer)
{
    cw_session *s = timer->data;
    s->timer_due_at = UINT64_MAX; /* a one-shot timer: whatever comes next must be set again */
    uint64_t now = cw__fresh_now(s);
    while (s->n_deadlines > 0 && s->deadlines[0]->due_at <= now) {
        request *r = s->deadlines[0];
        deadline d = next_deadline(r, false);
        if (d.at <= now) {
            cw__request_end(r, CW_ETIMEDOUT, "%s: %s %s (%s timeout of %lu ms)", cw_strerror(CW_ETIMEDOUT), r->method,
                            r->url, d.kind, d.ms);
        } else {
            r->due_at = next_deadline(r, true).at; /* later than now: it comes back at most once */
            sift_down(s, 0);
        }
    }
    set_timer(s);
}

/* ---- what requests and sessions ask ------------------------------------------------------- */

void cw__deadlines_init(cw_session *s)
{
    uv_timer_init(s->loop, &s->deadline_timer); /* cannot fail: it only fills in the handle */
    s->deadline_timer.data = s;
    s->timer_due_at = UINT64_MAX;
}

int cw__deadline_add(request *r)
{
    cw_session *s = r->session;
    if (s->n_deadlines == s->cap_deadlines) {
        int cap = s->cap_deadlines ? 2 * s->cap_deadlines : 64;
        request **grown = realloc(s->deadlines, cap * sizeof *grown);
        if (!grown)
            return CW_ENOMEM;
        s->deadlines = grown;
        s->cap_deadlines = cap;
    }
    r->due_at = next_deadline(r, true).at;
    place(s, s->n_deadlines++, r);
    sift_up(s, r->deadline_index);
    if (r->deadline_index == 0)
        set_timer(s);
    return 0;
}

void cw__deadline_arm(request *r)
{
    deadline d = next_deadline(r, true);
    if (d.at >= r->due_at)
        return; /* the timer reaches it no later than this deadline, and then looks again */
    r->due_at = d.at;
    sift_up(r->session, r->deadline_index);
    if (r->deadline_index == 0)
        set_timer(r->session);
}

void cw__deadline_remove(request *r)
{
    cw_session *s = r->session;
    int i = r->deadline_index;
    request *last = s->deadlines[--s->n_deadlines];
    if (last != r) {
        place(s, i, last);
        sift_up(s, i);
        sift_down(s, last->deadline_index);
    }
    if (s->n_deadlines == 0)
        set_timer(s); /* else the timer may fire early for the one removed, and find nothing due */
}

int cw__deadline_connected(void *userdata, char *ip, char *local_ip, int port, int local_port)
{
    (void)ip, (void)local_ip, (void)port, (void)local_port;
    request *r = userdata;
    r->sends++;
    r->last_data_at = cw__fresh_now(r->session);
    cw_timeline_start(r->span);
    cw__deadline_arm(r); /* from now on sock_read counts, and the connect deadlines no longer do */
    return CURL_PREREQFUNC_OK;
}
