/*
 * timeline.c -- records when tasks and requests run, and draws them.
 *
 * Each span is one row of a table that grows as needed, up to CW_TIMELINE_MAX_SPANS.
 * cw_timeline_print() draws the table as an ASCII Gantt chart, so a learner sees at a
 * glance whether requests ran one after another (bars end to end) or side by side
 * (bars stacked over the same columns); cw_timeline_write_trace() writes the same
 * spans for Perfetto or chrome://tracing. Everything runs on the loop thread: no locks.
 */
#include "cw_timeline.h"
#include "cw_error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

enum {
    LABEL_W = 18,   /* label column of the chart */
    OUTCOME_W = 16, /* outcome column ("ok 203ms", "ETIMEDOUT 5.0s") */
    MAX_COLUMNS = 400,
    MANY_ROWS = 40, /* above this, show only the first HEAD_ROWS and last TAIL_ROWS */
    HEAD_ROWS = 20,
    TAIL_ROWS = 10,
};

static int g_on = -1;    /* -1 until CW_TIMELINE has been read */
static cw_span *g_spans; /* in order of begin: the clock is monotonic */
static int g_count, g_capacity;
static long g_dropped; /* spans refused because the table was full */

/* Same clock as cw_now_us(). */
static uint64_t now_us(void)
{
    return uv_hrtime() / 1000;
}

/* Length of s cut to at most max bytes, never inside a UTF-8 character. */
static size_t utf8_cut(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n <= max)
        return n;
    for (n = max; n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80; n--)
        ;
    return n;
}

void cw_timeline_enable(bool on)
{
    g_on = on;
}

bool cw_timeline_enabled(void)
{
    if (g_on < 0) {
        const char *env = getenv("CW_TIMELINE");
        const char *trace = getenv("CW_TRACE"); /* asking for a trace file asks for recording too */
        g_on = (env && *env && strcmp(env, "0") != 0) || (trace && *trace);
    }
    return g_on;
}

/* Double the table (geometric growth keeps appends cheap), never past the maximum. */
static bool grow(void)
{
    if (g_capacity >= CW_TIMELINE_MAX_SPANS)
        return false;
    int capacity = g_capacity ? 2 * g_capacity : 64;
    if (capacity > CW_TIMELINE_MAX_SPANS)
        capacity = CW_TIMELINE_MAX_SPANS;
    cw_span *spans = realloc(g_spans, (size_t)capacity * sizeof *spans);
    if (!spans)
        return false;
    g_spans = spans;
    g_capacity = capacity;
    return true;
}

int cw_timeline_begin(cw_span_kind kind, const char *label)
{
    if (!cw_timeline_enabled())
        return -1;
    if (g_count == g_capacity && !grow()) {
        g_dropped++;
        return -1;
    }
    cw_span *s = &g_spans[g_count];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    if (label)
        memcpy(s->label, label, utf8_cut(label, sizeof s->label - 1));
    s->begin_us = now_us();
    return g_count++;
}

static cw_span *span_at(int id)
{
    return id >= 0 && id < g_count ? &g_spans[id] : NULL;
}

/* Each mark keeps the first time it was set. */
void cw_timeline_start(int id)
{
    cw_span *s = span_at(id);
    if (s && !s->start_us)
        s->start_us = now_us();
}

void cw_timeline_first_byte(int id)
{
    cw_span *s = span_at(id);
    if (s && !s->first_byte_us)
        s->first_byte_us = now_us();
}

void cw_timeline_end(int id, int error)
{
    cw_span *s = span_at(id);
    if (s && !s->end_us) {
        s->end_us = now_us();
        s->error = error;
    }
}

int cw_timeline_count(void)
{
    return g_count;
}

const cw_span *cw_timeline_span(int id)
{
    return span_at(id);
}

void cw_timeline_clear(void)
{
    free(g_spans);
    g_spans = NULL;
    g_count = g_capacity = 0;
    g_dropped = 0;
}

/* ---- drawing ---- */

/* The time axis of a chart, and how many columns its bars get. */
typedef struct chart {
    uint64_t t0, t1;
    int width;
    bool color;
} chart;

/* Earliest begin to the latest mark; "now" when a span is still open. Needs g_count > 0. */
static void time_axis(uint64_t *t0, uint64_t *t1)
{
    uint64_t now = now_us();
    *t0 = g_spans[0].begin_us;
    *t1 = *t0 + 1;
    for (int i = 0; i < g_count; i++) {
        uint64_t last = g_spans[i].end_us ? g_spans[i].end_us : now;
        if (last > *t1)
            *t1 = last;
    }
}

