/* Errors as values: see error.h and wafer.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Returned when even the error cannot be allocated; never freed. */
static wafer_error out_of_memory_error = {WAFER_ERROR_RESOURCE, WAFER_TRAP_NONE};
static const char out_of_memory_message[] = "out of memory";

static wafer_error *error_alloc(wafer_error_kind kind, wafer_trap_kind trap, const char *message) {
    size_t len = strlen(message);
    wafer_error *err = malloc(sizeof *err + len + 1);
    if (!err) return &out_of_memory_error;
    err->kind = kind;
    err->trap = trap;
    memcpy(err->message, message, len + 1);
    return err;
}

wafer_error *error_new(wafer_error_kind kind, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return error_alloc(kind, WAFER_TRAP_NONE, buf);
}

wafer_error *error_trap(wafer_trap_kind trap) {
    return error_alloc(WAFER_ERROR_TRAP, trap, wafer_trap_kind_message(trap));
}

wafer_error *error_wrap(wafer_error *err, const char *prefix) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s: %s", prefix, wafer_error_message(err));
    wafer_error *wrapped = error_alloc(err->kind, err->trap, buf);
    wafer_error_free(err);
    return wrapped;
}

wafer_error *wafer_error_new_trap(const char *message) {
    return error_alloc(WAFER_ERROR_TRAP, WAFER_TRAP_HOST, message);
}

wafer_error *wafer_error_new(wafer_error_kind kind, const char *message) {
    return error_alloc(kind, kind == WAFER_ERROR_TRAP ? WAFER_TRAP_HOST : WAFER_TRAP_NONE, message);
}

const char *wafer_trap_kind_message(wafer_trap_kind kind) {
    switch (kind) {
    case WAFER_TRAP_NONE: return "no trap";
    case WAFER_TRAP_UNREACHABLE: return "unreachable";
    case WAFER_TRAP_MEMORY_OUT_OF_BOUNDS: return "out of bounds memory access";
    case WAFER_TRAP_TABLE_OUT_OF_BOUNDS: return "out of bounds table access";
    case WAFER_TRAP_INTEGER_DIVIDE_BY_ZERO: return "integer divide by zero";
    case WAFER_TRAP_INTEGER_OVERFLOW: return "integer overflow";
    case WAFER_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WAFER_TRAP_UNDEFINED_ELEMENT: return "undefined element";
    case WAFER_TRAP_UNINITIALIZED_ELEMENT: return "uninitialized element";
    case WAFER_TRAP_INDIRECT_CALL_MISMATCH: return "indirect call type mismatch";
    case WAFER_TRAP_CALL_STACK_EXHAUSTED: return "call stack exhausted";
    case WAFER_TRAP_OUT_OF_FUEL: return "all fuel consumed";
    case WAFER_TRAP_INTERRUPTED: return "interrupted: epoch deadline reached";
    case WAFER_TRAP_HOST: return "host function trapped";
    }
    return "unknown trap";
}

wafer_error_kind wafer_error_kind_of(const wafer_error *err) { return err->kind; }
wafer_trap_kind wafer_error_trap_kind(const wafer_error *err) { return err->trap; }

const char *wafer_error_message(const wafer_error *err) {
    return err == &out_of_memory_error ? out_of_memory_message : err->message;
}

void wafer_error_free(wafer_error *err) {
    if (err && err != &out_of_memory_error) free(err);
}
