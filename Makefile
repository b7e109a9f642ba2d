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

RUNTIME_SRC := $(sort $(wildcard runtime/src/*.c))
CLI_SRC := $(sort $(wildcard cli/*.c))
ORACLE_SRC := $(sort $(wildcard oracles/*.c))
CLI_LIBS := -ljansson -lm

B := build
RELEASE_OBJ := $(patsubst %.c,$(B)/release/%.o,$(RUNTIME_SRC) $(ORACLE_SRC) $(CLI_SRC))
ASAN_OBJ := $(patsubst %.c,$(B)/asan/%.o,$(RUNTIME_SRC) $(ORACLE_SRC) $(CLI_SRC))
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

.PHONY: all deps check fuzz unit spec clean asan bench-instantiate diff-campaign
all: $(B)/wafer

deps:
	@./ci/deps.sh

$(B)/wafer: $(RELEASE_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(CLI_LIBS)

$(B)/release/%.o: %.c $(wildcard runtime/include/*.h runtime/src/*.h cli/*.h oracles/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(INCLUDES) -c $< -o $@

asan: $(B)/asan/wafer
$(B)/asan/wafer: $(ASAN_OBJ)
	$(SAN_CC) $(ASAN_FLAGS) -o $@ $^ $(CLI_LIBS)

$(B)/asan/%.o: %.c $(wildcard runtime/include/*.h runtime/src/*.h cli/*.h oracles/*.h)
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

unit: deps $(UNIT_BIN)
	@./tests/run_unit.sh $(UNIT_BIN)

# The spec suite, converted with wast2json and run under the sanitizer build.
spec: deps $(B)/asan/wafer
	@./tests/run_spec.sh $(B)/asan/wafer

check: deps
	@$(MAKE) --no-print-directory all asan
	@./tests/check.sh

# After the fuzz targets, a 30-second differential campaign against wabt (DIFF_SECONDS to change).
fuzz: deps $(B)/wafer
	@./build.sh
	@status=0; ./ci/fuzz_local.sh || status=1; \
	  DIFF_SECONDS=$${DIFF_SECONDS:-30} ./ci/diff_campaign.sh || status=1; exit $$status

# Instantiation benchmarks (issue 4 item 9): figures only, never part of check.
bench-instantiate: $(B)/wafer
	@./bench/run_instantiate.sh

# A differential campaign against the reference engines (ci/diff_campaign.sh: DIFF_COUNT or
# DIFF_SECONDS, DIFF_SEED, DIFF_ORACLE).
diff-campaign: deps $(B)/wafer
	@./ci/diff_campaign.sh

clean:
	rm -rf $(B)
