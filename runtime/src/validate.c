/* Validation of a decoded module (spec 3.4, with the memory64 and multi-memory proposals), and
 * compilation of its bodies: see module.h. Bodies are decoded here too (the decoder only delimits
 * them), all of them before anything is validated, so that a malformed body is reported as such
 * whatever else is wrong with the module. The texts of errors are the spec test suite's.
 */
#include "compile.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

#define INVALID(...) error_new(WAFER_ERROR_INVALID, __VA_ARGS__)

static bool has_feature(const wafer_module *m, uint32_t feature) {
    return (wafer_engine_config(m->engine)->features & feature) != 0;
}

static wafer_error *disabled(const char *feature) {
    return error_new(WAFER_ERROR_UNSUPPORTED, "unsupported feature: %s (disabled)", feature);
}

/* ---- Types and limits ----------------------------------------------------------------------- */

static wafer_error *check_types(const wafer_module *m) {
    if (has_feature(m, WAFER_FEATURE_MULTI_VALUE)) return NULL;
    for (uint32_t i = 0; i < m->num_types; i++)
        if (m->types[i].num_results > 1) return disabled("multi-value");
    return NULL;
}

/* Every function's type, imported or defined (the function index space). */
static wafer_error *check_func_types(const wafer_module *m) {
    for (uint32_t i = 0; i < m->num_funcs; i++)
        if (m->func_type_indices[i] >= m->num_types)
            return INVALID("unknown type %u (function %u)", m->func_type_indices[i], i);
    return NULL;
}

static wafer_error *check_min_max(const wafer_limits *l) {
    if (l->has_max && l->min > l->max)
        return INVALID("size minimum must not be greater than maximum");
    return NULL;
}

/* Limits (spec 3.2.1): each bound within the range, then min <= max. */
static wafer_error *check_limits(const wafer_limits *l, uint64_t range, const char *range_text) {
    if (l->min > range || (l->has_max && l->max > range)) return INVALID("%s", range_text);
    return check_min_max(l);
}

/* Table limits are u32 in the binary format, so within their range (2^32 - 1) by construction. */
static wafer_error *check_tables(const wafer_module *m) {
    if (m->num_tables > 1 && !has_feature(m, WAFER_FEATURE_REFERENCE_TYPES))
        return INVALID("multiple tables");
    for (uint32_t i = 0; i < m->num_tables; i++) {
        wafer_error *err = check_min_max(&m->tables[i].limits);
        if (err) return err;
    }
    return NULL;
}

static wafer_error *check_memories(const wafer_module *m) {
    if (m->num_memories > 1 && !has_feature(m, WAFER_FEATURE_MULTI_MEMORY))
        return INVALID("multiple memories");
    for (uint32_t i = 0; i < m->num_memories; i++) {
        const wafer_memorytype *mt = &m->memories[i];
        if (mt->shared) return error_new(WAFER_ERROR_UNSUPPORTED, "unsupported feature: threads");
        wafer_error *err =
            mt->is64 ? check_limits(&mt->limits, UINT64_C(1) << 48,
                                    "memory size must be at most 48 bits of pages")
                     : check_limits(&mt->limits, 65536,
                                    "memory size must be at most 65536 pages (4GiB)");
        if (err) return err;
    }
    return NULL;
}

/* Imported functions' types are checked with the others (check_func_types). */
static wafer_error *check_imports(const wafer_module *m) {
    if (!has_feature(m, WAFER_FEATURE_MUTABLE_GLOBALS))
        for (uint32_t i = 0; i < m->num_imported_globals; i++)
            if (m->globals[i].type.is_mutable) return disabled("mutable globals");
    return NULL;
}

/* ---- Constant expressions (spec 3.3.10) ----------------------------------------------------- */

/* A constant expression producing one value of type `expected`. global.get may name only
 * immutable imported globals (spec 3.4.10: C' holds the imported globals alone). `what` names the
 * expression in messages. */
