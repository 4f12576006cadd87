/*
 * interp.c -- run the scenarios of tests/diff on the C library and print their canonical traces.
 *
 *     interp FILE [--parallel K]
 *
 * The same scenario language as asyncio_run.py (see README.md), the same trace: one block per
 * scenario, "=== ID", then lines "STEP WHO WHAT" sorted. Every statement maps to one library call:
 *
 *   spawn t1            cw_spawn_named()          cancel h [msg]     cw_future_cancel(_msg)()
 *   sleep 3             cw_sleep(3 * unit)        await h            cw_await()
 *   return 7 / fail E2  the task's result / cw_fail()
 *   gather g rex a b    cw_gather()               wait first 4 a b   cw_wait()
 *   as_completed 4 a b  cw_as_completed_new() and _next() once per future
 *   session ... / get r a delay:2 ...   cw_session_open() / cw_session_request(), against fixture
 *                       servers started in this process (cw_fixture.h), two per scenario of a wave
 *   send r a PUT x redirect:301        cw_session_request() with a method and a body
 *
 *   group G 2 a b       cw_task_group_enter(), _spawn() of a and b, cw_sleep(2 * unit), _exit()
 *   timeout 4 STMT      cw_timeout_enter(4 * unit), STMT, cw_timeout_exit()
 *
 * K scenarios run at once inside one cw_run(), each timing its lines from its own start.
 * Optional parts of the language (features=...) are compiled in when the library has them:
 * HAVE_CANCEL_MSG (cw_future_cancel_msg), HAVE_UNCANCEL (cw_task_cancelling/uncancel),
 * HAVE_FAILED_CHILD (cw_gather_failed_child) and CW_NO_TIMEOUT (timeout 0 means "look once").
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cw.h"
#include "cw_fixture.h"

#define MAX_WORDS 40
#define MAX_HANDLES 64

#ifdef CW_NO_TIMEOUT
#define NO_TIMEOUT CW_NO_TIMEOUT
#else
#define NO_TIMEOUT 0 /* before CW_NO_TIMEOUT, 0 meant "none" */
#endif

typedef struct stmt {
    int n;
    char *w[MAX_WORDS];
} stmt;

typedef struct body {
    char *name;
    stmt *stmts, *handler;
    int n_stmts, n_handler;
    bool has_handler;
} body;

struct scenario;

typedef struct handle {
    struct scenario *sc;
    const char *name;
    cw_future *f;
    int n_children; /* a gather's; TASK or REQUEST for the others */
    bool echo;      /* a send: its value is what /anything saw */
} handle;

enum { TASK = -1, REQUEST = -2 };

typedef struct scenario {
    int id;
    long unit_ms;
    bool msg;
    body bodies[MAX_HANDLES]; /* bodies[0] is main */
    int n_bodies;
    handle handles[MAX_HANDLES];
    int n_handles;
    char **trace;
    int n_trace, cap_trace;
    uint64_t t0;
    /* HTTP scenarios: two fixture servers (two hosts), a port whose connects hang, the session. */
    bool http;
    cw_fixture *servers[2];
    int hole_port;
    bool pooled; /* limit or limit_per_host set */
    cw_session *session;
    char urls[MAX_HANDLES][160];
} scenario;

/* ---- small helpers ---------------------------------------------------------------------------- */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "interp: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

/* A growing string. */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (t->len + n + 1 > t->cap) {
        t->cap = 2 * (t->len + n + 1);
        t->s = realloc(t->s, t->cap);
        if (!t->s)
            die("out of memory");
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, n + 1, fmt, ap);
    va_end(ap);
    t->len += n;
}

/* The time step now: events are due on whole steps and can only be late, so a step counts as begun a
 * tenth of a step early (asyncio_run.py says the same, in Python). */
static long step_now(scenario *sc)
{
    long unit_us = sc->unit_ms * 1000;
    return (long)(cw_now_us() - sc->t0 + unit_us / 10) / unit_us;
}

/* Milliseconds from now to `units` steps after the current step: sleeps and timeouts are anchored to
 * the grid, so lateness does not add up along a chain of sleeps. The loop's cached clock is brought
 * up to date first, since libuv counts a timer from it. */
static uint64_t ms_until(scenario *sc, long units)
{
    uv_update_time(cw_loop());
    int64_t us = (step_now(sc) + units) * sc->unit_ms * 1000 - (int64_t)(cw_now_us() - sc->t0);
    return us > 0 ? (uint64_t)(us + 999) / 1000 : 0;
}

