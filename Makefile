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
CLI_LIBS := -ljansson -lm

B := build
RELEASE_OBJ := $(patsubst %.c,$(B)/release/%.o,$(RUNTIME_SRC) $(CLI_SRC))
ASAN_OBJ := $(patsubst %.c,$(B)/asan/%.o,$(RUNTIME_SRC) $(CLI_SRC))
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

.PHONY: all deps check fuzz unit spec clean asan
all: $(B)/wafer

deps:
	@./ci/deps.sh

$(B)/wafer: $(RELEASE_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(CLI_LIBS)

$(B)/release/%.o: %.c $(wildcard runtime/include/*.h runtime/src/*.h cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(INCLUDES) -c $< -o $@

asan: $(B)/asan/wafer
$(B)/asan/wafer: $(ASAN_OBJ)
	$(SAN_CC) $(ASAN_FLAGS) -o $@ $^ $(CLI_LIBS)

$(B)/asan/%.o: %.c $(wildcard runtime/include/*.h runtime/src/*.h cli/*.h)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(CSTD) $(WARN) $(ASAN_FLAGS) $(INCLUDES) -c $< -o $@

# Unit tests: one cmocka program per tests/test_*.c, linked with the ASan runtime build.
UNIT_SRC := $(sort $(wildcard tests/test_*.c))
UNIT_BIN := $(patsubst tests/%.c,$(B)/tests/%,$(UNIT_SRC))
ASAN_RUNTIME_OBJ := $(patsubst %.c,$(B)/asan/%.o,$(RUNTIME_SRC))

$(B)/tests/%: tests/%.c $(ASAN_RUNTIME_OBJ)
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

fuzz: deps
	@./build.sh
	@./ci/fuzz_local.sh

clean:
	rm -rf $(B)
