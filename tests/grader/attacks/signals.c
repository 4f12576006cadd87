/* replaces: fetch_blocking */
/* expect: 0 graded crashed with signal */
/* Attack: kill the parent, every process it can reach, then itself. */
#include <signal.h>
#include <unistd.h>
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    kill(getppid(), SIGKILL);
    kill(-1, SIGKILL);
    kill(0, SIGTERM);
    raise(SIGKILL);
    return CW_EFAILED;
}
