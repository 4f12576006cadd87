/*
 * test_timeline.c -- unit tests of the timeline (cw_timeline.h): recording is off until asked for,
 * spans keep ordered times, the chart tells sequential runs from concurrent ones, the trace is
 * valid JSON with one complete event per span, and memory stays bounded.
 */
#include "cw_error.h"
#include "cw_timeline.h"
#include "support.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Print the chart into a string the test owns (free it). */
static char *chart_text(const char *title)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    ck_assert_ptr_nonnull(out);
    cw_timeline_print(out, title);
    fclose(out);
    return text;
}

/* The chart row whose label starts with `label`, copied into row (without its newline). */
static void find_row(const char *text, const char *label, char *row, size_t size)
{
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (strncmp(line, label, strlen(label)) == 0 && line[strlen(label)] == ' ') {
            ck_assert_uint_lt(len, size);
            memcpy(row, line, len);
            row[len] = '\0';
            return;
        }
        line = eol ? eol + 1 : NULL;
    }
    ck_abort_msg("no chart row labelled \"%s\" in:\n%s", label, text);
}

/* The columns of the first and last running mark ('=') in a row's bar (after the label). */
static void running_columns(const char *row, int *first, int *last)
{
    *first = *last = -1;
    for (int i = 18; row[i]; i++)
        if (row[i] == '=') {
            if (*first < 0)
                *first = i;
            *last = i;
        }
    ck_assert_msg(*first >= 0, "expected '=' (running) in the row \"%s\"", row);
}

static int count_lines(const char *text)
{
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void setup(void)
{
    cw_timeline_clear();
    setenv("COLUMNS", "80", 1);
    unsetenv("NO_COLOR");
}

static void teardown(void)
{
    cw_timeline_clear();
    cw_timeline_enable(false);
}

/* Runs first, so even without fork mode nothing has switched recording on yet. */
START_TEST(off_by_default_records_nothing)
{
    unsetenv("CW_TIMELINE");
    ck_assert_msg(!cw_timeline_enabled(), "recording should be off without CW_TIMELINE");
    ck_assert_int_eq(cw_timeline_begin(CW_SPAN_TASK, "t"), -1);
    cw_timeline_start(-1);
    cw_timeline_first_byte(-1);
    cw_timeline_end(-1, 0);
    ck_assert_int_eq(cw_timeline_count(), 0);
    ck_assert_ptr_null(cw_timeline_span(0));
    char *text = chart_text("empty");
    ck_assert_msg(strncmp(text, "empty\n", 6) == 0, "the title should come first, got:\n%s", text);
    free(text);
}
END_TEST

/* CW_TIMELINE is read once, lazily, so each value is tried in a fresh child process. */
static bool env_switches_on(const char *value)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setenv("CW_TIMELINE", value, 1);
        bool on = cw_timeline_enabled() && cw_timeline_begin(CW_SPAN_USER, "x") == 0;
        cw_timeline_clear();
        _exit(on ? 0 : 1);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status) == 0;
}

START_TEST(environment_switches_recording)
{
    const char *fork_mode = getenv("CK_FORK");
    if (fork_mode && strcmp(fork_mode, "no") == 0) /* earlier tests have read it already */
        return;
    ck_assert_msg(env_switches_on("1"), "CW_TIMELINE=1 should switch recording on");
    ck_assert_msg(env_switches_on("yes"), "CW_TIMELINE=yes should switch recording on");
    ck_assert_msg(!env_switches_on("0"), "CW_TIMELINE=0 should leave recording off");
    ck_assert_msg(!env_switches_on(""), "an empty CW_TIMELINE should leave recording off");
}
END_TEST

START_TEST(records_spans_with_ordered_times)
{
    cw_timeline_enable(true);
    ck_assert(cw_timeline_enabled());
    int id = cw_timeline_begin(CW_SPAN_REQUEST, "GET /delay/5");
    ck_assert_int_eq(id, 0);
    sleep_ms(2);
    cw_timeline_start(id);
    sleep_ms(2);
    cw_timeline_first_byte(id);
    sleep_ms(2);
    cw_timeline_end(id, CW_ETIMEDOUT);
    cw_timeline_end(id, 0); /* a second end changes nothing */

    char long_label[100];
    memset(long_label, 'x', sizeof long_label - 1);
    long_label[sizeof long_label - 1] = '\0';
    ck_assert_int_eq(cw_timeline_begin(CW_SPAN_USER, long_label), 1);
    ck_assert_int_eq(cw_timeline_count(), 2);

    const cw_span *s = cw_timeline_span(id);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(s->kind, CW_SPAN_REQUEST);
    ck_assert_str_eq(s->label, "GET /delay/5");
    ck_assert_uint_gt(s->begin_us, 0);
    ck_assert_uint_lt(s->begin_us, s->start_us);
    ck_assert_uint_lt(s->start_us, s->first_byte_us);
    ck_assert_uint_lt(s->first_byte_us, s->end_us);
    ck_assert_int_eq(s->error, CW_ETIMEDOUT);

    const cw_span *open = cw_timeline_span(1);
    ck_assert_uint_eq(strlen(open->label), sizeof open->label - 1);
    ck_assert_uint_eq(open->end_us, 0);
    ck_assert_ptr_null(cw_timeline_span(-1));
    ck_assert_ptr_null(cw_timeline_span(2));
}
END_TEST

