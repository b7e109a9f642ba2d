/* Values in wast2json's JSON: see wast_value.h. */
#include "wast_value.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "value_text.h"

struct wast_ref_entry {
    uint64_t number;
    wafer_externref *ref;
};

void wast_refs_init(wast_refs *refs) { memset(refs, 0, sizeof *refs); }

void wast_refs_free(wast_refs *refs) {
    for (size_t i = 0; i < refs->count; i++) wafer_externref_release(refs->entries[i].ref);
    free(refs->entries);
    memset(refs, 0, sizeof *refs);
}

/* The reference numbered n, made on first use. NULL if memory ran out. */
static wafer_externref *wast_refs_get(wast_refs *refs, uint64_t n) {
    for (size_t i = 0; i < refs->count; i++)
        if (refs->entries[i].number == n) return refs->entries[i].ref;
    if (refs->count == refs->capacity) {
        size_t capacity = refs->capacity ? refs->capacity * 2 : 8;
        struct wast_ref_entry *grown = realloc(refs->entries, capacity * sizeof *grown);
        if (!grown) return NULL;
        refs->entries = grown;
        refs->capacity = capacity;
    }
    wafer_externref *ref = wafer_externref_new((void *)(uintptr_t)n, NULL);
    if (ref) refs->entries[refs->count++] = (struct wast_ref_entry){n, ref};
    return ref;
}

static bool parse_type(const char *name, wafer_valtype *out) {
    static const struct {
        const char *name;
        wafer_valtype type;
    } types[] = {{"i32", WAFER_I32},         {"i64", WAFER_I64},
                 {"f32", WAFER_F32},         {"f64", WAFER_F64},
                 {"funcref", WAFER_FUNCREF}, {"externref", WAFER_EXTERNREF}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(name, types[i].name) == 0) {
            *out = types[i].type;
            return true;
        }
    }
    return false;
}

static bool parse_unsigned(const char *text, uint64_t max, uint64_t *out) {
    if (text[0] < '0' || text[0] > '9') return false;
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (*end != '\0' || errno == ERANGE || value > max) return false;
    *out = value;
    return true;
}

/* The shared part of arguments and expectations. expected: NaN patterns and non-null funcrefs
 * are allowed. */
static bool parse_value(json_t *json, wast_refs *refs, bool expected, wast_expected *out,
                        char *why, size_t why_size) {
    const char *type_name = json_string_value(json_object_get(json, "type"));
    const char *text = json_string_value(json_object_get(json, "value"));
    memset(out, 0, sizeof *out);
    out->kind = WAST_EXPECT_EXACT;
    if (!type_name) {
        snprintf(why, why_size, "a value without a type");
        return false;
    }
    if (!parse_type(type_name, &out->value.type)) {
        snprintf(why, why_size, "values of type %s are not supported", type_name);
        return false;
    }
    if (!text) {
        snprintf(why, why_size, "a %s value without a value", type_name);
        return false;
    }
    wafer_value *v = &out->value;
    uint64_t bits = 0;
    bool is_float = v->type == WAFER_F32 || v->type == WAFER_F64;
    if (expected && is_float && strcmp(text, "nan:canonical") == 0) {
        out->kind = WAST_EXPECT_NAN_CANONICAL;
        return true;
    }
    if (expected && is_float && strcmp(text, "nan:arithmetic") == 0) {
        out->kind = WAST_EXPECT_NAN_ARITHMETIC;
        return true;
    }
    bool ok = true;
    switch (v->type) {
    case WAFER_I32:
    case WAFER_F32:
        ok = parse_unsigned(text, UINT32_MAX, &bits);
        if (v->type == WAFER_I32)
            v->of.i32 = (int32_t)(uint32_t)bits;
        else
            v->of.f32_bits = (uint32_t)bits;
        break;
    case WAFER_I64:
    case WAFER_F64:
        ok = parse_unsigned(text, UINT64_MAX, &bits);
        if (v->type == WAFER_I64)
            v->of.i64 = (int64_t)bits;
        else
            v->of.f64_bits = bits;
        break;
    case WAFER_FUNCREF:
        /* The spec's `ref.func` result pattern has no function to name: any non-null funcref. */
        if (strcmp(text, "null") == 0) break;
        ok = expected;
        out->kind = WAST_EXPECT_NON_NULL;
        break;
    case WAFER_EXTERNREF:
        if (strcmp(text, "null") == 0) break;
        ok = parse_unsigned(text, UINT64_MAX, &bits);
        if (ok) {
            v->of.externref = wast_refs_get(refs, bits);
            if (!v->of.externref) {
                snprintf(why, why_size, "out of memory making externref %s", text);
                return false;
            }
        }
        break;
    case WAFER_V128: ok = false; break;
    }
    if (!ok) snprintf(why, why_size, "bad %s value \"%s\"", type_name, text);
    return ok;
}

