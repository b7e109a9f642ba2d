/* `wafer run`: instantiate a module with stand-in imports and call its exports, printing in the
 * format of `wasm-interp --run-all-exports --dummy-import-func` (wabt 1.0.32) so the two outputs
 * diff directly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "error_text.h"
#include "file_bytes.h"
#include "module_load.h"
#include "options.h"
#include "run_wasi.h"
#include "stub_imports.h"
#include "value_text.h"

const char run_usage[] =
    "usage: wafer run MODULE.wasm [OPTIONS] [--invoke-all] [--invoke NAME [ARGS...]]...\n"
    "       wafer run --wasi [--dir HOST[::GUEST]]... [--env NAME=VALUE]... PROG.wasm [ARGS...]\n"
    "\n"
    "Instantiates MODULE.wasm (running its start function) with every import stood in for:\n"
    "imported functions log their calls (\"called host MODULE.NAME(ARGS) =>\") and return zeros;\n"
    "imported memories, tables and globals are created to the declared types. MODULE may also\n"
    "be a precompiled module written by `wafer compile` (recognised by its magic).\n"
    "\n"
    "  --invoke-all        call, in export order, every exported function that takes no\n"
    "                      parameters (others are skipped), printing \"NAME() => RESULTS\" or\n"
    "                      \"NAME() => error: TRAP\" exactly as wasm-interp --run-all-exports\n"
    "                      --dummy-import-func does\n"
    "  --invoke NAME ARGS  call export NAME with ARGS (the arguments up to the next --flag),\n"
    "                      after --invoke-all if both are given; may be repeated. An argument is\n"
    "                      TYPE:VALUE, for example i32:5 i32:-1 i64:0xff f32:1.5 f64:-inf\n"
    "                      f32:nan:0x200000, raw bits as f32:bits:0x7fc00001 or\n"
    "                      f64:bits:4607182418800017408, and funcref:null externref:null\n"
    "                      externref:N (a host reference numbered N)\n"
    "\n"
    "A trap while instantiating prints \"error initializing module: TRAP\" on stderr.\n"
    "Exit status: 0 if everything ran, 1 if the module could not be read, compiled or\n"
    "instantiated or any call trapped, 2 on a usage error (bad flags, an unknown export,\n"
    "arguments that do not fit the function).\n"
    "\n"
    "WASI (preview 1, wasi_snapshot_preview1):\n"
    "  wafer run --wasi [--dir HOST[::GUEST]]... [--env NAME=VALUE]... PROG.wasm [ARGS...]\n"
    "  --wasi              run PROG.wasm as a WASI command: its _start is called with argv\n"
    "                      PROG.wasm ARGS... (every argument after PROG.wasm is the program's)\n"
    "  --dir HOST[::GUEST] preopen the host directory HOST, seen by the program as GUEST\n"
    "                      (default: HOST); nothing outside the preopened directories is\n"
    "                      reachable, whatever the paths or symbolic links say\n"
    "  --env NAME=VALUE    put NAME=VALUE in the program's environment (it gets nothing else)\n"
    "  Exit status: the program's own (its proc_exit status, or 0 when _start returns);\n"
    "  134 if it trapped (the trap is printed on stderr); 1 if the module could not be read,\n"
    "  compiled, linked or instantiated; 2 on a usage error.\n";

typedef struct invocation {
    const char *name;
    char **args; /* points into argv */
    int nargs;
} invocation;

typedef struct run_request {
    const char *path;
    bool invoke_all;
    invocation *invocations;
    int ninvocations;
    cli_options options;
    run_wasi_options wasi;
    bool help; /* --help or -h among wafer's own arguments */
} run_request;

static bool starts_flag(const char *arg) { return strncmp(arg, "--", 2) == 0; }

