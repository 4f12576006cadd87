/*
 * exercise.c -- reference solution of exercise 02: the connected-socket
 * manager (enter awaits a connection, exit awaits the close) and a with-block
 * helper that runs exit on every path.
 */
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

static void on_closed(uv_handle_t *handle)
{
    cw_future *closed = handle->data;
    cw_future_resolve(closed, NULL, NULL);
    cw_future_release(closed);
}

int connected_socket_exit(connected_socket *socket)
{
    cw_future *closed = cw_future_new();
    if (closed == NULL)
        return CW_ENOMEM;
    socket->tcp.data = cw_future_retain(closed); /* the callback's own reference */
    uv_close((uv_handle_t *)&socket->tcp, on_closed);
    int rc = cw_await(closed);
    cw_future_release(closed);
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
