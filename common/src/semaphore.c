/*
 * semaphore.c -- asyncio.Semaphore: a count, and a first-in first-out line of waiting tasks.
 *
 * Each waiting task awaits a future of its own in the line. A release hands
 * its slot straight to the first waiter still waiting (the count goes down at
 * once, so no later arrival can take the slot first), as in Python 3.11.
 */
#include <stdlib.h>
#include <string.h>
#include "cw_semaphore.h"
#include "cw_task.h"

struct cw_semaphore {
    int value;        /* free slots */
    cw_future **line; /* waiters, oldest first */
    int n_line, cap_line;
};

cw_semaphore *cw_semaphore_new(int value)
{
    if (value < 0)
        return NULL;
    cw_semaphore *s = calloc(1, sizeof *s);
    if (s)
        s->value = value;
    return s;
}

bool cw_semaphore_locked(const cw_semaphore *s)
{
    if (!s)
        return true;
    if (s->value == 0)
        return true;
    for (int i = 0; i < s->n_line; i++) /* a waiter still in line comes first */
        if (cw_future_state(s->line[i]) != CW_CANCELLED)
            return true;
    return false;
}

int cw_semaphore_value(const cw_semaphore *s)
{
    return s ? s->value : 0;
}

/* Hand a slot to the first waiter still waiting. */
static void wake_next(cw_semaphore *s)
{
    for (int i = 0; i < s->n_line; i++) {
        if (!cw_future_done(s->line[i])) {
            s->value--;
            cw_future_resolve(s->line[i], NULL, NULL);
            return;
        }
    }
}

static void leave_line(cw_semaphore *s, cw_future *waiter)
{
    for (int i = 0; i < s->n_line; i++) {
        if (s->line[i] == waiter) {
            memmove(&s->line[i], &s->line[i + 1], (size_t)(s->n_line - i - 1) * sizeof *s->line);
            s->n_line--;
            return;
        }
    }
}

int cw_semaphore_acquire(cw_semaphore *s)
{
    if (!s)
        return CW_EINVAL;
    if (!cw_semaphore_locked(s)) {
        s->value--;
        return 0;
    }
    if (!cw_current_task())
        return CW_ENOTASK;
    if (s->n_line == s->cap_line) {
        int cap = s->cap_line ? 2 * s->cap_line : 8;
        cw_future **bigger = realloc(s->line, (size_t)cap * sizeof *bigger);
        if (!bigger)
            return CW_ENOMEM;
        s->line = bigger;
        s->cap_line = cap;
    }
    cw_future *waiter = cw_future_new();
    if (!waiter)
        return CW_ENOMEM;
    s->line[s->n_line++] = waiter;
    int rc = cw_await(waiter);
    leave_line(s, waiter);
    if (rc == CW_ECANCELLED && cw_future_state(waiter) != CW_CANCELLED) {
        s->value++; /* it was handed a slot, then cancelled before it could use it: pass it on */
        wake_next(s);
    }
    cw_future_release(waiter);
    if (rc < 0)
        return rc;
    if (s->value > 0)
        wake_next(s);
    return 0;
}

int cw_semaphore_release(cw_semaphore *s)
{
    if (!s)
        return CW_EINVAL;
    s->value++;
    wake_next(s);
    return 0;
}

int cw_semaphore_free(cw_semaphore *s)
{
    if (!s)
        return 0;
    if (s->n_line > 0)
        return CW_EPENDING;
    free(s->line);
    free(s);
    return 0;
}
