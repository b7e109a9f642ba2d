/* Planted bugs: deliberate faults that prove a fuzz target can fail (issue 6, "a deliberately
 * broken runtime is caught by the matching target").
 *
 * Only a build with -DWAFER_PLANTED_BUGS has them; there PLANTED("name") is true when the
 * environment variable WAFER_PLANTED_BUG equals "name", so one build serves every target's proof.
 * In every other build PLANTED(...) is the constant false and the faulty branch compiles away.
 * Names are listed where they are used (grep PLANTED); each belongs to one fuzz target.
 */
#ifndef WAFER_PLANTED_H
#define WAFER_PLANTED_H

#include <stdbool.h>

#ifdef WAFER_PLANTED_BUGS
bool planted_bug(const char *name);
#define PLANTED(name) planted_bug(name)
#else
#define PLANTED(name) false
#endif

#endif
