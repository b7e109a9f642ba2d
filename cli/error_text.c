/* Errors as text: see error_text.h. */
#include "error_text.h"

const char *error_text_kind(wafer_error_kind kind) {
    switch (kind) {
    case WAFER_ERROR_MALFORMED: return "malformed";
    case WAFER_ERROR_INVALID: return "invalid";
    case WAFER_ERROR_UNSUPPORTED: return "unsupported";
    case WAFER_ERROR_LIMIT: return "limit";
    case WAFER_ERROR_UNLINKABLE: return "unlinkable";
    case WAFER_ERROR_TRAP: return "trap";
    case WAFER_ERROR_RESOURCE: return "resource";
    case WAFER_ERROR_USAGE: return "usage";
    }
    return "error";
}

const char *error_text_wabt_trap(const wafer_error *trap) {
    switch (wafer_error_trap_kind(trap)) {
    case WAFER_TRAP_UNREACHABLE: return "unreachable executed";
    case WAFER_TRAP_MEMORY_OUT_OF_BOUNDS: return "out of bounds memory access";
    case WAFER_TRAP_TABLE_OUT_OF_BOUNDS: return "out of bounds table access";
    case WAFER_TRAP_INTEGER_DIVIDE_BY_ZERO: return "integer divide by zero";
    case WAFER_TRAP_INTEGER_OVERFLOW: return "integer overflow";
    case WAFER_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WAFER_TRAP_UNDEFINED_ELEMENT: return "undefined table index";
    case WAFER_TRAP_UNINITIALIZED_ELEMENT: return "uninitialized table element";
    case WAFER_TRAP_INDIRECT_CALL_MISMATCH: return "indirect call signature mismatch";
    case WAFER_TRAP_CALL_STACK_EXHAUSTED: return "call stack exhausted";
    case WAFER_TRAP_NONE:
    case WAFER_TRAP_OUT_OF_FUEL:
    case WAFER_TRAP_INTERRUPTED:
    case WAFER_TRAP_HOST: break;
    }
    return wafer_error_message(trap);
}
