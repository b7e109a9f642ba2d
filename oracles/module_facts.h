/* What the oracles need to know about a module before running it elsewhere, read straight from
 * its bytes (independently of wafer's decoder, so a module wafer wrongly rejects can still be
 * run in a reference engine): function types, imports and exports with their types, the limits
 * of every memory and table, and which memory each active data segment fills. Nothing is
 * validated beyond what reading needs; code is not looked at.
 */
#ifndef WAFER_ORACLE_MODULE_FACTS_H
#define WAFER_ORACLE_MODULE_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value types by their binary encoding (0x7F i32 ... 0x70 funcref, 0x6F externref). */
typedef struct facts_functype {
    uint32_t nparams;
    uint32_t nresults;
    uint8_t *params;
    uint8_t *results;
} facts_functype;

typedef struct facts_limits {
    uint64_t min;
    uint64_t max;
    bool has_max;
    bool is64;   /* memories: memory64 */
    bool shared; /* memories: threads */
} facts_limits;

typedef struct facts_table {
    uint8_t elem; /* 0x70 or 0x6F */
    facts_limits limits;
} facts_table;

typedef struct facts_global {
    uint8_t type;
    bool is_mutable;
} facts_global;

enum { FACTS_FUNC = 0, FACTS_TABLE = 1, FACTS_MEMORY = 2, FACTS_GLOBAL = 3 };

/* An import or an export: kind FACTS_*, index into the kind's full index space. */
typedef struct facts_extern {
    const uint8_t *module; /* imports only; points into the module's bytes */
    uint32_t module_len;
    const uint8_t *name; /* points into the module's bytes */
    uint32_t name_len;
    uint8_t kind;
    uint32_t index;
} facts_extern;

typedef struct facts_data {
    bool active;
    uint32_t memory; /* active segments: the memory they fill */
} facts_data;

typedef struct module_facts {
    facts_functype *types;
    uint32_t ntypes;
    uint32_t *func_types; /* per function (imports first): index into types */
    uint32_t nfuncs;
    facts_table *tables;
    uint32_t ntables;
    facts_limits *memories;
    uint32_t nmemories;
    facts_global *globals;
    uint32_t nglobals;
    facts_extern *imports;
    uint32_t nimports;
    facts_extern *exports;
    uint32_t nexports;
    facts_data *data;
    uint32_t ndata;
} module_facts;

/* Reads bytes (which must outlive facts: names point into them). False, with the reason in why,
 * if the sections read are malformed or a type index is out of range. */
bool module_facts_read(const uint8_t *bytes, size_t len, module_facts *facts, char *why,
                       size_t why_size);
void module_facts_free(module_facts *facts);

/* The type of function index func (full index space), or NULL if out of range. */
const facts_functype *module_facts_func_type(const module_facts *facts, uint32_t func);

#endif
