/* Wasm's numeric operators (spec 4.3.2 "Integer Operations", 4.3.3 "Floating-Point Operations",
 * 4.3.4 "Conversions") on C types, for the interpreter.
 *
 * What these helpers promise: no undefined behaviour for any input (shift counts are masked, signed
 * results come from unsigned arithmetic, a float becomes an integer only after its range was
 * checked), and floats are handled as bit patterns wherever the spec defines the operation on the
 * bits (abs, neg, copysign), so NaN payloads pass through unchanged. Where the spec lets a NaN
 * result be any arithmetic NaN, the hardware's quieted NaN is used.
 */
#ifndef WAFER_NUMERIC_H
#define WAFER_NUMERIC_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "wafer.h"

#define F32_SIGN_BIT UINT32_C(0x80000000)
#define F32_QUIET_BIT UINT32_C(0x00400000)
#define F64_SIGN_BIT UINT64_C(0x8000000000000000)
#define F64_QUIET_BIT UINT64_C(0x0008000000000000)

/* ---- Bit patterns ----------------------------------------------------------------------- */

/* IEEE division: by zero gives an infinity or a NaN, as wasm requires. UBSan's optional
 * float-divide-by-zero check (in oss-fuzz's undefined builds) would call that a finding. */
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8)
#define WAFER_IEEE_DIVISION __attribute__((no_sanitize("float-divide-by-zero")))
#else
#define WAFER_IEEE_DIVISION
#endif
WAFER_IEEE_DIVISION static inline float f32_div(float x, float y) { return x / y; }
WAFER_IEEE_DIVISION static inline double f64_div(double x, double y) { return x / y; }

