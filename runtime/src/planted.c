/* planted.h: which deliberate fault, if any, this process runs with. */
#include "planted.h"

#ifdef WAFER_PLANTED_BUGS
#include <stdlib.h>
#include <string.h>

bool planted_bug(const char *name) {
    /* read once: the environment does not change under a fuzzing process */
    static const char *chosen;
    static bool read;
    if (!read) {
        chosen = getenv("WAFER_PLANTED_BUG");
        read = true;
    }
    return chosen && strcmp(chosen, name) == 0;
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int planted_bugs_not_built;
#endif