bool wast_value_parse_arg(json_t *json, wast_refs *refs, wafer_value *out, char *why,
                          size_t why_size) {
    wast_expected parsed;
    if (!parse_value(json, refs, false, &parsed, why, why_size)) return false;
    *out = parsed.value;
    return true;
}

bool wast_value_parse_expected(json_t *json, wast_refs *refs, wast_expected *out, char *why,
                               size_t why_size) {
    return parse_value(json, refs, true, out, why, why_size);
}

/* Canonical and arithmetic NaNs as spec section 4.3.3 (Floating-Point Operations) defines them;
 * the sign is free in both. */
static bool nan_matches(wast_expect_kind kind, uint64_t bits, unsigned mantissa_bits,
                        unsigned width) {
    uint64_t exponent_mask = ((UINT64_C(1) << (width - 1 - mantissa_bits)) - 1) << mantissa_bits;
    uint64_t quiet = UINT64_C(1) << (mantissa_bits - 1);
    uint64_t mantissa = bits & ((UINT64_C(1) << mantissa_bits) - 1);
    if ((bits & exponent_mask) != exponent_mask) return false;
    if (kind == WAST_EXPECT_NAN_CANONICAL) return mantissa == quiet;
    return (mantissa & quiet) != 0;
}

bool wast_value_matches(const wast_expected *expected, wafer_value actual) {
    const wafer_value *want = &expected->value;
    if (actual.type != want->type) return false;
    switch (expected->kind) {
    case WAST_EXPECT_NAN_CANONICAL:
    case WAST_EXPECT_NAN_ARITHMETIC:
        if (actual.type == WAFER_F32)
            return nan_matches(expected->kind, actual.of.f32_bits, 23, 32);
        return nan_matches(expected->kind, actual.of.f64_bits, 52, 64);
    case WAST_EXPECT_NON_NULL:
        return actual.type == WAFER_FUNCREF ? actual.of.funcref != NULL
                                            : actual.of.externref != NULL;
    case WAST_EXPECT_EXACT: break;
    }
    switch (actual.type) {
    case WAFER_I32: return actual.of.i32 == want->of.i32;
    case WAFER_I64: return actual.of.i64 == want->of.i64;
    case WAFER_F32: return actual.of.f32_bits == want->of.f32_bits;
    case WAFER_F64: return actual.of.f64_bits == want->of.f64_bits;
    case WAFER_FUNCREF: return actual.of.funcref == want->of.funcref;
    case WAFER_EXTERNREF: return actual.of.externref == want->of.externref;
    case WAFER_V128: return false;
    }
    return false;
}

void wast_value_print(FILE *out, wafer_value value) {
    switch (value.type) {
    case WAFER_FUNCREF:
        fprintf(out, "funcref:%s", value.of.funcref ? "non-null" : "null");
        return;
    case WAFER_EXTERNREF:
        if (!value.of.externref) {
            fputs("externref:null", out);
            return;
        }
        break;
    default: break;
    }
    value_text_print(out, value);
    if (value.type == WAFER_F32) fprintf(out, " (0x%08" PRIx32 ")", value.of.f32_bits);
    if (value.type == WAFER_F64) fprintf(out, " (0x%016" PRIx64 ")", value.of.f64_bits);
}

void wast_value_print_expected(FILE *out, const wast_expected *expected) {
    const char *type = value_text_type_name(expected->value.type);
    switch (expected->kind) {
    case WAST_EXPECT_NAN_CANONICAL: fprintf(out, "%s:nan:canonical", type); return;
    case WAST_EXPECT_NAN_ARITHMETIC: fprintf(out, "%s:nan:arithmetic", type); return;
    case WAST_EXPECT_NON_NULL: fprintf(out, "%s:non-null", type); return;
    case WAST_EXPECT_EXACT: wast_value_print(out, expected->value); return;
    }
}
