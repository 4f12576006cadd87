/*
 * timeout.c -- timeout scopes (asyncio.timeout): a timer that cancels the task, and an exit
 * that turns that cancellation, and only that one, into CW_ETIMEDOUT.
 *
 * The timer is a timer future with one done callback, expire(). Moving the
 * deadline replaces the timer. Exit stops it and, when the scope expired,
 * takes its cancellation request back (cw_task_uncancel()): a count of 0 left
 * means nobody else wants the task cancelled, so the cancellation the body
 * saw was this scope's own.
 */
#include <stdlib.h>
#include "cw_task.h"
#include "cw_timeout.h"
#include "internal.h"

typedef enum { ENTERED, EXPIRING } scope_state; /* exit frees the scope */

struct cw_timeout {
    cw_future *task;  /* the task that entered the scope (our reference) */
    cw_future *timer; /* pending while a deadline is set, else NULL */
    uint64_t when_us; /* the deadline, or CW_NO_TIMEOUT */
    scope_state state;
};

static void expire(cw_future *timer, void *arg)
{
    cw_timeout *s = arg;
    (void)timer;
    cw_future_release(s->timer);
    s->timer = NULL;
    s->state = EXPIRING;
    cw_future_cancel(s->task);
}

static void stop_timer(cw_timeout *s)
{
    if (!s->timer)
        return;
    cw_future_remove_done(s->timer, expire, s);
    cw_future_cancel(s->timer);
    cw_future_release(s->timer);
    s->timer = NULL;
}

/* Replace the timer by one that fires at when_us (none for CW_NO_TIMEOUT). */
static int arm(cw_timeout *s, uint64_t when_us)
{
    stop_timer(s);
    s->when_us = when_us;
    if (when_us == CW_NO_TIMEOUT)
        return 0;
    uint64_t now = cw_now_us();
    uint64_t ms = when_us > now ? (when_us - now + 999) / 1000 : 0;
    s->timer = cw__timer_future(ms);
    if (!s->timer)
        return CW_ENOMEM;
    if (cw_future_on_done(s->timer, expire, s) < 0) {
        stop_timer(s);
        return CW_ENOMEM;
    }
    return 0;
}

int cw_timeout_enter_at(cw_timeout **scope, uint64_t deadline_us)
{
    if (!scope)
        return CW_EINVAL;
    *scope = NULL;
    cw_future *task = cw_current_task();
    if (!task)
        return CW_ENOTASK;
    cw_timeout *s = calloc(1, sizeof *s);
    if (!s)
        return CW_ENOMEM;
    s->task = cw_future_retain(task);
    s->state = ENTERED;
    if (arm(s, deadline_us) < 0) {
        cw_future_release(s->task);
        free(s);
        return CW_ENOMEM;
    }
    *scope = s;
    return 0;
}

/* Microseconds from now, saturating at CW_NO_TIMEOUT. */
static uint64_t deadline_in(uint64_t delay_ms)
{
    if (delay_ms == CW_NO_TIMEOUT || delay_ms > (CW_NO_TIMEOUT - cw_now_us()) / 1000)
        return CW_NO_TIMEOUT;
    return cw_now_us() + delay_ms * 1000;
}

int cw_timeout_enter(cw_timeout **scope, uint64_t delay_ms)
{
    return cw_timeout_enter_at(scope, deadline_in(delay_ms));
}

int cw_timeout_reschedule(cw_timeout *s, uint64_t delay_ms)
{
    if (!s || s->state != ENTERED)
        return CW_EINVAL;
    return arm(s, deadline_in(delay_ms));
}

uint64_t cw_timeout_when(const cw_timeout *s)
{
    return s ? s->when_us : CW_NO_TIMEOUT;
}

bool cw_timeout_expired(const cw_timeout *s)
{
    return s && s->state == EXPIRING;
}

int cw_timeout_exit(cw_timeout *s, int body_rc)
{
    if (!s || cw_current_task() != s->task)
        return CW_EINVAL;
    stop_timer(s);
    int rc = body_rc;
    if (s->state == EXPIRING && cw_task_uncancel(s->task) == 0 && body_rc == CW_ECANCELLED)
        rc = CW_ETIMEDOUT;
    cw_future_release(s->task);
    free(s);
    return rc;
}