static int parse_request(int argc, char **argv, run_request *req) {
    memset(req, 0, sizeof *req);
    options_init(&req->options);
    /* At most one invocation per argument, so this bounds the array. */
    req->invocations = calloc((size_t)argc + 1, sizeof *req->invocations);
    if (!req->invocations) {
        fprintf(stderr, "wafer run: out of memory\n");
        return EXIT_FAILED;
    }
    int i = 0;
    while (i < argc) {
        options_result taken = options_take(&req->options, argc, argv, &i);
        if (taken == OPTIONS_NOT_MINE) taken = run_wasi_take(&req->wasi, argc, argv, &i);
        if (taken == OPTIONS_BAD) return EXIT_USAGE;
        if (taken == OPTIONS_TAKEN) continue;
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            req->help = true;
            return EXIT_OK;
        }
        if (strcmp(arg, "--invoke-all") == 0) {
            req->invoke_all = true;
            i++;
        } else if (strcmp(arg, "--invoke") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "wafer run: --invoke needs a function name\n");
                return EXIT_USAGE;
            }
            invocation *inv = &req->invocations[req->ninvocations++];
            inv->name = argv[i + 1];
            inv->args = argv + i + 2;
            i += 2;
            while (i < argc && !starts_flag(argv[i])) {
                inv->nargs++;
                i++;
            }
        } else if (starts_flag(arg)) {
            fprintf(stderr, "wafer run: unknown option %s (see wafer help run)\n", arg);
            return EXIT_USAGE;
        } else if (!req->path) {
            req->path = arg;
            i++;
            if (req->wasi.enabled) {
                /* Everything after a WASI program's path is its own argv. */
                req->wasi.program_args = argv + i;
                req->wasi.nprogram_args = argc - i;
                break;
            }
        } else {
            fprintf(stderr, "wafer run: one module only; unexpected %s\n", arg);
            return EXIT_USAGE;
        }
    }
    if (!req->path) {
        fprintf(stderr, "wafer run: no module given (see wafer help run)\n");
        return EXIT_USAGE;
    }
    if (!req->wasi.enabled && (req->wasi.ndirs || req->wasi.nenvs)) {
        fprintf(stderr, "wafer run: --dir and --env need --wasi\n");
        return EXIT_USAGE;
    }
    if (req->wasi.enabled && (req->invoke_all || req->ninvocations)) {
        fprintf(stderr, "wafer run: --wasi runs _start; it takes no --invoke or --invoke-all\n");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Prints "NAME(ARGS) => RESULTS" or "NAME(ARGS) => error: TRAP" as wabt's WriteCall does, with
 * the name cut at a NUL byte as wabt's C strings cut it. Returns whether the call succeeded. */
static bool call_and_print(wafer_store *store, const cli_options *opts, wafer_func *func,
                           const char *name, size_t name_len, const wafer_value *args,
                           size_t nargs) {
    const wafer_functype *type = wafer_func_type(func);
    wafer_value *results = calloc(type->num_results + 1, sizeof *results);
    if (!results) {
        fprintf(stderr, "wafer run: out of memory\n");
        return false;
    }
    options_prepare_store(opts, store);
    wafer_error *err = wafer_func_call(store, func, args, nargs, results, type->num_results);
    const char *nul = memchr(name, '\0', name_len);
    int shown = (int)(nul ? (size_t)(nul - name) : name_len);
    printf("%.*s(", shown, name);
    value_text_print_list(stdout, args, nargs);
    printf(") =>");
    if (err) {
        const char *text = wafer_error_kind_of(err) == WAFER_ERROR_TRAP
                               ? error_text_wabt_trap(err)
                               : wafer_error_message(err);
        printf(" error: %s\n", text);
    } else {
        if (type->num_results) {
            putchar(' ');
            value_text_print_list(stdout, results, type->num_results);
        }
        putchar('\n');
        for (uint32_t i = 0; i < type->num_results; i++) wafer_value_release(&results[i]);
    }
    free(results);
    bool ok = err == NULL;
    wafer_error_free(err);
    return ok;
}

static int invoke_all(wafer_store *store, const cli_options *opts, wafer_instance *instance) {
    int status = EXIT_OK;
    size_t count = wafer_instance_export_count(instance);
    for (size_t i = 0; i < count; i++) {
        wafer_name name;
        wafer_extern ext = wafer_instance_export_at(instance, i, &name);
        if (ext.kind != WAFER_EXTERN_FUNC) continue;
        if (wafer_func_type(ext.of.func)->num_params != 0) continue;
        if (!call_and_print(store, opts, ext.of.func, name.bytes, name.len, NULL, 0))
            status = EXIT_FAILED;
    }
    return status;
}

static bool arguments_fit(const wafer_functype *type, const wafer_value *args, int nargs) {
    if ((uint32_t)nargs != type->num_params) return false;
    for (int i = 0; i < nargs; i++)
        if (args[i].type != type->params[i]) return false;
    return true;
}

static void print_types(FILE *out, const wafer_valtype *types, size_t count) {
    fputc('(', out);
    for (size_t i = 0; i < count; i++)
        fprintf(out, "%s%s", i ? ", " : "", value_text_type_name(types[i]));
    fputc(')', out);
}

static int invoke_one(wafer_store *store, const cli_options *opts, wafer_instance *instance,
                      const invocation *inv) {
    wafer_extern ext;
    if (!wafer_instance_export(instance, inv->name, strlen(inv->name), &ext) ||
        ext.kind != WAFER_EXTERN_FUNC) {
        fprintf(stderr, "wafer run: the module exports no function \"%s\"\n", inv->name);
        return EXIT_USAGE;
    }
    wafer_value *args = calloc((size_t)inv->nargs + 1, sizeof *args);
    if (!args) {
        fprintf(stderr, "wafer run: out of memory\n");
        return EXIT_FAILED;
    }
    int status = EXIT_OK;
    for (int i = 0; i < inv->nargs && status == EXIT_OK; i++) {
        if (!value_text_parse(inv->args[i], &args[i])) {
            fprintf(stderr, "wafer run: bad argument \"%s\" (see wafer help run)\n",
                    inv->args[i]);
            status = EXIT_USAGE;
        }
    }
    const wafer_functype *type = wafer_func_type(ext.of.func);
    if (status == EXIT_OK && !arguments_fit(type, args, inv->nargs)) {
        wafer_valtype *given = calloc((size_t)inv->nargs + 1, sizeof *given);
        for (int i = 0; given && i < inv->nargs; i++) given[i] = args[i].type;
        fprintf(stderr, "wafer run: %s takes ", inv->name);
        print_types(stderr, type->params, type->num_params);
        fprintf(stderr, ", given ");
        if (given) print_types(stderr, given, (size_t)inv->nargs);
        fputc('\n', stderr);
        free(given);
        status = EXIT_USAGE;
    }
    if (status == EXIT_OK &&
        !call_and_print(store, opts, ext.of.func, inv->name, strlen(inv->name), args,
                        (size_t)inv->nargs))
        status = EXIT_FAILED;
    for (int i = 0; i < inv->nargs; i++) wafer_value_release(&args[i]);
    free(args);
    return status;
}

static wafer_module *compile_module(wafer_engine *engine, const char *path) {
    uint8_t *bytes;
    size_t len;
    const char *why;
    if (!file_bytes_read(path, &bytes, &len, &why)) {
        fprintf(stderr, "wafer run: %s: %s\n", path, why);
        return NULL;
    }
    wafer_module *module = NULL;
    wafer_error *err = module_load(engine, path, bytes, len, &module);
    free(bytes);
    if (err) {
        fprintf(stderr, "wafer run: %s: %s: %s\n", path, error_text_kind(wafer_error_kind_of(err)),
                wafer_error_message(err));
        wafer_error_free(err);
        return NULL;
    }
    return module;
}

/* Instantiates and runs what req asks; the store and module are the caller's to release. */
static int run_in_store(const run_request *req, wafer_store *store, wafer_module *module) {
    wafer_extern *imports;
    char why[512];
    if (!stub_imports_new(store, module, stdout, &imports, why, sizeof why)) {
        fprintf(stderr, "wafer run: %s: %s\n", req->path, why);
        return EXIT_FAILED;
    }
    options_prepare_store(&req->options, store);
    wafer_instance *instance = NULL;
    wafer_error *err =
        wafer_instance_new(store, module, imports, wafer_module_import_count(module), &instance);
    free(imports);
    if (err) {
        /* stdout holds the import log of a start function; keep it before the error. */
        fflush(stdout);
        const char *text = wafer_error_kind_of(err) == WAFER_ERROR_TRAP ? error_text_wabt_trap(err)
                                                                      : wafer_error_message(err);
        fprintf(stderr, "error initializing module: %s\n", text);
        wafer_error_free(err);
        return EXIT_FAILED;
    }
    int status = EXIT_OK;
    if (req->invoke_all) status = invoke_all(store, &req->options, instance);
    for (int i = 0; i < req->ninvocations; i++) {
        int one = invoke_one(store, &req->options, instance, &req->invocations[i]);
        if (one > status) status = one;
    }
    return status;
}

int run_main(int argc, char **argv) {
    run_request req;
    int status = parse_request(argc, argv, &req);
    if (status == EXIT_OK && req.help) printf("%s\n%s", run_usage, options_usage);
    if (status != EXIT_OK || req.help) {
        free(req.invocations);
        run_wasi_options_free(&req.wasi);
        return status;
    }
    cli_engine engine;
    if (!options_engine_start(&req.options, &engine)) {
        free(req.invocations);
        run_wasi_options_free(&req.wasi);
        return EXIT_FAILED;
    }
    wafer_module *module = compile_module(engine.engine, req.path);
    if (!module) {
        status = EXIT_FAILED;
    } else if (req.wasi.enabled) {
        status = run_wasi(&req.options, engine.engine, module, req.path, &req.wasi);
        wafer_module_release(module);
    } else {
        wafer_store *store = wafer_store_new(engine.engine);
        if (!store) {
            fprintf(stderr, "wafer run: cannot create a store: out of memory\n");
            status = EXIT_FAILED;
        } else {
            status = run_in_store(&req, store, module);
            fflush(stdout);
            wafer_store_delete(store);
        }
        wafer_module_release(module);
    }
    options_engine_stop(&engine);
    free(req.invocations);
    run_wasi_options_free(&req.wasi);
    return status;
}
