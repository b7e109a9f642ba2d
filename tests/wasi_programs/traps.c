/* Programs that trap: abort() (wasm's unreachable), a division by zero the compiler cannot see,
 * and recursion that exhausts the call stack, chosen by argv[1]. What was written before the trap
 * is out, and the status is 134 in both hosts (their trap messages on stderr differ). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Through a volatile function pointer, so the optimiser cannot see the recursion and turn it
 * into a loop: every level is a real wasm call. */
static unsigned deep(unsigned n);
static unsigned (*volatile recurse)(unsigned) = deep;

static unsigned deep(unsigned n) {
    if (n == 0) return 0;
    return recurse(n + 1) + 1;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    static const char before[] = "written before the trap\n";
    if (write(1, before, sizeof before - 1) < 0) return 1;
    printf("through stdio before the trap\n");
    if (strcmp(argv[1], "abort") == 0) abort();
    if (strcmp(argv[1], "divide") == 0) {
        volatile int zero = 0;
        return 10 / zero;
    }
    if (strcmp(argv[1], "stack") == 0) return (int)deep(1);
    return 2;
}
