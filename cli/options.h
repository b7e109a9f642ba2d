/* The configuration flags that run, validate and wast share: feature switches with wabt's names,
 * fuel, epoch deadlines, and the instance-machinery flags. A command hands each of its arguments to
 * options_take first and treats only what is left as its own.
 */
#ifndef WAFER_CLI_OPTIONS_H
#define WAFER_CLI_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "wafer.h"

typedef struct cli_options {
    wafer_config config;
    bool has_fuel;
    uint64_t fuel;           /* given to the store before each call from the command line */
    bool has_epoch_deadline;
    uint64_t epoch_deadline; /* in ticks of the epoch ticker: milliseconds */
} cli_options;

typedef enum options_result {
    OPTIONS_TAKEN,    /* argv[*i] (and its value, if any) was a shared flag; *i points past it */
    OPTIONS_NOT_MINE, /* argv[*i] is not a shared flag; *i is unchanged */
    OPTIONS_BAD,      /* a shared flag with a bad value; a message was printed to stderr */
} options_result;

void options_init(cli_options *opts);
/* As options_init, but with the features wabt 1.0.32 enables by default (memory64 and
 * multi-memory off), so that a script runs under the flags it was converted with exactly as
 * spectest-interp runs it. */
void options_init_as_wabt(cli_options *opts);
options_result options_take(cli_options *opts, int argc, char **argv, int *i);
/* A flag with a value, given as "--flag V" or "--flag=V": the value, with *i moved past it; NULL
 * when argv[*i] is not this flag, or (*missing set, a message printed) when its value is. */
const char *options_flag_value(const char *flag, int argc, char **argv, int *i, bool *missing);

/* The part of every command's usage text that describes these flags. */
extern const char options_usage[];

/* An engine configured by opts, with an epoch ticker running when a deadline was asked for. */
typedef struct cli_engine {
    wafer_engine *engine;
    struct epoch_ticker *ticker; /* NULL without --epoch-deadline */
} cli_engine;

/* False (after a message on stderr) when the engine or its ticker cannot be made. */
bool options_engine_start(const cli_options *opts, cli_engine *out);
/* Stops the ticker, if any, then deletes the engine. */
void options_engine_stop(cli_engine *engine);

/* Refills the store's fuel and resets its epoch deadline as the flags say; called before every
 * instantiation and every call the command line asks for, so each starts with the same budget. */
void options_prepare_store(const cli_options *opts, wafer_store *store);

#endif
