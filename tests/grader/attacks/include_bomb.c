/* replaces: fetch_blocking */
/* expect: 0 build_failed . */
/* Attack: an include bomb: the file includes itself twice at every level, 2^200 inclusions. */
#ifndef BOMB_ARMED
#define BOMB_ARMED
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    return CW_EFAILED;
}
#endif
#include __FILE__
#include __FILE__
