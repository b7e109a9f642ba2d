/* `wafer gen`: the fuzzing module generator (fuzz_targets/gen) from the command line: the module
 * for one input, or statistics over many pseudo-random inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "error_text.h"
#include "file_bytes.h"
#include "../fuzz_targets/gen/gen.h"
#include "wafer.h"

const char gen_usage[] =
    "usage: wafer gen INPUT -o OUT.wasm [--stats] [--default-config | --config-from-bytes]\n"
    "                 [--target T]\n"
    "       wafer gen --stats N [--seed S] [--out-dir DIR]\n"
    "                 [--default-config | --config-from-bytes] [--wabt-compatible]\n"
    "\n"
    "The first form writes the module the generator makes from the bytes of INPUT (with\n"
    "--stats, also what it contains). The second generates N modules from pseudo-random\n"
    "inputs of varied length (seeded by S, default 1), validates each with the features its\n"
    "configuration allows, and prints the share of each instruction and section kind;\n"
    "with --out-dir, it also writes them there as 000000.wasm, 000001.wasm, ... (for\n"
    "cross-checks with other validators).\n"
    "--config-from-bytes (the default) lets the input's first bytes narrow the default\n"
    "configuration, as the fuzz targets do; --default-config uses it as it is.\n"
    "--wabt-compatible avoids valid constructs that wabt 1.0.32 refuses.\n"
    "--target T reads INPUT as fuzz target T does (instantiate, differential: an engine byte,\n"
    "then the generator's bytes, in T's envelope), writing the module a finding of T ran.\n"
    "Exit status: 0 on success (every module valid), 1 otherwise, 2 on a usage error.\n";

typedef struct gen_totals {
    uint64_t modules, valid, invalid, instrs, starts;
    uint64_t opcode[GEN_INSTR_COUNT];
    uint64_t sections[GEN_SECTION_COUNT];
    gen_summary sum; /* entity counts added up (opcode and section counts unused) */
} gen_totals;

typedef struct gen_choice {
    bool from_bytes, wabt_compatible;
    const char *target; /* a fuzz target's input shape and envelope (gen_config_of_target) */
} gen_choice;

static bool make_module(const uint8_t *bytes, size_t len, gen_choice choice, gen_config *cfg,
                        gen_module *out) {
    if (choice.target) {
        /* The target's first byte picks its engine, not the module. */
        gen_config_of_target(choice.target, cfg);
        if (len > 0) bytes++, len--;
    } else {
        gen_config_default(cfg);
    }
    if (choice.wabt_compatible) cfg->wabt_compatible = true;
    if (choice.from_bytes) gen_config_from_bytes(cfg, &bytes, &len);
    return gen_module_new(bytes, len, cfg, out);
}

static void add_summary(gen_totals *t, const gen_summary *s) {
    for (unsigned i = 0; i < GEN_INSTR_COUNT; i++) {
        t->opcode[i] += s->opcode_counts[i];
        t->instrs += s->opcode_counts[i];
    }
    for (unsigned i = 0; i < GEN_SECTION_COUNT; i++) t->sections[i] += s->section_counts[i] != 0;
    gen_summary *a = &t->sum;
#define ADD(field) a->field += s->field
    ADD(num_types); ADD(num_funcs); ADD(num_imports); ADD(num_memories); ADD(num_memory64);
    ADD(num_tables); ADD(num_globals); ADD(num_elems); ADD(num_datas); ADD(num_exports);
    ADD(num_imported_funcs); ADD(num_imported_tables); ADD(num_imported_memories);
    ADD(num_imported_globals); ADD(num_externref_tables); ADD(num_elems_active);
    ADD(num_elems_passive); ADD(num_elems_declarative); ADD(num_elems_expr_encoded);
    ADD(num_datas_active); ADD(num_datas_passive); ADD(num_datas_in_bounds); ADD(num_datas_at_end);
    ADD(num_datas_past_end); ADD(num_datas_near_4g); ADD(num_datas_near_2_64);
    ADD(num_large_offsets); ADD(num_scaffold_instrs);
    t->starts += s->has_start;
#undef ADD
}

