/* gen: turns any byte string into a valid WebAssembly module, for fuzzing (the idea of
 * wasm-smith, written for wafer).
 *
 * What it promises:
 * - Every module gen_module_new returns validates under the features its config switches on
 *   (wafer_module_validate with those features, wabt's wasm-validate with the matching flags).
 *   A module that does not is a generator bug.
 * - Deterministic: the same bytes and config give the same module, byte for byte. The bytes are
 *   read as a stream of choices; once exhausted they read as zeros (and the body being written
 *   ends), so any input, the empty one included, gives a module (all-zero choices give a small
 *   one).
 * - With config.terminating, all code terminates without fuel: every function entry and every
 *   loop iteration spends one unit of a defined mutable i32 global, the "budget"
 *   (gen_summary.budget_global, starting at most at 1000), and a function that finds it at zero
 *   returns zeros at once. Calls made after the budget is spent therefore return quickly,
 *   instance by instance, and no call chain is deeper than the budget.
 * - Without config.allow_traps no instruction can trap and no segment is out of bounds (given
 *   imports of at least their declared sizes), except by exhausting the call stack, which
 *   terminating rules out for engines allowing 1000 nested calls. Loads and stores then go
 *   through a mask that keeps them within the memory's minimum, divisors are made nonzero and
 *   positive, and what cannot be made safe is not generated: unreachable, call_indirect, the
 *   non-saturating float-to-int truncations, memory.init/copy/fill and table.get/set/fill/copy/
 *   init.
 * - Uses libc only, and of wafer only its public header (for the feature bits).
 */
#ifndef WAFER_GEN_H
#define WAFER_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gen_instrs.h"

/* The instruction ids: GEN_I_UNREACHABLE, GEN_I_I32_ADD, ... (rows of gen_instrs.h). */
typedef enum gen_instr {
#define GEN_INSTR_ENUM(ID, NAME, PREFIX, CODE, SIG, ALIGN, FEATURE) GEN_I_##ID,
    GEN_INSTR_LIST(GEN_INSTR_ENUM)
#undef GEN_INSTR_ENUM
    GEN_INSTR_COUNT
} gen_instr;

/* The instruction's text-format name ("i32.add"; "select_t" for select with a type). */
const char *gen_instr_name(gen_instr id);

enum { GEN_SECTION_COUNT = 13 }; /* section ids 0 (custom) .. 12 (data count) */
/* The section's name ("type", "import", ...). */
const char *gen_section_name(unsigned id);

typedef struct gen_config {
    /* Features: each on lets the generator use it. */
    bool multi_value, bulk_memory, reference_types, memory64, multi_memory, sign_ext,
        sat_float_to_int, mutable_globals;
    uint32_t max_types, max_imports, max_funcs, max_tables, max_memories, max_globals, max_elems,
        max_datas, max_exports,
        max_body_size; /* instructions per body */
    uint64_t max_memory_pages;   /* cap on generated min/max of i32 memories */
    uint64_t max_memory64_pages; /* same for i64 memories (targets may allow up to 2^48) */
    uint32_t max_table_elems;    /* cap on generated table min/max */
    bool allow_imports, allow_start,
        allow_traps; /* unreachable, division by zero, out-of-bounds accesses may appear */
    bool export_all; /* export every function, table, memory, global: "f0", "t0", "m0", "g0", ...
                      * numbered in each index space (imports first) */
    bool terminating; /* every loop and call is bounded by the budget global (see above) */
    /* Added knobs (gen_config_default sets them; gen_config_from_bytes leaves them). */
    uint32_t min_memories;  /* at least this many memories (imported or defined), if allowed */
    uint32_t max_params;    /* per function or block type, also results */
    uint32_t max_locals;    /* declared locals per function, beyond the params */
    uint32_t max_nesting;   /* nested blocks, loops and ifs */
    uint32_t max_data_len;  /* bytes per data segment */
    uint32_t max_elem_len;  /* entries per element segment */
    bool wabt_compatible;   /* avoid what is valid but wabt 1.0.32 refuses: global.get as an
                             * element segment's item (its reader takes only ref.null, ref.func),
                             * memory64 load/store offsets of 2^32 and more (it reads a u32) */
    bool nan_free_bits;     /* no f32/f64 store and no i32/i64 reinterpret of a float: a NaN's
                             * payload, which the spec leaves to the engine, never becomes bits
                             * in memory or an integer (differential comparison) */
} gen_config;

/* All features on, small sizes: a few of each entity, bodies of up to 100 instructions,
 * memories of up to 4 pages, tables of up to 16 elements, traps allowed, imports and start
 * allowed, export_all off, terminating on. */
void gen_config_default(gen_config *cfg);

/* The envelope of a fuzz target whose input is one engine byte and then the generator's bytes
 * (instantiate, differential): gen_config_default with that target's tweaks. The targets and
 * `wafer gen --target T` share it, so a finding's module can be rebuilt outside the target.
 * Returns false, leaving *cfg alone, for a target of another input shape. */
bool gen_config_of_target(const char *target, gen_config *cfg);

/* Narrows *cfg with a few bytes taken from the front of the input (advancing *data and *size):
 * may switch features off and lower limits, never raise them. So a target sets the envelope
 * (e.g. gen_config_default, then its own tweaks) and the input picks within it. */
void gen_config_from_bytes(gen_config *cfg, const uint8_t **data, size_t *size);

/* What was generated, for statistics and for targets that check a model. Counts include imports
 * where the name does not say otherwise. */
typedef struct gen_summary {
    uint32_t opcode_counts[GEN_INSTR_COUNT]; /* by gen_instr, over all function bodies */
    uint32_t num_scaffold_instrs; /* budget checks and trap guards: emitted, not counted above */
    uint32_t section_counts[GEN_SECTION_COUNT]; /* 1 for each section present, by section id */
    uint32_t num_types, num_funcs, num_imports, num_memories, num_memory64, num_tables,
        num_globals, num_elems, num_datas, num_exports;
    uint32_t num_imported_funcs, num_imported_tables, num_imported_memories,
        num_imported_globals;
    uint32_t num_externref_tables;
    uint32_t num_elems_active, num_elems_passive, num_elems_declarative, num_elems_expr_encoded;
    uint32_t num_datas_active, num_datas_passive;
    /* Active data segments by where they end relative to the memory's minimum size. */
    uint32_t num_datas_in_bounds, num_datas_at_end, num_datas_past_end, num_datas_near_4g,
        num_datas_near_2_64;
    uint32_t num_large_offsets; /* loads/stores with offset >= 2^32 - 2^16 */
    bool has_start;
    uint32_t budget_global; /* the budget's global index; UINT32_MAX when not terminating */
} gen_summary;

typedef struct gen_module {
    uint8_t *bytes; /* malloc'd */
    size_t len;
    gen_summary summary;
} gen_module;

/* Generates the module for data under cfg into *out. Returns false only when memory runs out
 * (with *out left empty). */
bool gen_module_new(const uint8_t *data, size_t size, const gen_config *cfg, gen_module *out);
void gen_module_free(gen_module *m);

/* The wafer features (WAFER_FEATURE_* bits) that cfg's switches correspond to, for an engine that
 * should accept the modules. */
uint32_t gen_config_wafer_features(const gen_config *cfg);

#endif
