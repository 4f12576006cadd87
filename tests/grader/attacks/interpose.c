/* replaces: fetch_blocking */
/* expect: 0 graded should return 0 */
/* Attack: replace Check's function that a failing check calls, so that no check can fail. */
void _ck_assert_failed(const char *file, int line, const char *expr, const char *msg, ...);
void _ck_assert_failed(const char *file, int line, const char *expr, const char *msg, ...)
{
    (void)file;
    (void)line;
    (void)expr;
    (void)msg;
}
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    return CW_EFAILED;
}
