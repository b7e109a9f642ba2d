/* `wafer run --wasi`: runs a WASI preview 1 command (its _start) with the program's arguments,
 * environment and preopened directories from the command line, and exits with its status.
 * run.c hands each argument to run_wasi_take before its own flags, and once --wasi was given,
 * everything after the module's path to the program.
 */
#ifndef WAFER_CLI_RUN_WASI_H
#define WAFER_CLI_RUN_WASI_H

#include <stdbool.h>

#include "options.h"
#include "wafer_wasi.h"

/* A WASI program's exit status is its own (0-255), so wafer's own failures need statuses of
 * their own: a trap exits 134, as wasmtime's does (128 + SIGABRT); a module that cannot be read,
 * compiled or linked exits 1 after a message on stderr, usage errors 2. */
enum { EXIT_WASI_TRAP = 134 };

typedef struct run_wasi_options {
    bool enabled;                /* --wasi */
    wafer_wasi_preopen *dirs;    /* --dir HOST[::GUEST], in order; owned */
    int ndirs;
    const char **envs;           /* --env NAME=VALUE, in order (point into argv); owned array */
    int nenvs;
    char **program_args;         /* what follows the module's path (points into argv) */
    int nprogram_args;
} run_wasi_options;

/* Takes --wasi, --dir and --env (as options_take takes the shared flags). */
options_result run_wasi_take(run_wasi_options *wasi, int argc, char **argv, int *i);
void run_wasi_options_free(run_wasi_options *wasi);

/* Runs module as a WASI command in a store of its own; returns the exit status. */
int run_wasi(const cli_options *opts, wafer_engine *engine, wafer_module *module,
             const char *path, const run_wasi_options *wasi);

#endif
