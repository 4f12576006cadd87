/* replaces: fetch_blocking */
/* expect: 0 graded should return 0 */
/* Attack: print Autolab's score line, which Autolab takes from the last line of the output. */
#include <stdio.h>
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    printf("{\"scores\": {\"01_blocking_fetch\": 15}}\n");
    fprintf(stderr, "\nChapter 01: 15/15 points (9/9 tests passed)\n");
    fflush(stdout);
    return CW_EFAILED;
}
