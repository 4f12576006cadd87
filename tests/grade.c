/**
 * @file grade.c
 * @brief The test side of the grader: lists a chapter's tests, runs one in this process, reports it.
 *
 * `--run NAME` runs one test in this process (Check's no-fork mode) and writes its verdict line on
 * descriptor 4 with the nonce read from descriptor 3 (see grade_supervise.h), then ends at once with
 * _exit(0), so no exit handler of the exercise's runs after it. The decision is not made here: the
 * supervisor, in another process, reads the verdict once everything this process started is dead.
 * `--list` and `--table` print the tests. Without these options the program grades its own tests as
 * the supervisor does (each in a forked process), which is how `make test` runs the solutions;
 * `make grade` runs the supervisor as a separate program that contains no exercise code, and runs each
 * test in a sandbox.
 */
#include "grade.h"
#include "grade_supervise.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

/** The tests of this program, for the forked children of the direct mode. */
typedef struct cw_grade_self {
    const char *chapter;
    const cw_graded_test *tests;
    int n;
} cw_grade_self;

/** Read the nonce from its descriptor and close it; "-" when there is none (a test run by hand). */
static void cw_grade_read_nonce(char *nonce, size_t size)
{
    ssize_t got = read(CW_GRADE_NONCE_FD, nonce, size - 1);
    close(CW_GRADE_NONCE_FD);
    if (got <= 0) {
        snprintf(nonce, size, "-");
        return;
    }
    nonce[got] = '\0';
    nonce[strcspn(nonce, "\n")] = '\0';
}

/** Run the test @p name here, write its verdict, and end this process without running exit handlers. */
static void cw_grade_run_test(const char *chapter, const cw_graded_test *tests, int n, const char *name)
{
    char nonce[64];
    cw_grade_read_nonce(nonce, sizeof nonce);
    const cw_graded_test *test = NULL;
    for (int i = 0; i < n && test == NULL; i++)
        if (strcmp(tests[i].test->name, name) == 0)
            test = &tests[i];
    if (test == NULL) {
        fprintf(stderr, "grade: no test named %s in %s\n", name, chapter);
        _exit(2);
    }
    int to = fcntl(CW_GRADE_VERDICT_FD, F_GETFD) != -1 ? CW_GRADE_VERDICT_FD : 1;
    char start = CW_GRADE_START_BYTE;
    if (write(to, &start, 1) != 1)
        _exit(3);
    Suite *suite = suite_create(chapter);
    TCase *tcase = tcase_create(name);
    tcase_add_test(tcase, test->test);
    suite_add_tcase(suite, tcase);
    SRunner *runner = srunner_create(suite);
    srunner_set_fork_status(runner, CK_NOFORK);
    srunner_run(runner, chapter, name, CK_SILENT);

    char line[4096];
    int len = -1;
    if (srunner_ntests_run(runner) == 1) {
        TestResult **results = srunner_results(runner);
        TestResult *r = results[0];
        len = cw_grade_format_verdict(line, sizeof line, nonce, tr_rtype(r) == CK_PASS, tr_lfile(r), tr_lno(r),
                                      tr_msg(r));
        free(results);
    }
    fflush(stdout);
    fflush(stderr);
    if (len > 0 && write(to, line, (size_t)len) != len)
        _exit(3);
    _exit(len > 0 ? 0 : 2);
}

/** The direct mode's forked child: run one of this program's own tests. */
static void cw_grade_run_here(const char *name, void *ctx)
{
    const cw_grade_self *self = ctx;
    cw_grade_run_test(self->chapter, self->tests, self->n, name);
}

/** CK_FORK=no: the selected tests one after another in this process, for a debugger; Check prints the results. */
static int cw_grade_run_in_process(const char *chapter, const cw_graded_test *tests, int n, const char *only)
{
    Suite *suite = suite_create(chapter);
    for (int i = 0; i < n; i++) {
        if (only != NULL && strcmp(only, tests[i].test->name) != 0)
            continue;
        TCase *tcase = tcase_create(tests[i].test->name);
        tcase_add_test(tcase, tests[i].test);
        suite_add_tcase(suite, tcase);
    }
    SRunner *runner = srunner_create(suite);
    srunner_set_fork_status(runner, CK_NOFORK);
    srunner_run_all(runner, CK_VERBOSE);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}

/** The usage, on standard error; returns 2. */
static int cw_grade_usage(const char *program)
{
    fprintf(stderr,
            "usage: %s [--json FILE] [--only NAME] [--expect-fail] [--list] [--table] [--run NAME]\n"
            "  --json FILE    also write the report as JSON to FILE\n"
            "  --only NAME    run only the test named NAME (see --list)\n"
            "  --expect-fail  for the shipped stubs: succeed only when every test fails\n"
            "  --list         print each test's name, points and title, run nothing\n"
            "  --table        print each test's name, points, timeout and title, run nothing\n"
            "  --run NAME     run one test in this process and write its verdict (for the supervisor)\n"
            "  CW_TIMEOUT_SCALE=F multiplies every timeout; CK_FORK=no runs the tests in this process\n",
            program);
    return 2;
}

int cw_grade_main(const char *chapter, const cw_graded_test *tests, int n, int argc, char **argv)
{
    const char *program = argc > 0 ? argv[0] : "the grader";
    const char *json_path = NULL, *only = NULL, *run = NULL;
    bool expect_fail = false, list = false, table = false;
    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--json") == 0 && k + 1 < argc)
            json_path = argv[++k];
        else if (strcmp(argv[k], "--only") == 0 && k + 1 < argc)
            only = argv[++k];
        else if (strcmp(argv[k], "--run") == 0 && k + 1 < argc)
            run = argv[++k];
        else if (strcmp(argv[k], "--expect-fail") == 0)
            expect_fail = true;
        else if (strcmp(argv[k], "--list") == 0)
            list = true;
        else if (strcmp(argv[k], "--table") == 0)
            table = true;
        else
            return cw_grade_usage(program);
    }
    if (run != NULL)
        cw_grade_run_test(chapter, tests, n, run);
    if (list || table) {
        for (int i = 0; i < n; i++) {
            if (table)
                printf("%s\t%d\t%g\t%s\n", tests[i].test->name, tests[i].points, tests[i].timeout_s, tests[i].title);
            else
                printf("%s\t%d\t%s\n", tests[i].test->name, tests[i].points, tests[i].title);
        }
        return 0;
    }
    const char *fork_env = getenv("CK_FORK");
    if (fork_env != NULL && strcmp(fork_env, "no") == 0)
        return cw_grade_run_in_process(chapter, tests, n, only);

    cw_grade_item *items = calloc((size_t)(n > 0 ? n : 1), sizeof *items);
    if (items == NULL) {
        fprintf(stderr, "grade: out of memory\n");
        return 2;
    }
    for (int i = 0; i < n; i++)
        items[i] = (cw_grade_item){tests[i].test->name, tests[i].title, tests[i].points, tests[i].timeout_s};
    cw_grade_self self = {chapter, tests, n};
    cw_grade_plan plan = {
        .chapter = chapter, .tests = items, .n = n, .program = program, .run_here = cw_grade_run_here,
        .run_ctx = &self, .json_path = json_path, .only = only, .expect_fail = expect_fail,
    };
    int status = cw_grade_supervise(&plan);
    free(items);
    return status;
}
