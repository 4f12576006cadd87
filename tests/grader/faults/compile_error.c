/* replaces: fetch_blocking */
/* Planted fault: a missing semicolon. The chapter must score 0 with this compiler error. */
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    return CW_EFAILED
}
