/*
 * exercise.c -- exercise 02: write the connected-socket manager (enter, exit)
 * and a with-block helper that always runs exit. See exercise.h for the
 * contract, hints.md when stuck, and `make grade CH=02` to check your work.
 */
#include "exercise.h"

int connected_socket_enter(connected_socket *socket, tcp_listener *listener)
{
    /* TODO(02.1): while no connection is pending, await a fresh future placed in
     * listener->waiting (clear it again afterwards); then uv_tcp_init() the
     * socket on cw_loop() and uv_accept() the connection into it. */
    (void)socket;
    (void)listener;
    return CW_EFAILED;
}

int connected_socket_exit(connected_socket *socket)
{
    /* TODO(02.2): uv_close() the connection with a close callback that resolves
     * a future, and await that future. */
    (void)socket;
    return CW_EFAILED;
}

int with_connected_socket(tcp_listener *listener, socket_body_fn body, void *arg)
{
    /* TODO(02.3): enter; if that failed, return its error. Run the body, then
     * exit whatever the body returned, and return the first error. */
    (void)listener;
    (void)body;
    (void)arg;
    return CW_EFAILED;
}
