/* replaces: fetch_blocking */
/* expect: 0 graded exited with status 0 before the test reached its end */
/* Attack: the old grader kept a shared "reached the end" page in the test process. Set every int of
 * every writable shared mapping to 1, then exit(0) as if the test had ended. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    while (maps != NULL && fgets(line, sizeof line, maps) != NULL) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && perms[1] == 'w' && perms[3] == 's')
            for (int *p = (int *)lo; p < (int *)hi; p++)
                *p = 1;
    }
    exit(0);
}
