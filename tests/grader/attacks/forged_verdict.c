/* replaces: fetch_blocking */
/* expect: 0 graded did not issue */
/* Attack: write a "pass" verdict on the verdict descriptor (and every other one) without the nonce,
 * from an exit handler, then exit(0). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static void forge(void)
{
    for (int fd = 1; fd < 16; fd++)
        dprintf(fd, "CWV1 00000000000000000000000000000000 pass 1 tests/01_blocking_fetch.c\tPassed\n");
}
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    atexit(forge);
    exit(0);
}
