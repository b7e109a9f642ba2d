/* Known bugs of the reference engines, each masked as narrowly as it can be. compare.c asks,
 * for the first pair of observations that disagrees, whether a known bug of the reference
 * explains it; if so the verdict is inconclusive, naming the bug.
 *
 * Every mask is shown by a test: tests/test_oracle_compare.c checks that it masks exactly the
 * shape it is for and nothing near it, and tests/oracle_wabt_bugs.sh shows the bug itself in the
 * installed engine (so that a mask is dropped when the engine is fixed).
 */
#ifndef WAFER_ORACLE_MASKS_H
#define WAFER_ORACLE_MASKS_H

#include <stdbool.h>
#include <stddef.h>

#include "module_facts.h"
#include "observation.h"

/* at: the index of the first disagreeing pair (either list may have ended there). facts may be
 * NULL (then no mask that needs them applies). On true, why names the bug. */
bool masks_explain(const char *reference_name, const module_facts *facts,
                   const observation_list *wafer, const observation_list *reference, size_t at,
                   char *why, size_t why_size);

#endif
