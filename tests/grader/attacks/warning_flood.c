/* replaces: fetch_blocking */
/* expect: 0 build_failed undeclared_after_the_flood */
/* Not hostile, careless: 4 MiB of warnings (4096 unused variables, each with its macro expansions), then
 * one compile error. The build's output is capped, but the error must still be the diagnostic shown. */
#define D0 { int unused_in_the_flood; }
#define D1 D0 D0 D0 D0
#define D2 D1 D1 D1 D1
#define D3 D2 D2 D2 D2
#define D4 D3 D3 D3 D3
#define D5 D4 D4 D4 D4
#define D6 D5 D5 D5 D5
static void flood(void) { D6 }
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    flood();
    return undeclared_after_the_flood;
}
