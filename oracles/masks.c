/* The known reference bugs and their masks: see masks.h.
 *
 * wabt 1.0.32, bugs that need no mask because the oracle never meets them:
 * - spectest-interp asserts (Table::Set: store.HasValueType) when a script passes (ref.extern N)
 *   with N beyond the number of objects in its store and the reference is stored in a table:
 *   wabt turns N into a store index. The wabt adapter passes only zero arguments and null
 *   references, so it cannot happen there; were it to, a crash is inconclusive anyway.
 * - A memory whose byte size wabt cannot allocate makes it throw std::bad_alloc and abort (under
 *   the adapter's address-space limit): a crash, so inconclusive, never a mismatch.
 */
#include "masks.h"

#include <stdio.h>
#include <string.h>

/* wabt computes a memory's byte size as pages * 65536 in 64 bits, so a memory64 of exactly 2^48
 * pages wraps to 0 bytes: instantiating one "succeeds" with no bytes behind it (or fails with a
 * data segment "out of bounds" of a memory of size 0), and memory.grow to exactly 2^48 pages
 * succeeds where every honest engine refuses (-1). wafer refuses that instantiation (resource:
 * inconclusive by rule 1 already); the grow shows as wafer's i64 -1 against wabt's old page
 * count. Masked: the reference is wabt, the module has a 64-bit memory that may reach 2^48
 * pages, and the first disagreement is a value where wafer has i64 -1 and wabt a page count. */
#define MEMORY64_WRAP_PAGES (UINT64_C(1) << 48)

static bool may_reach_wrap(const module_facts *facts) {
    for (uint32_t i = 0; i < facts->nmemories; i++) {
        const facts_limits *l = &facts->memories[i];
        if (l->is64 && (!l->has_max || l->max >= MEMORY64_WRAP_PAGES)) return true;
    }
    return false;
}

static bool grow_refused_against_page_count(const observation *a, const observation *b) {
    if (a->kind != b->kind || a->nvalues != b->nvalues) return false;
    if (a->kind != OBS_RETURN && a->kind != OBS_LOG && a->kind != OBS_GLOBAL) return false;
    for (size_t k = 0; k < a->nvalues; k++) {
        obs_value x = a->values[k], y = b->values[k];
        if (x.type == y.type && x.bits == y.bits) continue;
        return x.type == OBS_I64 && y.type == OBS_I64 && x.bits == UINT64_MAX &&
               y.bits < MEMORY64_WRAP_PAGES;
    }
    return false;
}

static bool wabt_memory64_wrap(const module_facts *facts, const observation *a,
                               const observation *b) {
    return facts && a && b && may_reach_wrap(facts) && grow_refused_against_page_count(a, b);
}

/* wabt's interpreter (its binary reader, not wasm-validate) checks an active data segment's
 * offset against the index type of memory 0 instead of the segment's own memory, so a module
 * with an i32 and an i64 memory and a segment on the one that differs from memory 0 is "invalid"
 * to spectest-interp. Masked: the reference is wabt, it refused the module as invalid where
 * wafer did not, and the module has such a segment. */
static bool has_segment_on_other_index_type(const module_facts *facts) {
    if (facts->nmemories < 2) return false;
    for (uint32_t i = 0; i < facts->ndata; i++) {
        const facts_data *d = &facts->data[i];
        if (d->active && d->memory < facts->nmemories &&
            facts->memories[d->memory].is64 != facts->memories[0].is64)
            return true;
    }
    return false;
}

static bool wabt_data_offset_type(const module_facts *facts, const observation *a,
                                  const observation *b) {
    bool wabt_refused = b && b->kind == OBS_INSTANTIATE_ERROR && strcmp(b->word, "invalid") == 0;
    bool wafer_accepted = a && !(a->kind == OBS_INSTANTIATE_ERROR &&
                                 (strcmp(a->word, "invalid") == 0 ||
                                  strcmp(a->word, "malformed") == 0));
    return facts && wabt_refused && wafer_accepted && has_segment_on_other_index_type(facts);
}

bool masks_explain(const char *reference_name, const module_facts *facts,
                   const observation_list *wafer, const observation_list *reference, size_t at,
                   char *why, size_t why_size) {
    const observation *a = at < wafer->count ? &wafer->items[at] : NULL;
    const observation *b = at < reference->count ? &reference->items[at] : NULL;
    if (strcmp(reference_name, "wabt") == 0 && wabt_memory64_wrap(facts, a, b)) {
        snprintf(why, why_size,
                 "memory64 of 2^48 pages wraps to 0 bytes, so growing to it succeeds");
        return true;
    }
    if (strcmp(reference_name, "wabt") == 0 && wabt_data_offset_type(facts, a, b)) {
        snprintf(why, why_size,
                 "a data segment's offset is typed by memory 0's index type, not its memory's");
        return true;
    }
    return false;
}
