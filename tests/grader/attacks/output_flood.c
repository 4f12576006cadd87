/* replaces: fetch_blocking */
/* expect: 0 graded printed more than */
/* Attack: print without end. */
#include <stdio.h>
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    for (;;)
        fputs("flood flood flood flood flood flood flood flood flood flood flood flood flood\n", stdout);
}
