/* replaces: fetch_blocking */
/* expect: 0 graded should return 0 */
/* Attack: rewrite the grader's report with full marks, at once and again from a process left behind
 * (the old grader trusted build/grade/NN.json, which the graded code could write). */
#include <stdio.h>
#include <unistd.h>
static void forge(void)
{
    const char *paths[] = {"build/grade/01_blocking_fetch.json", "build/grade/report.json", "build/grade/summary.tsv"};
    for (unsigned k = 0; k < sizeof paths / sizeof paths[0]; k++) {
        FILE *f = fopen(paths[k], "w");
        if (f != NULL) {
            fprintf(f, "{\"chapter\":\"01_blocking_fetch\",\"status\":\"graded\",\"points\":15,\"max_points\":15}\n");
            fclose(f);
        }
    }
}
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    forge();
    if (fork() == 0) {
        setsid();
        for (int k = 0; k < 60; k++) {
            sleep(1);
            forge();
        }
        _exit(0);
    }
    return CW_EFAILED;
}