static void print_totals(const gen_totals *t) {
    const gen_summary *s = &t->sum;
    printf("modules %llu: valid %llu, invalid %llu\n", (unsigned long long)t->modules,
           (unsigned long long)t->valid, (unsigned long long)t->invalid);
    printf("entities (total): types %u funcs %u (imported %u) tables %u (imported %u, externref "
           "%u) memories %u (imported %u, memory64 %u) globals %u (imported %u) exports %u "
           "start %u\n",
           s->num_types, s->num_funcs, s->num_imported_funcs, s->num_tables,
           s->num_imported_tables, s->num_externref_tables, s->num_memories,
           s->num_imported_memories, s->num_memory64, s->num_globals, s->num_imported_globals,
           s->num_exports, (unsigned)t->starts);
    printf("elem segments %u: active %u passive %u declarative %u, expression-encoded %u\n",
           s->num_elems, s->num_elems_active, s->num_elems_passive, s->num_elems_declarative,
           s->num_elems_expr_encoded);
    printf("data segments %u: passive %u active %u (in bounds %u, at end %u, past end %u, near "
           "2^32 %u, near 2^64 %u)\n",
           s->num_datas, s->num_datas_passive, s->num_datas_active, s->num_datas_in_bounds,
           s->num_datas_at_end, s->num_datas_past_end, s->num_datas_near_4g,
           s->num_datas_near_2_64);
    printf("loads/stores with offsets >= 2^32 - 2^16: %u\n", s->num_large_offsets);
    printf("budget checks and trap guards (not in the shares below): %u instructions\n",
           s->num_scaffold_instrs);
    printf("sections (share of modules that have one):\n");
    for (unsigned i = 0; i < GEN_SECTION_COUNT; i++)
        printf("  %-10s %8llu %6.2f%%\n", gen_section_name(i), (unsigned long long)t->sections[i],
               t->modules ? 100.0 * (double)t->sections[i] / (double)t->modules : 0.0);
    printf("instructions %llu (share of all instructions):\n", (unsigned long long)t->instrs);
    for (unsigned i = 0; i < GEN_INSTR_COUNT; i++)
        printf("  %-22s %9llu %6.3f%%\n", gen_instr_name((gen_instr)i),
               (unsigned long long)t->opcode[i],
               t->instrs ? 100.0 * (double)t->opcode[i] / (double)t->instrs : 0.0);
}

static bool write_file(const char *path, const gen_module *mod) {
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(mod->bytes, 1, mod->len, f) == mod->len;
    if (f && fclose(f) != 0) ok = false;
    if (!ok) fprintf(stderr, "wafer gen: cannot write %s\n", path);
    return ok;
}

static int gen_one(const char *input, const char *output, gen_choice choice, bool stats) {
    uint8_t *bytes;
    size_t len;
    const char *why;
    if (!file_bytes_read(input, &bytes, &len, &why)) {
        fprintf(stderr, "wafer gen: %s: %s\n", input, why);
        return EXIT_FAILED;
    }
    gen_config cfg;
    gen_module mod;
    bool made = make_module(bytes, len, choice, &cfg, &mod);
    free(bytes);
    if (!made) {
        fprintf(stderr, "wafer gen: out of memory\n");
        return EXIT_FAILED;
    }
    int status = write_file(output, &mod) ? EXIT_OK : EXIT_FAILED;
    if (stats) {
        gen_totals t = {.modules = 1, .valid = 1};
        add_summary(&t, &mod.summary);
        print_totals(&t);
    }
    gen_module_free(&mod);
    return status;
}

/* splitmix64: a fixed, portable sequence, so a seed names the same inputs everywhere. */
static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Engines by feature set (WAFER_FEATURE_* bits 0..7), made on first use. */
enum { FEATURE_SETS = 256 };

static wafer_engine *engine_for(wafer_engine **engines, uint32_t features) {
    if (!engines[features]) {
        wafer_config config;
        wafer_config_default(&config);
        config.features = features;
        engines[features] = wafer_engine_new(&config);
    }
    return engines[features];
}

