/* replaces: fetch_blocking */
/* expect: 0 graded should return 0 */
/* Attack: change the course: append a test to the tests (which would break the count guard and leave the
 * tree modified), a new test file, the grader, the Makefile, the learner's progress; print TREE-WRITTEN for
 * each write that succeeds. The tree must be unchanged and the chapter graded (not "incomplete"). */
#include <stdio.h>
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    const char *paths[] = {"tests/01_blocking_fetch.c", "tests/zz_extra.c", "tools/grade", "Makefile",
                           "tests/grade.c", "chapters/01_blocking_fetch/exercise.c", "build/grade/extra"};
    for (unsigned k = 0; k < sizeof paths / sizeof paths[0]; k++) {
        FILE *f = fopen(paths[k], "a");
        if (f != NULL) {
            fputs("START_TEST(test_appended) {} END_TEST\n", f);
            printf("TREE-WRITTEN: %s\n", paths[k]);
            fclose(f);
        }
    }
    return CW_EFAILED;
}
