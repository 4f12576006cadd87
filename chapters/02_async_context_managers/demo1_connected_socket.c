/*
 * demo1_connected_socket.c -- an asynchronous context manager by hand: enter
 * awaits a connection on a loopback TCP server, the body receives the request,
 * exit closes the connection and awaits the close. Three runs show exit on
 * every path: the body answers, the body refuses (an error), and the task is
 * cancelled while the body waits. The client is an HTTP request from a session
 * on the same loop, so the whole program is one thread. (It serves itself: no
 * fixture server, and --url has nothing to do here.)
 */
#include <stdio.h>
#include <string.h>
#include <uv.h>
#include "cw.h"

//! [listener]
/* A listening socket that accepts nothing by itself: it wakes whoever waits. */
typedef struct listener {
    uv_tcp_t tcp;
    int pending;        /* connections waiting for uv_accept() */
    cw_future *waiting; /* the future a task awaits until a connection arrives */
} listener;

static void on_connection(uv_stream_t *server, int status)
{
    listener *l = server->data;
    if (status == 0)
        l->pending++;
    if (l->waiting != NULL && status == 0)
        cw_future_resolve(l->waiting, NULL, NULL); /* wakes the task in enter */
}
//! [listener]

typedef struct connected_socket {
    uv_tcp_t tcp;
    cw_future *reading; /* resolved by on_read */
    ssize_t received;
    char buffer[1024];
    cw_future *closing; /* resolved by on_closed */
} connected_socket;

//! [enter]
/* __aenter__: await a connection, then accept it. */
static int connected_socket_enter(connected_socket *s, listener *l)
{
    printf("  server: enter, waiting for a connection\n");
    while (l->pending == 0) {
        l->waiting = cw_future_new();
        int rc = cw_await(l->waiting);       /* the loop runs other tasks meanwhile */
        cw_future_release(l->waiting);
        l->waiting = NULL;
        if (rc < 0)
            return rc;                       /* cancelled: nothing acquired, nothing to exit */
    }
    l->pending--;
    uv_tcp_init(cw_loop(), &s->tcp);
    s->tcp.data = s;
    uv_accept((uv_stream_t *)&l->tcp, (uv_stream_t *)&s->tcp);
    printf("  server: accepted a connection\n");
    return 0;
}
//! [enter]

//! [recv]
static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    connected_socket *s = handle->data;
    (void)suggested;
    *buf = uv_buf_init(s->buffer, sizeof s->buffer - 1);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    connected_socket *s = stream->data;
    (void)buf;
    if (nread == 0)
        return;                              /* nothing this time: keep waiting */
    uv_read_stop(stream);
    s->received = nread;
    if (nread > 0)
        cw_future_resolve(s->reading, NULL, NULL);
    else
        cw_future_fail(s->reading, CW_ECONNRESET, "%s", uv_strerror((int)nread));
}

/* The body's `await loop.sock_recv(connection, 1024)`: one chunk of data. */
static ssize_t connected_socket_recv(connected_socket *s)
{
    s->reading = cw_future_new();
    uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
    int rc = cw_await(s->reading);
    if (rc < 0)
        uv_read_stop((uv_stream_t *)&s->tcp); /* cancelled: stop before the future goes */
    cw_future_release(s->reading);
    s->reading = NULL;
    if (rc < 0)
        return rc;
    s->buffer[s->received] = '\0';
    return s->received;
}
//! [recv]

//! [exit]
static void on_closed(uv_handle_t *handle)
{
    connected_socket *s = handle->data;
    cw_future_resolve(s->closing, NULL, NULL);
    cw_future_release(s->closing);           /* the callback's own reference */
}

/* __aexit__: close the connection, and await the close itself. */
static int connected_socket_exit(connected_socket *s)
{
    printf("  server: exit, closing the connection\n");
    cw_future *closed = cw_future_new();
    s->closing = cw_future_retain(closed);
    uv_close((uv_handle_t *)&s->tcp, on_closed);
    int rc = cw_await(closed);               /* until then, libuv still uses s->tcp */
    cw_future_release(closed);
    printf("  server: connection closed\n");
    return rc;
}
//! [exit]