static inline float f32_from_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline uint32_t f32_to_bits(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

static inline double f64_from_bits(uint64_t bits) {
    double f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline uint64_t f64_to_bits(double f) {
    uint64_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

/* ---- Integer operators ------------------------------------------------------------------ */

static inline uint32_t i32_clz(uint32_t x) {
#if defined(__GNUC__)
    return x ? (uint32_t)__builtin_clz(x) : 32;
#else
    uint32_t n = 0;
    for (uint32_t bit = UINT32_C(1) << 31; bit && !(x & bit); bit >>= 1) n++;
    return n;
#endif
}

static inline uint32_t i32_ctz(uint32_t x) {
#if defined(__GNUC__)
    return x ? (uint32_t)__builtin_ctz(x) : 32;
#else
    uint32_t n = 0;
    for (uint32_t bit = 1; bit && !(x & bit); bit <<= 1) n++;
    return n;
#endif
}

static inline uint32_t i32_popcnt(uint32_t x) {
#if defined(__GNUC__)
    return (uint32_t)__builtin_popcount(x);
#else
    uint32_t n = 0;
    for (; x; x &= x - 1) n++;
    return n;
#endif
}

static inline uint64_t i64_clz(uint64_t x) {
#if defined(__GNUC__)
    return x ? (uint64_t)__builtin_clzll(x) : 64;
#else
    uint64_t n = 0;
    for (uint64_t bit = UINT64_C(1) << 63; bit && !(x & bit); bit >>= 1) n++;
    return n;
#endif
}

static inline uint64_t i64_ctz(uint64_t x) {
#if defined(__GNUC__)
    return x ? (uint64_t)__builtin_ctzll(x) : 64;
#else
    uint64_t n = 0;
    for (uint64_t bit = 1; bit && !(x & bit); bit <<= 1) n++;
    return n;
#endif
}

static inline uint64_t i64_popcnt(uint64_t x) {
#if defined(__GNUC__)
    return (uint64_t)__builtin_popcountll(x);
#else
    uint64_t n = 0;
    for (; x; x &= x - 1) n++;
    return n;
#endif
}

/* Shift and rotate counts are taken modulo the width (spec 4.3.2 ishl, irotl). */
static inline uint32_t i32_shl(uint32_t x, uint32_t k) { return x << (k & 31); }
static inline uint32_t i32_shr_u(uint32_t x, uint32_t k) { return x >> (k & 31); }
static inline uint64_t i64_shl(uint64_t x, uint64_t k) { return x << (k & 63); }
static inline uint64_t i64_shr_u(uint64_t x, uint64_t k) { return x >> (k & 63); }

/* Arithmetic shift right without relying on how C shifts negative numbers: shift the bits, then
 * fill the vacated high bits with copies of the sign. */
static inline uint32_t i32_shr_s(uint32_t x, uint32_t k) {
    k &= 31;
    uint32_t sign_fill = (x >> 31) ? ~(UINT32_MAX >> k) : 0;
    return (x >> k) | sign_fill;
}

static inline uint64_t i64_shr_s(uint64_t x, uint64_t k) {
    k &= 63;
    uint64_t sign_fill = (x >> 63) ? ~(UINT64_MAX >> k) : 0;
    return (x >> k) | sign_fill;
}

static inline uint32_t i32_rotl(uint32_t x, uint32_t k) {
    k &= 31;
    return (x << k) | (x >> ((32 - k) & 31));
}

static inline uint32_t i32_rotr(uint32_t x, uint32_t k) {
    k &= 31;
    return (x >> k) | (x << ((32 - k) & 31));
}

static inline uint64_t i64_rotl(uint64_t x, uint64_t k) {
    k &= 63;
    return (x << k) | (x >> ((64 - k) & 63));
}

static inline uint64_t i64_rotr(uint64_t x, uint64_t k) {
    k &= 63;
    return (x >> k) | (x << ((64 - k) & 63));
}

/* Signed views of unsigned bits; the conversion is implementation-defined in C, modular in every
 * compiler wafer supports, and never undefined. */
static inline int32_t i32_signed(uint32_t x) { return (int32_t)x; }
static inline int64_t i64_signed(uint64_t x) { return (int64_t)x; }

/* Division (spec 4.3.2 idiv_s, irem_s): x / 0 traps, INT_MIN / -1 overflows; INT_MIN % -1 is 0,
 * computed without the C division that would overflow. Each returns the trap, or NONE with *out. */
static inline wafer_trap_kind i32_div_s(uint32_t x, uint32_t y, uint32_t *out) {
    if (y == 0) return WAFER_TRAP_INTEGER_DIVIDE_BY_ZERO;
    if (x == UINT32_C(0x80000000) && y == UINT32_MAX) return WAFER_TRAP_INTEGER_OVERFLOW;
    *out = (uint32_t)(i32_signed(x) / i32_signed(y));
    return WAFER_TRAP_NONE;
}

static inline wafer_trap_kind i32_div_u(uint32_t x, uint32_t y, uint32_t *out) {
    if (y == 0) return WAFER_TRAP_INTEGER_DIVIDE_BY_ZERO;
    *out = x / y;
    return WAFER_TRAP_NONE;
}

static inline wafer_trap_kind i32_rem_s(uint32_t x, uint32_t y, uint32_t *out) {
    if (y == 0) return WAFER_TRAP_INTEGER_DIVIDE_BY_ZERO;
    *out = y == UINT32_MAX ? 0 : (uint32_t)(i32_signed(x) % i32_signed(y));
    return WAFER_TRAP_NONE;
}

static inline wafer_trap_kind i32_rem_u(uint32_t x, uint32_t y, uint32_t *out) {
    if (y == 0) return WAFER_TRAP_INTEGER_DIVIDE_BY_ZERO;
    *out = x % y;
    return WAFER_TRAP_NONE;
}

static inline wafer_trap_kind i64_div_s(uint64_t x, uint64_t y, uint64_t *out) {
    if (y == 0) return WAFER_TRAP_INTEGER_DIVIDE_BY_ZERO;
    if (x == UINT64_C(0x8000000000000000) && y == UINT64_MAX) return WAFER_TRAP_INTEGER_OVERFLOW;
    *out = (uint64_t)(i64_signed(x) / i64_signed(y));
    return WAFER_TRAP_NONE;
}

static inline wafer_trap_kind i64_div_u(uint64_t x, uint64_t y, uint64_t *out) {
    if (y == 0) return WAFER_TRAP_INTEGER_DIVIDE_BY_ZERO;
    *out = x / y;
    return WAFER_TRAP_NONE;
}

static inline wafer_trap_kind i64_rem_s(uint64_t x, uint64_t y, uint64_t *out) {
    if (y == 0) return WAFER_TRAP_INTEGER_DIVIDE_BY_ZERO;
    *out = y == UINT64_MAX ? 0 : (uint64_t)(i64_signed(x) % i64_signed(y));
#ifdef WAFER_SENSITIVITY_BUG
    /* A deliberate wrong result, compiled in only for tests/oracle_sensitivity.sh (build/sensitivity/
     * wafer): it proves that `wafer diff` reports a wrong instruction as a mismatch (issue 3 item 5).
     * No real build defines it. */
    if (x == UINT64_C(0x8000000000000000) && y == UINT64_MAX) *out = 1;
#endif
    return WAFER_TRAP_NONE;
}

static inline wafer_trap_kind i64_rem_u(uint64_t x, uint64_t y, uint64_t *out) {
    if (y == 0) return WAFER_TRAP_INTEGER_DIVIDE_BY_ZERO;
    *out = x % y;
    return WAFER_TRAP_NONE;
}

/* Sign extension from the low `bits` bits, 8 to 32 (sign-extension proposal): the sign bit is
 * flipped and then subtracted back, which fills the high bits with it, in unsigned arithmetic. */
static inline uint32_t i32_extend_s(uint32_t x, unsigned bits) {
    uint32_t sign = UINT32_C(1) << (bits - 1);
    uint32_t low = x & ((sign << 1) - 1);
    return (low ^ sign) - sign;
}

static inline uint64_t i64_extend_s(uint64_t x, unsigned bits) {
    uint64_t sign = UINT64_C(1) << (bits - 1);
    uint64_t low = x & ((sign << 1) - 1);
    return (low ^ sign) - sign;
}

/* ---- Float operators on bits ------------------------------------------------------------ */

/* abs, neg and copysign touch only the sign bit (spec 4.3.3 fabs, fneg, fcopysign). */
static inline uint32_t f32_abs(uint32_t x) { return x & ~F32_SIGN_BIT; }
static inline uint32_t f32_neg(uint32_t x) { return x ^ F32_SIGN_BIT; }
static inline uint32_t f32_copysign(uint32_t x, uint32_t y) {
    return (x & ~F32_SIGN_BIT) | (y & F32_SIGN_BIT);
}
static inline uint64_t f64_abs(uint64_t x) { return x & ~F64_SIGN_BIT; }
static inline uint64_t f64_neg(uint64_t x) { return x ^ F64_SIGN_BIT; }
static inline uint64_t f64_copysign(uint64_t x, uint64_t y) {
    return (x & ~F64_SIGN_BIT) | (y & F64_SIGN_BIT);
}

/* fmin/fmax (spec 4.3.3): a NaN operand gives a NaN (here that operand, quieted, which is
 * canonical when it was); -0 is below +0. Equal operands differ at most in the sign of a zero, so
 * OR of the bits picks -0 for min and AND picks +0 for max. */
static inline uint32_t f32_min(uint32_t a, uint32_t b) {
    float x = f32_from_bits(a), y = f32_from_bits(b);
    if (x != x) return a | F32_QUIET_BIT;
    if (y != y) return b | F32_QUIET_BIT;
    if (x == y) return a | b;
    return x < y ? a : b;
}

static inline uint32_t f32_max(uint32_t a, uint32_t b) {
    float x = f32_from_bits(a), y = f32_from_bits(b);
    if (x != x) return a | F32_QUIET_BIT;
    if (y != y) return b | F32_QUIET_BIT;
    if (x == y) return a & b;
    return x > y ? a : b;
}

static inline uint64_t f64_min(uint64_t a, uint64_t b) {
    double x = f64_from_bits(a), y = f64_from_bits(b);
    if (x != x) return a | F64_QUIET_BIT;
    if (y != y) return b | F64_QUIET_BIT;
    if (x == y) return a | b;
    return x < y ? a : b;
}

static inline uint64_t f64_max(uint64_t a, uint64_t b) {
    double x = f64_from_bits(a), y = f64_from_bits(b);
    if (x != x) return a | F64_QUIET_BIT;
    if (y != y) return b | F64_QUIET_BIT;
    if (x == y) return a & b;
    return x > y ? a : b;
}

/* Rounding to an integral value (spec 4.3.3 fceil, ffloor, ftrunc, fnearest). libm may return a
 * signalling NaN unchanged, but the spec wants an arithmetic NaN, so a NaN operand is quieted here.
 * fnearest rounds half to even: the C default rounding mode, which nearbyint uses. */
static inline float f32_quiet(float x) { return f32_from_bits(f32_to_bits(x) | F32_QUIET_BIT); }
static inline double f64_quiet(double x) { return f64_from_bits(f64_to_bits(x) | F64_QUIET_BIT); }
static inline float f32_ceil(float x) { return x != x ? f32_quiet(x) : ceilf(x); }
static inline float f32_floor(float x) { return x != x ? f32_quiet(x) : floorf(x); }
static inline float f32_trunc(float x) { return x != x ? f32_quiet(x) : truncf(x); }
static inline float f32_nearest(float x) { return x != x ? f32_quiet(x) : nearbyintf(x); }
static inline double f64_ceil(double x) { return x != x ? f64_quiet(x) : ceil(x); }
static inline double f64_floor(double x) { return x != x ? f64_quiet(x) : floor(x); }
static inline double f64_trunc(double x) { return x != x ? f64_quiet(x) : trunc(x); }
static inline double f64_nearest(double x) { return x != x ? f64_quiet(x) : nearbyint(x); }

/* ---- Float to integer ------------------------------------------------------------------- */

/* trunc (spec 4.3.4): NaN has no integer, and the truncated value must fit the target. Each range
 * below is exact: its bounds are powers of two (or those minus one), representable in the source
 * type, so the comparison itself does not round. A signed f64 may lie in (-2^31-1, -2^31) and still
 * truncate to -2^31; no f32 lies there, so for f32 the bound is -2^31 inclusive. */
#define NUMERIC_TRUNC(NAME, FLOAT, UINT, INT, IN_RANGE)                                           \
    static inline wafer_trap_kind NAME(FLOAT x, UINT *out) {                                      \
        if (x != x) return WAFER_TRAP_INVALID_CONVERSION;                                         \
        if (!(IN_RANGE)) return WAFER_TRAP_INTEGER_OVERFLOW;                                      \
        *out = (UINT)(INT)x;                                                                      \
        return WAFER_TRAP_NONE;                                                                   \
    }
NUMERIC_TRUNC(i32_trunc_f32_s, float, uint32_t, int32_t, x >= -0x1p31f && x < 0x1p31f)
NUMERIC_TRUNC(i32_trunc_f32_u, float, uint32_t, uint32_t, x > -1.0f && x < 0x1p32f)
NUMERIC_TRUNC(i32_trunc_f64_s, double, uint32_t, int32_t, x > -0x1p31 - 1.0 && x < 0x1p31)
NUMERIC_TRUNC(i32_trunc_f64_u, double, uint32_t, uint32_t, x > -1.0 && x < 0x1p32)
NUMERIC_TRUNC(i64_trunc_f32_s, float, uint64_t, int64_t, x >= -0x1p63f && x < 0x1p63f)
NUMERIC_TRUNC(i64_trunc_f32_u, float, uint64_t, uint64_t, x > -1.0f && x < 0x1p64f)
NUMERIC_TRUNC(i64_trunc_f64_s, double, uint64_t, int64_t, x >= -0x1p63 && x < 0x1p63)
NUMERIC_TRUNC(i64_trunc_f64_u, double, uint64_t, uint64_t, x > -1.0 && x < 0x1p64)
#undef NUMERIC_TRUNC

/* trunc_sat (non-trapping float-to-int proposal): NaN is 0, out-of-range values clamp to the
 * nearest bound; in range the plain truncation applies. */
#define NUMERIC_TRUNC_SAT(NAME, FLOAT, UINT, INT, BELOW, LOWEST, ABOVE, HIGHEST)                  \
    static inline UINT NAME(FLOAT x) {                                                            \
        if (x != x) return 0;                                                                     \
        if (BELOW) return (UINT)(LOWEST);                                                         \
        if (ABOVE) return (UINT)(HIGHEST);                                                        \
        return (UINT)(INT)x;                                                                      \
    }
NUMERIC_TRUNC_SAT(i32_trunc_sat_f32_s, float, uint32_t, int32_t, x < -0x1p31f, INT32_MIN,
                  x >= 0x1p31f, INT32_MAX)
NUMERIC_TRUNC_SAT(i32_trunc_sat_f32_u, float, uint32_t, uint32_t, x <= -1.0f, 0, x >= 0x1p32f,
                  UINT32_MAX)
NUMERIC_TRUNC_SAT(i32_trunc_sat_f64_s, double, uint32_t, int32_t, x < -0x1p31, INT32_MIN,
                  x >= 0x1p31, INT32_MAX)
NUMERIC_TRUNC_SAT(i32_trunc_sat_f64_u, double, uint32_t, uint32_t, x <= -1.0, 0, x >= 0x1p32,
                  UINT32_MAX)
NUMERIC_TRUNC_SAT(i64_trunc_sat_f32_s, float, uint64_t, int64_t, x < -0x1p63f, INT64_MIN,
                  x >= 0x1p63f, INT64_MAX)
NUMERIC_TRUNC_SAT(i64_trunc_sat_f32_u, float, uint64_t, uint64_t, x <= -1.0f, 0, x >= 0x1p64f,
                  UINT64_MAX)
NUMERIC_TRUNC_SAT(i64_trunc_sat_f64_s, double, uint64_t, int64_t, x < -0x1p63, INT64_MIN,
                  x >= 0x1p63, INT64_MAX)
NUMERIC_TRUNC_SAT(i64_trunc_sat_f64_u, double, uint64_t, uint64_t, x <= -1.0, 0, x >= 0x1p64,
                  UINT64_MAX)
#undef NUMERIC_TRUNC_SAT

/* Integer-to-float conversions and demote/promote are C's conversions: under IEEE 754 arithmetic
 * (C11 Annex F) they round to nearest-even directly from the source value, as spec 4.3.4 requires
 * (no double rounding through an intermediate type). */

#endif
