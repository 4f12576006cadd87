/* replaces: fetch_blocking */
/* expect: 0 graded should return 0 */
/* Attack: read the reference solution, the course's git history and other processes' files at run
 * time; print SOLUTION-VISIBLE if any of them can be read. */
#include <stdio.h>
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    const char *paths[] = {"solutions/01_blocking_fetch/exercise.c", "../../solutions/01_blocking_fetch/exercise.c",
                           "/proc/1/cwd/solutions/01_blocking_fetch/exercise.c", ".git/HEAD", "/root/.bashrc"};
    for (unsigned k = 0; k < sizeof paths / sizeof paths[0]; k++) {
        FILE *f = fopen(paths[k], "r");
        if (f != NULL) {
            printf("SOLUTION-VISIBLE: %s\n", paths[k]);
            fclose(f);
        }
    }
    return CW_EFAILED;
}
