/* Verification of compiled code that did not come from this process's compiler (precompiled
 * modules, serialize.c): proves what interp.c relies on without checking at run time.
 *
 * Accepted code, run on an instance of m, never reads or writes a frame slot outside its frame
 * [fp, fp + frame_size), never jumps anywhere but an instruction start and never runs off the end
 * of its code, indexes every function, type, table, memory, global, element and data array of the
 * instance within bounds, uses the load/store variant of each memory's index type, calls
 * indirectly only through funcref tables, sets only mutable globals, and stores into tables and
 * globals, passes to callees and returns only references of the right kind: an abstract
 * interpretation tracks, per slot and instruction, whether the slot holds a number, a funcref, an
 * externref, the constant 0 (a valid null of every kind) or nothing known, and every use of a slot
 * as a reference must see a reference of that kind (or 0). Number slots are not told apart
 * (i32/i64/f32/f64): the interpreter is memory-safe whatever bits a number slot holds, and the
 * reinterpret instructions emit no code. Stack maps are checked to be sorted, at calls, listing
 * only reference slots below the call's base, and listing every slot there that holds one.
 */
#ifndef WAFER_CODE_VERIFY_H
#define WAFER_CODE_VERIFY_H

#include "module.h"

/* NULL if f is safe to run as a function of m whose type is f->type_index; otherwise a
 * WAFER_ERROR_MALFORMED error naming the first offending instruction, WAFER_ERROR_LIMIT when the
 * analysis would cost too much (branch targets times frame slots past a fixed bound), or
 * WAFER_ERROR_RESOURCE when memory for it ran out. m's declarations must have been validated. */
wafer_error *code_verify(const wafer_module *m, const code_func *f);

#endif
