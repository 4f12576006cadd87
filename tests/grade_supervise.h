/**
 * @file grade_supervise.h
 * @brief The side of the grader that decides: runs each test in a fresh process, reads its verdict, scores.
 *
 * The tests of a chapter run one by one, each in a new process (a new sandbox when the grader runs them
 * through tools/sandbox). The test process is told a random nonce on descriptor 3 and writes one verdict
 * line carrying it on descriptor 4 (tests/grade.c, `--run`). This side reads that line and the process's
 * output, kills the test's whole process tree, and only then decides: a test passes when its process
 * exited normally with status 0 after writing one well-formed verdict with the right nonce that says so.
 * It prints the table and writes the JSON report (docs/grade-report.schema.json) itself, after the tree
 * is gone. It is linked into the grader of each chapter (to run the tests directly) and into
 * build/tools/grade_supervisor, the program tools/grade runs, which contains no code of the learner's.
 */
#ifndef CW_GRADE_SUPERVISE_H
#define CW_GRADE_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>

/** Descriptor on which a test process reads its nonce. */
#define CW_GRADE_NONCE_FD 3
/** Descriptor on which a test process writes its verdict. */
#define CW_GRADE_VERDICT_FD 4
/** The byte a test process writes on the verdict channel as it starts its test: its timeout runs from then. */
#define CW_GRADE_START_BYTE 'S'
/** First word of a verdict line. */
#define CW_GRADE_VERDICT_TAG "CWV1"

/** One test to run, as the chapter lists it. */
typedef struct cw_grade_item {
    const char *name;  /**< the Check test's name */
    const char *title; /**< what it checks, in the learner's words */
    int points;        /**< what it is worth */
    double timeout_s;  /**< its timeout in seconds (0 = the default), before CW_TIMEOUT_SCALE */
} cw_grade_item;

/** Runs the test @p name in the current (new) process, verdict on CW_GRADE_VERDICT_FD; never returns. */
typedef void cw_grade_run_fn(const char *name, void *ctx);

/** What to run and how to report it. */
typedef struct cw_grade_plan {
    const char *chapter;       /**< e.g. "06_gather" */
    const cw_grade_item *tests;
    int n;
    const char *program;       /**< the chapter's grader, for the commands that rerun one test */
    char *const *runner;       /**< argv prefix that runs one test: NAME is appended after "--run" */
    cw_grade_run_fn *run_here; /**< when runner is NULL: fork and call this instead of exec */
    void *run_ctx;
    const char *json_path;     /**< where to write the report, or NULL */
    const char *only;          /**< run only this test, or NULL */
    bool expect_fail;          /**< for the stubs: succeed only when every test fails */
    bool quiet_output;         /**< do not echo the tests' own output */
} cw_grade_plan;

/**
 * @brief Run the plan's tests one by one, print the table and the first failure, write the report.
 * @return the exit status: 0 (all passed, or all failed with expect_fail), 1 otherwise, 2 when the
 *         chapter could not be graded (fewer results than tests, an unlisted test, a bad command line).
 */
int cw_grade_supervise(const cw_grade_plan *plan);

/**
 * @brief The verdict line a test process writes: "CWV1 NONCE pass|fail LINE FILE\tMESSAGE\n".
 * @return its length, or -1 when it does not fit in @p size bytes.
 */
int cw_grade_format_verdict(char *buf, size_t size, const char *nonce, bool passed, const char *file, int line,
                            const char *message);

#endif
