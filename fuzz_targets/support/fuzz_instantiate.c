/* Instantiating with stand-in imports: see fuzz_instantiate.h. */
#include "fuzz_instantiate.h"

#include <stdlib.h>

#include "fuzz_check.h"
#include "fuzz_stubs.h"

fuzz_instantiated fuzz_instantiate(wafer_store *store, wafer_module *module,
                                   const fuzz_budget *budget, wafer_instance **out,
                                   wafer_error_kind *err_kind, wafer_trap_kind *trap) {
    *out = NULL;
    if (err_kind) *err_kind = 0;
    if (trap) *trap = WAFER_TRAP_NONE;
    wafer_extern *imports = NULL;
    if (!fuzz_stub_imports(store, module, &imports)) return FUZZ_NO_STUBS;
    fuzz_budget_apply(store, budget);
    wafer_error *err =
        wafer_instance_new(store, module, imports, wafer_module_import_count(module), out);
    free(imports);
    if (err) {
        if (*out) fuzz_broken_invariant("failed instantiation returned an instance", NULL);
        if (err_kind) *err_kind = wafer_error_kind_of(err);
        if (trap) *trap = wafer_error_trap_kind(err);
        fuzz_failed(err);
        return FUZZ_NOT_INSTANTIATED;
    }
    if (!*out) fuzz_broken_invariant("instantiation succeeded without an instance", NULL);
    if (wafer_instance_module(*out) != module)
        fuzz_broken_invariant("instance reports another module", NULL);
    return FUZZ_INSTANTIATED;
}
