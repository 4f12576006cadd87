/* replaces: fetch_blocking */
/* expect: 0 graded should return 0 */
/* Attack: a detached grandchild in its own session that keeps the output pipe open for 1000 s. */
#include <unistd.h>
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    if (fork() == 0) {
        setsid();
        if (fork() == 0) {
            sleep(1000);
            _exit(0);
        }
        _exit(0);
    }
    return CW_EFAILED;
}
