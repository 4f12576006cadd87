/* replaces: fetch_blocking */
/* Planted fault: exit(0) in the middle of a test, which Check alone counts as a pass. The tests that
 * call fetch_blocking must be reported as failed, the test process having ended before the test. */
#include <stdlib.h>
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    exit(0);
}
