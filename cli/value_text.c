/* Values as text: see value_text.h. */
#include "value_text.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *value_text_type_name(wafer_valtype type) {
    switch (type) {
    case WAFER_I32: return "i32";
    case WAFER_I64: return "i64";
    case WAFER_F32: return "f32";
    case WAFER_F64: return "f64";
    case WAFER_V128: return "v128";
    case WAFER_FUNCREF: return "funcref";
    case WAFER_EXTERNREF: return "externref";
    }
    return "unknown";
}

static float f32_of_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static double f64_of_bits(uint64_t bits) {
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

void value_text_print(FILE *out, wafer_value value) {
    fputs(value_text_type_name(value.type), out);
    switch (value.type) {
    case WAFER_I32: fprintf(out, ":%" PRIu32, (uint32_t)value.of.i32); break;
    case WAFER_I64: fprintf(out, ":%" PRIu64, (uint64_t)value.of.i64); break;
    /* wabt prints the float promoted to double with %f: the sign of a NaN survives, its payload
     * does not. */
    case WAFER_F32: fprintf(out, ":%f", (double)f32_of_bits(value.of.f32_bits)); break;
    case WAFER_F64: fprintf(out, ":%f", f64_of_bits(value.of.f64_bits)); break;
    case WAFER_FUNCREF: fprintf(out, ":%d", value.of.funcref ? 1 : 0); break;
    case WAFER_EXTERNREF:
        if (value.of.externref)
            fprintf(out, ":%" PRIuPTR, (uintptr_t)wafer_externref_data(value.of.externref));
        else
            fputs(":0", out);
        break;
    case WAFER_V128: fputs(":?", out); break;
    }
}

void value_text_print_list(FILE *out, const wafer_value *values, size_t count) {
    for (size_t i = 0; i < count; i++) {
        if (i) fputs(", ", out);
        value_text_print(out, values[i]);
    }
}

/* An integer of the given width: decimal (optionally negative, down to -2^(bits-1)) or 0x hex.
 * Negative values come back as their two's complement bit pattern. */
static bool parse_int_bits(const char *text, unsigned bits, uint64_t *out) {
    bool negative = text[0] == '-';
    const char *digits = negative ? text + 1 : text;
    int base = 10;
    if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
        base = 16;
        digits += 2;
    }
    if (digits[0] == '\0' || digits[0] == '-' || digits[0] == '+') return false;
    char *end;
    errno = 0;
    unsigned long long magnitude = strtoull(digits, &end, base);
    if (*end != '\0' || errno == ERANGE) return false;
    uint64_t max = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    if (negative) {
        if (magnitude > (UINT64_C(1) << (bits - 1))) return false;
        *out = (0 - (uint64_t)magnitude) & max;
    } else {
        if (magnitude > max) return false;
        *out = magnitude;
    }
    return true;
}

/* "nan", "nan:0xPAYLOAD", with an optional sign already stripped. */
static bool parse_nan(const char *text, unsigned mantissa_bits, uint64_t *payload) {
    uint64_t quiet = UINT64_C(1) << (mantissa_bits - 1);
    if (strcmp(text, "nan") == 0) {
        *payload = quiet;
        return true;
    }
    if (strncmp(text, "nan:0x", 6) != 0) return false;
    uint64_t value;
    if (!parse_int_bits(text + 4, 64, &value)) return false;
    if (value == 0 || value >= (UINT64_C(1) << mantissa_bits)) return false;
    *payload = value;
    return true;
}

static bool parse_f32(const char *text, uint32_t *out) {
    if (strncmp(text, "bits:", 5) == 0) {
        uint64_t bits;
        if (!parse_int_bits(text + 5, 32, &bits)) return false;
        *out = (uint32_t)bits;
        return true;
    }
    bool negative = text[0] == '-';
    const char *unsigned_text = (text[0] == '-' || text[0] == '+') ? text + 1 : text;
    uint64_t payload;
    if (parse_nan(unsigned_text, 23, &payload)) {
        *out = (negative ? 0x80000000u : 0) | 0x7f800000u | (uint32_t)payload;
        return true;
    }
    char *end;
    float value = strtof(text, &end);
    if (text[0] == '\0' || *end != '\0') return false;
    memcpy(out, &value, sizeof *out);
    return true;
}

static bool parse_f64(const char *text, uint64_t *out) {
    if (strncmp(text, "bits:", 5) == 0) return parse_int_bits(text + 5, 64, out);
    bool negative = text[0] == '-';
    const char *unsigned_text = (text[0] == '-' || text[0] == '+') ? text + 1 : text;
    uint64_t payload;
    if (parse_nan(unsigned_text, 52, &payload)) {
        *out = (negative ? UINT64_C(1) << 63 : 0) | UINT64_C(0x7ff0000000000000) | payload;
        return true;
    }
    char *end;
    double value = strtod(text, &end);
    if (text[0] == '\0' || *end != '\0') return false;
    memcpy(out, &value, sizeof *out);
    return true;
}

bool value_text_parse(const char *text, wafer_value *out) {
    const char *colon = strchr(text, ':');
    if (!colon) return false;
    size_t type_len = (size_t)(colon - text);
    const char *rest = colon + 1;
    uint64_t bits;
    memset(out, 0, sizeof *out);
    if (type_len == 3 && strncmp(text, "i32", 3) == 0) {
        out->type = WAFER_I32;
        if (!parse_int_bits(rest, 32, &bits)) return false;
        out->of.i32 = (int32_t)(uint32_t)bits;
        return true;
    }
    if (type_len == 3 && strncmp(text, "i64", 3) == 0) {
        out->type = WAFER_I64;
        if (!parse_int_bits(rest, 64, &bits)) return false;
        out->of.i64 = (int64_t)bits;
        return true;
    }
    if (type_len == 3 && strncmp(text, "f32", 3) == 0) {
        out->type = WAFER_F32;
        return parse_f32(rest, &out->of.f32_bits);
    }
    if (type_len == 3 && strncmp(text, "f64", 3) == 0) {
        out->type = WAFER_F64;
        return parse_f64(rest, &out->of.f64_bits);
    }
    if (type_len == 7 && strncmp(text, "funcref", 7) == 0) {
        out->type = WAFER_FUNCREF;
        return strcmp(rest, "null") == 0;
    }
    if (type_len == 9 && strncmp(text, "externref", 9) == 0) {
        out->type = WAFER_EXTERNREF;
        if (strcmp(rest, "null") == 0) return true;
        if (!parse_int_bits(rest, 64, &bits) || rest[0] == '-') return false;
        out->of.externref = wafer_externref_new((void *)(uintptr_t)bits, NULL);
        return out->of.externref != NULL;
    }
    return false;
}
