/* Names for the generator's statistics (gen.h). */
#include "gen.h"

static const char *const instr_names[GEN_INSTR_COUNT] = {
#define GEN_INSTR_NAME(ID, NAME, PREFIX, CODE, SIG, ALIGN, FEATURE) NAME,
    GEN_INSTR_LIST(GEN_INSTR_NAME)
#undef GEN_INSTR_NAME
};

const char *gen_instr_name(gen_instr id) {
    return (unsigned)id < GEN_INSTR_COUNT ? instr_names[id] : "?";
}

const char *gen_section_name(unsigned id) {
    static const char *const names[GEN_SECTION_COUNT] = {
        "custom", "type",   "import", "function", "table", "memory",    "global",
        "export", "start",  "elem",   "code",     "data",  "datacount",
    };
    return id < GEN_SECTION_COUNT ? names[id] : "?";
}