/* The column that holds time t. */
static int column_of(const chart *c, uint64_t t)
{
    if (t <= c->t0)
        return 0;
    uint64_t col = (t - c->t0) * (uint64_t)c->width / (c->t1 - c->t0);
    return col < (uint64_t)c->width ? (int)col : c->width - 1;
}

/* The last column a span ending at t fills: rounding up-then-minus-one keeps a span that
 * ends exactly where the next begins out of the next one's first column. */
static int last_column_of(const chart *c, uint64_t t)
{
    uint64_t span = c->t1 - c->t0, cells = (t - c->t0) * (uint64_t)c->width;
    int col = (int)((cells + span - 1) / span) - 1;
    return col < 0 ? 0 : col < c->width ? col : c->width - 1;
}

/* '.' waiting (begin..start), '=' running (start..end), '|' first byte, '>' still open. */
static void draw_bar(const chart *c, const cw_span *s, char *bar)
{
    memset(bar, ' ', (size_t)c->width);
    bar[c->width] = '\0';
    uint64_t start = s->start_us ? s->start_us : s->kind == CW_SPAN_USER ? s->begin_us : 0;
    int from = column_of(c, s->begin_us);
    int to = s->end_us ? last_column_of(c, s->end_us) : c->width - 1;
    if (to < from)
        to = from;
    int running = start ? column_of(c, start) : to + 1; /* never started: all waiting */
    if (start && running > to)
        running = to; /* it did run: show at least one '=' */
    for (int i = from; i <= to; i++)
        bar[i] = i < running ? '.' : '=';
    if (s->first_byte_us) {
        int fb = column_of(c, s->first_byte_us);
        bar[fb < from ? from : fb > to ? to : fb] = '|';
    }
    if (!s->end_us)
        bar[to] = '>';
}

static void format_duration(uint64_t us, char *buf, size_t size)
{
    if (us < 10000)
        snprintf(buf, size, "%.1fms", (double)us / 1000);
    else if (us < 10000000)
        snprintf(buf, size, "%" PRIu64 "ms", (us + 500) / 1000);
    else
        snprintf(buf, size, "%.1fs", (double)us / 1e6);
}

/* "ok 203ms", "ETIMEDOUT 5.0s" (or just the name when both do not fit), "unfinished". */
static const char *outcome_of(const cw_span *s, char *buf, size_t size)
{
    if (!s->end_us)
        return "unfinished";
    char took[16];
    format_duration(s->end_us - s->begin_us, took, sizeof took);
    if (!s->error) {
        snprintf(buf, size, "ok %s", took);
        return buf;
    }
    const char *name = cw_error_name(s->error);
    if (strncmp(name, "CW_", 3) == 0)
        name += 3;
    if (strlen(name) + 1 + strlen(took) <= OUTCOME_W)
        snprintf(buf, size, "%s %s", name, took);
    else
        snprintf(buf, size, "%s", name);
    return buf;
}

static void print_row(FILE *out, const chart *c, const char *label, const cw_span *s, const char *outcome,
                      const char *color)
{
    char bar[MAX_COLUMNS + 1];
    draw_bar(c, s, bar);
    const char *on = c->color && color ? color : "", *off = *on ? "\033[0m" : "";
    fprintf(out, "%-*.*s %s%s%s %s%.*s%s\n", LABEL_W, (int)utf8_cut(label, LABEL_W), label, on, bar, off, on, OUTCOME_W,
            outcome, off);
}

static void print_span(FILE *out, const chart *c, const cw_span *s)
{
    char outcome[64];
    const char *color = !s->end_us ? NULL : s->error ? "\033[31m" : "\033[32m";
    print_row(out, c, s->label, s, outcome_of(s, outcome, sizeof outcome), color);
}

/* The row "all N": from the first begin to the last end, with how many failed. */
static void print_summary(FILE *out, const chart *c)
{
    cw_span all = { .kind = CW_SPAN_USER, .begin_us = c->t0, .end_us = c->t1 };
    int failed = 0;
    for (int i = 0; i < g_count; i++) {
        failed += g_spans[i].end_us && g_spans[i].error;
        if (!g_spans[i].end_us)
            all.end_us = 0;
    }
    char label[32], took[16], outcome[64];
    snprintf(label, sizeof label, "all %d", g_count);
    format_duration(c->t1 - c->t0, took, sizeof took);
    if (failed)
        snprintf(outcome, sizeof outcome, "%d failed %s", failed, took);
    else
        snprintf(outcome, sizeof outcome, "%s", took);
    print_row(out, c, label, &all, outcome, failed ? "\033[31m" : "\033[32m");
}

