/*
 * run_end.c -- what cw_run() closes when its tasks are gone: a list of closers.
 *
 * The runtime must not know the layers built on it (HTTP sessions), yet a
 * program may leave a session open. Each such object registers a closer when
 * it opens (cw__close_at_run_end) and forgets it when it closes; cw_run() calls
 * whatever is left, as libuv's uv_walk() reaches every handle without knowing
 * what it is.
 */
#include <stddef.h>
#include "internal.h"

static _Thread_local cw__closer *closers; /* most recent first */

void cw__close_at_run_end(cw__closer *c)
{
    c->prev = NULL;
    c->next = closers;
    if (closers)
        closers->prev = c;
    closers = c;
}

void cw__closer_forget(cw__closer *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else if (closers == c)
        closers = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

void cw__close_leftovers(void)
{
    while (closers) {
        cw__closer *c = closers;
        cw__closer_forget(c);
        c->close(c);
    }
}
