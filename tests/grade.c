/**
 * @file grade.c
 * @brief The grader: runs a chapter's graded tests one by one under Check, prints points, writes JSON.
 *
 * Each test gets its own TCase, so its own timeout and its own forked
 * process: a crash or a hang costs that test's points and nothing else.
 * The tests run one TCase at a time so that each row of the table appears
 * as soon as its test ends and its duration can be measured; Check keeps
 * every result in the runner, and the report is built from those results.
 */
#include "grade.h"

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/** Timeout of a test that gives none, in seconds. */
#define CW_GRADE_DEFAULT_TIMEOUT_S 10.0

/** What happened to one test. */
typedef enum cw_grade_status {
    CW_GRADE_NOT_RUN,   /**< no result came back (the count guard reports it) */
    CW_GRADE_PASSED,    /**< every check held */
    CW_GRADE_FAILED,    /**< a check failed, or the test process exited early */
    CW_GRADE_CRASHED,   /**< the test process died of a signal */
    CW_GRADE_TIMED_OUT, /**< the test ran past its timeout and was killed */
} cw_grade_status;

/** The outcome of one listed test, copied out of Check's result. */
typedef struct cw_grade_outcome {
    cw_grade_status status;
    int signal;         /**< the signal that killed it (CW_GRADE_CRASHED), else 0 */
    bool exited_early;  /**< the test process exited with status 0 before the test's end */
    char *check_msg;    /**< Check's own message */
    char *message;      /**< the outcome in plain words (NULL when it passed) */
    char *rerun;        /**< a command that shows the failure up close (NULL when it passed) */
    char *file;         /**< where the failing check (or the last passing one) is */
    int line;
    double duration_s;  /**< wall-clock time of the test's run, fork included */
} cw_grade_outcome;

/** The command line. */
typedef struct cw_grade_options {
    const char *program; /**< argv[0], to print commands that rerun one test */
    const char *json_path;
    const char *only;
    bool expect_fail;
    bool list;
} cw_grade_options;

static const char *const cw_grade_status_names[] = {
    [CW_GRADE_NOT_RUN] = "not_run",
    [CW_GRADE_PASSED] = "passed",
    [CW_GRADE_FAILED] = "failed",
    [CW_GRADE_CRASHED] = "crashed",
    [CW_GRADE_TIMED_OUT] = "timed_out",
};

/** Seconds on a monotonic clock. */
static double cw_grade_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/** A copy of @p s (NULL stays NULL); exits when memory runs out, as there is nothing to grade then. */
static char *cw_grade_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    char *copy = strdup(s);
    if (copy == NULL) {
        fprintf(stderr, "grade: out of memory\n");
        exit(2);
    }
    return copy;
}

/** The test's timeout in seconds: its own or the default, times CW_TIMEOUT_SCALE when set. */
static double cw_grade_timeout(const cw_graded_test *test)
{
    double timeout = test->timeout_s > 0 ? test->timeout_s : CW_GRADE_DEFAULT_TIMEOUT_S;
    const char *scale = getenv("CW_TIMEOUT_SCALE");
    if (scale != NULL && *scale != '\0') {
        double factor = strtod(scale, NULL);
        if (factor > 0)
            timeout *= factor;
    }
    return timeout;
}

/*
 * Check counts a test whose process exits with status 0 as passed, even when the exercise called
 * exit(0) in the middle of it. A checked fixture runs in the test's process after the test body,
 * so it marks this shared page: a test that "passed" without the mark did not reach its end.
 */
static volatile int *cw_grade_reached_end;

/** The checked teardown: the test's body returned. */
static void cw_grade_mark_end(void)
{
    *cw_grade_reached_end = 1;
}

