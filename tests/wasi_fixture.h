/* The fixture of the WASI unit tests (test_wasi_*.c): a temporary host tree, a WASI context that
 * preopens part of it, and a fake guest memory through which the tests call the implementations
 * of runtime/src/wasi/calls.h directly, exactly as the bound host functions do.
 *
 * The tree, under a fresh mkdtemp directory ROOT:
 *   ROOT/outside/secret.txt       "secret"   never reachable from the guest
 *   ROOT/outside/sub/             an empty directory
 *   ROOT/sandbox/                 preopened as descriptor 3 ("/sandbox")
 *     file.txt                    "hello"
 *     sub/inner.txt               "inner"
 *     sub/dotdot -> ..            a link that stays inside
 *     sub/escape -> ../..         climbs out of the sandbox
 *     abs -> ROOT/outside         an absolute link
 *     up -> ../outside            a relative link that climbs out
 *     chain1 -> chain2 -> up      a chain ending outside
 *     loop1 -> loop2 -> loop1     a loop
 *     dangle -> ../outside/new.txt a dangling link whose target lies outside
 *     inlink -> sub/inner.txt     a link that stays inside
 * fixture_outside_unchanged() compares everything outside the sandbox (names, types, sizes,
 * contents, modes, mtimes) with what it was when the fixture was made.
 */
#ifndef WAFER_TESTS_WASI_FIXTURE_H
#define WAFER_TESTS_WASI_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "wafer_wasi.h"
#include "wasi/calls.h"

#define FIXTURE_MEMORY_SIZE 65536u
#define FIXTURE_SCRATCH 4096u /* guest strings and buffers are placed from here up */
#define FIXTURE_PREOPEN 3u

typedef struct fixture {
    char root[64];
    char sandbox[96];
    char outside[96];
    char *snapshot; /* fixture_describe(root minus sandbox) when the fixture was made */
    wafer_wasi *wasi;
    uint8_t *memory;
    guest_memory mem;
    uint32_t next; /* bump allocator for guest data */
} fixture;

/* cmocka setup and teardown: *state is the fixture. */
int fixture_setup(void **state);
int fixture_teardown(void **state);

/* Copies bytes into guest memory, returning their guest address. */
uint32_t fixture_put(fixture *f, const void *bytes, size_t len);
/* A guest string: its address; its length is strlen(s). */
uint32_t fixture_str(fixture *f, const char *s);
/* len zeroed guest bytes: their address. */
uint32_t fixture_alloc(fixture *f, size_t len);
uint32_t fixture_u32(const fixture *f, uint32_t ptr);
uint64_t fixture_u64(const fixture *f, uint32_t ptr);

/* A path argument pair: address and length. */
#define PATH(f, s) fixture_str((f), (s)), (uint64_t)strlen(s)
/* Calls an implementation with the given u64 arguments. */
#define CALL(f, fn, ...) wasi_##fn((f)->wasi, &(f)->mem, (const uint64_t[]){__VA_ARGS__})

/* Opens path beneath the preopen with every right the preopen may hand out; the new descriptor. */
uint32_t fixture_open(fixture *f, const char *path, uint32_t oflags, uint32_t fdflags);
/* The same with given rights; the errno, and the descriptor in *fd. */
wasi_errno fixture_open_rights(fixture *f, uint32_t dirfd, const char *path, uint32_t lookup,
                               uint32_t oflags, wasi_rights base, wasi_rights inheriting,
                               uint32_t fdflags, uint32_t *fd);

/* A host path below the root ("sandbox/x"), written to buf. */
const char *fixture_host_path(const fixture *f, const char *relative, char *buf, size_t size);
/* Reads a host file below the root into buf; false if it cannot be read. */
bool fixture_read_host(const fixture *f, const char *relative, char *buf, size_t size);
/* The sandbox's whole state as text (names, types, sizes, contents, modes, mtimes); freed by the
 * caller. */
char *fixture_describe_sandbox(const fixture *f);
/* Whether anything outside the sandbox changed since the fixture was made (asserts if so). */
void fixture_outside_unchanged(const fixture *f);

#endif