START_TEST(sequential_and_concurrent_spans_look_different)
{
    cw_timeline_enable(true);
    int a = cw_timeline_begin(CW_SPAN_TASK, "seq-a");
    cw_timeline_start(a);
    sleep_ms(40);
    cw_timeline_end(a, 0);
    int b = cw_timeline_begin(CW_SPAN_TASK, "seq-b");
    cw_timeline_start(b);
    sleep_ms(40);
    cw_timeline_end(b, 0);
    char *sequential = chart_text("sequential");

    cw_timeline_clear();
    a = cw_timeline_begin(CW_SPAN_TASK, "con-a");
    b = cw_timeline_begin(CW_SPAN_TASK, "con-b");
    cw_timeline_start(a);
    cw_timeline_start(b);
    sleep_ms(40);
    cw_timeline_end(a, 0);
    cw_timeline_end(b, CW_ETIMEDOUT);
    char *concurrent = chart_text("concurrent");

    char row_a[256], row_b[256];
    int a0, a1, b0, b1;
    find_row(sequential, "seq-a", row_a, sizeof row_a);
    find_row(sequential, "seq-b", row_b, sizeof row_b);
    running_columns(row_a, &a0, &a1);
    running_columns(row_b, &b0, &b1);
    ck_assert_msg(a1 <= b0 && b0 - a0 >= 10,
                  "sequential bars should run end to end, got:\n%s\n%s", row_a, row_b);
    ck_assert_msg(strstr(row_a, "ok "), "a span that ended with 0 should say ok: \"%s\"", row_a);

    find_row(concurrent, "con-a", row_a, sizeof row_a);
    find_row(concurrent, "con-b", row_b, sizeof row_b);
    running_columns(row_a, &a0, &a1);
    running_columns(row_b, &b0, &b1);
    ck_assert_msg(abs(a0 - b0) <= 1 && abs(a1 - b1) <= 1 && a1 - a0 >= 10,
                  "concurrent bars should cover the same columns, got:\n%s\n%s", row_a, row_b);
    ck_assert_msg(strstr(row_b, "ETIMEDOUT"), "a failed span should name its error: \"%s\"", row_b);

    for (const char *line = concurrent; *line;) {
        size_t len = strcspn(line, "\n");
        ck_assert_msg(len <= 80, "a line is wider than 80 columns: \"%.*s\"", (int)len, line);
        line += len + (line[len] == '\n');
    }
    ck_assert_msg(!strchr(concurrent, '\033'), "no colours when printing into a string");
    free(sequential);
    free(concurrent);
}
END_TEST

START_TEST(waiting_first_byte_and_open_spans_are_marked)
{
    cw_timeline_enable(true);
    int queued = cw_timeline_begin(CW_SPAN_REQUEST, "queued");
    sleep_ms(30);
    cw_timeline_start(queued);
    sleep_ms(30);
    cw_timeline_first_byte(queued);
    sleep_ms(30);
    cw_timeline_end(queued, 0);
    cw_timeline_begin(CW_SPAN_TASK, "open");
    char *text = chart_text(NULL);

    char row[256];
    find_row(text, "queued", row, sizeof row);
    const char *dot = strchr(row + 18, '.'), *run = strchr(row + 18, '='),
               *fb = strchr(row + 18, '|');
    ck_assert_msg(dot && run && fb && dot < run && run < fb,
                  "expected waiting '.', then running '=', then first byte '|': \"%s\"", row);
    find_row(text, "open", row, sizeof row);
    ck_assert_msg(strchr(row, '>') && strstr(row, "unfinished"),
                  "an open span should end in '>' and say unfinished: \"%s\"", row);
    ck_assert_msg(strstr(text, "0ms"), "the axis should start at 0ms:\n%s", text);
    free(text);
}
END_TEST

