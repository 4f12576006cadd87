/*
 * server.h -- what the fixture server's files share (internal).
 *
 * The server is four files, one job each:
 *   fixture.c     the server: its thread and loop, the listener, the counters, start and stop;
 *   connection.c  one connection: read, answer in order, write, drain, close;
 *   parse.c       one request, read with http-parser (limits checked, route decided);
 *   routes.c      what each path answers: one table of {path pattern, methods, handler}.
 * (site.c is one entry of that table: the generated site under /site.)
 */
#ifndef CW_SERVER_H
#define CW_SERVER_H

#include <http_parser.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "cw_fixture.h"

#define CW__HIDDEN __attribute__((visibility("hidden")))

enum {
    BACKLOG = 4096,               /* the kernel caps it at net.core.somaxconn */
    HEADER_LIMIT = 16 * 1024,     /* a larger header section gets 431 */
    BODY_LIMIT = 8 * 1024 * 1024, /* a larger body gets 413 */
    REQUEST_TIMEOUT_MS = 10000,   /* a client that has not sent its whole request by then is dropped */
    LINGER_MS = 2000,             /* after a final answer, read until EOF for this long */
    URL_MAX = 2048,               /* a longer URL gets 414 */
    PENDING_LIMIT = 1024 * 1024,  /* stop reading when this much waits behind a slow answer */
    OUTPUT_LIMIT = 1024 * 1024,   /* stop reading when this much of the answers waits to be sent */
    REUSE_RESET_MS = 50,          /* /reset_on_reuse: how long the next request waits for its reset */
    BYTES_MAX = 64 * 1024 * 1024, /* /bytes/{n} */
    DELAY_MAX_MS = 600000,        /* /delay/{ms} and /drip duration */
    DRIP_MAX = 100000,            /* /drip bytes */
    PATTERN_SIZE = 26 * 2520,     /* /bytes body chunk: the alphabet, repeated */
    CLOSE_SENT = 16,              /* /close sends this much of the body it announces */
};

typedef struct conn conn;
typedef struct cw__route cw__route;

struct cw_fixture {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t stopper;
    uv_thread_t thread;
    int port;
    conn *conns; /* every open connection, to close them at stop */
    atomic_long accepted, open, max_open, requests;
    atomic_uint connect_cost_ms; /* cw_fixture_set_connect_cost(): a handshake's price */
    char read_buf[64 * 1024];    /* shared: the loop reads one stream at a time */
};

/* Where a connection is. Each state but READING ends reading requests until it changes back. */
typedef enum conn_state {
    CONN_READING,   /* free: parse and answer the next request */
    CONN_ANSWERING, /* an answer is in progress: input waits in pending */
    CONN_STALLED,   /* /stall: never answer; input is discarded */
    CONN_DRAINING,  /* the final answer is queued: FIN sent, input discarded until EOF */
    CONN_CLOSING,   /* uv_close called */
} conn_state;

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer; /* in turn: the request timeout, /delay, /drip, the lingering close */
    uv_shutdown_t shutdown;
    http_parser parser;
    cw_fixture *fx;
    conn *prev, *next;
    int handles; /* close callbacks still to come before free */
    conn_state state;
    bool reading;        /* uv_read_start is on */
    bool peer_done;      /* EOF from the client: answer what it sent, then close */
    bool reset_on_reuse; /* /reset_on_reuse was answered: reset at the next request */
    char *pending;       /* input that arrived while an answer was in progress */
    size_t pending_len, pending_cap;

    /* The request being parsed or answered. */
    const cw__route *route; /* decided when its headers are complete; NULL: none */
    bool keep_alive;
    bool head_only;     /* HEAD: headers without the body */
    bool field_is_type; /* the header being read is Content-Type */
    bool last_was_value;
    int reject; /* status to answer instead of the route (413, 414, 431) */
    size_t head_bytes;
    long arg, arg2; /* a route's numbers (/delay/{ms}, /drip?bytes=&duration_ms=) */
    long drip_sent;
    uint64_t drip_start;
    char *body;
    size_t body_len, body_cap;
    size_t url_len, field_len, type_len;
    char field[16];
    char content_type[128];
    char url[URL_MAX];
};

/* What a handler did: answered now, or the answer comes later (a timer's) or never. */
typedef enum cw__answered { CW__ANSWERED_NOW, CW__ANSWERED_LATER } cw__answered;

/* One route: a path pattern, the methods it takes, and what answers it. */
struct cw__route {
    const char *path; /* exact, or with PREFIX the path's start, with SUBTREE it or under it */
    enum { EXACT, PREFIX, SUBTREE } match;
    unsigned methods; /* a set of ROUTE_GET...: others get 405 with an Allow header */
    cw__answered (*answer)(conn *c);
    bool keeps_body;  /* the handler reads the request body */
    bool not_counted; /* /stats: looking does not change the counters */
};
enum {
    ROUTE_GET = 1,
    ROUTE_HEAD = 2,
    ROUTE_POST = 4,
    ROUTE_PUT = 8,
    ROUTE_PATCH = 16,
    ROUTE_DELETE = 32,
    ROUTE_OTHER = 64,
    ROUTE_ANY = 127
};

/* /bytes, /drip and /close: the alphabet, repeated (fixture.c fills it). */
extern char cw__pattern[PATTERN_SIZE] CW__HIDDEN;

/* ---- parse.c ---- */

/* The parser's callbacks; they fill in the request part of a conn. */
extern const http_parser_settings cw__parser_settings CW__HIDDEN;

/* ---- connection.c ---- */

/* The connection's timer callback while a request is being read: too slow, dropped. */
CW__HIDDEN void cw__conn_request_timeout(uv_timer_t *timer);

/* Accept a connection on the listener (its connection callback). */
CW__HIDDEN void cw__conn_accept(uv_stream_t *listener, int status);
/* Close every connection (at stop). */
CW__HIDDEN void cw__conn_close_all(cw_fixture *fx);
/* Send @p bufs in order; the first @p ncopy are copied should they have to wait. */
CW__HIDDEN void cw__conn_send(conn *c, uv_buf_t *bufs, unsigned nbufs, unsigned ncopy);
/* The status line and headers of an answer, into @p out; a body length < 0 sends no Content-Length.
 * Every answer starts here, and so here it is counted. */
CW__HIDDEN size_t cw__conn_head(conn *c, char *out, size_t size, int status, const char *type, long long body_len,
                                const char *extra);
/* A whole answer: head and (unless HEAD) body; @p extra: more header lines, or NULL. */
CW__HIDDEN void cw__conn_respond(conn *c, int status, const char *type, const char *body, size_t len,
                                 const char *extra);
CW__HIDDEN void cw__conn_respond_text(conn *c, int status, const char *text);
/* An answer that came later (from a timer) is handed to libuv: go on with the next request. */
CW__HIDDEN void cw__conn_answered_later(conn *c);
/* A request answered with a reset (RST) instead of an answer. */
CW__HIDDEN void cw__conn_reset(conn *c);
/* A request counted as answered without a head (a reset is its answer). */
CW__HIDDEN void cw__conn_count(conn *c);

/* ---- routes.c ---- */

/* The route of @p path (@p len bytes, no query), or NULL: 404. */
CW__HIDDEN const cw__route *cw__route_find(const char *path, size_t len);
/* Answer the request just parsed on its route (405 for a method it does not take). */
CW__HIDDEN cw__answered cw__route_answer(conn *c);

#endif
