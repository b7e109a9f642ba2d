/* The wafer command: dispatches to a subcommand and explains usage. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "options.h"

typedef struct command {
    const char *name;
    const char *summary;
    int (*main)(int argc, char **argv);
    const char *usage;
    /* run takes --help itself: after `--wasi PROG.wasm` every argument is the program's. */
    bool parses_help;
} command;

static const command commands[] = {
    {"run", "call a module's exports, or run a WASI program (--wasi)", run_main, run_usage, true},
    {"validate", "check that modules decode and validate", validate_main, validate_usage, false},
    {"wast", "run spec test scripts converted by wast2json", wast_main, wast_usage, false},
    {"wast-bundle", "write a spec script as the wast fuzz target's input", wast_bundle_main,
     wast_bundle_usage, false},
    {"compile", "write a precompiled module (.cwasm) that loads without compiling",
     compile_main, compile_usage, false},
    {"diff", "compare modules' behaviour in wafer and in reference engines", diff_main,
     diff_usage, false},
    {"reduce", "shrink a module that wafer diff finds mismatching", reduce_main, reduce_usage, false},
    {"bench", "time instantiation (wafer bench instantiate MODULE)", bench_main, bench_usage, false},
    {"gen", "generate a valid module from any bytes (the fuzzers' generator)", gen_main,
     gen_usage, false},
    {"repro", "replay a fuzz target's input in its builds: does it still fail?", repro_main,
     repro_usage, false},
};

static const command *find_command(const char *name) {
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

static void print_usage(FILE *out) {
    fputs("usage: wafer COMMAND [ARGS...]\n"
          "       wafer help [COMMAND]\n"
          "\n"
          "wafer is a WebAssembly runtime. Commands:\n",
          out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n"
          "Exit status: 0 success; 1 failure (a test failed, a module is malformed or invalid,\n"
          "an instantiation or call trapped); 2 usage error. `wafer run --wasi` exits with the\n"
          "program's own status, or 134 if it trapped.\n"
          "\n",
          out);
    fputs(options_usage, out);
}

static void print_command_usage(const command *cmd) {
    fputs(cmd->usage, stdout);
    putchar('\n');
    fputs(options_usage, stdout);
}

static bool is_help_flag(const char *arg) {
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (is_help_flag(name) || strcmp(name, "help") == 0) {
        if (argc < 3) {
            print_usage(stdout);
            return EXIT_OK;
        }
        const command *cmd = find_command(argv[2]);
        if (!cmd) {
            fprintf(stderr, "wafer: no command \"%s\"; see wafer help\n", argv[2]);
            return EXIT_USAGE;
        }
        print_command_usage(cmd);
        return EXIT_OK;
    }
    const command *cmd = find_command(name);
    if (!cmd) {
        fprintf(stderr, "wafer: unknown command \"%s\"; see wafer help\n", name);
        return EXIT_USAGE;
    }
    for (int i = 2; i < argc && !cmd->parses_help; i++) {
        if (is_help_flag(argv[i])) {
            print_command_usage(cmd);
            return EXIT_OK;
        }
    }
    return cmd->main(argc - 2, argv + 2);
}