START_TEST(many_spans_show_head_tail_and_summary)
{
    cw_timeline_enable(true);
    for (int i = 0; i < 100; i++) {
        char label[16];
        snprintf(label, sizeof label, "s%03d", i);
        cw_timeline_end(cw_timeline_begin(CW_SPAN_TASK, label), 0);
    }
    setenv("COLUMNS", "30", 1); /* too narrow: the chart keeps 60 columns */
    char *text = chart_text("many");
    ck_assert_msg(strstr(text, "\ns019 ") && strstr(text, "\ns090 ") && strstr(text, "\ns099 "),
                  "the first 20 and last 10 rows should show:\n%s", text);
    ck_assert_msg(!strstr(text, "\ns020 ") && !strstr(text, "\ns089 "),
                  "the middle rows should be hidden:\n%s", text);
    ck_assert_msg(strstr(text, "70 more"), "the chart should say 70 rows are hidden:\n%s", text);
    ck_assert_msg(strstr(text, "\nall 100 "), "expected a summary row \"all 100\":\n%s", text);
    ck_assert_int_lt(count_lines(text), 40);
    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\n");
        ck_assert_msg(len <= 60, "a line is wider than 60 columns: \"%.*s\"", (int)len, line);
        line += len + (line[len] == '\n');
    }
    free(text);
}
END_TEST

START_TEST(trace_is_json_with_one_event_per_span)
{
    cw_timeline_enable(true);
    int a = cw_timeline_begin(CW_SPAN_REQUEST, "GET \"/quoted\\path\"\n");
    int b = cw_timeline_begin(CW_SPAN_TASK, "task b");
    cw_timeline_start(a);
    cw_timeline_start(b);
    sleep_ms(5);
    cw_timeline_first_byte(a);
    cw_timeline_end(a, 0);
    cw_timeline_end(b, CW_ETIMEDOUT);
    int c = cw_timeline_begin(CW_SPAN_USER, "after");
    cw_timeline_end(c, 0);
    cw_timeline_begin(CW_SPAN_USER, "still open");

    char path[] = "/tmp/cw_trace_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(cw_timeline_write_trace(path), 0);

    char text[8192] = "";
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    ck_assert_msg(strncmp(text, "{", 1) == 0 && strstr(text, "\"traceEvents\":["), "got:\n%s", text);
    ck_assert_uint_eq(count_of(text, "\"ph\":\"X\""), 4);
    ck_assert_uint_eq(count_of(text, "\"ph\":\"i\""), 1);
    ck_assert_msg(strstr(text, "GET \\\"/quoted\\\\path\\\"\\u000a"), "label not escaped:\n%s", text);

    /* A full parse, and no two overlapping spans on one track, when python3 is there. */
    if (system("command -v python3 >/dev/null 2>&1") == 0) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "python3 -c 'import json,sys\n"
                 "ev=[e for e in json.load(open(sys.argv[1]))[\"traceEvents\"] if e[\"ph\"]==\"X\"]\n"
                 "assert len(ev)==4\n"
                 "for x in ev:\n"
                 "  for y in ev:\n"
                 "    if x is not y and x[\"tid\"]==y[\"tid\"]:\n"
                 "      assert x[\"ts\"]+x[\"dur\"]<=y[\"ts\"] or y[\"ts\"]+y[\"dur\"]<=x[\"ts\"]\n"
                 "' %s",
                 path);
        ck_assert_msg(system(cmd) == 0, "python3 rejected the trace:\n%s", text);
    }
    unlink(path);
    ck_assert_int_lt(cw_timeline_write_trace("/nonexistent-dir/trace.json"), 0);
}
END_TEST

START_TEST(full_table_drops_and_counts)
{
    cw_timeline_enable(true);
    for (int i = 0; i < CW_TIMELINE_MAX_SPANS; i++)
        ck_assert_int_eq(cw_timeline_begin(CW_SPAN_USER, "u"), i);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(cw_timeline_begin(CW_SPAN_USER, "u"), -1);
    ck_assert_int_eq(cw_timeline_count(), CW_TIMELINE_MAX_SPANS);
    char *text = chart_text(NULL);
    ck_assert_msg(strstr(text, "5 spans dropped"), "the chart should count 5 dropped spans:\n%s", text);
    free(text);

    cw_timeline_clear();
    ck_assert_int_eq(cw_timeline_count(), 0);
    ck_assert_ptr_null(cw_timeline_span(0));
    ck_assert_int_eq(cw_timeline_begin(CW_SPAN_USER, "again"), 0);
    text = chart_text(NULL);
    ck_assert_msg(!strstr(text, "dropped"), "clear should forget dropped spans too:\n%s", text);
    free(text);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("timeline");
    TCase *tc = add_case(suite, "timeline", 30, setup, teardown);
    tcase_add_test(tc, off_by_default_records_nothing);
    tcase_add_test(tc, environment_switches_recording);
    tcase_add_test(tc, records_spans_with_ordered_times);
    tcase_add_test(tc, sequential_and_concurrent_spans_look_different);
    tcase_add_test(tc, waiting_first_byte_and_open_spans_are_marked);
    tcase_add_test(tc, many_spans_show_head_tail_and_summary);
    tcase_add_test(tc, trace_is_json_with_one_event_per_span);
    tcase_add_test(tc, full_table_drops_and_counts);
    return run_suite(suite);
}
