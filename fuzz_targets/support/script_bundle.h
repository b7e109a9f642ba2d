/* Script bundles: a spec test script (what wast2json writes: modules and commands) in one compact
 * binary file, so that the wast fuzz target reads a script without a JSON parser (an MSan build
 * cannot use an uninstrumented one). `wafer wast-bundle` writes them (cli/wast_bundle.c); this
 * module reads them.
 *
 * The format, all integers little-endian:
 *   header   "WSB" 0x01, a configuration byte (the engine the script runs under: see
 *            fuzz_engine.h; the fuzzer mutates it), the checksum (u64) of the body
 *   body     features (u32, WAFER_FEATURE_* bits the script was converted for), then commands to
 *            the end
 *   command  op (u8, BUNDLE_*), line (u32, in the .wast), then by op:
 *              MODULE          name (str; empty: unnamed), module (bytes)
 *              REGISTER        as (str), name (str; empty: the last module)
 *              ACTION, ASSERT_TRAP, ASSERT_EXHAUSTION   action
 *              ASSERT_RETURN   action, count (u32), that many expected values
 *              ASSERT_MALFORMED, ASSERT_INVALID, ASSERT_UNLINKABLE, ASSERT_UNINSTANTIABLE
 *                              module (bytes)
 *   action   kind (u8: 0 invoke, 1 get), module (str; empty: the last module), field (str),
 *            count (u32), that many argument values (none for get)
 *   value    type (u8, wafer_valtype), expectation (u8, BUNDLE_EXPECT_*; always EXACT for
 *            arguments), then for EXACT: i32 and f32 4 bytes of bits, i64 and f64 8 bytes,
 *            funcref nothing (null; a non-null funcref is only ever expected, as NON_NULL),
 *            externref a u8 (0 null, 1 host reference) and for a host reference its number (u32):
 *            `ref.extern N`, the same object wherever N appears in the script
 *   str, bytes  length (u32), then that many bytes
 * The checksum is FNV-1a 64 of the body's bytes. A bundle whose checksum does not match is a
 * mutated script: it is still read, but its assertions prove nothing.
 */
#ifndef WAFER_SCRIPT_BUNDLE_H
#define WAFER_SCRIPT_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wafer.h"

#define BUNDLE_MAGIC "WSB\x01"
enum { BUNDLE_HEADER_SIZE = 13, BUNDLE_CONFIG_AT = 4, BUNDLE_CHECKSUM_AT = 5 };

typedef enum bundle_op {
    BUNDLE_MODULE = 1,
    BUNDLE_REGISTER,
    BUNDLE_ACTION,
    BUNDLE_ASSERT_RETURN,
    BUNDLE_ASSERT_TRAP,
    BUNDLE_ASSERT_EXHAUSTION,
    BUNDLE_ASSERT_MALFORMED,
    BUNDLE_ASSERT_INVALID,
    BUNDLE_ASSERT_UNLINKABLE,
    BUNDLE_ASSERT_UNINSTANTIABLE,
} bundle_op;

typedef enum bundle_expect {
    BUNDLE_EXPECT_EXACT = 0,
    BUNDLE_EXPECT_NAN_CANONICAL, /* a NaN with only the quiet bit of the payload set */
    BUNDLE_EXPECT_NAN_ARITHMETIC, /* a NaN with the quiet bit set */
    BUNDLE_EXPECT_NON_NULL,      /* any non-null reference */
} bundle_expect;

enum { BUNDLE_INVOKE = 0, BUNDLE_GET = 1 };

/* The body's checksum. */
static inline uint64_t bundle_checksum(const uint8_t *bytes, size_t len) {
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) h = (h ^ bytes[i]) * UINT64_C(0x100000001b3);
    return h;
}

/* ---- Reading ---------------------------------------------------------------------------------- */

/* Bytes or a name, pointing into the bundle read. */
typedef struct bundle_bytes {
    const uint8_t *bytes;
    uint32_t len;
} bundle_bytes;

typedef struct bundle_value {
    wafer_valtype type;
    bundle_expect expect;
    bool is_null;  /* references */
    uint64_t bits; /* numbers' bits; a host reference's number */
} bundle_value;

typedef struct bundle_action {
    uint8_t kind; /* BUNDLE_INVOKE, BUNDLE_GET */
    bundle_bytes module;
    bundle_bytes field;
    uint32_t nargs;
    bundle_value *args;
} bundle_action;

typedef struct bundle_command {
    bundle_op op;
    uint32_t line;
    bundle_bytes name;   /* MODULE: its name; REGISTER: the name registered as */
    bundle_bytes source; /* REGISTER: the module registered */
    bundle_bytes module; /* commands with a module */
    bundle_action action;
    uint32_t nexpected;
    bundle_value *expected;
} bundle_command;

typedef struct script_bundle {
    uint8_t config;  /* the header's configuration byte */
    bool verified;   /* the checksum matches */
    uint32_t features;
    bundle_command *commands;
    size_t count;
} script_bundle;

/* Reads the bundle in data (which must outlive it). False, with nothing to free, if it is not a
 * well-formed bundle: a wrong magic, a truncated or unknown field, a value of a type the format
 * has no encoding for. */
bool script_bundle_read(const uint8_t *data, size_t size, script_bundle *out);
void script_bundle_free(script_bundle *bundle);

#endif
