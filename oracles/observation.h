/* What an engine saw when it ran a module under the invocation protocol, in one text format that
 * every engine adapter writes and the comparison (compare.c) reads.
 *
 * The invocation protocol, the same for every engine:
 *   1. Instantiate the module. Every imported function is a logger: it records its call (import
 *      module and name, arguments) and returns zeros of its result types. Imported memories,
 *      tables and globals are created to their declared types (an engine that cannot do this
 *      reports the module as inconclusive: feature).
 *   2. For each exported function, in export order: if the module exports `hangLimitInitializer`
 *      as a function of type [] -> [] (binaryen -ttf modules), call it first (it is not itself
 *      observed, and not called as an export of its own; its logs and its trap are recorded as
 *      the export's); then call the export
 *      with zero-valued arguments and record its results or its trap. A trap does not end the run:
 *      the next export is called on the same instance, as binaryen's and wasm-interp's harnesses
 *      do.
 *   3. After the last call, record, in export order, the final value of every exported global
 *      and, where the engine can report it, the size and a hash of every exported memory (one
 *      line per export name, also when two names export one memory).
 *
 * The text format: one observation per line, fields separated by one space.
 *   instantiate ok
 *   instantiate trap CLASS              the start function or a segment trapped; nothing follows
 *   instantiate error KIND              link or validation failure (KIND: invalid, unlinkable, ...)
 *   call NAME                           an export is called (NAME escaped, see below)
 *   log MODULE NAME VALUE...            an imported function was called with these arguments
 *   return VALUE...                     the call returned these results (none: "return")
 *   trap CLASS                          the call trapped
 *   global NAME VALUE                   final value of an exported global
 *   memory NAME PAGES HASH              final size and FNV-1a 64 hash (16 hex digits) of the bytes,
 *                                       or "-" for HASH where the engine cannot hash them
 *   inconclusive REASON [DETAIL]        the engine gave up: stack, memory, fuel, time, feature,
 *                                       crash, limit (an implementation limit of the engine:
 *                                       too many locals, ...), output (more than
 *                                       OBSERVATION_LIMIT lines); DETAIL (the rest of the line,
 *                                       optional) is for people; nothing after this line is
 *                                       compared, so an adapter stops its run here
 * VALUE is TYPE:BITS with TYPE one of i32 i64 f32 f64 and BITS the value's bit pattern in hex
 * (0x-prefixed, no leading zeros beyond one digit), or funcref:null funcref:nonnull
 * externref:null externref:nonnull.
 * CLASS is one of: unreachable memory_oob table_oob div_zero int_overflow invalid_conversion
 * undefined_element uninitialized_element indirect_call_mismatch host other ("other": the
 * engine cannot tell which; it agrees with any class). Stack exhaustion is not a trap class: it
 * is "inconclusive stack".
 * KIND of instantiate error: malformed, invalid (one class to the comparison), unlinkable, other.
 * NAME, MODULE: bytes outside [A-Za-z0-9_.$-] are written as %XX (hex), so names never contain
 * spaces.
 * Blank lines and lines starting with '#' are comments, ignored by the parser.
 */
#ifndef WAFER_ORACLE_OBSERVATION_H
#define WAFER_ORACLE_OBSERVATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* An adapter stops with "inconclusive output" before its list grows past this many lines, so
 * that a module logging in a long loop costs bounded memory in every engine alike. */
#define OBSERVATION_LIMIT 100000

typedef enum obs_kind {
    OBS_INSTANTIATE_OK,
    OBS_INSTANTIATE_TRAP,  /* trap */
    OBS_INSTANTIATE_ERROR, /* word: the KIND */
    OBS_CALL,              /* name */
    OBS_LOG,               /* module, name, values */
    OBS_RETURN,            /* values */
    OBS_TRAP,              /* trap */
    OBS_GLOBAL,            /* name, values (exactly one) */
    OBS_MEMORY,            /* name, pages, hash (has_hash false for "-") */
    OBS_INCONCLUSIVE,      /* word: the REASON; detail (may be NULL) */
} obs_kind;

typedef enum obs_type { OBS_I32, OBS_I64, OBS_F32, OBS_F64, OBS_FUNCREF, OBS_EXTERNREF } obs_type;

