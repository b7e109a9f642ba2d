/* Values as text: printed in the format of wabt's wasm-interp (so `wafer run --invoke-all` and
 * `wasm-interp --run-all-exports` outputs diff directly), and parsed from command-line arguments.
 */
#ifndef WAFER_CLI_VALUE_TEXT_H
#define WAFER_CLI_VALUE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "wafer.h"

/* "i32", "f64", "funcref", ... */
const char *value_text_type_name(wafer_valtype type);

/* One value as wasm-interp prints it: integers unsigned in decimal ("i32:4294967295"), floats
 * with printf's %f ("f32:1.500000", "f64:-nan", "f32:inf"), null references as index 0
 * ("funcref:0", "externref:0"). A non-null externref prints the number value_text_parse gave it
 * (its host data); a non-null funcref prints as index 1: wabt numbers references by its store's
 * object indices, which have no counterpart in wafer's API. */
void value_text_print(FILE *out, wafer_value value);
/* Values separated by ", ", as wasm-interp lists arguments and results. */
void value_text_print_list(FILE *out, const wafer_value *values, size_t count);

/* Parses an argument of the form TYPE:VALUE:
 *   i32:-5  i32:4294967295  i64:0x10     (decimal, signed or unsigned, or 0x hex)
 *   f32:1.5  f64:-0x1.8p3  f32:inf  f64:-nan  f32:nan:0x200000
 *   f32:bits:0x7fc00001  f64:bits:4607182418800017408   (raw bit patterns)
 *   funcref:null  externref:null  externref:7   (externref:N makes a host reference numbered N)
 * A non-null externref is a new reference the caller owns (wafer_value_release). False if the
 * text is not a value. */
bool value_text_parse(const char *text, wafer_value *out);

#endif
