/*
 * exercise.c -- reference solution of exercise 02: the connected-socket
 * manager (enter awaits a connection, exit awaits the close) and a with-block
 * helper that runs exit on every path.
 */
#include <stdbool.h>
#include "exercise.h"

int connected_socket_enter(connected_socket *socket, tcp_listener *listener)
{
    while (listener->pending == 0) {
        cw_future *incoming = cw_future_new();
        if (incoming == NULL)
            return CW_ENOMEM;
        listener->waiting = incoming;
        int rc = cw_await(incoming);
        listener->waiting = NULL; /* the listener must never wake a future we gave back */
        cw_future_release(incoming);
        if (rc < 0)
            return rc; /* cancelled or failed before anything was acquired */
    }
    listener->pending--;
    uv_tcp_init(cw_loop(), &socket->tcp);
    if (uv_accept((uv_stream_t *)&listener->tcp, (uv_stream_t *)&socket->tcp) < 0) {
        connected_socket_exit(socket); /* the handle exists: it must be closed all the same */
        return CW_EFAILED;
    }
    return 0;
}

/* What exit waits on: the close callback sets closed, and wakes the future exit awaits (if any). */
typedef struct closing {
    bool closed;
    cw_future *wakeup;
} closing;

static void on_closed(uv_handle_t *handle)
{
    closing *c = handle->data;
    c->closed = true;
    if (c->wakeup)
        cw_future_resolve(c->wakeup, NULL, NULL);
}

int connected_socket_exit(connected_socket *socket)
{
    closing c = { .closed = false };
    socket->tcp.data = &c;
    uv_close((uv_handle_t *)&socket->tcp, on_closed);
    /* libuv owns the handle (and c is on this stack) until on_closed has run: wait for it even when
     * cancelled meanwhile. A cancelled await cancels its future, so each round awaits a fresh one. */
    int rc = 0;
    while (!c.closed) {
        c.wakeup = cw_future_new();
        int woke = c.wakeup ? cw_await(c.wakeup) : cw_sleep(1); /* out of memory: look again soon */
        if (woke == CW_ECANCELLED)
            rc = CW_ECANCELLED;
        cw_future_release(c.wakeup);
        c.wakeup = NULL;
    }
    return rc;
}

int with_connected_socket(tcp_listener *listener, socket_body_fn body, void *arg)
{
    connected_socket socket;
    int rc = connected_socket_enter(&socket, listener);
    if (rc < 0)
        return rc; /* nothing was entered, so there is nothing to exit */
    rc = body(&socket, arg);
    int closed = connected_socket_exit(&socket);
    return rc < 0 ? rc : closed;
}
