/* replaces: fetch_blocking */
/* expect: 0 build_failed . */
/* Attack: an include bomb: the file includes itself twice at every level, 2^200 inclusions (it ends at the
 * build's 1 MiB output cap, or at its time limit). */
#ifndef BOMB_ARMED
#define BOMB_ARMED
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    return CW_EFAILED;
}
#endif
#include "exercise.c"
#include "exercise.c"
