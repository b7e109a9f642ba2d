/* Fitting a module to binaryen's harness: see binaryen_module.h. Binary format: spec 5.5. */
#include "binaryen_module.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm_writer.h"

/* ---- Reading sections --------------------------------------------------------------------- */

typedef struct cursor {
    const uint8_t *p;
    const uint8_t *end;
    bool ok;
} cursor;

static uint64_t read_uleb(cursor *c) {
    uint64_t value = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (!c->ok || c->p >= c->end) break;
        uint8_t b = *c->p++;
        if (shift < 64) value |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) return value;
    }
    c->ok = false;
    return 0;
}

static void skip(cursor *c, uint64_t n) {
    if (!c->ok || (uint64_t)(c->end - c->p) < n) {
        c->ok = false;
        return;
    }
    c->p += n;
}

typedef struct section {
    uint8_t id;
    const uint8_t *payload;
    size_t len;
} section;

/* The non-custom sections in order; false if the framing is malformed. */
static bool read_sections(const uint8_t *bytes, size_t len, section *out, size_t *count) {
    static const uint8_t header[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    if (len < 8 || memcmp(bytes, header, 8) != 0) return false;
    cursor c = {bytes + 8, bytes + len, true};
    *count = 0;
    while (c.ok && c.p < c.end) {
        uint8_t id = *c.p++;
        uint64_t size = read_uleb(&c);
        const uint8_t *payload = c.p;
        skip(&c, size);
        if (!c.ok) return false;
        if (id == 0) continue;
        if (*count == 16) return false; /* more than the 12 known sections, a repeat */
        out[(*count)++] = (section){id, payload, (size_t)size};
    }
    return c.ok;
}

static const section *find_section(const section *sections, size_t count, uint8_t id) {
    for (size_t i = 0; i < count; i++)
        if (sections[i].id == id) return &sections[i];
    return NULL;
}

/* ---- hangLimitInitializer ----------------------------------------------------------------- */

/* Whether body (one code section entry, without its size) declares no locals and only stores
 * constants into globals: then calling it again changes nothing. Globals it stores into are
 * marked in sets[] (nglobals entries). */
static bool only_stores_constants(const uint8_t *body, size_t len, bool *sets, uint32_t nglobals) {
    cursor c = {body, body + len, true};
    if (read_uleb(&c) != 0 || !c.ok) return false;
    while (c.ok && c.p < c.end) {
        uint8_t op = *c.p++;
        if (op == 0x0B) return c.p == c.end;
        switch (op) {
        case 0x41: case 0x42: read_uleb(&c); break; /* the value's bits do not matter here */
        case 0x43: skip(&c, 4); break;
        case 0x44: skip(&c, 8); break;
        default: return false;
        }
        if (!c.ok || c.p >= c.end || *c.p++ != 0x24) return false;
        uint64_t global = read_uleb(&c);
        if (!c.ok || global >= nglobals) return false;
        sets[global] = true;
    }
    return false;
}

/* The body of defined function `defined` (index among the code section's entries). */
static bool code_body(const section *code, uint32_t defined, const uint8_t **body, size_t *len) {
    if (!code) return false;
    cursor c = {code->payload, code->payload + code->len, true};
    uint64_t n = read_uleb(&c);
    if (!c.ok || defined >= n) return false;
    for (uint32_t i = 0; c.ok; i++) {
        uint64_t size = read_uleb(&c);
        if (i == defined) {
            *body = c.p;
            *len = (size_t)size;
            skip(&c, size);
            return c.ok;
        }
        skip(&c, size);
    }
    return false;
}

static bool name_is(const facts_extern *e, const char *name) {
    return e->name_len == strlen(name) && memcmp(e->name, name, e->name_len) == 0;
}

/* Sets plan->unsupported if hangLimitInitializer is exported in a way binaryen's extra calls
 * to it could be seen. */
static void check_hang_limit(binaryen_plan *plan, const section *sections, size_t nsections,
                             bool *sets) {
    const module_facts *f = &plan->facts;
    for (uint32_t i = 0; i < f->nexports; i++) {
        const facts_extern *e = &f->exports[i];
        if (!name_is(e, "hangLimitInitializer")) continue;
        const facts_functype *type = e->kind == FACTS_FUNC ? module_facts_func_type(f, e->index)
                                                           : NULL;
        const uint8_t *body;
        size_t len;
        if (!type || type->nparams || type->nresults || e->index < plan->nfunc_imports ||
            !code_body(find_section(sections, nsections, 10), e->index - plan->nfunc_imports,
                       &body, &len) ||
            !only_stores_constants(body, len, sets, f->nglobals)) {
            plan->unsupported = "binaryen calls hangLimitInitializer as an export too, and this "
                                "one does more than store constants";
            return;
        }
        plan->has_hang_limit = true;
        plan->hang_export = i;
    }
}

/* ---- The plan ----------------------------------------------------------------------------- */

static bool add_getter(binaryen_plan *plan, uint32_t export_index, uint8_t result,
                       bool is_null_test) {
    binaryen_getter *g = realloc(plan->getters, (plan->ngetters + 1) * sizeof *g);
    if (!g) return false;
    plan->getters = g;
    g = &plan->getters[plan->ngetters];
    g->export_index = export_index;
    g->result = result;
    g->is_null_test = is_null_test;
    /* A name no export of the module has: "wafer-final-N", with more dashes if needed. */
    for (size_t dashes = 1;; dashes++) {
        snprintf(g->name, sizeof g->name, "wafer-final%.*s%u", (int)dashes, "--------------",
                 plan->ngetters);
        bool taken = false;
        for (uint32_t i = 0; i < plan->facts.nexports && !taken; i++)
            taken = name_is(&plan->facts.exports[i], g->name);
        if (!taken || dashes == 14) break;
    }
    plan->ngetters++;
    return true;
}

bool binaryen_plan_make(const uint8_t *bytes, size_t len, binaryen_plan *plan, char *why,
                        size_t why_size) {
    memset(plan, 0, sizeof *plan);
    char facts_why[128] = "";
    section sections[16];
    size_t nsections;
    bool read = module_facts_read(bytes, len, &plan->facts, facts_why, sizeof facts_why);
    if (!read || !read_sections(bytes, len, sections, &nsections)) {
        snprintf(plan->unreadable, sizeof plan->unreadable, "its sections cannot be read: %s",
                 read ? "bad section framing" : facts_why);
        plan->unsupported = plan->unreadable;
        return true;
    }
    module_facts *f = &plan->facts;
    for (uint32_t i = 0; i < f->nimports; i++) {
        const facts_extern *imp = &f->imports[i];
        if (imp->kind != FACTS_FUNC) {
            plan->unsupported = "binaryen's harness cannot import memories, tables or globals";
            return true;
        }
        if (module_facts_func_type(f, imp->index)->nresults) {
            plan->unsupported = "binaryen's harness returns nothing from an imported function";
            return true;
        }
        plan->nfunc_imports++;
    }
    if (f->nmemories > 1) {
        plan->unsupported = "binaryen 108 has no multi-memory";
        return true;
    }
    plan->runs = 1;
    while (plan->runs < 32 && (UINT64_C(1) << plan->runs) < plan->nfunc_imports) plan->runs++;

    bool *sets = calloc(f->nglobals + 1, sizeof *sets);
    if (!sets) {
        snprintf(why, why_size, "out of memory");
        binaryen_plan_free(plan);
        return false;
    }
    check_hang_limit(plan, sections, nsections, sets);
    for (uint32_t i = 0; i < f->nexports && !plan->unsupported; i++) {
        const facts_extern *e = &f->exports[i];
        bool ok = true;
        if (e->kind == FACTS_GLOBAL) {
            uint8_t type = f->globals[e->index].type;
            if (sets[e->index])
                plan->unsupported = "binaryen's hangLimitInitializer would reset an exported "
                                    "global before it is read";
            else if (type == WASM_V128)
                plan->unsupported = "the protocol shows no v128 global";
            else if (type == WASM_FUNCREF || type == WASM_EXTERNREF)
                ok = add_getter(plan, i, WASM_I32, true);
            else
                ok = add_getter(plan, i, type, false);
        } else if (e->kind == FACTS_MEMORY) {
            ok = add_getter(plan, i, f->memories[e->index].is64 ? WASM_I64 : WASM_I32, false);
        }
        if (!ok) {
            free(sets);
            snprintf(why, why_size, "out of memory");
            binaryen_plan_free(plan);
            return false;
        }
    }
    free(sets);
    return true;
}

void binaryen_plan_free(binaryen_plan *plan) {
    module_facts_free(&plan->facts);
    free(plan->getters);
    memset(plan, 0, sizeof *plan);
}

bool binaryen_channel_b(uint32_t import, uint32_t run) {
    return run < 32 && ((import >> run) & 1);
}

/* ---- Writing a variant -------------------------------------------------------------------- */

/* Where a section goes among the others (the spec's order: data count before code). */
static int section_rank(uint8_t id) {
    static const int rank[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
    return id < sizeof rank / sizeof rank[0] ? rank[id] : 13;
}

/* Copies a vector section's entries after its count, appending `extra` more. */
static void extend_vector(wasm_buf *out, const section *s, uint32_t extra, const wasm_buf *tail) {
    cursor c = {s ? s->payload : NULL, s ? s->payload + s->len : NULL, true};
    uint64_t n = s ? read_uleb(&c) : 0;
    wasm_uleb(out, n + extra);
    if (s) wasm_bytes(out, c.p, (size_t)(c.end - c.p));
    wasm_bytes(out, tail->data, tail->len);
}

/* Function imports renamed into their channel for run; the imports are all functions. */
static void write_imports(wasm_buf *out, const binaryen_plan *plan, uint32_t run) {
    wasm_uleb(out, plan->facts.nimports);
    for (uint32_t k = 0; k < plan->facts.nimports; k++) {
        char name[24];
        if (binaryen_channel_b(k, run)) {
            wasm_name(out, "env", 3);
            wasm_name(out, "log_execution", 13);
        } else {
            int n = snprintf(name, sizeof name, "log-%u", k);
            wasm_name(out, "fuzzing-support", 15);
            wasm_name(out, name, (size_t)n);
        }
        wasm_byte(out, 0x00);
        wasm_uleb(out, plan->facts.func_types[plan->facts.imports[k].index]);
    }
}

/* The getters' pieces: their types (appended after the module's: i32 i64 f32 f64 results),
 * function declarations, exports and bodies. */
static void write_getters(const binaryen_plan *plan, wasm_buf *types, wasm_buf *funcs,
                          wasm_buf *exports, wasm_buf *code) {
    static const uint8_t results[4] = {WASM_I32, WASM_I64, WASM_F32, WASM_F64};
    for (int i = 0; i < 4; i++) {
        wasm_byte(types, 0x60);
        wasm_uleb(types, 0);
        wasm_uleb(types, 1);
        wasm_byte(types, results[i]);
    }
    const module_facts *f = &plan->facts;
    for (uint32_t i = 0; i < plan->ngetters; i++) {
        const binaryen_getter *g = &plan->getters[i];
        const facts_extern *e = &f->exports[g->export_index];
        uint32_t slot = 0;
        while (slot < 3 && results[slot] != g->result) slot++;
        wasm_uleb(funcs, f->ntypes + slot);
        wasm_name(exports, g->name, strlen(g->name));
        wasm_byte(exports, 0x00);
        wasm_uleb(exports, f->nfuncs + i);
        wasm_buf body = {0};
        wasm_uleb(&body, 0); /* no locals */
        if (e->kind == FACTS_GLOBAL) {
            wasm_byte(&body, WASM_OP_GLOBAL_GET);
            wasm_uleb(&body, e->index);
            if (g->is_null_test) wasm_byte(&body, WASM_OP_REF_IS_NULL);
        } else {
            wasm_byte(&body, WASM_OP_MEMORY_SIZE);
            wasm_uleb(&body, e->index);
        }
        wasm_byte(&body, WASM_OP_END);
        wasm_uleb(code, body.len);
        wasm_bytes(code, body.data, body.len);
        if (body.failed) code->failed = true;
        wasm_buf_free(&body);
    }
}

bool binaryen_variant(const uint8_t *bytes, size_t len, const binaryen_plan *plan, uint32_t run,
                      uint8_t **out, size_t *out_len) {
    section sections[16];
    size_t nsections;
    if (!read_sections(bytes, len, sections, &nsections)) return false;
    wasm_buf types = {0}, funcs = {0}, exports = {0}, code = {0};
    if (plan->ngetters) write_getters(plan, &types, &funcs, &exports, &code);
    /* The sections to write, by rank: the module's, and those the getters need but it lacks. */
    static const uint8_t added[4] = {1, 3, 7, 10};
    wasm_buf result = {0};
    static const uint8_t header[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    wasm_bytes(&result, header, 8);
    for (int rank = 1; rank <= 13; rank++) {
        const section *s = NULL;
        uint8_t id = 0;
        for (size_t i = 0; i < nsections && !s; i++)
            if (section_rank(sections[i].id) == rank) s = &sections[i];
        if (s) id = s->id;
        else
            for (int i = 0; i < 4; i++)
                if (plan->ngetters && section_rank(added[i]) == rank) id = added[i];
        if (!id) continue;
        wasm_buf payload = {0};
        switch (plan->ngetters ? id : 0) {
        case 1: extend_vector(&payload, s, 4, &types); break;
        case 3: extend_vector(&payload, s, plan->ngetters, &funcs); break;
        case 7: extend_vector(&payload, s, plan->ngetters, &exports); break;
        case 10: extend_vector(&payload, s, plan->ngetters, &code); break;
        default:
            if (id == 2) write_imports(&payload, plan, run);
            else wasm_bytes(&payload, s->payload, s->len);
        }
        wasm_byte(&result, id);
        wasm_uleb(&result, payload.len);
        wasm_bytes(&result, payload.data, payload.len);
        if (payload.failed) result.failed = true;
        wasm_buf_free(&payload);
    }
    bool failed = result.failed || types.failed || funcs.failed || exports.failed || code.failed;
    wasm_buf_free(&types);
    wasm_buf_free(&funcs);
    wasm_buf_free(&exports);
    wasm_buf_free(&code);
    if (failed) {
        wasm_buf_free(&result);
        return false;
    }
    *out = result.data;
    *out_len = result.len;
    return true;
}
