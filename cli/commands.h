/* The wafer command's subcommands. Each takes the arguments after its name and returns the exit
 * status: 0 success, 1 failure (a test failed, the module is invalid, a call trapped), 2 usage
 * error. Each has a usage text that `wafer help CMD` prints.
 */
#ifndef WAFER_CLI_COMMANDS_H
#define WAFER_CLI_COMMANDS_H

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

int run_main(int argc, char **argv);
extern const char run_usage[];

int validate_main(int argc, char **argv);
extern const char validate_usage[];

int wast_main(int argc, char **argv);
extern const char wast_usage[];

int wast_bundle_main(int argc, char **argv);
extern const char wast_bundle_usage[];

int compile_main(int argc, char **argv);
extern const char compile_usage[];

int diff_main(int argc, char **argv);
extern const char diff_usage[];

int reduce_main(int argc, char **argv);
extern const char reduce_usage[];

int bench_main(int argc, char **argv);
extern const char bench_usage[];

int gen_main(int argc, char **argv);
extern const char gen_usage[];

int repro_main(int argc, char **argv);
extern const char repro_usage[];

#endif
