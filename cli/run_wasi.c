/* `wafer run --wasi`: see run_wasi.h. */
#include "run_wasi.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

static bool add_dir(run_wasi_options *wasi, const char *spec) {
    const char *sep = strstr(spec, "::");
    size_t host_len = sep ? (size_t)(sep - spec) : strlen(spec);
    const char *guest = sep ? sep + 2 : spec;
    if (host_len == 0 || guest[0] == '\0') {
        fprintf(stderr, "wafer run: --dir needs HOST or HOST::GUEST, got \"%s\"\n", spec);
        return false;
    }
    wafer_wasi_preopen *grown = realloc(wasi->dirs, (size_t)(wasi->ndirs + 1) * sizeof *grown);
    char *host = strndup(spec, host_len);
    if (!grown || !host) {
        if (grown) wasi->dirs = grown;
        free(host);
        fprintf(stderr, "wafer run: out of memory\n");
        return false;
    }
    wasi->dirs = grown;
    wasi->dirs[wasi->ndirs++] = (wafer_wasi_preopen){host, guest};
    return true;
}

static bool add_env(run_wasi_options *wasi, const char *spec) {
    if (!strchr(spec, '=') || spec[0] == '=') {
        fprintf(stderr, "wafer run: --env needs NAME=VALUE, got \"%s\"\n", spec);
        return false;
    }
    const char **grown = realloc(wasi->envs, (size_t)(wasi->nenvs + 1) * sizeof *grown);
    if (!grown) {
        fprintf(stderr, "wafer run: out of memory\n");
        return false;
    }
    wasi->envs = grown;
    wasi->envs[wasi->nenvs++] = spec;
    return true;
}

options_result run_wasi_take(run_wasi_options *wasi, int argc, char **argv, int *i) {
    if (strcmp(argv[*i], "--wasi") == 0) {
        wasi->enabled = true;
        *i += 1;
        return OPTIONS_TAKEN;
    }
    bool bad;
    const char *value = options_flag_value("--dir", argc, argv, i, &bad);
    if (bad) return OPTIONS_BAD;
    if (value) return add_dir(wasi, value) ? OPTIONS_TAKEN : OPTIONS_BAD;
    value = options_flag_value("--env", argc, argv, i, &bad);
    if (bad) return OPTIONS_BAD;
    if (value) return add_env(wasi, value) ? OPTIONS_TAKEN : OPTIONS_BAD;
    return OPTIONS_NOT_MINE;
}

void run_wasi_options_free(run_wasi_options *wasi) {
    for (int i = 0; i < wasi->ndirs; i++) free((char *)wasi->dirs[i].host_path);
    free(wasi->dirs);
    free(wasi->envs);
    memset(wasi, 0, sizeof *wasi);
}

/* Every import must be WASI's: anything else has no meaning for a command run from here. */
static bool imports_all_given(const wafer_module *module, const wafer_extern *imports,
                              const char *path) {
    size_t count = wafer_module_import_count(module);
    for (size_t i = 0; i < count; i++) {
        if (imports[i].kind == WAFER_EXTERN_FUNC && imports[i].of.func) continue;
        wafer_import_desc import = wafer_module_import(module, i);
        fprintf(stderr, "wafer run: %s: unknown import %.*s.%.*s (--wasi gives only "
                        "wasi_snapshot_preview1)\n", path, (int)import.module.len,
                import.module.bytes, (int)import.name.len, import.name.bytes);
        return false;
    }
    return true;
}

/* The status for an error out of instantiation or _start: an exit, a trap or another failure. */
static int status_of(wafer_wasi *wasi, wafer_error *err, const char *path, const char *when) {
    uint32_t code;
    int status;
    if (wafer_wasi_exit_code(wasi, &code)) {
        status = (int)(code & 0xff);
    } else if (wafer_error_kind_of(err) == WAFER_ERROR_TRAP) {
        fprintf(stderr, "wafer run: %s: trap%s: %s\n", path, when, wafer_error_message(err));
        status = EXIT_WASI_TRAP;
    } else {
        fprintf(stderr, "wafer run: %s: %s: %s\n", path,
                wafer_error_kind_of(err) == WAFER_ERROR_UNLINKABLE ? "unlinkable" : "error",
                wafer_error_message(err));
        status = EXIT_FAILED;
    }
    wafer_error_free(err);
    return status;
}

static int run_in(wafer_wasi *wasi, const cli_options *opts, wafer_store *store,
                  wafer_module *module, const char *path) {
    size_t count = wafer_module_import_count(module);
    wafer_extern *imports = calloc(count + 1, sizeof *imports);
    if (!imports) {
        fprintf(stderr, "wafer run: out of memory\n");
        return EXIT_FAILED;
    }
    wafer_error *err = wafer_wasi_define_imports(wasi, store, module, imports);
    if (err) {
        free(imports);
        return status_of(wasi, err, path, "");
    }
    if (!imports_all_given(module, imports, path)) {
        free(imports);
        return EXIT_FAILED;
    }
    options_prepare_store(opts, store);
    wafer_instance *instance = NULL;
    err = wafer_instance_new(store, module, imports, count, &instance);
    free(imports);
    if (err) return status_of(wasi, err, path, " while instantiating");
    options_prepare_store(opts, store);
    uint32_t code;
    err = wafer_wasi_run_start(wasi, store, instance, &code);
    if (err) return status_of(wasi, err, path, "");
    return (int)(code & 0xff);
}

int run_wasi(const cli_options *opts, wafer_engine *engine, wafer_module *module,
             const char *path, const run_wasi_options *options) {
    /* A program writing to a closed pipe gets EPIPE, as under any WASI host, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    const char **argv = calloc((size_t)options->nprogram_args + 2, sizeof *argv);
    if (!argv) {
        fprintf(stderr, "wafer run: out of memory\n");
        return EXIT_FAILED;
    }
    argv[0] = path;
    for (int i = 0; i < options->nprogram_args; i++) argv[i + 1] = options->program_args[i];
    wafer_wasi_config config;
    wafer_wasi_config_default(&config);
    config.argc = (size_t)options->nprogram_args + 1;
    config.argv = argv;
    config.envc = (size_t)options->nenvs;
    config.environ = options->envs;
    config.npreopens = (size_t)options->ndirs;
    config.preopens = options->dirs;
    wafer_wasi *wasi = NULL;
    wafer_error *err = wafer_wasi_new(&config, &wasi);
    free(argv);
    if (err) {
        fprintf(stderr, "wafer run: %s\n", wafer_error_message(err));
        wafer_error_free(err);
        return EXIT_FAILED;
    }
    int status;
    wafer_store *store = wafer_store_new(engine);
    if (!store) {
        fprintf(stderr, "wafer run: cannot create a store: out of memory\n");
        status = EXIT_FAILED;
    } else {
        fflush(stdout);
        status = run_in(wasi, opts, store, module, path);
        wafer_store_delete(store);
    }
    wafer_wasi_delete(wasi);
    return status;
}
