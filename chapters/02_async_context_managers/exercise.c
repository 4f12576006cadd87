/*
 * exercise.c -- exercise 02: write the connected-socket manager (enter, exit)
 * and a with-block helper that always runs exit. See exercise.h for the
 * contract, hints.md when stuck, and `make grade CH=02` to check your work.
 */
#include "exercise.h"

int connected_socket_enter(connected_socket *socket, tcp_listener *listener)
{
    /* TODO(02.1): connected_socket_enter() as exercise.h states it. */
    (void)socket;
    (void)listener;
    return CW_EFAILED;
}

int connected_socket_exit(connected_socket *socket)
{
    /* TODO(02.2): connected_socket_exit() as exercise.h states it. Its close callback goes above it. */
    (void)socket;
    return CW_EFAILED;
}

int with_connected_socket(tcp_listener *listener, socket_body_fn body, void *arg)
{
    /* TODO(02.3): with_connected_socket() as exercise.h states it. */
    (void)listener;
    (void)body;
    (void)arg;
    return CW_EFAILED;
}
