/* replaces: fetch_blocking */
/* expect: 0 build_failed solutions */
/* Attack: include the reference solution at compile time (and so pass everything). */
#include "../../solutions/01_blocking_fetch/exercise.c"
