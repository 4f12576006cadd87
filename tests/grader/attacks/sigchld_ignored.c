/* replaces: fetch_blocking */
/* expect: 0 graded should return 0 */
/* Attack: ignore SIGCHLD and leave children behind (the old grader's Check then waited forever). */
#include <signal.h>
#include <unistd.h>
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    signal(SIGCHLD, SIG_IGN);
    for (int k = 0; k < 3; k++)
        if (fork() == 0) {
            sleep(1000);
            _exit(0);
        }
    return CW_EFAILED;
}
