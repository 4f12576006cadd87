/* replaces: fetch_all_sequential */
/* Planted fault: a NULL dereference. Its three tests must be reported as crashed with SIGSEGV.
 * (Both volatiles keep the compiler from removing the store or turning it into a trap.) */
int fetch_all_sequential(const char *const *urls, int n, fetch_result *results, interval *times)
{
    (void)urls;
    (void)results;
    (void)times;
    volatile int *volatile nowhere = NULL;
    *nowhere = n;
    return 0;
}
