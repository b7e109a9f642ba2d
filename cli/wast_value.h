/* Values in wast2json's JSON: arguments of actions and the results assert_return expects.
 * wast2json writes {"type": "i32", "value": "4294967295"}: integers unsigned in decimal, floats as
 * the decimal of their bits, "nan:canonical" / "nan:arithmetic" for NaN patterns, "null" for null
 * references, and a number N for the host reference `ref.extern N`.
 */
#ifndef WAFER_CLI_WAST_VALUE_H
#define WAFER_CLI_WAST_VALUE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "wafer.h"

/* The host references of one script: `ref.extern N` is the same object wherever N appears, so an
 * argument passed in and a result expected compare by identity. The table owns one count of each
 * (wafer.h, "Externrefs"). */
typedef struct wast_refs {
    struct wast_ref_entry *entries;
    size_t count;
    size_t capacity;
} wast_refs;

void wast_refs_init(wast_refs *refs);
/* Frees the table and releases its references. */
void wast_refs_free(wast_refs *refs);

typedef enum wast_expect_kind {
    WAST_EXPECT_EXACT,          /* bit-for-bit equal (references: the same object, or both null) */
    WAST_EXPECT_NAN_CANONICAL,  /* a NaN with only the quiet bit set, either sign */
    WAST_EXPECT_NAN_ARITHMETIC, /* a NaN with the quiet bit set */
    WAST_EXPECT_NON_NULL,       /* any non-null reference of the type */
} wast_expect_kind;

typedef struct wast_expected {
    wast_expect_kind kind;
    wafer_value value; /* its type always; its contents for WAST_EXPECT_EXACT */
} wast_expected;

/* Both return false with a reason in why (for example a v128 value, which wafer does not run). */
bool wast_value_parse_arg(json_t *json, wast_refs *refs, wafer_value *out, char *why,
                          size_t why_size);
bool wast_value_parse_expected(json_t *json, wast_refs *refs, wast_expected *out, char *why,
                               size_t why_size);

bool wast_value_matches(const wast_expected *expected, wafer_value actual);

/* For failure messages: "i32:4294967295", "f32:1.500000 (0x3fc00000)", "f64:nan:canonical",
 * "funcref:null", "funcref:non-null", "externref:7". */
void wast_value_print(FILE *out, wafer_value value);
void wast_value_print_expected(FILE *out, const wast_expected *expected);

#endif
