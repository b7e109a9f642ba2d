/* A small bytecode interpreter: a stack machine with a switch dispatch loop, running a
 * program that counts the Collatz steps of every number below a bound. */
#include "bench.h"

#define BOUND 10000

enum op { PUSH, LOAD, STORE, ADD, SUB, MUL, DIV, REM, EQ, LT, JZ, JMP, HALT };

/* The program, with locals 0 = n, 1 = x, 2 = steps, 3 = total:
 *   n = 1; total = 0;
 *   while (n < BOUND) { x = n; steps = 0;
 *     while (!(x == 1)) { if (x % 2 == 0) x = x / 2; else x = x * 3 + 1; steps += 1; }
 *     total = total * 31 + steps; n += 1; }   */
static const int32_t program[] = {
    PUSH, 1, STORE, 0, PUSH, 0, STORE, 3,
    /* 8: outer loop */
    LOAD, 0, PUSH, BOUND, LT, JZ, 87,
    LOAD, 0, STORE, 1, PUSH, 0, STORE, 2,
    /* 23: inner loop */
    LOAD, 1, PUSH, 1, EQ, PUSH, 0, EQ, JZ, 68,
    LOAD, 1, PUSH, 2, REM, JZ, 52,
    LOAD, 1, PUSH, 3, MUL, PUSH, 1, ADD, STORE, 1, JMP, 59,
    /* 52: even */
    LOAD, 1, PUSH, 2, DIV, STORE, 1,
    /* 59: */
    LOAD, 2, PUSH, 1, ADD, STORE, 2, JMP, 23,
    /* 68: inner done */
    LOAD, 3, PUSH, 31, MUL, LOAD, 2, ADD, STORE, 3,
    LOAD, 0, PUSH, 1, ADD, STORE, 0, JMP, 8,
    /* 87: */
    HALT,
};

static int64_t execute(const int32_t *code) {
    int64_t stack[64], locals[8] = { 0 };
    int sp = 0;
    uint32_t pc = 0;
    for (;;) {
        int32_t op = code[pc++];
        switch (op) {
        case PUSH: stack[sp++] = code[pc++]; break;
        case LOAD: stack[sp++] = locals[code[pc++]]; break;
        case STORE: locals[code[pc++]] = stack[--sp]; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case DIV: sp--; stack[sp - 1] /= stack[sp]; break;
        case REM: sp--; stack[sp - 1] %= stack[sp]; break;
        case EQ: sp--; stack[sp - 1] = stack[sp - 1] == stack[sp]; break;
        case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case JZ: if (stack[--sp] == 0) pc = (uint32_t)code[pc]; else pc++; break;
        case JMP: pc = (uint32_t)code[pc]; break;
        default: return locals[3];
        }
    }
}

BENCH_RUN { return (uint64_t)execute(program); }
