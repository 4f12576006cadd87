/* replaces: fetch_blocking */
/* expect: 0 graded . */
/* Attack: a fork bomb, capped by the sandbox's process limit and killed with its test. */
#include <unistd.h>
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    for (;;)
        fork();
}
