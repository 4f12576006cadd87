/* replaces: fetch_blocking */
/* expect: 0 build_failed may not define constructors */
/* Attack: a constructor that never returns, so every test process hangs before its first line. */
#include <unistd.h>
__attribute__((constructor)) static void hang(void)
{
    for (;;)
        sleep(1000);
}
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    return CW_EFAILED;
}