/** Read Check's verdict: a signal and a timeout both come back as CK_ERROR, told apart by the message. */
static void cw_grade_read_result(TestResult *result, cw_grade_outcome *out)
{
    const char *msg = tr_msg(result);
    out->check_msg = cw_grade_strdup(msg != NULL ? msg : "");
    out->file = cw_grade_strdup(tr_lfile(result) != NULL ? tr_lfile(result) : "?");
    out->line = tr_lno(result);
    out->signal = 0;

    switch (tr_rtype(result)) {
    case CK_PASS:
        out->status = CW_GRADE_PASSED;
        if (!*cw_grade_reached_end) {
            out->status = CW_GRADE_FAILED;
            out->exited_early = true;
        }
        break;
    case CK_FAILURE:
        out->status = CW_GRADE_FAILED;
        break;
    default:
        if (sscanf(out->check_msg, "Received signal %d", &out->signal) == 1)
            out->status = CW_GRADE_CRASHED;
        else if (strstr(out->check_msg, "Test timeout expired") != NULL)
            out->status = CW_GRADE_TIMED_OUT;
        else
            out->status = CW_GRADE_FAILED; /* "Early exit with return value N" and the like */
        break;
    }
}

/** The usual name of a signal a crashing exercise dies of, e.g. "SIGSEGV"; NULL for others. */
static const char *cw_grade_signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGPIPE: return "SIGPIPE";
    case SIGTRAP: return "SIGTRAP";
    default: return NULL;
    }
}

/** What a crash most often means, in a learner's words. */
static const char *cw_grade_signal_meaning(int sig)
{
    switch (sig) {
    case SIGSEGV: return "a bad pointer: NULL, freed, or past the end of an array";
    case SIGABRT: return "an abort: often a double free or a corrupted heap (see the message above the table)";
    case SIGBUS: return "a bad memory access";
    case SIGFPE: return "an arithmetic error such as a division by zero";
    default: return strsignal(sig);
    }
}

/** printf into a new string; exits when memory runs out. */
static char *cw_grade_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *cw_grade_format(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *text = NULL;
    int len = vasprintf(&text, fmt, args);
    va_end(args);
    if (len < 0) {
        fprintf(stderr, "grade: out of memory\n");
        exit(2);
    }
    return text;
}

/**
 * Put the outcome in plain words (e.g. "tests/06_gather.c:42: expected 3 results, got 0") and, for a
 * crash or a hang, a command that shows it up close.
 */
static void cw_grade_explain(const char *program, const cw_graded_test *test, cw_grade_outcome *out)
{
    int code;
    const char *name = test->test->name;
    switch (out->status) {
    case CW_GRADE_PASSED:
        break;
    case CW_GRADE_FAILED:
        if (out->exited_early)
            out->message = cw_grade_format(
                "the test process exited with status 0 before the test reached its end (does the exercise call "
                "exit()?); the last check reached was at %s:%d", out->file, out->line);
        else if (sscanf(out->check_msg, "Early exit with return value %d", &code) == 1)
            out->message = cw_grade_format("the test process ended early with exit status %d (does something call "
                                           "exit()?); the last check reached was at %s:%d", code, out->file, out->line);
        else
            out->message = cw_grade_format("%s:%d: %s", out->file, out->line, out->check_msg);
        break;
    case CW_GRADE_CRASHED: {
        const char *sig_name = cw_grade_signal_name(out->signal);
        out->message = cw_grade_format("the test crashed with signal %d (%s: %s); the last check reached was at %s:%d",
                                       out->signal, sig_name != NULL ? sig_name : "signal",
                                       cw_grade_signal_meaning(out->signal), out->file, out->line);
        out->rerun = cw_grade_format("CK_FORK=no valgrind -q %s --only %s", program, name);
        break;
    }
    case CW_GRADE_TIMED_OUT:
        out->message = cw_grade_format("the test did not finish within %g s and was stopped (is something waiting "
                                       "forever? on a slow machine, CW_TIMEOUT_SCALE=3 gives every test 3 times "
                                       "longer); the last check reached was at %s:%d", cw_grade_timeout(test),
                                       out->file, out->line);
        out->rerun = cw_grade_format("CK_FORK=no gdb -ex run -ex bt --args %s --only %s   (press Ctrl-C when it hangs)",
                                     program, name);
        break;
    case CW_GRADE_NOT_RUN:
        out->message = cw_grade_strdup("no result came back for this test");
        break;
    }
}

