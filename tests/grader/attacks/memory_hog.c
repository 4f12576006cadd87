/* replaces: fetch_blocking */
/* expect: 0 graded . */
/* Attack: take memory until something stops it. */
#include <stdlib.h>
#include <string.h>
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    for (;;) {
        char *block = malloc(64 << 20);
        if (block == NULL)
            return CW_ENOMEM;
        memset(block, 1, 64 << 20);
    }
}