/* bits: the value's bit pattern (i32/f32 in the low 32 bits); for references 0 is null, 1 is
 * non-null. */
typedef struct obs_value {
    obs_type type;
    uint64_t bits;
} obs_value;

typedef enum obs_trap {
    OBS_TRAP_UNREACHABLE,
    OBS_TRAP_MEMORY_OOB,
    OBS_TRAP_TABLE_OOB,
    OBS_TRAP_DIV_ZERO,
    OBS_TRAP_INT_OVERFLOW,
    OBS_TRAP_INVALID_CONVERSION,
    OBS_TRAP_UNDEFINED_ELEMENT,
    OBS_TRAP_UNINITIALIZED_ELEMENT,
    OBS_TRAP_INDIRECT_CALL_MISMATCH,
    OBS_TRAP_HOST,
    OBS_TRAP_OTHER,
} obs_trap;

/* One line. Names are kept in their escaped text form (NUL-terminated), so they compare with
 * strcmp and print as they are. */
typedef struct observation {
    obs_kind kind;
    char *module;      /* OBS_LOG */
    char *name;        /* OBS_CALL, OBS_LOG, OBS_GLOBAL, OBS_MEMORY */
    char *word;        /* OBS_INSTANTIATE_ERROR's KIND, OBS_INCONCLUSIVE's REASON */
    char *detail;      /* OBS_INCONCLUSIVE: the rest of the line, or NULL */
    obs_value *values; /* OBS_LOG, OBS_RETURN, OBS_GLOBAL */
    size_t nvalues;
    obs_trap trap;     /* OBS_INSTANTIATE_TRAP, OBS_TRAP */
    uint64_t pages;    /* OBS_MEMORY */
    uint64_t hash;     /* OBS_MEMORY, when has_hash */
    bool has_hash;
} observation;

typedef struct observation_list {
    observation *items;
    size_t count;
    size_t capacity;
} observation_list;

void observation_list_init(observation_list *list);
void observation_list_free(observation_list *list); /* and leaves it empty, ready for reuse */

/* Appending, for adapters. Raw names are escaped here (bytes with lengths: names may hold NUL).
 * Each returns false only when memory runs out (the list is then unchanged). */
bool obs_add_instantiate_ok(observation_list *list);
bool obs_add_instantiate_trap(observation_list *list, obs_trap trap);
bool obs_add_instantiate_error(observation_list *list, const char *kind);
bool obs_add_call(observation_list *list, const char *name, size_t name_len);
bool obs_add_log(observation_list *list, const char *module, size_t module_len, const char *name,
                 size_t name_len, const obs_value *values, size_t nvalues);
bool obs_add_return(observation_list *list, const obs_value *values, size_t nvalues);
bool obs_add_trap(observation_list *list, obs_trap trap);
bool obs_add_global(observation_list *list, const char *name, size_t name_len, obs_value value);
bool obs_add_memory(observation_list *list, const char *name, size_t name_len, uint64_t pages,
                    bool has_hash, uint64_t hash);
/* detail may be NULL; it is kept on one line (newlines become spaces). */
bool obs_add_inconclusive(observation_list *list, const char *reason, const char *detail);

/* The list's last line is "inconclusive ...". */
bool observation_list_ended(const observation_list *list);

/* FNV-1a 64 of bytes, as the memory line hashes a memory. */
uint64_t obs_fnv1a64(const uint8_t *bytes, size_t len);

/* Parses the text format (len bytes, need not be NUL-terminated), appending to out. On a bad
 * line returns false with its number and the reason in why; out then holds the lines before it. */
bool observation_list_parse(const char *text, size_t len, observation_list *out, char *why,
                            size_t why_size);

/* Writes one line (with its newline) / every line. False on a write error. */
bool observation_write(FILE *out, const observation *obs);
bool observation_list_write(FILE *out, const observation_list *list);
/* One line without its newline into buf (cut to buf_size - 1 bytes), for verdict texts. */
void observation_format(const observation *obs, char *buf, size_t buf_size);
/* "i32:0x2a" into buf, for verdict texts. */
void obs_value_format(obs_value value, char *buf, size_t buf_size);

const char *obs_trap_name(obs_trap trap);
/* False if name is not a CLASS of the format. */
bool obs_trap_from_name(const char *name, obs_trap *out);

#endif
