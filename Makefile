# wafer: the one build. `make` builds build/wafer; `make check` runs every test; `make fuzz` runs a
# short local fuzzing campaign. Both check and fuzz install missing Debian packages first.

CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif
SAN_CC ?= clang-16
CSTD := -std=c11 -D_GNU_SOURCE
WARN := -Wall -Wextra -Wno-unused-parameter
CFLAGS ?= -O2 -g
INCLUDES := -Iruntime/include -Iruntime/src

# The runtime, and beside it WASI preview 1 (runtime/src/wasi, public header wafer_wasi.h).
RUNTIME_SRC := $(sort $(wildcard runtime/src/*.c)) $(sort $(wildcard runtime/src/wasi/*.c))
CLI_SRC := $(sort $(wildcard cli/*.c))
ORACLE_SRC := $(sort $(wildcard oracles/*.c))
GEN_SRC := $(sort $(wildcard fuzz_targets/gen/*.c))
CLI_LIBS := -ljansson -lm

B := build
RELEASE_OBJ := $(patsubst %.c,$(B)/release/%.o,$(RUNTIME_SRC) $(ORACLE_SRC) $(GEN_SRC) $(CLI_SRC))
ASAN_OBJ := $(patsubst %.c,$(B)/asan/%.o,$(RUNTIME_SRC) $(ORACLE_SRC) $(GEN_SRC) $(CLI_SRC))
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
  -DWAFER_DEBUG_CHECKS

.PHONY: all deps check fuzz unit spec clean asan bench bench-instantiate bench-externref bench-fuzz
.PHONY: diff-campaign coverage fuzz-planted wasi-programs wasi-yosys
all: $(B)/wafer

deps:
	@./ci/deps.sh

$(B)/wafer: $(RELEASE_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(CLI_LIBS)

$(B)/release/%.o: %.c $(wildcard runtime/include/*.h runtime/src/*.h runtime/src/wasi/*.h cli/*.h oracles/*.h fuzz_targets/gen/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(INCLUDES) -c $< -o $@

asan: $(B)/asan/wafer
$(B)/asan/wafer: $(ASAN_OBJ)
	$(SAN_CC) $(ASAN_FLAGS) -o $@ $^ $(CLI_LIBS)

$(B)/asan/%.o: %.c $(wildcard runtime/include/*.h runtime/src/*.h runtime/src/wasi/*.h cli/*.h oracles/*.h fuzz_targets/gen/*.h)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(CSTD) $(WARN) $(ASAN_FLAGS) $(INCLUDES) -c $< -o $@

# The sensitivity proof's wafer (tests/oracle_sensitivity.sh): the release build, with the files
# that include numeric.h compiled with its deliberate bug (WAFER_SENSITIVITY_BUG).
SENS_SRC := $(shell grep -l 'numeric\.h' $(RUNTIME_SRC))
SENS_OBJ := $(patsubst %.c,$(B)/sensitivity/%.o,$(SENS_SRC))
$(B)/sensitivity/wafer: $(SENS_OBJ) $(filter-out $(patsubst %.c,$(B)/release/%.o,$(SENS_SRC)),$(RELEASE_OBJ))
	$(CC) $(CFLAGS) -o $@ $^ $(CLI_LIBS)

$(B)/sensitivity/%.o: %.c $(wildcard runtime/include/*.h runtime/src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) -DWAFER_SENSITIVITY_BUG $(INCLUDES) -c $< -o $@

# Unit tests: one cmocka program per tests/test_*.c, linked with the ASan runtime build.
UNIT_SRC := $(sort $(wildcard tests/test_*.c))
UNIT_BIN := $(patsubst tests/%.c,$(B)/tests/%,$(UNIT_SRC))
ASAN_RUNTIME_OBJ := $(patsubst %.c,$(B)/asan/%.o,$(RUNTIME_SRC))

$(B)/tests/%: tests/%.c $(ASAN_RUNTIME_OBJ)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(CSTD) $(WARN) $(ASAN_FLAGS) $(INCLUDES) -o $@ $^ -lcmocka -lm

# The oracle tests link the oracles too (make prefers this rule: its stem is shorter).
ASAN_ORACLE_OBJ := $(patsubst %.c,$(B)/asan/%.o,$(ORACLE_SRC))
$(B)/tests/test_oracle_%: tests/test_oracle_%.c $(ASAN_RUNTIME_OBJ) $(ASAN_ORACLE_OBJ)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(CSTD) $(WARN) $(ASAN_FLAGS) $(INCLUDES) -o $@ $^ -lcmocka -lm

# The generator's test links the generator too.
ASAN_GEN_OBJ := $(patsubst %.c,$(B)/asan/%.o,$(GEN_SRC))
$(B)/tests/test_gen: tests/test_gen.c $(ASAN_RUNTIME_OBJ) $(ASAN_GEN_OBJ)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(CSTD) $(WARN) $(ASAN_FLAGS) $(INCLUDES) -o $@ $^ -lcmocka -lm

# The WASI tests link their shared fixture (tests/wasi_fixture.c) too.
$(B)/tests/test_wasi_%: tests/test_wasi_%.c tests/wasi_fixture.c tests/wasi_fixture.h $(ASAN_RUNTIME_OBJ)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(CSTD) $(WARN) $(ASAN_FLAGS) $(INCLUDES) -o $@ $(filter %.c %.o,$^) -lcmocka -lm -lpthread

unit: deps $(UNIT_BIN)
	@./tests/run_unit.sh $(UNIT_BIN)

# The spec suite, converted with wast2json and run under the sanitizer build.
spec: deps $(B)/asan/wafer
	@./tests/run_spec.sh $(B)/asan/wafer

# Real programs (issue 9 item 3): C compiled to wasm32-wasi with clang-16 and wasi-libc (the
# driver runs binaryen's wasm-opt after linking, as it does wherever binaryen is installed), each
# run under wafer's ASan build and node's WASI and compared (tests/wasi_programs.sh); yosys from
# the npm registry likewise (tests/wasi_yosys.sh).
WASI_CC := clang-16 --target=wasm32-wasi --sysroot=/usr
# The compute benchmarks (bench/programs) become WASI commands too, with the main their native
# build has (bench/compute_native.c), so their checksums are also held to native code's.
BENCH_NAMES := $(patsubst bench/programs/%.c,%,$(sort $(wildcard bench/programs/*.c)))
WASI_PROGRAMS := $(patsubst tests/wasi_programs/%.c,$(B)/wasi_programs/%.wasm,\
  $(sort $(wildcard tests/wasi_programs/*.c))) \
  $(patsubst %,$(B)/wasi_programs/bench-%.wasm,$(BENCH_NAMES)) \
  $(patsubst %,$(B)/wasi_programs/native/bench-%,$(BENCH_NAMES))

$(B)/wasi_programs/%.wasm: tests/wasi_programs/%.c
	@mkdir -p $(dir $@)
	$(WASI_CC) -O2 -Wall -Wextra -Werror -o $@ $< -lm

$(B)/wasi_programs/bench-%.wasm: bench/programs/%.c bench/programs/bench.h bench/compute_native.c
	@mkdir -p $(dir $@)
	$(WASI_CC) -O2 -Wall -Wextra -Werror -o $@ $< bench/compute_native.c -lm

$(B)/wasi_programs/native/bench-%: bench/programs/%.c bench/programs/bench.h bench/compute_native.c
	@mkdir -p $(dir $@)
	gcc -std=c11 -O2 -Wall -Wextra -Werror -o $@ $< bench/compute_native.c -lm

wasi-programs: deps $(B)/asan/wafer $(WASI_PROGRAMS)
	@./tests/wasi_programs.sh $(B)/asan/wafer

wasi-yosys: deps $(B)/asan/wafer
	@./tests/wasi_yosys.sh $(B)/asan/wafer

check: deps
	@$(MAKE) --no-print-directory all asan
	@./tests/check.sh

# A campaign over the fuzz targets (FUZZ_SECONDS each, FUZZ_TARGETS, FUZZ_JOBS, ENGINE=afl,
# WAFER_PLANTED_BUG: ci/fuzz_local.sh), then a 30-second differential campaign against wabt
# (DIFF_SECONDS). The runner is make's own child, not a shell's, so a Ctrl-C reaches it and make
# waits while it files what it found. docs/FUZZING.md.
fuzz: deps $(B)/wafer
	@./build.sh libfuzzer standalone $(if $(WAFER_PLANTED_BUG),planted)
	@if [ "$${ENGINE:-}" = afl ]; then ./ci/deps.sh afl && ./build.sh afl afl-cmplog; fi
	@./ci/fuzz_local.sh

# Source coverage of runtime/ by the corpora (ci/coverage.sh: HTML and a per-file table of lines
# and branches under build/coverage/), and the planted-bug proof that `make check` runs.
coverage: deps
	@./build.sh cov
	@./ci/coverage.sh

fuzz-planted: deps
	@./tests/fuzz_planted.sh

# From a finding to a regression input (docs/FUZZING.md): `build/wafer repro FILE` says whether it
# still fails; `make minimize FILE=F [TARGET=T] [PLANTED=NAME]` writes F.min (ci/minimize.sh,
# MINIMIZE_SECONDS); `make regress-add FILE=F DESC="what it broke" [TARGET=T] [PLANTED=NAME]
# [FORCE=1]` files it under corpora/regressions/T/ (ci/regress_add.sh). `make oss-fuzz-check`
# builds as oss-fuzz does, per sanitizer and engine, and runs every target (ci/oss_fuzz_check.sh).
.PHONY: minimize regress-add oss-fuzz-check
minimize: $(B)/wafer
	@./ci/minimize.sh $(if $(TARGET),--target $(TARGET)) $(if $(PLANTED),--planted $(PLANTED)) \
	  "$(FILE)"

regress-add: $(B)/wafer
	@./ci/regress_add.sh $(if $(TARGET),--target $(TARGET)) $(if $(PLANTED),--planted $(PLANTED)) \
	  $(if $(FORCE),--force) "$(FILE)" "$(DESC)"

oss-fuzz-check: deps
	@./ci/oss_fuzz_check.sh

# The compute benchmarks of issue 8 against wasm2c, V8, wabt and native (bench/compute.sh:
# BENCH_RUNS, BENCH_PROGRAMS, BENCH_ENGINES): never part of check; fails on a checksum mismatch.
bench:
	@./ci/deps.sh bench
	@$(MAKE) --no-print-directory all
	@./bench/compute.sh

# Instantiation benchmarks (issue 4 item 9): figures only, never part of check.
bench-instantiate: $(B)/wafer
	@./bench/run_instantiate.sh

# Fuzzing throughput (issue 8 item 3, bench/fuzz_throughput.sh: BENCH_FUZZ_SECONDS, FUZZ_TARGETS,
# BENCH_FUZZ_PROFILE, BENCH_DIFF_SECONDS): execs/s per target, ASan+UBSan and plain, a profile of
# the slowest, and the differential campaign's modules/s. Figures only, never part of check.
bench-fuzz: deps
	@./bench/fuzz_throughput.sh

# The externref figures of issue 5 (bench/externref_bench.c): figures only, never part of check.
# The bench counts allocations by wrapping malloc, calloc and realloc at link time.
RELEASE_RUNTIME_OBJ := $(patsubst %.c,$(B)/release/%.o,$(RUNTIME_SRC))
$(B)/bench/externref_bench: bench/externref_bench.c $(RELEASE_RUNTIME_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(INCLUDES) -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc \
	  -o $@ $^ -lm

$(B)/bench/externref.wasm: bench/externref.wat
	@mkdir -p $(dir $@)
	wat2wasm $< -o $@

bench-externref: deps $(B)/bench/externref_bench $(B)/bench/externref.wasm
	@$(B)/bench/externref_bench $(B)/bench/externref.wasm

# A differential campaign against the reference engines (ci/diff_campaign.sh: DIFF_COUNT or
# DIFF_SECONDS, DIFF_SEED, DIFF_ORACLE).
diff-campaign: deps $(B)/wafer
	@./ci/diff_campaign.sh

clean:
	rm -rf $(B)
