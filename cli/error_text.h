/* Errors as text for the commands' output. */
#ifndef WAFER_CLI_ERROR_TEXT_H
#define WAFER_CLI_ERROR_TEXT_H

#include "wafer.h"

/* "malformed", "invalid", "unsupported", "limit", "unlinkable", "trap", "resource", "usage". */
const char *error_text_kind(wafer_error_kind kind);

/* The text wasm-interp prints for a trap ("unreachable executed", "undefined table index", ...);
 * wafer's own message where wabt has no counterpart (fuel, epochs, host traps). wabt adds details
 * to some messages (the address of an out-of-bounds access), which wafer does not know; those
 * print the shared prefix ("out of bounds memory access") only. */
const char *error_text_wabt_trap(const wafer_error *trap);

#endif