/* "0ms" at the left, the middle time centred, the end time flush right. */
static void print_axis(FILE *out, const chart *c)
{
    char axis[MAX_COLUMNS + 1], mid[16], end[16];
    memset(axis, ' ', (size_t)c->width);
    axis[c->width] = '\0';
    format_duration((c->t1 - c->t0) / 2, mid, sizeof mid);
    format_duration(c->t1 - c->t0, end, sizeof end);
    memcpy(axis, "0ms", 3);
    memcpy(axis + (c->width - (int)strlen(mid)) / 2, mid, strlen(mid));
    memcpy(axis + c->width - strlen(end), end, strlen(end));
    fprintf(out, "%*s%s\n", LABEL_W + 1, "", axis);
}

void cw_timeline_print(FILE *out, const char *title)
{
    if (title)
        fprintf(out, "%s\n", title);
    if (g_count == 0) {
        fprintf(out, "(no spans: call cw_timeline_enable(true) or set CW_TIMELINE=1)\n");
    } else {
        const char *env = getenv("COLUMNS");
        int columns = env && *env ? atoi(env) : 80;
        columns = columns < 60 ? 60 : columns > MAX_COLUMNS ? MAX_COLUMNS : columns;
        chart c = { .width = columns - LABEL_W - 1 - 1 - OUTCOME_W,
                    .color = isatty(fileno(out)) && !getenv("NO_COLOR") };
        time_axis(&c.t0, &c.t1);
        bool cut = g_count > MANY_ROWS;
        for (int i = 0; i < g_count; i++) {
            if (cut && i == HEAD_ROWS) {
                fprintf(out, "%*s... %d more rows ...\n", LABEL_W + 1, "", g_count - HEAD_ROWS - TAIL_ROWS);
                i = g_count - TAIL_ROWS;
            }
            print_span(out, &c, &g_spans[i]);
        }
        if (cut)
            print_summary(out, &c);
        print_axis(out, &c);
        fprintf(out, "key: . waiting  = running  | first byte  > unfinished\n");
    }
    if (g_dropped)
        fprintf(out, "(%ld spans dropped: the timeline keeps at most %d)\n", g_dropped, CW_TIMELINE_MAX_SPANS);
}

/* ---- Chrome trace-event JSON ---- */

static void write_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

int cw_timeline_write_trace(const char *path)
{
    static const char *const category[] = { "task", "request", "user" };
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    /* Greedy interval partitioning: each span takes the lowest track free at its begin,
     * so overlapping spans never share a track. */
    uint64_t *track_end = malloc((size_t)(g_count ? g_count : 1) * sizeof *track_end);
    if (!track_end) {
        fclose(f);
        return -ENOMEM;
    }
    uint64_t t0 = 0, t1 = 0;
    if (g_count)
        time_axis(&t0, &t1);
    int tracks = 0;
    fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", f);
    for (int i = 0; i < g_count; i++) {
        const cw_span *s = &g_spans[i];
        uint64_t end = s->end_us ? s->end_us : t1;
        int track = 0;
        while (track < tracks && track_end[track] > s->begin_us)
            track++;
        if (track == tracks)
            tracks++;
        track_end[track] = end;
        const char *cat = (unsigned)s->kind < 3 ? category[s->kind] : "user";
        fputs(i ? ",\n{\"name\":" : "\n{\"name\":", f);
        write_json_string(f, s->label);
        fprintf(f,
                ",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%" PRIu64 ",\"dur\":%" PRIu64
                ",\"pid\":1,\"tid\":%d,\"args\":{\"outcome\":",
                cat, s->begin_us - t0, end - s->begin_us, track + 1);
        write_json_string(f, !s->end_us ? "unfinished" : s->error ? cw_error_name(s->error) : "ok");
        if (s->start_us)
            fprintf(f, ",\"waited_us\":%" PRIu64, s->start_us - s->begin_us);
        fputs("}}", f);
        if (s->first_byte_us)
            fprintf(f,
                    ",\n{\"name\":\"first byte\",\"cat\":\"%s\",\"ph\":\"i\",\"s\":\"t\",\"ts\":%" PRIu64
                    ",\"pid\":1,\"tid\":%d}",
                    cat, s->first_byte_us - t0, track + 1);
    }
    fputs("\n]}\n", f);
    free(track_end);
    int failed = ferror(f);
    if (fclose(f) != 0 || failed)
        return -EIO;
    return 0;
}
