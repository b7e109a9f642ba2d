/* Function bodies, between validate.c (which checks the module around them) and compile.c (which
 * reads them). A body is read twice: first for the binary format alone (spec 5.4, so that an
 * encoding error wins over a type error anywhere, as decoding precedes validation), then for the
 * typing rules (spec 3.3 and the appendix's validation algorithm) while code.h instructions are
 * emitted.
 */
#ifndef WAFER_COMPILE_H
#define WAFER_COMPILE_H

#include "module.h"

/* Checks the encoding of the body of defined function `defined_index`: opcodes, immediates, block
 * structure, the final `end`, opcodes of features switched off, SIMD. Returns NULL or a
 * WAFER_ERROR_MALFORMED (spec texts) or WAFER_ERROR_UNSUPPORTED error. */
wafer_error *body_check_encoding(const wafer_module *m, uint32_t defined_index);

/* Validates the body of defined function `defined_index`, whose encoding was checked, and when out
 * is not NULL compiles it into *out (zeroed by the caller; on failure what it holds is freed and
 * zeroed again). module->declared_refs must be filled. Returns NULL, a WAFER_ERROR_INVALID error
 * with the spec test suite's text, a WAFER_ERROR_LIMIT error, or an out-of-memory error. */
wafer_error *body_compile(const wafer_module *m, uint32_t defined_index, code_func *out);

/* Frees what a compiled body owns and zeroes it. */
void code_func_clear(code_func *f);

#endif
