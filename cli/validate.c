/* `wafer validate`: decode and validate modules, saying why one is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "error_text.h"
#include "file_bytes.h"
#include "options.h"

const char validate_usage[] =
    "usage: wafer validate [OPTIONS] MODULE.wasm...\n"
    "\n"
    "Decodes and validates each module with the features the options select. Prints nothing\n"
    "for a valid module; for another, prints \"MODULE: KIND: MESSAGE\" on stderr, where KIND\n"
    "is malformed, invalid, unsupported (a feature that is off or not implemented) or limit.\n"
    "Exit status: 0 if every module is valid, 1 if one is not or cannot be read, 2 on a usage\n"
    "error.\n";

static int validate_one(wafer_engine *engine, const char *path) {
    uint8_t *bytes;
    size_t len;
    const char *why;
    if (!file_bytes_read(path, &bytes, &len, &why)) {
        fprintf(stderr, "wafer validate: %s: %s\n", path, why);
        return EXIT_FAILED;
    }
    wafer_error *err = wafer_module_validate(engine, bytes, len);
    free(bytes);
    if (!err) return EXIT_OK;
    fprintf(stderr, "%s: %s: %s\n", path, error_text_kind(wafer_error_kind_of(err)),
           wafer_error_message(err));
    wafer_error_free(err);
    return EXIT_FAILED;
}

int validate_main(int argc, char **argv) {
    cli_options opts;
    options_init(&opts);
    char **paths = calloc((size_t)argc + 1, sizeof *paths);
    if (!paths) {
        fprintf(stderr, "wafer validate: out of memory\n");
        return EXIT_FAILED;
    }
    int npaths = 0, i = 0, status = EXIT_OK;
    while (i < argc && status == EXIT_OK) {
        options_result taken = options_take(&opts, argc, argv, &i);
        if (taken == OPTIONS_BAD) status = EXIT_USAGE;
        if (taken != OPTIONS_NOT_MINE) continue;
        if (strncmp(argv[i], "--", 2) == 0) {
            fprintf(stderr, "wafer validate: unknown option %s (see wafer help validate)\n",
                    argv[i]);
            status = EXIT_USAGE;
        } else {
            paths[npaths++] = argv[i++];
        }
    }
    if (status == EXIT_OK && npaths == 0) {
        fprintf(stderr, "wafer validate: no module given (see wafer help validate)\n");
        status = EXIT_USAGE;
    }
    cli_engine engine;
    if (status == EXIT_OK && !options_engine_start(&opts, &engine)) status = EXIT_FAILED;
    if (status == EXIT_OK) {
        for (int k = 0; k < npaths; k++)
            if (validate_one(engine.engine, paths[k]) != EXIT_OK) status = EXIT_FAILED;
        options_engine_stop(&engine);
    }
    free(paths);
    return status;
}
