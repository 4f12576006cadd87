/* replaces: fetch_with_timeout */
/* Planted fault: a loop that never ends. Its one test must be stopped by its timeout. */
int fetch_with_timeout(const char *url, long timeout_ms, fetch_result *out)
{
    (void)url;
    (void)timeout_ms;
    (void)out;
    for (volatile unsigned long spins = 0;; spins++) {
    }
}
