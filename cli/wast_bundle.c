/* `wafer wast-bundle`: a spec test script converted by wast2json, written as one script bundle
 * (fuzz_targets/support/script_bundle.h) for the wast fuzz target, which has no JSON parser.
 * Values are read as `wafer wast` reads them (wast_value.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz_targets/support/script_bundle.h"
#include "commands.h"
#include "file_bytes.h"
#include "options.h"
#include "wast_value.h"

const char wast_bundle_usage[] =
    "usage: wafer wast-bundle [FEATURE OPTIONS] [--config N] SCRIPT.json -o OUT\n"
    "\n"
    "Writes the script (converted by wast2json; its module files are found beside it) as a\n"
    "script bundle, the input format of the wast fuzz target: modules as bytes, commands with\n"
    "their values, the script's features (give the flags it was converted with, as for\n"
    "wafer wast) and a checksum. --config N (0-255, default 0) is the engine configuration\n"
    "byte the target starts from (fuzz_targets/support/fuzz_engine.h).\n"
    "Commands wafer cannot run are left out and counted on stderr: assert_malformed and\n"
    "assert_invalid of text-format modules, and commands with v128 values.\n"
    "Exit status: 0 when written, 1 if the script cannot be read or written, 2 on a usage\n"
    "error.\n";

typedef struct out_buf {
    uint8_t *bytes;
    size_t len, cap;
    bool oom;
} out_buf;

static void put(out_buf *b, const void *bytes, size_t len) {
    if (b->oom) return;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len) cap *= 2;
        uint8_t *grown = realloc(b->bytes, cap);
        if (!grown) {
            b->oom = true;
            return;
        }
        b->bytes = grown;
        b->cap = cap;
    }
    if (len) memcpy(b->bytes + b->len, bytes, len);
    b->len += len;
}

static void put_le(out_buf *b, uint64_t v, size_t n) {
    uint8_t le[8];
    for (size_t k = 0; k < n; k++) le[k] = (uint8_t)(v >> (8 * k));
    put(b, le, n);
}

static void put_u8(out_buf *b, uint8_t v) { put(b, &v, 1); }

static void put_bytes(out_buf *b, const void *bytes, size_t len) {
    put_le(b, len, 4);
    put(b, bytes, len);
}

static void put_text(out_buf *b, json_t *object, const char *key) {
    json_t *s = json_object_get(object, key);
    if (json_is_string(s)) put_bytes(b, json_string_value(s), json_string_length(s));
    else put_bytes(b, "", 0);
}

/* The value as the bundle encodes it; false (why filled) for what it cannot encode. */
static bool put_value(out_buf *b, const wast_expected *v) {
    put_u8(b, (uint8_t)v->value.type);
    switch (v->kind) {
    case WAST_EXPECT_NAN_CANONICAL: put_u8(b, BUNDLE_EXPECT_NAN_CANONICAL); return true;
    case WAST_EXPECT_NAN_ARITHMETIC: put_u8(b, BUNDLE_EXPECT_NAN_ARITHMETIC); return true;
    case WAST_EXPECT_NON_NULL: put_u8(b, BUNDLE_EXPECT_NON_NULL); return true;
    case WAST_EXPECT_EXACT: put_u8(b, BUNDLE_EXPECT_EXACT); break;
    }
    const wafer_value *w = &v->value;
    switch (w->type) {
    case WAFER_I32: put_le(b, (uint32_t)w->of.i32, 4); return true;
    case WAFER_F32: put_le(b, w->of.f32_bits, 4); return true;
    case WAFER_I64: put_le(b, (uint64_t)w->of.i64, 8); return true;
    case WAFER_F64: put_le(b, w->of.f64_bits, 8); return true;
    case WAFER_FUNCREF: return w->of.funcref == NULL;
    case WAFER_EXTERNREF:
        /* wast_value numbers host references by their data pointer. */
        put_u8(b, w->of.externref != NULL);
        if (w->of.externref)
            put_le(b, (uintptr_t)wafer_externref_data(w->of.externref), 4);
        return true;
    case WAFER_V128: break;
    }
    return false;
}

typedef struct writer {
    out_buf out;
    wast_refs refs;
    const char *dir; /* the JSON's directory */
    size_t dir_len;
    const char *error; /* set when the script cannot be written */
    char error_buf[512];
    long written, skipped;
} writer;

