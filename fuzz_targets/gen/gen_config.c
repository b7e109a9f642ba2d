/* Generator configurations: the default envelope and narrowing it from input bytes (gen.h). */
#include <string.h>

#include "gen.h"
#include "gen_input.h"
#include "wafer.h"

void gen_config_default(gen_config *cfg) {
    *cfg = (gen_config){
        .multi_value = true,
        .bulk_memory = true,
        .reference_types = true,
        .memory64 = true,
        .multi_memory = true,
        .sign_ext = true,
        .sat_float_to_int = true,
        .mutable_globals = true,
        .max_types = 8,
        .max_imports = 6,
        .max_funcs = 8,
        .max_tables = 3,
        .max_memories = 3,
        .max_globals = 6,
        .max_elems = 4,
        .max_datas = 4,
        .max_exports = 8,
        .max_body_size = 100,
        .max_memory_pages = 4,
        .max_memory64_pages = 4,
        .max_table_elems = 16,
        .allow_imports = true,
        .allow_start = true,
        .allow_traps = true,
        .export_all = false,
        .terminating = true,
        .min_memories = 0,
        .max_params = 4,
        .max_locals = 6,
        .max_nesting = 6,
        .max_data_len = 64,
        .max_elem_len = 8,
        .wabt_compatible = false,
        .nan_free_bits = false,
    };
}

bool gen_config_of_target(const char *target, gen_config *cfg) {
    bool instantiate = strcmp(target, "instantiate") == 0;
    bool differential = strcmp(target, "differential") == 0;
    if (!instantiate && !differential) return false;
    gen_config_default(cfg);
    cfg->export_all = true;
    if (differential) {
        cfg->terminating = true;     /* both engines must finish */
        cfg->wabt_compatible = true; /* wabt 1.0.32 must read it */
        cfg->nan_free_bits = true;   /* NaN payloads are the engine's choice: never compared */
    }
    return true;
}

/* A limit is lowered for a byte of 0xC0 or more (a quarter of random inputs): lower ones, zero
 * included, keep it, so an all-zero input keeps the whole envelope. */
static void narrow_u32(gen_input *in, uint32_t *limit) {
    uint8_t b = gen_u8(in);
    if (b >= 0xC0) *limit = b % (*limit + 1u);
}

static void narrow_u64(gen_input *in, uint64_t *limit) {
    uint8_t b = gen_u8(in);
    if (b < 0xC0) return;
    *limit = b & 1 ? gen_below(in, *limit + (*limit < UINT64_MAX)) : *limit >> (b % 64);
}

void gen_config_from_bytes(gen_config *cfg, const uint8_t **data, size_t *size) {
    gen_input in = {*data, *size};
    uint8_t off = gen_u8(&in);
    if ((off & 0xC0) == 0xC0) {
        uint8_t mask = gen_u8(&in);
        bool *features[] = {&cfg->multi_value, &cfg->bulk_memory, &cfg->reference_types,
                            &cfg->memory64, &cfg->multi_memory, &cfg->sign_ext,
                            &cfg->sat_float_to_int, &cfg->mutable_globals};
        for (unsigned i = 0; i < 8; i++)
            if (mask & (1u << i)) *features[i] = false;
    }
    /* Reference types build on bulk memory's segment encodings and instructions (wabt refuses
     * the one without the other), so they go together. */
    if (!cfg->bulk_memory) cfg->reference_types = false;
    if ((off & 0x03) == 0x03) cfg->allow_imports = false;
    if ((off & 0x0C) == 0x0C) cfg->allow_start = false;
    if ((off & 0x30) == 0x30) cfg->allow_traps = false;
    if (off & 0x04) cfg->terminating = true;
    uint32_t *limits[] = {&cfg->max_types,  &cfg->max_imports,  &cfg->max_funcs,
                          &cfg->max_tables, &cfg->max_memories, &cfg->max_globals,
                          &cfg->max_elems,  &cfg->max_datas,    &cfg->max_exports,
                          &cfg->max_body_size};
    for (unsigned i = 0; i < sizeof limits / sizeof limits[0]; i++) narrow_u32(&in, limits[i]);
    narrow_u64(&in, &cfg->max_memory_pages);
    narrow_u64(&in, &cfg->max_memory64_pages);
    narrow_u32(&in, &cfg->max_table_elems);
    *data = in.bytes;
    *size = in.left;
}

uint32_t gen_config_wafer_features(const gen_config *cfg) {
    uint32_t f = 0;
    if (cfg->mutable_globals) f |= WAFER_FEATURE_MUTABLE_GLOBALS;
    if (cfg->sign_ext) f |= WAFER_FEATURE_SIGN_EXTENSION;
    if (cfg->sat_float_to_int) f |= WAFER_FEATURE_SAT_FLOAT_TO_INT;
    if (cfg->multi_value) f |= WAFER_FEATURE_MULTI_VALUE;
    if (cfg->bulk_memory) f |= WAFER_FEATURE_BULK_MEMORY;
    if (cfg->reference_types) f |= WAFER_FEATURE_REFERENCE_TYPES;
    if (cfg->memory64) f |= WAFER_FEATURE_MEMORY64;
    if (cfg->multi_memory) f |= WAFER_FEATURE_MULTI_MEMORY;
    return f;
}
