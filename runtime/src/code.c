/* The internal instruction set's facts: names, sizes, and a listing for tests and debugging
 * (see code.h). */
#include "code.h"

#include <stdbool.h>

static const uint8_t operand_cells[CODE_OP_COUNT] = {
#define CODE_CELLS(name, cells, layout) [OP_##name] = cells,
    CODE_OPS(CODE_CELLS)
#undef CODE_CELLS
};

static const char *const op_names[CODE_OP_COUNT] = {
#define CODE_NAME(name, cells, layout) [OP_##name] = #name,
    CODE_OPS(CODE_NAME)
#undef CODE_NAME
};

uint32_t code_operand_cells(const uint32_t *code, uint32_t pc) {
    if (code_plain_branch(code[pc]) == OP_BR_TABLE) return code[pc + 2] + 3; /* a n off_0..off_{n-1} off_default */
    return code[pc] < CODE_OP_COUNT ? operand_cells[code[pc]] : 0;
}

const char *code_op_name(code_op op) {
    return (unsigned)op < CODE_OP_COUNT ? op_names[op] : "(bad op)";
}

/* Branch offsets are shown as their targets, the other operands as numbers. */
static bool is_offset_cell(const uint32_t *code, uint32_t pc, uint32_t i) {
    code_op op = code_plain_branch(code[pc]);
    switch (op) {
    case OP_BR: return i == 0;
    case OP_BR_IF:
    case OP_BR_UNLESS: return i == 1;
    case OP_BR_TABLE: return i >= 2;
    default: return code_is_cmp_branch(op) && i == 2;
    }
}

void code_dump(const code_func *func, FILE *out) {
    for (uint32_t pc = 0; pc < func->code_len;) {
        uint32_t n = code_operand_cells(func->code, pc);
        fprintf(out, "%u: %s", pc, code_op_name((code_op)func->code[pc]));
        for (uint32_t i = 0; i < n && pc + 1 + i < func->code_len; i++) {
            uint32_t cell = func->code[pc + 1 + i];
            if (is_offset_cell(func->code, pc, i))
                fprintf(out, " ->%u", pc + cell);
            else
                fprintf(out, " %u", cell);
        }
        fputc('\n', out);
        pc += 1 + n;
    }
}
