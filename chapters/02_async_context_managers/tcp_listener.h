/**
 * @file tcp_listener.h
 * @brief Given code for exercise 02: a TCP server on 127.0.0.1 that waits to be asked to accept.
 *
 * The listener never accepts by itself. When a client connects, libuv calls
 * tcp_listener_on_connection(), which counts the connection in `pending` and
 * wakes the future in `waiting`, if a task put one there. Accepting the
 * connection (uv_accept()) is the job of the connected-socket manager that
 * exercise.c builds. libuv holds at most one unaccepted connection and stops
 * listening until it is accepted, so `pending` is 0 or 1.
 *
 * Everything here runs on the running loop, cw_loop(), inside a task.
 */
#ifndef TCP_LISTENER_H
#define TCP_LISTENER_H

#include <netinet/in.h>
#include <uv.h>
#include "cw.h"

/** A listening TCP socket on the running loop. */
typedef struct tcp_listener {
    uv_tcp_t tcp;       /**< the listening socket; tcp.data points back to the listener */
    int port;           /**< the loopback port it listens on */
    int pending;        /**< connections that arrived and wait to be accepted */
    cw_future *waiting; /**< set by a task that awaits a connection; resolved when one arrives */
} tcp_listener;

/** @brief libuv's connection callback: count the connection and wake the waiting task, if any. */
static inline void tcp_listener_on_connection(uv_stream_t *server, int status)
{
    tcp_listener *listener = server->data;
    if (status == 0)
        listener->pending++;
    if (listener->waiting == NULL)
        return;
    if (status == 0)
        cw_future_resolve(listener->waiting, NULL, NULL);
    else
        cw_future_fail(listener->waiting, CW_EFAILED, "incoming connection failed: %s", uv_strerror(status));
}

/**
 * @brief Listen on 127.0.0.1 on a free port, on the running loop.
 * @param listener the listener to set up; its port is filled in.
 * @return 0, CW_ENOTASK outside cw_run(), or CW_EFAILED when the socket could not listen.
 */
static inline int tcp_listener_open(tcp_listener *listener)
{
    uv_loop_t *loop = cw_loop();
    if (loop == NULL)
        return CW_ENOTASK;
    *listener = (tcp_listener){ .port = 0 };
    uv_tcp_init(loop, &listener->tcp);
    listener->tcp.data = listener;

    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    int rc = uv_tcp_bind(&listener->tcp, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&listener->tcp, 16, tcp_listener_on_connection);
    int len = sizeof addr;
    if (rc == 0)
        rc = uv_tcp_getsockname(&listener->tcp, (struct sockaddr *)&addr, &len);
    if (rc < 0) {
        uv_close((uv_handle_t *)&listener->tcp, NULL); /* nothing to await: nothing ever ran on it */
        return CW_EFAILED;
    }
    listener->port = ntohs(addr.sin_port);
    return 0;
}

/** @brief The close callback of tcp_listener_close(): the handle is gone, wake the closer. */
static inline void tcp_listener_on_closed(uv_handle_t *handle)
{
    cw_future *closed = ((tcp_listener *)handle->data)->waiting;
    cw_future_resolve(closed, NULL, NULL);
    cw_future_release(closed);
}

/**
 * @brief Stop listening and wait until the socket is closed (awaited; call it in a task).
 * @param listener a listener opened with tcp_listener_open().
 * @return 0, or CW_ECANCELLED when the calling task was cancelled meanwhile.
 */
static inline int tcp_listener_close(tcp_listener *listener)
{
    cw_future *closed = cw_future_new();
    listener->waiting = cw_future_retain(closed); /* the close callback's own reference */
    uv_close((uv_handle_t *)&listener->tcp, tcp_listener_on_closed);
    int rc = cw_await(closed);
    cw_future_release(closed);
    return rc;
}

#endif