static bool put_action(writer *w, out_buf *b, json_t *command) {
    json_t *action = json_object_get(command, "action");
    const char *type = json_string_value(json_object_get(action, "type"));
    if (!type) return false;
    put_u8(b, strcmp(type, "get") == 0 ? BUNDLE_GET : BUNDLE_INVOKE);
    put_text(b, action, "module");
    put_text(b, action, "field");
    json_t *args = json_object_get(action, "args");
    put_le(b, json_array_size(args), 4);
    for (size_t i = 0; i < json_array_size(args); i++) {
        wast_expected v = {.kind = WAST_EXPECT_EXACT};
        char why[256];
        if (!wast_value_parse_arg(json_array_get(args, i), &w->refs, &v.value, why, sizeof why) ||
            !put_value(b, &v))
            return false;
    }
    return true;
}

static bool put_expected(writer *w, out_buf *b, json_t *command) {
    json_t *expected = json_object_get(command, "expected");
    put_le(b, json_array_size(expected), 4);
    for (size_t i = 0; i < json_array_size(expected); i++) {
        wast_expected v;
        char why[256];
        if (!wast_value_parse_expected(json_array_get(expected, i), &w->refs, &v, why,
                                       sizeof why) ||
            !put_value(b, &v))
            return false;
    }
    return true;
}

static bool put_module_file(writer *w, out_buf *b, json_t *command) {
    const char *filename = json_string_value(json_object_get(command, "filename"));
    if (!filename) {
        w->error = "a command names no module file";
        return false;
    }
    size_t len = w->dir_len + strlen(filename) + 2;
    char *path = malloc(len);
    if (!path) {
        w->error = "out of memory";
        return false;
    }
    snprintf(path, len, "%.*s%s%s", (int)w->dir_len, w->dir, w->dir_len ? "/" : "", filename);
    uint8_t *bytes;
    size_t size;
    const char *why;
    bool read = file_bytes_read(path, &bytes, &size, &why);
    if (!read) {
        snprintf(w->error_buf, sizeof w->error_buf, "cannot read %s: %s", path, why);
        w->error = w->error_buf;
    }
    free(path);
    if (!read) return false;
    put_bytes(b, bytes, size);
    free(bytes);
    return true;
}

/* One command into its own buffer, appended only when all of it could be encoded. */
static void put_command(writer *w, json_t *command) {
    static const struct {
        const char *name;
        bundle_op op;
    } ops[] = {
        {"module", BUNDLE_MODULE},
        {"register", BUNDLE_REGISTER},
        {"action", BUNDLE_ACTION},
        {"assert_return", BUNDLE_ASSERT_RETURN},
        {"assert_trap", BUNDLE_ASSERT_TRAP},
        {"assert_exhaustion", BUNDLE_ASSERT_EXHAUSTION},
        {"assert_malformed", BUNDLE_ASSERT_MALFORMED},
        {"assert_invalid", BUNDLE_ASSERT_INVALID},
        {"assert_unlinkable", BUNDLE_ASSERT_UNLINKABLE},
        {"assert_uninstantiable", BUNDLE_ASSERT_UNINSTANTIABLE},
    };
    const char *type = json_string_value(json_object_get(command, "type"));
    size_t k = 0;
    while (k < sizeof ops / sizeof ops[0] && (!type || strcmp(type, ops[k].name) != 0)) k++;
    if (k == sizeof ops / sizeof ops[0]) {
        snprintf(w->error_buf, sizeof w->error_buf, "unknown command type \"%s\"",
                 type ? type : "(none)");
        w->error = w->error_buf;
        return;
    }
    const char *module_type = json_string_value(json_object_get(command, "module_type"));
    if (module_type && strcmp(module_type, "text") == 0) {
        w->skipped++;
        return;
    }
    out_buf b = {0};
    bundle_op op = ops[k].op;
    put_u8(&b, (uint8_t)op);
    put_le(&b, (uint64_t)json_integer_value(json_object_get(command, "line")), 4);
    bool ok = true;
    switch (op) {
    case BUNDLE_MODULE:
        put_text(&b, command, "name");
        ok = put_module_file(w, &b, command);
        break;
    case BUNDLE_REGISTER:
        put_text(&b, command, "as");
        put_text(&b, command, "name");
        break;
    case BUNDLE_ASSERT_RETURN: ok = put_action(w, &b, command) && put_expected(w, &b, command); break;
    case BUNDLE_ACTION:
    case BUNDLE_ASSERT_TRAP:
    case BUNDLE_ASSERT_EXHAUSTION: ok = put_action(w, &b, command); break;
    default: ok = put_module_file(w, &b, command); break;
    }
    if (b.oom) w->error = "out of memory";
    if (ok && !w->error) {
        put(&w->out, b.bytes, b.len);
        w->written++;
    } else if (!w->error) {
        w->skipped++;
    }
    free(b.bytes);
}

