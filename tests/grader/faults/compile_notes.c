/* replaces: fetch_blocking */
/* Planted fault: a call with an argument of the wrong type, whose error comes with a note, in a file
 * holding bytes that are not UTF-8 (éÿ). The whole diagnostic, note included, must be reported. */
struct pair { int a, b; };
static void takes_pair(struct pair p) { (void)p; }
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    takes_pair(5); /* éÿ */
    return CW_EFAILED;
}