/** Write @p s as a JSON string: quotes, backslashes and control bytes escaped, bad UTF-8 replaced. */
static void cw_grade_json_string(FILE *to, const char *s)
{
    if (s == NULL) {
        fputs("null", to);
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', to);
    while (*p != '\0') {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            fprintf(to, "\\%c", c);
            p++;
        } else if (c == '\n') {
            fputs("\\n", to);
            p++;
        } else if (c == '\t') {
            fputs("\\t", to);
            p++;
        } else if (c == '\r') {
            fputs("\\r", to);
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(to, "\\u%04x", c);
            p++;
        } else if (c < 0x80) {
            fputc(c, to);
            p++;
        } else {
            /* A multi-byte sequence passes through only when it is well-formed UTF-8. */
            int len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
            if (c >= 0xf5)
                len = 0;
            int ok = len;
            for (int k = 1; k < len && ok; k++)
                if ((p[k] & 0xc0) != 0x80)
                    ok = 0;
            if (ok) {
                fwrite(p, 1, (size_t)len, to);
                p += len;
            } else {
                fputs("\\ufffd", to);
                p++;
            }
        }
    }
    fputc('"', to);
}

/**
 * The count guard's second half: the tests tests/CHAPTER.c defines with START_TEST that main() does not
 * list, so they would never run (and never cost a point). Returns how many, their names in @p names.
 */
static int cw_grade_unlisted(const char *chapter, const cw_graded_test *tests, int n, char ***names)
{
    char path[512], line[1024];
    *names = NULL;
    snprintf(path, sizeof path, "tests/%s.c", chapter);
    FILE *source = fopen(path, "r");
    if (source == NULL)
        return 0; /* run from elsewhere: only the runtime count is checked */
    int count = 0;
    while (fgets(line, sizeof line, source) != NULL) {
        char name[256];
        if (sscanf(line, " START_TEST ( %255[A-Za-z0-9_] )", name) != 1)
            continue;
        bool listed = false;
        for (int i = 0; i < n && !listed; i++)
            listed = strcmp(tests[i].test->name, name) == 0;
        if (listed)
            continue;
        char **grown = realloc(*names, (size_t)(count + 1) * sizeof *grown);
        if (grown == NULL) {
            fprintf(stderr, "grade: out of memory\n");
            exit(2);
        }
        *names = grown;
        (*names)[count++] = cw_grade_strdup(name);
    }
    fclose(source);
    return count;
}

/** The report other formats are made from (docs/grade-report.schema.json, one chapter's part);
 *  returns 0, or -1 when the file could not be written. */
