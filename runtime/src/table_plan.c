/* Lazy table plans (module.h, "table_plan"): computed once per module, so that instantiating a
 * module with a large function table writes nothing into the table (DESIGN.md invariant 6).
 */
#include "module.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

enum { OP_I32_CONST_BYTE = 0x41, OP_REF_NULL_BYTE = 0xD0, OP_REF_FUNC_BYTE = 0xD2 };

/* Can segment e be folded into table t's plan? Its offset must be an i32.const whose segment fits
 * the table's minimum size (so it cannot trap), and every item a ref.func or ref.null. */
static bool elem_foldable(const wafer_module *m, const module_elem *e, uint64_t min) {
    if (e->offset.count != 1 || e->offset.instrs[0].opcode != OP_I32_CONST_BYTE) return false;
    uint64_t offset = (uint32_t)e->offset.instrs[0].imm.i32;
    if (offset > min || e->count > min - offset) return false;
    for (uint32_t j = 0; j < e->count; j++) {
        const const_expr *item = &e->items[j];
        if (item->count != 1) return false;
        uint16_t op = item->instrs[0].opcode;
        if (op == OP_REF_FUNC_BYTE) {
            if (item->instrs[0].imm.index >= m->num_funcs) return false;
        } else if (op != OP_REF_NULL_BYTE) {
            return false;
        }
    }
    return true;
}

static bool table_lazy(const wafer_module *m, uint32_t table_index, uint32_t *len) {
    const wafer_tabletype *type = &m->tables[table_index];
    if (type->elem != WAFER_FUNCREF) return false;
    uint64_t end = 0;
    for (uint32_t i = 0; i < m->num_elems; i++) {
        const module_elem *e = &m->elems[i];
        if (e->mode != SEGMENT_ACTIVE || e->table_index != table_index) continue;
        if (!elem_foldable(m, e, type->limits.min)) return false;
        uint64_t seg_end = (uint64_t)(uint32_t)e->offset.instrs[0].imm.i32 + e->count;
        if (seg_end > end) end = seg_end;
    }
    *len = (uint32_t)end; /* <= the minimum, a u32 */
    return true;
}

static void fold(const wafer_module *m, uint32_t table_index, table_plan *plan) {
    for (uint32_t i = 0; i < m->num_elems; i++) {
        const module_elem *e = &m->elems[i];
        if (e->mode != SEGMENT_ACTIVE || e->table_index != table_index) continue;
        uint32_t offset = (uint32_t)e->offset.instrs[0].imm.i32;
        for (uint32_t j = 0; j < e->count; j++) {
            const const_instr *in = &e->items[j].instrs[0];
            plan->funcs[offset + j] = in->opcode == OP_REF_FUNC_BYTE ? in->imm.index + 1 : 0;
        }
    }
}

wafer_error *module_plan_tables(wafer_module *m) {
    uint32_t ndefined = m->num_tables - m->num_imported_tables;
    if (ndefined == 0) return NULL;
    m->table_plans = calloc(ndefined, sizeof *m->table_plans);
    m->elem_planned = calloc(m->num_elems ? m->num_elems : 1, sizeof *m->elem_planned);
    if (!m->table_plans || !m->elem_planned)
        return error_new(WAFER_ERROR_RESOURCE, "out of memory planning tables");
    for (uint32_t d = 0; d < ndefined; d++) {
        uint32_t t = m->num_imported_tables + d;
        table_plan *plan = &m->table_plans[d];
        uint32_t len;
        if (!table_lazy(m, t, &len)) continue;
        if (len) {
            plan->funcs = calloc(len, sizeof *plan->funcs);
            if (!plan->funcs) return error_new(WAFER_ERROR_RESOURCE, "out of memory planning tables");
            fold(m, t, plan);
        }
        plan->len = len;
        plan->lazy = true;
        for (uint32_t i = 0; i < m->num_elems; i++)
            if (m->elems[i].mode == SEGMENT_ACTIVE && m->elems[i].table_index == t)
                m->elem_planned[i] = true;
    }
    return NULL;
}

void module_free_table_plans(wafer_module *m) {
    if (m->table_plans)
        for (uint32_t d = 0; d < m->num_tables - m->num_imported_tables; d++)
            free(m->table_plans[d].funcs);
    free(m->table_plans);
    free(m->elem_planned);
    m->table_plans = NULL;
    m->elem_planned = NULL;
}
