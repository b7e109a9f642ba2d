/* The V8 oracle (oracle_v8 of oracle.h): node runs oracles/v8_runner.js, one long-lived process
 * per session, fed one module per exchange (coprocess.h) and restarted after a module that
 * crashed it or ran past the time limit.
 *
 * How its observations differ from the protocol's ideal, each classified rather than guessed
 * (details in v8_runner.js):
 * - Two of V8's trap messages each stand for two of the spec's traps; they are reported as the
 *   class `other`, which agrees with any: a float-to-int truncation of NaN or of a value out of
 *   range (invalid_conversion / int_overflow), and a call_indirect to a null entry or to a
 *   function of the wrong type (uninitialized_element / indirect_call_mismatch). A table index
 *   out of bounds is told apart by the opcode at the trapping offset (undefined_element for
 *   call_indirect, table_oob otherwise).
 * - NaN payloads may change on their way through JS; other values are exact.
 * - node 20's V8 lacks multi-memory (inconclusive: feature), cannot call exports with v128
 *   parameters or results from JS (inconclusive: feature), and runs out of stack at a depth of
 *   its own (inconclusive: stack). A construct V8 says a flag would enable (tail calls, typed
 *   function references) is beyond wafer's features too: such a module is invalid.
 * - JS gives one value per import module/name, so two imports of one name with different types
 *   are inconclusive: feature; so is an empty name, which the observation format cannot write.
 * - The process has no address-space limit (oracle_options.memory_limit_bytes is not applied:
 *   V8 reserves guard regions of many GiB per memory); V8's own caps (65536 pages per memory,
 *   10^7 table elements) are its oracle_limits.
 *
 * The command: node --experimental-wasm-type-reflection [--experimental-wasm-memory64]
 *   --no-experimental-wasm-return-call --stack-size=N v8_runner.js --observation-limit=N
 *
 * Where the runner is: $WAFER_V8_RUNNER, else oracles/v8_runner.js next to the directory of the
 * running executable (build/wafer, build/asan/wafer) or under the current directory. node: $PATH.
 */
#ifndef WAFER_ORACLE_V8_H
#define WAFER_ORACLE_V8_H

#include <stdbool.h>
#include <stddef.h>

#include "oracle.h"

/* The node command line a session with these options runs, space-separated, into buf (for
 * repro lines). False, with the reason in buf, if the runner script cannot be found. */
bool v8_command_line(const oracle_options *options, char *buf, size_t buf_size);

#endif