static int write_bundle(const char *script, const char *out_path, uint32_t features,
                        uint8_t config) {
    json_error_t json_error;
    json_t *root = json_load_file(script, JSON_ALLOW_NUL, &json_error);
    json_t *commands = json_object_get(root, "commands");
    if (!json_is_array(commands)) {
        fprintf(stderr, "wafer wast-bundle: %s:%d: not a wast2json script: %s\n", script,
                json_error.line, root ? "no command list" : json_error.text);
        json_decref(root);
        return EXIT_FAILED;
    }
    writer w = {.dir = script};
    const char *slash = strrchr(script, '/');
    w.dir_len = slash ? (size_t)(slash - script) : 0;
    int status = EXIT_OK;
    wast_refs_init(&w.refs);
    put(&w.out, BUNDLE_MAGIC, 4);
    put_u8(&w.out, config);
    put_le(&w.out, 0, 8); /* the checksum, once the body is complete */
    put_le(&w.out, features, 4);
    for (size_t i = 0; i < json_array_size(commands) && !w.error; i++)
        put_command(&w, json_array_get(commands, i));
    if (w.out.oom) w.error = "out of memory";
    wast_refs_free(&w.refs);
    if (!w.error) {
        uint64_t sum = bundle_checksum(w.out.bytes + BUNDLE_HEADER_SIZE,
                                       w.out.len - BUNDLE_HEADER_SIZE);
        for (int k = 0; k < 8; k++) w.out.bytes[BUNDLE_CHECKSUM_AT + k] = (uint8_t)(sum >> (8 * k));
        FILE *f = fopen(out_path, "wb");
        bool written = f && fwrite(w.out.bytes, 1, w.out.len, f) == w.out.len;
        if (f && fclose(f) != 0) written = false;
        if (!written) w.error = "cannot write the output file";
    }
    if (w.error) {
        fprintf(stderr, "wafer wast-bundle: %s: %s\n", script, w.error);
        status = EXIT_FAILED;
    } else {
        fprintf(stderr, "%s: %ld commands written, %ld left out, %zu bytes\n", out_path,
                w.written, w.skipped, w.out.len);
    }
    free(w.out.bytes);
    json_decref(root);
    return status;
}

int wast_bundle_main(int argc, char **argv) {
    cli_options opts;
    options_init_as_wabt(&opts);
    const char *script = NULL, *out_path = NULL;
    long config = 0;
    int i = 0;
    while (i < argc) {
        options_result taken = options_take(&opts, argc, argv, &i);
        if (taken == OPTIONS_BAD) return EXIT_USAGE;
        if (taken == OPTIONS_TAKEN) continue;
        if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            if (argv[i][1] == 'o') {
                out_path = argv[i + 1];
            } else {
                char *end;
                config = strtol(argv[i + 1], &end, 0);
                if (*end || config < 0 || config > 255) {
                    fprintf(stderr, "wafer wast-bundle: --config needs 0-255\n");
                    return EXIT_USAGE;
                }
            }
            i += 2;
        } else if (strncmp(argv[i], "-", 1) == 0 || script) {
            fprintf(stderr, "wafer wast-bundle: unexpected argument %s (see wafer help "
                            "wast-bundle)\n", argv[i]);
            return EXIT_USAGE;
        } else {
            script = argv[i++];
        }
    }
    if (!script || !out_path) {
        fprintf(stderr, "wafer wast-bundle: give a script and -o OUT (see wafer help "
                        "wast-bundle)\n");
        return EXIT_USAGE;
    }
    return write_bundle(script, out_path, opts.config.features, (uint8_t)config);
}