static int cw_grade_write_json(const char *path, const char *chapter, const cw_graded_test *tests,
                               const cw_grade_outcome *outcomes, const int *selected, int n_selected,
                               int results_seen, char **unlisted, int n_unlisted, const char *error,
                               int points, int max_points)
{
    FILE *to = fopen(path, "w");
    if (to == NULL) {
        perror(path);
        return -1;
    }
    fprintf(to, "{\"chapter\":");
    cw_grade_json_string(to, chapter);
    fprintf(to, ",\"status\":\"%s\",\"points\":%d,\"max_points\":%d,\"tests_expected\":%d,\"tests_run\":%d,"
            "\"error\":", error == NULL ? "graded" : "incomplete", points, max_points, n_selected + n_unlisted,
            results_seen);
    cw_grade_json_string(to, error);
    fprintf(to, ",\"compile_error\":null,\"hints\":\"chapters/");
    fprintf(to, "%s/hints.md\",\"tests\":[", chapter); /* chapter names are [0-9a-z_] */
    for (int k = 0; k < n_selected; k++) {
        const cw_graded_test *test = &tests[selected[k]];
        const cw_grade_outcome *out = &outcomes[selected[k]];
        bool passed = out->status == CW_GRADE_PASSED;
        fprintf(to, "%s\n  {\"chapter\":", k ? "," : "");
        cw_grade_json_string(to, chapter);
        fprintf(to, ",\"name\":");
        cw_grade_json_string(to, test->test->name);
        fprintf(to, ",\"title\":");
        cw_grade_json_string(to, test->title);
        fprintf(to, ",\"points\":%d,\"max_points\":%d,\"status\":\"%s\",\"signal\":", passed ? test->points : 0,
                test->points, cw_grade_status_names[out->status]);
        const char *sig_name = cw_grade_signal_name(out->signal);
        if (out->status == CW_GRADE_CRASHED)
            fprintf(to, "%d,\"signal_name\":", out->signal);
        else
            fputs("null,\"signal_name\":", to);
        cw_grade_json_string(to, out->status == CW_GRADE_CRASHED ? sig_name : NULL);
        fprintf(to, ",\"message\":");
        cw_grade_json_string(to, out->message);
        fprintf(to, ",\"location\":");
        if (out->file != NULL && !passed) {
            fprintf(to, "{\"file\":");
            cw_grade_json_string(to, out->file);
            fprintf(to, ",\"line\":%d}", out->line);
        } else {
            fputs("null", to);
        }
        fprintf(to, ",\"rerun\":");
        cw_grade_json_string(to, out->rerun);
        fprintf(to, ",\"duration_s\":%.3f}", out->duration_s);
    }
    for (int u = 0; u < n_unlisted; u++) {
        fprintf(to, "%s\n  {\"chapter\":", n_selected + u ? "," : "");
        cw_grade_json_string(to, chapter);
        fprintf(to, ",\"name\":");
        cw_grade_json_string(to, unlisted[u]);
        fprintf(to, ",\"title\":");
        cw_grade_json_string(to, unlisted[u]);
        fprintf(to, ",\"points\":0,\"max_points\":null,\"status\":\"not_run\",\"signal\":null,\"signal_name\":null,"
                "\"message\":\"tests/%s.c defines this test but main() does not list it, so it never ran\","
                "\"location\":null,\"rerun\":null,\"duration_s\":0}", chapter);
    }
    fprintf(to, "\n]}\n");
    if (fclose(to) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

/** Run one test in its own TCase and copy its result out; returns false when no result came back. */
static bool cw_grade_run_one(SRunner *runner, const char *chapter, const cw_graded_test *test,
                             cw_grade_outcome *out)
{
    /* The forked child inherits stdio buffers: flush them so nothing prints twice. */
    fflush(stdout);
    fflush(stderr);
    double start = cw_grade_now();
    *cw_grade_reached_end = 0;
    srunner_run(runner, chapter, test->test->name, CK_SILENT);
    out->duration_s = cw_grade_now() - start;

    /* The runner keeps every result so far; ours is the one named after the test. */
    bool found = false;
    TestResult **results = srunner_results(runner);
    int n_results = srunner_ntests_run(runner);
    for (int r = 0; r < n_results && !found; r++)
        if (strcmp(tr_tcname(results[r]), test->test->name) == 0) {
            cw_grade_read_result(results[r], out);
            found = true;
        }
    free(results);
    return found;
}

/** One row of the table: title, points earned/max, status. */
static void cw_grade_print_row(const cw_graded_test *test, const cw_grade_outcome *out, int width)
{
    char points[32];
    snprintf(points, sizeof points, "%d/%d", out->status == CW_GRADE_PASSED ? test->points : 0, test->points);
    if ((int)strlen(test->title) > width)
        printf("  %.*s...  %7s  ", width - 3, test->title, points);
    else
        printf("  %-*s  %7s  ", width, test->title, points);
    const char *sig_name = cw_grade_signal_name(out->signal);
    if (out->status == CW_GRADE_CRASHED && sig_name != NULL)
        printf("crashed (signal %d, %s)\n", out->signal, sig_name);
    else if (out->status == CW_GRADE_CRASHED)
        printf("crashed (signal %d)\n", out->signal);
    else if (out->status == CW_GRADE_TIMED_OUT)
        printf("timed out\n");
    else if (out->status == CW_GRADE_NOT_RUN)
        printf("no result\n");
    else
        printf("%s\n", cw_grade_status_names[out->status]);
}

/** Parse the command line; returns 0, or -1 after printing the usage. */
static int cw_grade_parse(int argc, char **argv, cw_grade_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->program = argc > 0 ? argv[0] : "the grader";
    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--json") == 0 && k + 1 < argc) {
            opts->json_path = argv[++k];
        } else if (strcmp(argv[k], "--only") == 0 && k + 1 < argc) {
            opts->only = argv[++k];
        } else if (strcmp(argv[k], "--expect-fail") == 0) {
            opts->expect_fail = true;
        } else if (strcmp(argv[k], "--list") == 0) {
            opts->list = true;
        } else {
            fprintf(stderr,
                    "usage: %s [--json FILE] [--only NAME] [--expect-fail] [--list]\n"
                    "  --json FILE    also write the report as JSON to FILE\n"
                    "  --only NAME    run only the test named NAME (see --list)\n"
                    "  --expect-fail  for the shipped stubs: succeed only when every test fails\n"
                    "  --list         print each test's name, points and title, run nothing\n"
                    "  CW_TIMEOUT_SCALE=F multiplies every timeout; CK_FORK=no runs in one process\n",
                    argv[0]);
            return -1;
        }
    }
    return 0;
}