static void append(scenario *sc, char *line)
{
    if (sc->n_trace == sc->cap_trace) {
        sc->cap_trace = sc->cap_trace ? 2 * sc->cap_trace : 32;
        sc->trace = realloc(sc->trace, sc->cap_trace * sizeof *sc->trace);
        if (!sc->trace)
            die("out of memory");
    }
    sc->trace[sc->n_trace++] = line;
}

static void trace(scenario *sc, const char *who, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void trace(scenario *sc, const char *who, const char *fmt, ...)
{
    long step = step_now(sc);
    text t = { 0 };
    add(&t, "%04ld %s ", step, who);
    va_list ap;
    va_start(ap, fmt);
    char *what;
    if (vasprintf(&what, fmt, ap) < 0)
        die("out of memory");
    va_end(ap);
    add(&t, "%s", what);
    free(what);
    append(sc, t.s);
}

/* The error kinds of `fail KIND`, each with its own code, so a code or a message rewritten shows. */
static const struct {
    const char *kind;
    int code;
} kinds[] = { { "E1", CW_EHTTP }, { "E2", CW_EINVAL }, { "E3", CW_EFAILED } };

static int code_of(const char *kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return kinds[i].code;
    die("unknown error kind %s", kind);
    return 0;
}

static handle *find(scenario *sc, const char *name)
{
    for (int i = 0; i < sc->n_handles; i++)
        if (strcmp(sc->handles[i].name, name) == 0)
            return &sc->handles[i];
    die("scenario %d: no handle %s", sc->id, name);
    return NULL;
}

static handle *handle_of(scenario *sc, const cw_future *f)
{
    for (int i = 0; i < sc->n_handles; i++)
        if (sc->handles[i].f == f)
            return &sc->handles[i];
    return NULL;
}

/* ---- rendering outcomes, exactly as asyncio_run.py does ------------------------------------------ */

static bool is_cancelled(const cw_future *f)
{
    return cw_future_state(f) == CW_CANCELLED || cw_future_error(f) == CW_ECANCELLED;
}

static void render_cancel(text *t, scenario *sc, const cw_future *f, bool with_message)
{
    const char *msg = cw_future_message(f);
    if (with_message && sc->msg && strcmp(msg, "cancelled") != 0 && strcmp(msg, cw_strerror(CW_ECANCELLED)) != 0)
        add(t, "cancelled(%s)", msg);
    else
        add(t, "cancelled");
}

/* An error's kind: "E2" when code and message are a kind's, else both as they are. */
static void render_kind(text *t, const cw_future *f)
{
    const char *msg = cw_future_message(f);
    int code = cw_future_error(f);
    const char *of = strstr(msg, " timeout of ");
    if (code == CW_ETIMEDOUT && of) { /* "... (KIND timeout of N ms)" */
        const char *kind = of;
        while (kind > msg && kind[-1] != '(')
            kind--;
        /* aiohttp 3.8 raises the same error for connect and sock_connect (see aiohttp_run.py). */
        if (strncmp(kind, "sock_connect", 12) == 0)
            add(t, "timeout:connect");
        else
            add(t, "timeout:%.*s", (int)(of - kind), kind);
        return;
    }
    /* A timeout scope's own error, and a task group's (its message lists its errors' kinds). */
    if ((code == CW_ETIMEDOUT && strcmp(msg, "timeout") == 0) || (code == CW_EGROUP && strncmp(msg, "group[", 6) == 0)) {
        add(t, "%s", msg);
        return;
    }
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].kind, msg) == 0 && kinds[i].code == code) {
            add(t, "%s", msg);
            return;
        }
    add(t, "%s:%s", cw_error_name(code), msg);
}

static void render_slot(text *t, scenario *sc, const cw_future *f);

