/* The generated module's shape, decided before any byte is written: what the section encoder
 * (gen_module.c) writes and what the body generator (gen_body.c) may refer to. Index spaces are
 * as in the spec: imports first, then definitions. */
#ifndef WAFER_GEN_MODEL_H
#define WAFER_GEN_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "gen.h"
#include "gen_emit.h"
#include "gen_input.h"

/* Value types, by their binary codes. */
enum {
    GEN_T_I32 = 0x7F,
    GEN_T_I64 = 0x7E,
    GEN_T_F32 = 0x7D,
    GEN_T_F64 = 0x7C,
    GEN_T_FUNCREF = 0x70,
    GEN_T_EXTERNREF = 0x6F,
};
enum { GEN_MAX_PARAMS = 16, GEN_MAX_COUNT = 1000 };

typedef struct gen_functype {
    uint32_t nparams, nresults;
    uint8_t params[GEN_MAX_PARAMS], results[GEN_MAX_PARAMS];
} gen_functype;

typedef struct gen_limits {
    uint64_t min, max;
    bool has_max;
} gen_limits;

typedef struct gen_func {
    uint32_t type;
    bool imported;
    bool declared; /* may be named by ref.func in a body (spec 3.4.10, C.refs) */
} gen_func;

typedef struct gen_table {
    uint8_t elem;
    gen_limits limits;
    bool imported;
} gen_table;

typedef struct gen_memory {
    bool is64, imported;
    gen_limits limits;
} gen_memory;

/* A constant expression: one instruction then end. */
typedef enum gen_const_kind {
    GEN_CONST_VALUE,
    GEN_CONST_GLOBAL,
    GEN_CONST_NULL,
    GEN_CONST_FUNC,
} gen_const_kind;
typedef struct gen_const {
    gen_const_kind kind;
    uint8_t type;   /* the value's type */
    uint64_t value; /* the number's bits, or the global or function index */
} gen_const;

typedef struct gen_global {
    uint8_t type;
    bool is_mutable, imported;
    gen_const init;
} gen_global;

typedef enum gen_seg_mode { GEN_SEG_ACTIVE, GEN_SEG_PASSIVE, GEN_SEG_DECLARATIVE } gen_seg_mode;

typedef struct gen_elem {
    gen_seg_mode mode;
    uint8_t type;       /* funcref or externref */
    bool expr_encoding; /* items as constant expressions rather than function indices */
    bool explicit_table; /* active: encoded with a table index (flags 2 or 6) */
    uint32_t table;
    gen_const offset;
    uint32_t len;
    gen_const *items;
} gen_elem;

typedef struct gen_data {
    gen_seg_mode mode;
    bool explicit_memory;
    uint32_t memory;
    gen_const offset;
    uint32_t len;
    const uint8_t *bytes; /* from the input; NULL (read as zeros) when it ran out */
} gen_data;

typedef struct gen_export {
    char name[16];
    uint8_t kind; /* 0 func, 1 table, 2 memory, 3 global */
    uint32_t index;
} gen_export;

typedef struct gen_model {
    const gen_config *cfg;
    uint32_t ntypes, nfuncs, ntables, nmemories, nglobals, nelems, ndatas, nexports;
    gen_functype *types;
    gen_func *funcs;
    gen_table *tables;
    gen_memory *memories;
    gen_global *globals;
    gen_elem *elems;
    gen_data *datas;
    gen_export *exports;
    uint32_t nimports;
    uint8_t *import_kinds; /* the import section's order: 0 func, 1 table, 2 memory, 3 global */
    bool has_start, has_datacount;
    uint32_t start;
    uint32_t budget_global; /* UINT32_MAX when not terminating */
    gen_summary *summary;
} gen_model;

/* Decides everything but the bodies. False when memory runs out. */
bool gen_model_build(gen_model *m, gen_input *in);
void gen_model_free(gen_model *m);

/* Writes defined function func's body (locals and code, without the size prefix) to out. */
void gen_body(const gen_model *m, uint32_t func, gen_input *in, gen_buf *out);

/* The bytes of a page count: saturates at UINT64_MAX (2^48 pages and more). */
uint64_t gen_pages_bytes(uint64_t pages);
bool gen_is_ref(uint8_t type);
/* A value type the config allows. */
uint8_t gen_random_valtype(gen_input *in, const gen_config *cfg);
/* A number whose bits are interesting for type: zero, one, all ones, extremes, small, random. */
uint64_t gen_random_bits(gen_input *in, uint8_t type);

#endif
