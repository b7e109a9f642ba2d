/* `wafer compile`: validate and compile a module once, and write it as a precompiled module that
 * run (and the other commands) load by mapping it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "error_text.h"
#include "file_bytes.h"
#include "options.h"

const char compile_usage[] =
    "usage: wafer compile [OPTIONS] MODULE.wasm -o OUT.cwasm\n"
    "\n"
    "Decodes, validates and compiles MODULE.wasm and writes it, compiled, to OUT.cwasm, with its\n"
    "memory images page aligned in the file. `wafer run OUT.cwasm` and the other commands load\n"
    "it without compiling again, mapping the images from the file. A precompiled module is\n"
    "loaded only by the same wafer version with the same feature and limit options; any other\n"
    "file, a truncated or corrupted one, is refused with an error.\n"
    "Exit status: 0 on success, 1 if the module is refused or the file cannot be written, 2 on a\n"
    "usage error.\n";

static int compile_one(wafer_engine *engine, const char *in, const char *out) {
    uint8_t *bytes;
    size_t len;
    const char *why;
    if (!file_bytes_read(in, &bytes, &len, &why)) {
        fprintf(stderr, "wafer compile: %s: %s\n", in, why);
        return EXIT_FAILED;
    }
    wafer_module *module = NULL;
    wafer_error *err = wafer_module_new(engine, bytes, len, &module);
    free(bytes);
    if (!err) err = wafer_module_serialize_file(module, out);
    wafer_module_release(module);
    if (!err) return EXIT_OK;
    fprintf(stderr, "wafer compile: %s: %s: %s\n", in, error_text_kind(wafer_error_kind_of(err)),
            wafer_error_message(err));
    wafer_error_free(err);
    return EXIT_FAILED;
}

int compile_main(int argc, char **argv) {
    cli_options opts;
    options_init(&opts);
    const char *in = NULL, *out = NULL;
    int i = 0;
    while (i < argc) {
        options_result taken = options_take(&opts, argc, argv, &i);
        if (taken == OPTIONS_BAD) return EXIT_USAGE;
        if (taken == OPTIONS_TAKEN) continue;
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc && !out) {
            out = argv[i + 1];
            i += 2;
        } else if (strncmp(argv[i], "-", 1) != 0 && !in) {
            in = argv[i++];
        } else {
            fprintf(stderr, "wafer compile: unexpected argument %s (see wafer help compile)\n",
                    argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "wafer compile: needs MODULE.wasm and -o OUT.cwasm\n");
        return EXIT_USAGE;
    }
    cli_engine engine;
    if (!options_engine_start(&opts, &engine)) return EXIT_FAILED;
    int status = compile_one(engine.engine, in, out);
    options_engine_stop(&engine);
    return status;
}
