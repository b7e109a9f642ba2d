/* The comparison rules of DESIGN.md section 4: does what wafer saw agree with what a reference
 * engine saw? Each rule is written down in compare.c beside the code that applies it.
 */
#ifndef WAFER_ORACLE_COMPARE_H
#define WAFER_ORACLE_COMPARE_H

#include "module_facts.h"
#include "observation.h"

/* By rank: a mismatch outranks a trap-kind mismatch, which outranks inconclusive. */
typedef enum verdict_kind {
    VERDICT_AGREE,
    VERDICT_INCONCLUSIVE,
    VERDICT_TRAP_KIND, /* both trapped where the other trapped, but with different kinds */
    VERDICT_MISMATCH,
} verdict_kind;

typedef struct verdict {
    verdict_kind kind;
    /* The class, fixed words for tallies and for `wafer reduce` to keep: inconclusive reasons
     * ("wabt time", "wafer stack", "wabt bug: ..."); mismatch classes ("validation",
     * "instantiation", "value", "trap", "log", "global", "memory", "length", "trap-kind"). */
    char what[96];
    /* The verdict line after the module path: "agree", "inconclusive: ...", "MISMATCH: ..." */
    char text[1024];
} verdict;

/* Compares wafer's observations with the reference's, named reference_name in the text. facts
 * (may be NULL) lets known reference bugs be masked narrowly (masks.h). */
void compare_observations(const observation_list *wafer, const observation_list *reference,
                          const char *reference_name, const module_facts *facts, verdict *out);

/* Rule 2: two values agree if their types are equal and their bits are equal, except that two
 * NaNs of the same float type agree whatever their signs and payloads. */
bool obs_values_agree(obs_value a, obs_value b);

/* Rule 3: two trap classes agree if equal, or if either is `other` (an engine that could not
 * tell which trap it was). */
bool obs_traps_agree(obs_trap a, obs_trap b);

#endif