int cw_grade_main(const char *chapter, const cw_graded_test *tests, int n, int argc, char **argv)
{
    cw_grade_options opts;
    if (cw_grade_parse(argc, argv, &opts) != 0)
        return 2;

    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(tests[i].test->name, tests[j].test->name) == 0) {
                fprintf(stderr, "grade: the test %s is listed twice\n", tests[i].test->name);
                return 2;
            }

    if (opts.list) {
        for (int i = 0; i < n; i++)
            printf("%s\t%d\t%s\n", tests[i].test->name, tests[i].points, tests[i].title);
        return 0;
    }

    int *selected = calloc((size_t)(n > 0 ? n : 1), sizeof *selected);
    cw_grade_outcome *outcomes = calloc((size_t)(n > 0 ? n : 1), sizeof *outcomes);
    if (selected == NULL || outcomes == NULL) {
        fprintf(stderr, "grade: out of memory\n");
        return 2;
    }
    int n_selected = 0;
    for (int i = 0; i < n; i++)
        if (opts.only == NULL || strcmp(opts.only, tests[i].test->name) == 0)
            selected[n_selected++] = i;
    if (n_selected == 0) {
        fprintf(stderr, "grade: no test %s%s in %s; the tests are:\n", opts.only ? "named " : "",
                opts.only ? opts.only : "", chapter);
        for (int i = 0; i < n; i++)
            fprintf(stderr, "  %s\n", tests[i].test->name);
        free(selected);
        free(outcomes);
        return 2;
    }

    cw_grade_reached_end = mmap(NULL, sizeof *cw_grade_reached_end, PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (cw_grade_reached_end == MAP_FAILED) {
        perror("grade: mmap");
        free(selected);
        free(outcomes);
        return 2;
    }

    /* One TCase per test, named after the test, so each has its own timeout and maps back by name. */
    Suite *suite = suite_create(chapter);
    for (int k = 0; k < n_selected; k++) {
        const cw_graded_test *test = &tests[selected[k]];
        TCase *tcase = tcase_create(test->test->name);
        tcase_add_test(tcase, test->test);
        tcase_set_timeout(tcase, cw_grade_timeout(test));
        tcase_add_checked_fixture(tcase, NULL, cw_grade_mark_end);
        suite_add_tcase(suite, tcase);
    }
    SRunner *runner = srunner_create(suite);
    const char *fork_env = getenv("CK_FORK");
    srunner_set_fork_status(runner, fork_env != NULL && strcmp(fork_env, "no") == 0 ? CK_NOFORK : CK_FORK);

    int width = 20;
    for (int k = 0; k < n_selected; k++) {
        int len = (int)strlen(tests[selected[k]].title);
        if (len > width)
            width = len > 64 ? 64 : len;
    }
    int number_len = (int)strcspn(chapter, "_"); /* "06" of "06_gather" */
    printf("Grading %s: %d test%s\n\n", chapter, n_selected, n_selected == 1 ? "" : "s");
    printf("  %-*s  %7s  %s\n", width, "test", "points", "status");

    int points = 0, max_points = 0, passed = 0, results_seen = 0;
    for (int k = 0; k < n_selected; k++) {
        const cw_graded_test *test = &tests[selected[k]];
        cw_grade_outcome *out = &outcomes[selected[k]];
        results_seen += cw_grade_run_one(runner, chapter, test, out);
        cw_grade_explain(opts.program, test, out);
        cw_grade_print_row(test, out, width);
        max_points += test->points;
        if (out->status == CW_GRADE_PASSED) {
            points += test->points;
            passed++;
        }
    }

    int status = 0;
    printf("\n");
    /* Check reports success when a selection matches nothing: never trust a short count. */
    char **unlisted = NULL;
    int n_unlisted = opts.only == NULL ? cw_grade_unlisted(chapter, tests, n, &unlisted) : 0;
    char *error = NULL;
    if (results_seen < n_selected)
        error = cw_grade_format("%d test%s listed but only %d result%s came back", n_selected,
                                n_selected == 1 ? " was" : "s were", results_seen, results_seen == 1 ? "" : "s");
    else if (n_unlisted > 0)
        error = cw_grade_format("tests/%s.c defines %d test%s that main() does not list, so %s never ran: %s%s",
                                chapter, n_unlisted, n_unlisted == 1 ? "" : "s", n_unlisted == 1 ? "it" : "they",
                                unlisted[0], n_unlisted > 1 ? ", ..." : "");
    if (error != NULL) {
        fflush(stdout);
        fprintf(stderr, "grade: error: %s\n", error);
        status = 2;
    }

    if (opts.expect_fail) {
        int wrongly_passed = 0;
        for (int k = 0; k < n_selected; k++)
            if (outcomes[selected[k]].status == CW_GRADE_PASSED) {
                if (wrongly_passed++ == 0)
                    printf("These tests passed on the stub, so they cannot tell a stub from a solution:\n");
                printf("  %s (%s)\n", tests[selected[k]].title, tests[selected[k]].test->name);
            }
        if (wrongly_passed == 0)
            printf("Every test failed on the stub, as it should.\n");
        else if (status == 0)
            status = 1;
    } else {
        for (int k = 0; k < n_selected; k++) {
            int i = selected[k];
            if (outcomes[i].status == CW_GRADE_PASSED)
                continue;
            printf("First failing test: %s\n  %s\n", tests[i].title, outcomes[i].message);
            if (outcomes[i].rerun != NULL)
                printf("  See it up close: %s\n", outcomes[i].rerun);
            if (outcomes[i].status == CW_GRADE_CRASHED)
                printf("  Or with AddressSanitizer: make grade CH=%.*s ASAN=1\n", number_len, chapter);
            printf("  Hints: chapters/%s/hints.md (make next shows them one at a time)\n\n", chapter);
            break;
        }
        if (passed < n_selected && status == 0)
            status = 1;
    }
    printf("Chapter %.*s: %d/%d points (%d/%d tests passed)\n", number_len, chapter, points, max_points, passed,
           n_selected);

    if (opts.json_path != NULL && cw_grade_write_json(opts.json_path, chapter, tests, outcomes, selected,
                                                      n_selected, results_seen, unlisted, n_unlisted, error, points,
                                                      max_points) != 0 &&
        status == 0)
        status = 2;

    for (int i = 0; i < n; i++) {
        free(outcomes[i].check_msg);
        free(outcomes[i].message);
        free(outcomes[i].rerun);
        free(outcomes[i].file);
    }
    for (int u = 0; u < n_unlisted; u++)
        free(unlisted[u]);
    free(unlisted);
    free(error);
    free(outcomes);
    free(selected);
    srunner_free(runner);
    munmap((void *)cw_grade_reached_end, sizeof *cw_grade_reached_end);
    fflush(stdout);
    return status;
}