/* A result: a task's int, or a gather's list of slots. */
static void render_value(text *t, scenario *sc, const cw_future *f)
{
    handle *h = handle_of(sc, f);
    if (h && h->n_children == REQUEST && h->echo) { /* "STATUS:METHOD:DATA"; a HEAD's: "STATUS:-:-" */
        const cw_response *res = cw_response_of(f);
        const char *method = strstr(res->body, "\"method\": \""), *data = strstr(res->body, "\"data\": \"");
        if (method && data)
            add(t, "%ld:%.*s:%.*s", res->status, (int)strcspn(method + 11, "\""), method + 11,
                (int)strcspn(data + 9, "\""), data + 9);
        else
            add(t, "%ld:-:-", res->status);
        return;
    }
    if (h && h->n_children == REQUEST) {
        add(t, "%ld", cw_response_of(f)->status);
        return;
    }
    if (!h || h->n_children < 0) {
        add(t, "%ld", (long)(intptr_t)cw_future_result(f));
        return;
    }
    cw_future **slots = cw_future_result(f);
    add(t, "[");
    for (int i = 0; i < h->n_children; i++) {
        if (i)
            add(t, ",");
        render_slot(t, sc, slots[i]);
    }
    add(t, "]");
}

/* One slot of a gather's result: a value, an error kind, or "cancelled" (without message, as in asyncio). */
static void render_slot(text *t, scenario *sc, const cw_future *f)
{
    if (cw_future_state(f) == CW_RESOLVED)
        render_value(t, sc, f);
    else if (is_cancelled(f))
        add(t, "cancelled");
    else
        render_kind(t, f);
}

/* What awaiting a finished future gives: "result V", "error KIND" or "cancelled[(MSG)]". A gather that
 * failed with CW_ECANCELLED reads "cancelled", as awaiting it raises CancelledError in asyncio. */
static void render_outcome(text *t, scenario *sc, const cw_future *f, bool with_message)
{
    if (cw_future_state(f) == CW_RESOLVED) {
        add(t, "result ");
        render_value(t, sc, f);
    } else if (is_cancelled(f)) {
        render_cancel(t, sc, f, with_message);
    } else {
        add(t, "error ");
        render_kind(t, f);
    }
}

/* ---- running a scenario --------------------------------------------------------------------------- */

enum { GO_ON, RETURNED, FAILED, CANCELLED };

typedef struct outcome {
    int how;
    intptr_t value;
    int code;
    char message[256];
} outcome;

typedef struct task_arg {
    scenario *sc;
    body *body;
} task_arg;

static void *run_task(void *arg);

static void on_end(cw_future *f, void *arg)
{
    handle *h = arg;
    text t = { 0 };
    if (cw_future_state(f) == CW_FAILED && cw_future_error(f) == CW_ECANCELLED)
        add(&t, "error cancelled"); /* a cancelled gather fails with CancelledError, as in asyncio */
    else
        render_outcome(&t, h->sc, f, false); /* asyncio_run.py cannot read the message here without taking it */
    trace(h->sc, h->name, "end %s", t.s);
    free(t.s);
}

static handle *add_handle(scenario *sc, const char *name, cw_future *f, int n_children)
{
    if (!f)
        die("scenario %d: could not make %s", sc->id, name);
    if (sc->n_handles == MAX_HANDLES)
        die("scenario %d: more than %d handles", sc->id, MAX_HANDLES);
    handle *h = &sc->handles[sc->n_handles++];
    *h = (handle){ sc, name, f, n_children, false };
    cw_future_on_done(f, on_end, h);
    return h;
}

static body *body_named(scenario *sc, const char *name)
{
    for (int i = 0; i < sc->n_bodies; i++)
        if (strcmp(sc->bodies[i].name, name) == 0)
            return &sc->bodies[i];
    die("scenario %d: no task %s", sc->id, name);
    return NULL;
}

static void spawn(scenario *sc, const char *name)
{
    task_arg *arg = malloc(sizeof *arg);
    if (!arg)
        die("out of memory");
    *arg = (task_arg){ sc, body_named(sc, name) };
    add_handle(sc, name, cw_spawn_named(run_task, arg, name), TASK);
}

/* Four timeouts in steps ("2.5"), "-" for none: every one is given, so defaults never matter. */
static cw_timeouts timeouts_of(scenario *sc, char **w)
{
    unsigned long ms[4];
    for (int i = 0; i < 4; i++)
        ms[i] = strcmp(w[i], "-") == 0 ? 0 : (unsigned long)(atof(w[i]) * sc->unit_ms + 0.5);
    return (cw_timeouts){ .total_ms = ms[0], .connect_ms = ms[1], .sock_connect_ms = ms[2], .sock_read_ms = ms[3] };
}

static uint64_t timeout_of(scenario *sc, const char *word)
{
    if (strcmp(word, "none") == 0)
        return NO_TIMEOUT;
    long units = atol(word);
#ifndef CW_NO_TIMEOUT
    if (units == 0)
        die("scenario %d: timeout 0 needs CW_NO_TIMEOUT", sc->id);
#endif
    return units == 0 ? 0 : ms_until(sc, units);
}

