/* replaces: fetch_blocking */
/* expect: 0 build_failed may not define constructors */
/* Attack: read the grader's nonce in a constructor, before the test harness does, then write a
 * "pass" verdict with it and leave before the test's checks run. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static char stolen[64];
__attribute__((constructor)) static void steal(void)
{
    ssize_t n = read(3, stolen, sizeof stolen - 1);
    if (n > 0)
        stolen[strcspn(stolen, "\n")] = '\0';
}
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    dprintf(4, "CWV1 %s pass 1 tests/01_blocking_fetch.c\tPassed\n", stolen);
    _exit(0);
}
