/* Instance state for comparison: see fuzz_snapshot.h. */
#include "fuzz_snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_ELEMENTS_RECORDED 4096

struct fuzz_export_state {
    wafer_extern_kind kind;
    uint64_t size;  /* memory pages, table elements */
    uint64_t hash;  /* memory bytes, table null-ness, global value */
    wafer_valtype type; /* global */
};

/* FNV-1a over 64-bit words: fast enough to hash a fuzzed memory after each instantiation. */
static uint64_t hash_bytes(const uint8_t *bytes, uint64_t len) {
    uint64_t h = 0xcbf29ce484222325ull;
    uint64_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, bytes + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    for (; i < len; i++) h = (h ^ bytes[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t value_bits(wafer_value v) {
    switch (v.type) {
    case WAFER_I32: return (uint32_t)v.of.i32;
    case WAFER_I64: return (uint64_t)v.of.i64;
    case WAFER_F32: return v.of.f32_bits;
    case WAFER_F64: return v.of.f64_bits;
    case WAFER_FUNCREF: return v.of.funcref != NULL;
    case WAFER_EXTERNREF: return v.of.externref != NULL;
    case WAFER_V128: break;
    }
    return 0;
}

static void record(wafer_extern ext, fuzz_export_state *s) {
    memset(s, 0, sizeof *s);
    s->kind = ext.kind;
    switch (ext.kind) {
    case WAFER_EXTERN_MEMORY:
        s->size = wafer_memory_size_pages(ext.of.memory);
        s->hash = hash_bytes(wafer_memory_data(ext.of.memory),
                             wafer_memory_size_bytes(ext.of.memory));
        break;
    case WAFER_EXTERN_TABLE: {
        s->size = wafer_table_size(ext.of.table);
        uint64_t h = 0xcbf29ce484222325ull;
        for (uint64_t i = 0; i < s->size && i < TABLE_ELEMENTS_RECORDED; i++) {
            wafer_value v;
            wafer_error *err = wafer_table_get(ext.of.table, i, &v);
            uint64_t seen = err ? 2 : value_bits(v);
            if (!err) wafer_value_release(&v);
            wafer_error_free(err);
            h = (h ^ seen) * 0x100000001b3ull;
        }
        s->hash = h;
        break;
    }
    case WAFER_EXTERN_GLOBAL: {
        wafer_value v = wafer_global_get(ext.of.global);
        s->type = v.type;
        s->hash = value_bits(v);
        wafer_value_release(&v);
        break;
    }
    case WAFER_EXTERN_FUNC: break;
    }
}

bool fuzz_snapshot_take(const wafer_instance *instance, fuzz_snapshot *out) {
    out->count = wafer_instance_export_count(instance);
    out->exports = calloc(out->count ? out->count : 1, sizeof *out->exports);
    if (!out->exports) return false;
    for (size_t i = 0; i < out->count; i++) {
        wafer_name name;
        record(wafer_instance_export_at(instance, i, &name), &out->exports[i]);
    }
    return true;
}

void fuzz_snapshot_free(fuzz_snapshot *snapshot) {
    free(snapshot->exports);
    snapshot->exports = NULL;
    snapshot->count = 0;
}

bool fuzz_snapshot_differ(const fuzz_snapshot *a, const fuzz_snapshot *b, char *why,
                          size_t why_size) {
    static const char *const kinds[] = {"function", "table", "memory", "global"};
    if (a->count != b->count) {
        snprintf(why, why_size, "%zu exports, then %zu", a->count, b->count);
        return true;
    }
    for (size_t i = 0; i < a->count; i++) {
        const fuzz_export_state *x = &a->exports[i], *y = &b->exports[i];
        if (x->kind == y->kind && x->size == y->size && x->hash == y->hash && x->type == y->type)
            continue;
        snprintf(why, why_size,
                 "export %zu (%s): size %llu, state %016llx; then %s size %llu, state %016llx", i,
                 kinds[x->kind & 3], (unsigned long long)x->size, (unsigned long long)x->hash,
                 kinds[y->kind & 3], (unsigned long long)y->size, (unsigned long long)y->hash);
        return true;
    }
    return false;
}
