/* replaces: fetch_blocking */
/* expect: 0 graded exited with status 0 before the test reached its end */
/* Attack: _exit(0) in the middle of a test (no exit handlers, no flush). */
#include <unistd.h>
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    _exit(0);
}