static wafer_error *check_const_expr(const wafer_module *m, const const_expr *e,
                                     wafer_valtype expected, const char *what, uint32_t index) {
    wafer_valtype type = expected;
    for (uint32_t i = 0; i < e->count; i++) {
        const const_instr *in = &e->instrs[i];
        switch (in->opcode) {
        case 0x41: type = WAFER_I32; break;
        case 0x42: type = WAFER_I64; break;
        case 0x43: type = WAFER_F32; break;
        case 0x44: type = WAFER_F64; break;
        case 0xD0: type = in->imm.reftype; break;
        case 0xD2:
            if (in->imm.index >= m->num_funcs)
                return INVALID("unknown function %u (%s %u)", in->imm.index, what, index);
            type = WAFER_FUNCREF;
            break;
        case 0x23:
            if (in->imm.index >= m->num_imported_globals)
                return INVALID("unknown global %u (%s %u)", in->imm.index, what, index);
            if (m->globals[in->imm.index].type.is_mutable)
                return INVALID("constant expression required: global %u is mutable (%s %u)",
                               in->imm.index, what, index);
            type = m->globals[in->imm.index].type.type;
            break;
        default:
            return INVALID("constant expression required: opcode 0x%x (%s %u)", in->opcode, what,
                           index);
        }
    }
    if (e->count != 1 || type != expected)
        return INVALID("type mismatch: %s %u must produce one value of its type", what, index);
    return NULL;
}

static wafer_error *check_globals(const wafer_module *m) {
    for (uint32_t i = m->num_imported_globals; i < m->num_globals; i++) {
        wafer_error *err =
            check_const_expr(m, &m->globals[i].init, m->globals[i].type.type, "global", i);
        if (err) return err;
    }
    return NULL;
}

static wafer_error *check_elems(const wafer_module *m) {
    for (uint32_t i = 0; i < m->num_elems; i++) {
        const module_elem *e = &m->elems[i];
        for (uint32_t k = 0; k < e->count; k++) {
            wafer_error *err = check_const_expr(m, &e->items[k], e->type, "element segment", i);
            if (err) return err;
        }
        if (e->mode != SEGMENT_ACTIVE) continue;
        if (e->table_index >= m->num_tables)
            return INVALID("unknown table %u (element segment %u)", e->table_index, i);
        if (m->tables[e->table_index].elem != e->type)
            return INVALID("type mismatch: element segment %u does not match table %u", i,
                           e->table_index);
        wafer_error *err = check_const_expr(m, &e->offset, WAFER_I32, "element segment", i);
        if (err) return err;
    }
    return NULL;
}

static wafer_error *check_datas(const wafer_module *m) {
    for (uint32_t i = 0; i < m->num_datas; i++) {
        const module_data *d = &m->datas[i];
        if (d->mode != SEGMENT_ACTIVE) continue;
        if (d->memory_index >= m->num_memories)
            return INVALID("unknown memory %u (data segment %u)", d->memory_index, i);
        wafer_valtype offset_type = m->memories[d->memory_index].is64 ? WAFER_I64 : WAFER_I32;
        wafer_error *err = check_const_expr(m, &d->offset, offset_type, "data segment", i);
        if (err) return err;
    }
    return NULL;
}

/* ---- Start and exports ---------------------------------------------------------------------- */

static wafer_error *check_start(const wafer_module *m) {
    if (!m->has_start) return NULL;
    if (m->start_func >= m->num_funcs) return INVALID("unknown function %u (start)", m->start_func);
    const wafer_functype *t = &m->types[m->func_type_indices[m->start_func]];
    if (t->num_params != 0 || t->num_results != 0)
        return INVALID("start function %u must take and return nothing", m->start_func);
    return NULL;
}

static int compare_names(const void *a, const void *b) {
    const wafer_name *x = *(const wafer_name *const *)a, *y = *(const wafer_name *const *)b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->bytes, y->bytes, n) : 0;
    if (c) return c;
    return (x->len > y->len) - (x->len < y->len);
}

/* Export names are unique (spec 3.4.10): sorted, equal names are neighbours. */
static wafer_error *check_export_names(const wafer_module *m) {
    if (m->num_exports < 2) return NULL;
    const wafer_name **names = malloc(m->num_exports * sizeof *names);
    if (!names) return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    for (uint32_t i = 0; i < m->num_exports; i++) names[i] = &m->exports[i].name;
    qsort(names, m->num_exports, sizeof *names, compare_names);
    wafer_error *err = NULL;
    for (uint32_t i = 1; i < m->num_exports && !err; i++)
        if (compare_names(&names[i - 1], &names[i]) == 0)
            err = INVALID("duplicate export name \"%.*s\"",
                          (int)(names[i]->len > 64 ? 64 : names[i]->len), names[i]->bytes);
    free(names);
    return err;
}

