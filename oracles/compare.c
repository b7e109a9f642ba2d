/* The comparison rules: see compare.h. The two observation lists are walked in lockstep; the
 * rules below decide each pair, and the first pair that disagrees decides the verdict (after the
 * masks of known reference bugs have had their say).
 */
#include "compare.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "masks.h"

/* Rule 2 (DESIGN.md section 4): values are equal bit for bit, except NaNs, which agree with any
 * NaN of the same type. The spec leaves a NaN result's sign and payload nondeterministic
 * (spec 4.3.3, "NaN propagation"), so two engines may differ there and both be right. */
static bool is_nan(obs_value v) {
    if (v.type == OBS_F32)
        return (v.bits & 0x7f800000u) == 0x7f800000u && (v.bits & 0x007fffffu) != 0;
    if (v.type == OBS_F64)
        return (v.bits & UINT64_C(0x7ff0000000000000)) == UINT64_C(0x7ff0000000000000) &&
               (v.bits & UINT64_C(0x000fffffffffffff)) != 0;
    return false;
}

bool obs_values_agree(obs_value a, obs_value b) {
    if (a.type != b.type) return false;
    if (is_nan(a) && is_nan(b)) return true;
    uint64_t mask = (a.type == OBS_I32 || a.type == OBS_F32) ? UINT64_C(0xffffffff) : UINT64_MAX;
    return (a.bits & mask) == (b.bits & mask);
}

static bool value_lists_agree(const obs_value *a, size_t na, const obs_value *b, size_t nb) {
    if (na != nb) return false;
    for (size_t i = 0; i < na; i++)
        if (!obs_values_agree(a[i], b[i])) return false;
    return true;
}

/* Rule 3: both trapped agrees; the kind should match too, and a mismatch in kind is a finding of
 * lower rank (VERDICT_TRAP_KIND) that later observations may outrank. A class `other` is an
 * engine saying it could not tell the kind: it agrees with any. */
bool obs_traps_agree(obs_trap a, obs_trap b) {
    return a == b || a == OBS_TRAP_OTHER || b == OBS_TRAP_OTHER;
}

/* Rule 4: a module both engines refuse agrees. "malformed" and "invalid" are one class because
 * a reference does not always say which (wabt's reader reports both as "error reading module");
 * "unlinkable" is its own. */
static bool error_class_is_rejected(const char *kind) {
    return strcmp(kind, "malformed") == 0 || strcmp(kind, "invalid") == 0;
}

static bool errors_agree(const char *a, const char *b) {
    if (error_class_is_rejected(a) && error_class_is_rejected(b)) return true;
    return strcmp(a, b) == 0;
}

/* Rule 5: logs agree when the same import was called with agreeing arguments; globals when the
 * same export holds agreeing values; memories when the same export has the same size and, if
 * both engines could hash it, the same contents. */
static bool pair_agrees(const observation *a, const observation *b) {
    if (a->kind != b->kind) return false;
    switch (a->kind) {
    case OBS_INSTANTIATE_OK: return true;
    case OBS_INSTANTIATE_TRAP:
    case OBS_TRAP: return obs_traps_agree(a->trap, b->trap);
    case OBS_INSTANTIATE_ERROR: return errors_agree(a->word, b->word);
    case OBS_CALL: return strcmp(a->name, b->name) == 0;
    case OBS_LOG:
        return strcmp(a->module, b->module) == 0 && strcmp(a->name, b->name) == 0 &&
               value_lists_agree(a->values, a->nvalues, b->values, b->nvalues);
    case OBS_RETURN: return value_lists_agree(a->values, a->nvalues, b->values, b->nvalues);
    case OBS_GLOBAL:
        return strcmp(a->name, b->name) == 0 &&
               value_lists_agree(a->values, a->nvalues, b->values, b->nvalues);
    case OBS_MEMORY:
        return strcmp(a->name, b->name) == 0 && a->pages == b->pages &&
               (!a->has_hash || !b->has_hash || a->hash == b->hash);
    case OBS_INCONCLUSIVE: break; /* rule 1 decides before pairs are compared */
    }
    return false;
}

/* The class of a disagreement, for tallies and for reductions that must keep it. */
static const char *mismatch_class(const observation *a, const observation *b) {
    const observation *x = a ? a : b;
    const observation *y = a && b ? b : NULL;
    bool either_instantiation = x->kind <= OBS_INSTANTIATE_ERROR ||
                                (y && y->kind <= OBS_INSTANTIATE_ERROR);
    if (either_instantiation) {
        bool rejected = (x->kind == OBS_INSTANTIATE_ERROR && error_class_is_rejected(x->word)) ||
                        (y && y->kind == OBS_INSTANTIATE_ERROR && error_class_is_rejected(y->word));
        return rejected ? "validation" : "instantiation";
    }
    if (!y) return "length";
    if (x->kind == OBS_TRAP || y->kind == OBS_TRAP) return "trap";
    if (x->kind != y->kind) return x->kind == OBS_LOG || y->kind == OBS_LOG ? "log" : "length";
    switch (x->kind) {
    case OBS_LOG: return "log";
    case OBS_RETURN: return "value";
    case OBS_GLOBAL: return "global";
    case OBS_MEMORY: return "memory";
    default: return "length";
    }
}