static int gen_stats(uint64_t count, uint64_t seed, gen_choice choice, const char *out_dir) {
    wafer_engine *engines[FEATURE_SETS] = {0};
    gen_totals *t = calloc(1, sizeof *t);
    uint8_t *input = malloc(4096);
    int status = t && input ? EXIT_OK : EXIT_FAILED;
    uint64_t state = seed;
    for (uint64_t n = 0; n < count && status == EXIT_OK; n++) {
        /* Lengths spread over powers of two up to 4 KiB: short inputs exercise exhaustion. */
        size_t len = (size_t)(next_random(&state) % ((size_t)1 << (next_random(&state) % 13)));
        for (size_t i = 0; i < len; i++) input[i] = (uint8_t)next_random(&state);
        gen_config cfg;
        gen_module mod;
        if (!make_module(input, len, choice, &cfg, &mod)) {
            fprintf(stderr, "wafer gen: out of memory\n");
            status = EXIT_FAILED;
            break;
        }
        wafer_engine *engine = engine_for(engines, gen_config_wafer_features(&cfg));
        wafer_error *err = engine ? wafer_module_validate(engine, mod.bytes, mod.len) : NULL;
        t->modules++;
        if (!engine) {
            fprintf(stderr, "wafer gen: cannot make an engine\n");
            status = EXIT_FAILED;
        } else if (err) {
            t->invalid++;
            if (t->invalid <= 10)
                fprintf(stderr, "wafer gen: module %llu (seed %llu) is %s: %s\n",
                        (unsigned long long)n, (unsigned long long)seed,
                        error_text_kind(wafer_error_kind_of(err)), wafer_error_message(err));
            wafer_error_free(err);
        } else {
            t->valid++;
        }
        add_summary(t, &mod.summary);
        if (out_dir) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%06llu.wasm", out_dir, (unsigned long long)n);
            if (!write_file(path, &mod)) status = EXIT_FAILED;
        }
        gen_module_free(&mod);
    }
    if (t) {
        print_totals(t);
        if (t->invalid) status = EXIT_FAILED;
    }
    for (unsigned i = 0; i < FEATURE_SETS; i++) wafer_engine_delete(engines[i]);
    free(input);
    free(t);
    return status;
}

static bool parse_count(const char *s, uint64_t *out) {
    char *end;
    if (!s || !*s || *s == '-') return false;
    *out = strtoull(s, &end, 10);
    return *end == '\0';
}

int gen_main(int argc, char **argv) {
    const char *input = NULL, *output = NULL, *out_dir = NULL;
    gen_choice choice = {.from_bytes = true};
    bool stats = false, has_count = false;
    uint64_t count = 0, seed = 1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-o") == 0 && i + 1 < argc) {
            output = argv[++i];
        } else if (strcmp(a, "--stats") == 0) {
            stats = true;
            if (!input && i + 1 < argc && parse_count(argv[i + 1], &count)) {
                has_count = true;
                i++;
            }
        } else if (strcmp(a, "--seed") == 0 && i + 1 < argc && parse_count(argv[i + 1], &seed)) {
            i++;
        } else if (strcmp(a, "--out-dir") == 0 && i + 1 < argc) {
            out_dir = argv[++i];
        } else if (strcmp(a, "--default-config") == 0) {
            choice.from_bytes = false;
        } else if (strcmp(a, "--config-from-bytes") == 0) {
            choice.from_bytes = true;
        } else if (strcmp(a, "--wabt-compatible") == 0) {
            choice.wabt_compatible = true;
        } else if (strcmp(a, "--target") == 0 && i + 1 < argc) {
            gen_config probe;
            choice.target = argv[++i];
            if (!gen_config_of_target(choice.target, &probe)) {
                fprintf(stderr, "wafer gen: fuzz target %s does not generate its module from its "
                                "input (only instantiate and differential do)\n", choice.target);
                return EXIT_USAGE;
            }
        } else if (a[0] != '-' && !input) {
            input = a;
        } else {
            fprintf(stderr, "wafer gen: unexpected argument %s (see wafer help gen)\n", a);
            return EXIT_USAGE;
        }
    }
    if (has_count && !input && !output) return gen_stats(count, seed, choice, out_dir);
    if (!input || !output) {
        fprintf(stderr, "wafer gen: need INPUT and -o OUT.wasm, or --stats N (see wafer help "
                        "gen)\n");
        return EXIT_USAGE;
    }
    return gen_one(input, output, choice, stats);
}