typedef enum path { ANSWER, REFUSE, WAIT_FOREVER } path;
typedef struct server_job {
    listener *listener;
    path path;
} server_job;

//! [serve]
static int serve_one(listener *l, path how)
{
    connected_socket s;
    int rc = connected_socket_enter(&s, l);
    if (rc < 0)
        return rc;                           /* not entered: no exit either */

    ssize_t n = connected_socket_recv(&s);
    if (n < 0) {
        rc = (int)n;
        goto exit;                           /* reset or cancelled: exit all the same */
    }
    printf("  server: received \"%.*s\"\n", (int)strcspn(s.buffer, "\r\n"), s.buffer);
    if (how == REFUSE) {
        rc = CW_EHTTP;
        goto exit;                           /* an early return goes through exit too */
    }
    if (how == WAIT_FOREVER) {
        rc = (int)connected_socket_recv(&s); /* nothing more will come; cancel ends this */
        goto exit;
    }
    static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n";
    uv_buf_t buf = uv_buf_init((char *)reply, sizeof reply - 1);
    uv_try_write((uv_stream_t *)&s.tcp, &buf, 1); /* a few bytes fit in the socket at once */

exit:
    connected_socket_exit(&s);
    return rc;
}
//! [serve]

static void *server_task(void *arg)
{
    server_job *job = arg;
    int rc = serve_one(job->listener, job->path);
    printf("  server: serve_one returned %s\n", cw_error_name(rc));
    return NULL;
}

static int run_path(cw_session *session, listener *l, const char *url, path how, const char *title)
{
    printf("\n-- %s\n", title);
    server_job job = { l, how };
    static const char *const names[] = { [ANSWER] = "server: answers", [REFUSE] = "server: refuses",
                                          [WAIT_FOREVER] = "server: waits" }; /* its row in the timeline */
    cw_future *server = cw_spawn_named(server_task, &job, names[how]);
    cw_future *request = cw_session_get(session, url);
    if (how == WAIT_FOREVER) {
        cw_sleep(300);
        printf("  main: cancelling the server task\n");
        cw_future_cancel(server);
    }
    cw_await(server);
    int rc = cw_await(request);
    if (rc == 0)
        printf("  client: %ld %s", cw_response_of(request)->status, cw_response_of(request)->body);
    else
        printf("  client: no response (%s: %s)\n", cw_error_name(rc), cw_future_message(request));
    cw_future_release(request);
    cw_future_release(server);
    return 0;
}

static void on_listener_closed(uv_handle_t *handle)
{
    listener *l = handle->data;
    cw_future_resolve(l->waiting, NULL, NULL);
}

static void *demo(void *arg)
{
    (void)arg;
    listener l = { .pending = 0 };
    struct sockaddr_in addr;
    int len = sizeof addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_init(cw_loop(), &l.tcp);
    l.tcp.data = &l;
    if (uv_tcp_bind(&l.tcp, (struct sockaddr *)&addr, 0) < 0 ||
        uv_listen((uv_stream_t *)&l.tcp, 16, on_connection) < 0 ||
        uv_tcp_getsockname(&l.tcp, (struct sockaddr *)&addr, &len) < 0)
        return cw_fail(CW_EFAILED, "could not listen on 127.0.0.1");
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hello", ntohs(addr.sin_port));
    printf("Serving %s, one connection per run\n", url);

    cw_session *session;
    cw_session_open(&session, NULL);
    run_path(session, &l, url, ANSWER, "run 1: the body answers");
    run_path(session, &l, url, REFUSE, "run 2: the body refuses (returns an error early)");
    run_path(session, &l, url, WAIT_FOREVER, "run 3: the task is cancelled while the body waits");
    cw_session_close(session);

    l.waiting = cw_future_new();
    uv_close((uv_handle_t *)&l.tcp, on_listener_closed);
    cw_await(l.waiting);
    cw_future_release(l.waiting);
    return NULL;
}

int main(void)
{
    cw_timeline_enable(true);
    int rc = cw_run(demo, NULL, NULL);
    printf("\n");
    cw_timeline_print(stdout, "Three connections; exit ran on every path");
    return rc == 0 ? 0 : 1;
}
