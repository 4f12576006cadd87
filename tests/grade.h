/**
 * @file grade.h
 * @brief The graded-test harness: each chapter's tests with their points, run by Check in fork mode.
 *
 * A chapter's test file defines its tests with Check's START_TEST/END_TEST
 * and ends with a main() that lists them with their points:
 *
 * @code
 * int main(int argc, char **argv)
 * {
 *     const cw_graded_test tests[] = {
 *         { "fetch returns the body", test_fetch_body, 2, 0 },
 *         { "three fetches run one after another", test_sequential, 3, 0 },
 *     };
 *     return cw_grade_main("01_blocking_fetch", tests, sizeof tests / sizeof tests[0], argc, argv);
 * }
 * @endcode
 *
 * Every test runs in its own forked process with its own timeout, so a crash
 * or a hang costs that test's points and nothing else.
 */
#ifndef CW_GRADE_H
#define CW_GRADE_H

#include <check.h>

/** One graded test. */
typedef struct cw_graded_test {
    const char *title;  /**< what the test checks, in words a learner reads in the report */
    const TTest *test;  /**< the Check test (the name given to START_TEST) */
    int points;         /**< points it is worth */
    double timeout_s;   /**< its timeout in seconds (0 = 10 s); scaled by CW_TIMEOUT_SCALE */
} cw_graded_test;

/**
 * @brief Run the tests, print a table of points, write the JSON report.
 *
 * Options: `--json FILE` writes the report there; `--expect-fail` is for the
 * shipped stubs (exit 0 only when every test failed); `--only NAME` runs one
 * test. Without options it exits 0 only when every test passed. It also
 * checks that as many tests ran as were listed, and (run from the top of
 * the course) that every START_TEST of tests/CHAPTER.c is listed; either
 * miss exits 2. The JSON is the `chapter` part of docs/grade-report.schema.json.
 * @return the process exit status.
 */
int cw_grade_main(const char *chapter, const cw_graded_test *tests, int n, int argc, char **argv);

#endif