static wafer_error *check_exports(const wafer_module *m) {
    static const char *const kind_names[] = {"function", "table", "memory", "global"};
    for (uint32_t i = 0; i < m->num_exports; i++) {
        const module_export *e = &m->exports[i];
        uint32_t count = e->kind == WAFER_EXTERN_FUNC     ? m->num_funcs
                         : e->kind == WAFER_EXTERN_TABLE  ? m->num_tables
                         : e->kind == WAFER_EXTERN_MEMORY ? m->num_memories
                                                          : m->num_globals;
        if (e->index >= count)
            return INVALID("unknown %s %u (export %u)", kind_names[e->kind], e->index, i);
        if (e->kind == WAFER_EXTERN_GLOBAL && m->globals[e->index].type.is_mutable &&
            !has_feature(m, WAFER_FEATURE_MUTABLE_GLOBALS))
            return disabled("mutable globals");
    }
    return check_export_names(m);
}

/* ---- Declared function references (spec 3.4.10, C.refs) ------------------------------------- */

static void declare_in_expr(uint8_t *refs, const wafer_module *m, const const_expr *e) {
    for (uint32_t i = 0; i < e->count; i++)
        if (e->instrs[i].opcode == 0xD2 && e->instrs[i].imm.index < m->num_funcs)
            refs[e->instrs[i].imm.index / 8] |= (uint8_t)(1u << (e->instrs[i].imm.index % 8));
}

/* Functions that ref.func may name in code: those exported, or named in a global's initialiser or
 * an element segment. */
static wafer_error *declare_refs(wafer_module *m) {
    free(m->declared_refs);
    m->declared_refs = calloc((size_t)m->num_funcs / 8 + 1, 1);
    if (!m->declared_refs) return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    uint8_t *refs = m->declared_refs;
    for (uint32_t i = 0; i < m->num_exports; i++)
        if (m->exports[i].kind == WAFER_EXTERN_FUNC && m->exports[i].index < m->num_funcs)
            refs[m->exports[i].index / 8] |= (uint8_t)(1u << (m->exports[i].index % 8));
    for (uint32_t i = m->num_imported_globals; i < m->num_globals; i++)
        declare_in_expr(refs, m, &m->globals[i].init);
    for (uint32_t i = 0; i < m->num_elems; i++)
        for (uint32_t k = 0; k < m->elems[i].count; k++)
            declare_in_expr(refs, m, &m->elems[i].items[k]);
    return NULL;
}

/* ---- The module ----------------------------------------------------------------------------- */

static wafer_error *check_module(wafer_module *m) {
    wafer_error *(*const checks[])(const wafer_module *) = {
        check_types, check_imports, check_func_types, check_tables, check_memories,
        check_globals, check_elems, check_datas, check_start, check_exports,
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        wafer_error *err = checks[i](m);
        if (err) return err;
    }
    return declare_refs(m);
}

static void free_code(wafer_module *m) {
    if (!m->code) return;
    for (uint32_t i = 0; i < m->num_bodies; i++) code_func_clear(&m->code[i]);
    free(m->code);
    m->code = NULL;
}

wafer_error *module_validate_declarations(wafer_module *m) {
    if (m->num_bodies != m->num_funcs - m->num_imported_funcs)
        return error_new(WAFER_ERROR_MALFORMED,
                         "function and code section have inconsistent lengths");
    return check_module(m);
}

wafer_error *module_validate(wafer_module *m, bool compile) {
    uint32_t num_defined = m->num_funcs - m->num_imported_funcs;
    if (m->num_bodies != num_defined)
        return error_new(WAFER_ERROR_MALFORMED,
                         "function and code section have inconsistent lengths");
    for (uint32_t i = 0; i < num_defined; i++) {
        wafer_error *err = body_check_encoding(m, i);
        if (err) return err;
    }
    wafer_error *err = check_module(m);
    if (err) return err;
    free_code(m);
    if (compile && num_defined > 0) {
        m->code = calloc(num_defined, sizeof *m->code);
        if (!m->code) return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    }
    for (uint32_t i = 0; i < num_defined && !err; i++)
        err = body_compile(m, i, m->code ? &m->code[i] : NULL);
    if (err) free_code(m);
    return err;
}