/* The futures named by words[first..n-1]. */
static cw_future **futures_of(scenario *sc, stmt *s, int first)
{
    cw_future **fs = calloc(MAX_WORDS, sizeof *fs);
    if (!fs)
        die("out of memory");
    for (int i = first; i < s->n; i++)
        fs[i - first] = find(sc, s->w[i])->f;
    return fs;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "a,b" (sorted) or "-". */
static void names_of(text *t, scenario *sc, cw_future **fs, int n)
{
    const char *names[MAX_WORDS];
    for (int i = 0; i < n; i++)
        names[i] = handle_of(sc, fs[i])->name;
    qsort(names, n, sizeof names[0], by_name);
    for (int i = 0; i < n; i++)
        add(t, "%s%s", i ? "," : "", names[i]);
    if (n == 0)
        add(t, "-");
}

static void fail_with(outcome *out, int code, const char *message)
{
    out->how = code == CW_ECANCELLED ? CANCELLED : FAILED;
    out->code = code;
    snprintf(out->message, sizeof out->message, "%s", message);
}

#ifdef CW_GROUP_H
static int by_kind(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "group[E1,timeout]": the kinds of a group's errors, sorted (asyncio_run.py says why). */
static void render_group(text *t, const cw_task_group *tg)
{
    int n;
    const cw_task_group_error *errors = cw_task_group_errors(tg, &n);
    char *kinds[MAX_HANDLES];
    for (int i = 0; i < n && i < MAX_HANDLES; i++) {
        text k = { 0 };
        if (errors[i].task)
            render_kind(&k, errors[i].task);
        else
            add(&k, "%s:%s", cw_error_name(errors[i].code), errors[i].message);
        kinds[i] = k.s;
    }
    qsort(kinds, n, sizeof kinds[0], by_kind);
    add(t, "group[");
    for (int i = 0; i < n; i++) {
        add(t, "%s%s", i ? "," : "", kinds[i]);
        free(kinds[i]);
    }
    add(t, "]");
}
#endif

static void execute(scenario *sc, const char *who, stmt *stmts, int n, outcome *out)
{
    bool main = strcmp(who, "main") == 0;
    for (int i = 0; i < n; i++) {
        stmt *s = &stmts[i];
        const char *op = s->w[0];
        if (strcmp(op, "spawn") == 0) {
            spawn(sc, s->w[1]);
        } else if (strcmp(op, "sleep") == 0) {
            int rc = cw_sleep(ms_until(sc, atol(s->w[1])));
            if (rc < 0)
                return fail_with(out, rc, cw_strerror(rc));
        } else if (strcmp(op, "return") == 0) {
            out->how = RETURNED;
            out->value = atol(s->w[1]);
            return;
        } else if (strcmp(op, "fail") == 0) {
            return fail_with(out, code_of(s->w[1]), s->w[1]);
        } else if (strcmp(op, "reraise") == 0) { /* `raise caught`: the caught cancellation, with its message */
            char caught[sizeof out->message];
            snprintf(caught, sizeof caught, "%s", out->message[0] ? out->message : "cancelled");
            return fail_with(out, CW_ECANCELLED, caught);
        } else if (strcmp(op, "cancel") == 0) {
            cw_future *f = find(sc, s->w[1])->f;
#ifdef HAVE_CANCEL_MSG
            int rc = s->n > 2 ? cw_future_cancel_msg(f, s->w[2]) : cw_future_cancel(f);
#else
            if (s->n > 2)
                die("scenario %d: cancel with a message needs cw_future_cancel_msg", sc->id);
            int rc = cw_future_cancel(f);
#endif
            trace(sc, who, "cancel %s -> %s", s->w[1], rc == 0 ? "ok" : rc == CW_EDONE ? "done" : cw_error_name(rc));
        } else if (strcmp(op, "await") == 0) {
            cw_future *f = find(sc, s->w[1])->f;
            int rc = cw_await(f);
            if (main) { /* main catches everything, and says what it caught */
                text t = { 0 };
                if (cw_future_done(f)) /* messages of tasks and gathers (asyncio_run.py says why) */
                    render_outcome(&t, sc, f, find(sc, s->w[1])->n_children != REQUEST);
                else
                    add(&t, "%s (not done)", cw_error_name(rc));
#ifdef HAVE_FAILED_CHILD /* which child a failed gather failed with (not for a cancellation) */
                cw_future *child = find(sc, s->w[1])->n_children >= 0 ? cw_gather_failed_child(f) : NULL;
                if (child && cw_future_state(f) == CW_FAILED && !is_cancelled(f))
                    add(&t, " (from %s)", handle_of(sc, child) ? handle_of(sc, child)->name : "?");
#endif
                trace(sc, who, "await %s -> %s", s->w[1], t.s);
                free(t.s);
            } else if (rc < 0) {
                return fail_with(out, rc, cw_future_done(f) ? cw_future_message(f) : cw_strerror(rc));
            }
        } else if (strcmp(op, "gather") == 0) {
            cw_future **fs = futures_of(sc, s, 3);
            add_handle(sc, s->w[1], cw_gather(fs, s->n - 3, strcmp(s->w[2], "rex") == 0), s->n - 3);
            free(fs);
        } else if (strcmp(op, "wait") == 0) {
            cw_return_when when = strcmp(s->w[1], "all") == 0 ? CW_ALL_COMPLETED
                                : strcmp(s->w[1], "first") == 0 ? CW_FIRST_COMPLETED : CW_FIRST_EXCEPTION;
            cw_future **fs = futures_of(sc, s, 3);
            cw_wait_sets sets;
            int rc = cw_wait(fs, s->n - 3, when, timeout_of(sc, s->w[2]), &sets);
            free(fs);
            if (rc < 0)
                return fail_with(out, rc, cw_strerror(rc));
            text t = { 0 };
            add(&t, "wait -> done ");
            names_of(&t, sc, sets.done, sets.n_done);
            add(&t, " pending ");
            names_of(&t, sc, sets.pending, sets.n_pending);
            trace(sc, who, "%s", t.s);
            free(t.s);
            cw_wait_sets_free(&sets);
        } else if (strcmp(op, "as_completed") == 0) {
            cw_future **fs = futures_of(sc, s, 2);
            int count = s->n - 2;
            cw_as_completed *it = cw_as_completed_new(fs, count, timeout_of(sc, s->w[1]));
            free(fs);
            if (!it)
                die("scenario %d: cw_as_completed_new failed", sc->id);
            for (int k = 0; k < count; k++) {
                cw_future *f;
                int rc = cw_as_completed_next(it, &f);
                if (rc == CW_ECANCELLED) { /* the task itself is cancelled */
                    cw_as_completed_free(it);
                    return fail_with(out, rc, "cancelled");
                }
                text t = { 0 };
                if (rc == 0 && cw_future_error(f) == CW_ETIMEDOUT && strcmp(cw_future_message(f), "timeout") == 0)
                    add(&t, "timeout"); /* a scope's TimeoutError: asyncio 3.11 raises the iterator's own */
                else if (rc == 0)
                    render_outcome(&t, sc, f, false); /* asyncio_run.py cannot tell which future it was */
                else if (rc == CW_ETIMEDOUT)
                    add(&t, "timeout");
                else
                    add(&t, "%s", cw_error_name(rc));
                trace(sc, who, "as_completed -> %s", t.s);
                free(t.s);
            }
            cw_as_completed_free(it);
#ifdef CW_GROUP_H
        } else if (strcmp(op, "group") == 0) {
            /* Main says how the group ended and goes on (a cancellation propagates, to the timeout scope
             * that caused it); in a task the group's error propagates. */
            cw_task_group *tg;
            if (cw_task_group_enter(&tg) < 0)
                die("scenario %d: cw_task_group_enter failed", sc->id);
            for (int k = 3; k < s->n; k++) {
                task_arg *arg = malloc(sizeof *arg);
                if (!arg)
                    die("out of memory");
                *arg = (task_arg){ sc, body_named(sc, s->w[k]) };
                add_handle(sc, s->w[k], cw_future_retain(cw_task_group_spawn(tg, run_task, arg, s->w[k])), TASK);
            }
            int rc = atol(s->w[2]) > 0 ? cw_sleep(ms_until(sc, atol(s->w[2]))) : 0;
            rc = cw_task_group_exit(tg, rc);
            text t = { 0 };
            if (rc == CW_EGROUP)
                render_group(&t, tg);
            else
                add(&t, "%s", rc == 0 ? "ok" : rc == CW_ECANCELLED ? "cancelled" : cw_error_name(rc));
            cw_task_group_free(tg);
            if (main)
                trace(sc, who, "group %s -> %s%s", s->w[1], rc == CW_EGROUP ? "error " : "", t.s);
            if (rc < 0 && (!main || rc == CW_ECANCELLED)) {
                fail_with(out, rc, t.s);
                free(t.s);
                return;
            }
            free(t.s);
#endif
#ifdef CW_TIMEOUT_H
        } else if (strcmp(op, "timeout") == 0) {
            /* The scope's statement runs as a body of its own; main says how the scope ended. */
            cw_timeout *cm;
            if (cw_timeout_enter(&cm, ms_until(sc, atol(s->w[1]))) < 0)
                die("scenario %d: cw_timeout_enter failed", sc->id);
            static char zero[] = "0", ret[] = "return";
            stmt inner[2] = { { .n = s->n - 2 }, { .n = 2, .w = { ret, zero } } };
            memcpy(inner[0].w, &s->w[2], (size_t)(s->n - 2) * sizeof s->w[0]);
            outcome io = { 0 };
            execute(sc, who, inner, 2, &io);
            int rc = cw_timeout_exit(cm, io.how == RETURNED ? 0 : io.code);
            if (main && (rc == 0 || rc == CW_ETIMEDOUT)) {
                trace(sc, who, "timeout -> %s", rc == 0 ? "ok" : "timeout");
            } else if (rc < 0) {
                fail_with(out, rc, rc == CW_ETIMEDOUT ? "timeout" : io.message);
                return;
            }
#endif
        } else if (strcmp(op, "session") == 0) {
            cw_session_options options = cw_session_options_default();
            options.limit = atoi(s->w[1]);
            options.limit_per_host = atoi(s->w[2]);
            sc->pooled = options.limit > 0 || options.limit_per_host > 0;
            options.timeouts = timeouts_of(sc, &s->w[3]);
            if (cw_session_open(&sc->session, &options) < 0)
                die("scenario %d: cw_session_open failed", sc->id);
        } else if (strcmp(op, "get") == 0) {
            char *url = sc->urls[sc->n_handles];
            const char *server = s->w[2], *path = s->w[3];
            if (strcmp(server, "hole") == 0)
                snprintf(url, sizeof sc->urls[0], "http://127.0.0.1:%d/get", sc->hole_port);
            else if (strncmp(path, "delay:", 6) == 0)
                snprintf(url, sizeof sc->urls[0], "http://127.0.0.1:%d/delay/%ld", cw_fixture_port(sc->servers[server[0] == 'b']),
                         (long)(atof(path + 6) * sc->unit_ms + 0.5));
            else
                snprintf(url, sizeof sc->urls[0], "http://127.0.0.1:%d/%s", cw_fixture_port(sc->servers[server[0] == 'b']), path);
            cw_timeouts own = s->n >= 8 ? timeouts_of(sc, &s->w[4]) : (cw_timeouts){ 0 };
            cw_request request = { .url = url, .timeouts = s->n >= 8 ? &own : NULL };
            add_handle(sc, s->w[1], cw_session_request(sc->session, &request), REQUEST);
        } else if (strcmp(op, "send") == 0) { /* send R SERVER METHOD BODY PATH */
            char *url = sc->urls[sc->n_handles];
            const char *path = s->w[5], *body = strcmp(s->w[4], "-") != 0 ? s->w[4] : NULL;
            int port = cw_fixture_port(sc->servers[s->w[2][0] == 'b']);
            if (strncmp(path, "redirect:", 9) == 0)
                snprintf(url, sizeof sc->urls[0], "http://127.0.0.1:%d/redirect/%s", port, path + 9);
            else
                snprintf(url, sizeof sc->urls[0], "http://127.0.0.1:%d/%s", port, path);
            cw_request request = { .method = s->w[3], .url = url, .body = body, .body_len = body ? strlen(body) : 0 };
            add_handle(sc, s->w[1], cw_session_request(sc->session, &request), REQUEST)->echo = true;
        } else {
            die("scenario %d: unknown statement %s", sc->id, op);
        }
    }
    die("scenario %d: %s ended without return, fail or reraise", sc->id, who);
}

static void *run_task(void *arg)
{
    task_arg *ta = arg;
    scenario *sc = ta->sc;
    body *b = ta->body;
    free(ta);
    outcome out = { 0 };
    execute(sc, b->name, b->stmts, b->n_stmts, &out);
    if (out.how == CANCELLED && b->has_handler) {
        trace(sc, b->name, "caught cancelled"); /* (its message shows where main awaits the task) */
        outcome caught = { 0 }; /* the handler starts with what it caught, for reraise */
        snprintf(caught.message, sizeof caught.message, "%s", out.message);
        out = caught;
        execute(sc, b->name, b->handler, b->n_handler, &out);
    }
    switch (out.how) {
    case RETURNED:
#ifdef HAVE_UNCANCEL
        /* Python: a coroutine that catches CancelledError and returns ends with its result. */
        while (cw_task_cancelling(cw_current_task()) > 0)
            cw_task_uncancel(cw_current_task());
#endif
        return (void *)out.value;
    case FAILED:
    case CANCELLED:
        return cw_fail(out.code, "%s", out.message);
    }
    return NULL;
}

/* Run main, then let everything it spawned finish (asyncio_run.py does the same). */
static void *run_scenario(void *arg)
{
    scenario *sc = arg;
    sc->t0 = cw_now_us();
    spawn(sc, "main");
    for (;;) {
        cw_future *pending[MAX_HANDLES];
        int n = 0;
        for (int i = 0; i < sc->n_handles; i++)
            if (!cw_future_done(sc->handles[i].f))
                pending[n++] = sc->handles[i].f;
        if (n == 0)
            break;
        cw_wait_sets sets;
        if (cw_wait(pending, n, CW_ALL_COMPLETED, NO_TIMEOUT, &sets) == 0)
            cw_wait_sets_free(&sets);
    }
    for (int i = 0; i < 3; i++) /* let the last done callbacks run */
        cw_sleep(0);
    if (sc->http) {
        if (sc->session)
            cw_session_close(sc->session);
        if (!sc->pooled) /* the counters are reported with a limit only (aiohttp_run.py says why) */
            return NULL;
        cw_sleep((uint64_t)sc->unit_ms); /* as asyncio_run.py: the servers see the connections close */
        for (int i = 0; i < 2; i++) {
            /* Read directly; aiohttp_run.py asks /stats, which counts its own connection, so 1 says nothing. */
            long max_open = cw_fixture_stats_get(sc->servers[i]).max_open;
            char line[64];
            if (max_open > 1)
                snprintf(line, sizeof line, "---- stats %c max_open=%ld", "ab"[i], max_open);
            else
                snprintf(line, sizeof line, "---- stats %c max_open=0-1", "ab"[i]);
            append(sc, strdup(line));
        }
    }
    return NULL;
}

/* ---- reading scenarios, and the waves of them ------------------------------------------------------ */

static stmt parse_stmt(char *line)
{
    stmt s = { 0 };
    for (char *w = strtok(line, " \t"); w && s.n < MAX_WORDS; w = strtok(NULL, " \t"))
        s.w[s.n++] = strdup(w);
    return s;
}

static void push(stmt **list, int *n, stmt s)
{
    *list = realloc(*list, (*n + 1) * sizeof **list);
    if (!*list)
        die("out of memory");
    (*list)[(*n)++] = s;
}

static scenario **parse(FILE *in, int *count)
{
    scenario **all = NULL, *sc = NULL;
    body *b = NULL;
    bool in_handler = false;
    char line[4096];
    *count = 0;
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\r\n")] = 0;
        stmt s = parse_stmt(line);
        if (s.n == 0 || s.w[0][0] == '#')
            continue;
        const char *head = s.w[0];
        if (strcmp(head, "scenario") == 0) {
            sc = calloc(1, sizeof *sc);
            sc->id = atoi(s.w[1]);
            sc->unit_ms = 50;
            for (int i = 2; i < s.n; i++) {
                if (strncmp(s.w[i], "unit=", 5) == 0)
                    sc->unit_ms = atol(s.w[i] + 5);
                if (strncmp(s.w[i], "features=", 9) == 0)
                    sc->msg = strstr(s.w[i], "msg") != NULL;
            }
            sc->n_bodies = 1; /* main's place */
        } else if (strcmp(head, "task") == 0 || strcmp(head, "main") == 0) {
            bool is_main = strcmp(head, "main") == 0;
            if (!is_main && sc->n_bodies == MAX_HANDLES)
                die("scenario %d: too many tasks", sc->id);
            b = is_main ? &sc->bodies[0] : &sc->bodies[sc->n_bodies++];
            b->name = is_main ? strdup("main") : s.w[1];
            in_handler = false;
        } else if (strcmp(head, "on_cancel") == 0) {
            b->has_handler = in_handler = true;
        } else if (strcmp(head, "end") == 0) {
            all = realloc(all, (*count + 1) * sizeof *all);
            all[(*count)++] = sc;
            sc = NULL;
            b = NULL;
        } else if (b) {
            if (strcmp(head, "session") == 0)
                sc->http = true;
            if (in_handler)
                push(&b->handler, &b->n_handler, s);
            else
                push(&b->stmts, &b->n_stmts, s);
        } else {
            die("statement outside a body: %s", head);
        }
    }
    return all;
}

typedef struct run_args {
    scenario **all;
    int count, parallel;
} run_args;

static void print_trace(scenario *sc)
{
    qsort(sc->trace, sc->n_trace, sizeof sc->trace[0], by_name);
    printf("=== %d\n", sc->id);
    for (int i = 0; i < sc->n_trace; i++) {
        printf("%s\n", sc->trace[i]);
        free(sc->trace[i]);
    }
    free(sc->trace);
    fflush(stdout);
}

/* HTTP scenarios of a wave get the servers of their slot (two each, started once and reused, their
 * counters zeroed before each scenario) and share one blackhole: a connect there never completes. */
static cw_fixture *slot_servers[2 * 256];
static int blackhole = -1, blackhole_port;

static void give_servers(scenario *sc, int slot)
{
    if (slot >= 256)
        die("more than 256 HTTP scenarios at once");
    for (int i = 0; i < 2; i++) {
        cw_fixture **fx = &slot_servers[2 * slot + i];
        if (!*fx && !(*fx = cw_fixture_start(0)))
            die("could not start a fixture server");
        cw_fixture_stats_reset(*fx);
        sc->servers[i] = *fx;
    }
    if (blackhole < 0 && (blackhole = cw_fixture_blackhole_open(&blackhole_port)) < 0)
        die("could not open a blackhole port");
    sc->hole_port = blackhole_port;
}

static void *run_all(void *arg)
{
    run_args *ra = arg;
    for (int first = 0; first < ra->count; first += ra->parallel) {
        int n = ra->count - first < ra->parallel ? ra->count - first : ra->parallel;
        cw_future **wave = calloc(n, sizeof *wave);
        for (int i = 0; i < n; i++) /* servers start before the wave, not while others are timed */
            if (ra->all[first + i]->http)
                give_servers(ra->all[first + i], i);
        for (int i = 0; i < n; i++)
            wave[i] = cw_spawn(run_scenario, ra->all[first + i]);
        for (int i = 0; i < n; i++) {
            cw_await(wave[i]);
            scenario *sc = ra->all[first + i];
            print_trace(sc);
            for (int h = 0; h < sc->n_handles; h++)
                cw_future_release(sc->handles[h].f);
            sc->n_handles = 0;

        }
        cw_future_release_all(wave, n);
        free(wave);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: interp FILE [--parallel K] | interp --features");
    if (strcmp(argv[1], "--features") == 0) { /* what the generator may use with this library */
        const char *features[] = {
#ifdef HAVE_CANCEL_MSG
            "msg",
#endif
#ifdef HAVE_UNCANCEL
            "uncancel",
#endif
#ifdef CW_NO_TIMEOUT
            "t0",
#endif
#ifdef HAVE_FAILED_CHILD
            "child",
#endif
#ifdef CW_GROUP_H
            "group",
#endif
#ifdef CW_TIMEOUT_H
            "scope",
#endif
            NULL,
        };
        for (int i = 0; features[i]; i++)
            printf("%s%s", i ? "," : "", features[i]);
        printf("\n");
        return 0;
    }
    FILE *in = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "r");
    if (!in)
        die("cannot open %s", argv[1]);
    run_args ra = { 0 };
    ra.all = parse(in, &ra.count);
    ra.parallel = 50;
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], "--parallel") == 0)
            ra.parallel = atoi(argv[i + 1]);
    if (ra.parallel < 1)
        ra.parallel = 1;
    int rc = cw_run(run_all, &ra, NULL);
    for (int i = 0; i < 2 * 256; i++)
        cw_fixture_stop(slot_servers[i]);
    if (blackhole >= 0)
        cw_fixture_blackhole_close(blackhole);
    if (rc != 0)
        die("cw_run: %s", cw_strerror(rc));
    return 0;
}