static void describe(const observation *obs, char *buf, size_t size) {
    if (obs) observation_format(obs, buf, size);
    else snprintf(buf, size, "(nothing more)");
}

static void set_verdict(verdict *out, verdict_kind kind, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void set_verdict(verdict *out, verdict_kind kind, const char *what, const char *fmt, ...) {
    out->kind = kind;
    snprintf(out->what, sizeof out->what, "%s", what);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->text, sizeof out->text, fmt, ap);
    va_end(ap);
}

void compare_observations(const observation_list *wafer, const observation_list *reference,
                          const char *reference_name, const module_facts *facts, verdict *out) {
    const char *last_call = NULL;
    verdict trap_kind = {VERDICT_AGREE, "", ""};
    char da[300], db[300];
    for (size_t i = 0;; i++) {
        const observation *a = i < wafer->count ? &wafer->items[i] : NULL;
        const observation *b = i < reference->count ? &reference->items[i] : NULL;
        /* Rule 1: an engine that gave up (stack, memory, fuel, time, a feature it lacks, its own
         * crash) ends the comparison: what follows is not evidence. Everything before agreed,
         * so only a trap-kind finding already made survives it. */
        bool a_gave_up = a && a->kind == OBS_INCONCLUSIVE;
        bool b_gave_up = b && b->kind == OBS_INCONCLUSIVE;
        if (a_gave_up || b_gave_up) {
            if (trap_kind.kind == VERDICT_TRAP_KIND) {
                *out = trap_kind;
                return;
            }
            const observation *who = a_gave_up ? a : b;
            char what[96];
            snprintf(what, sizeof what, "%s %s", a_gave_up ? "wafer" : reference_name,
                     who->word);
            set_verdict(out, VERDICT_INCONCLUSIVE, what, "inconclusive: %s%s%.600s%s", what,
                        who->detail ? " (" : "", who->detail ? who->detail : "",
                        who->detail ? ")" : "");
            return;
        }
        if (!a && !b) {
            if (trap_kind.kind == VERDICT_TRAP_KIND) *out = trap_kind;
            else set_verdict(out, VERDICT_AGREE, "agree", "agree");
            return;
        }
        if (a && b && pair_agrees(a, b)) {
            if (a->kind == OBS_CALL) last_call = a->name;
            continue;
        }
        bool both_trapped = a && b && a->kind == b->kind &&
                            (a->kind == OBS_TRAP || a->kind == OBS_INSTANTIATE_TRAP);
        if (both_trapped) {
            /* Rule 3's lower rank: noted, and the walk goes on (the outcome agreed). */
            if (trap_kind.kind == VERDICT_AGREE) {
                describe(a, da, sizeof da);
                describe(b, db, sizeof db);
                set_verdict(&trap_kind, VERDICT_TRAP_KIND, "trap-kind",
                            "MISMATCH (trap kind): %s%.150s: wafer %s, %s %s",
                            last_call ? "call " : "", last_call ? last_call : "instantiation", da,
                            reference_name, db);
            }
            continue;
        }
        /* The first disagreement decides, unless a known bug of the reference explains it. */
        char why[256];
        if (masks_explain(reference_name, facts, wafer, reference, i, why, sizeof why)) {
            char what[96];
            snprintf(what, sizeof what, "%s bug", reference_name);
            set_verdict(out, VERDICT_INCONCLUSIVE, what, "inconclusive: %s bug: %s",
                        reference_name, why);
            return;
        }
        describe(a, da, sizeof da);
        describe(b, db, sizeof db);
        char where[200];
        bool final_state = (a && (a->kind == OBS_GLOBAL || a->kind == OBS_MEMORY)) ||
                           (b && (b->kind == OBS_GLOBAL || b->kind == OBS_MEMORY));
        snprintf(where, sizeof where, "%s%.150s", last_call && !final_state ? "call " : "",
                 final_state ? "final state" : last_call ? last_call : "instantiation");
        set_verdict(out, VERDICT_MISMATCH, mismatch_class(a, b), "MISMATCH: %s: wafer %s, %s %s",
                    where, da, reference_name, db);
        return;
    }
}
