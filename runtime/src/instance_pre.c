/* Pre-instantiation (wafer.h, "Pre-instantiation"): imports matched once, kept, and handed to
 * instance_new_matched for each instance. */
#include "runtime.h"

#include <stdlib.h>
#include <string.h>

struct wafer_instance_pre {
    wafer_store *store; /* NULL: every import is an engine host function */
    wafer_module *module; /* retained */
    wafer_extern *imports;
    size_t nimports;
};

wafer_error *wafer_instance_pre_new(wafer_store *store, wafer_module *module,
                                    const wafer_extern *imports, size_t nimports,
                                    wafer_instance_pre **out) {
    *out = NULL;
    if (store && module->engine != store->engine)
        return error_new(WAFER_ERROR_USAGE, "module and store belong to different engines");
    if (!store)
        for (size_t i = 0; i < nimports; i++)
            if (imports[i].kind != WAFER_EXTERN_FUNC || !imports[i].of.func ||
                !imports[i].of.func->of_engine)
                return error_new(WAFER_ERROR_USAGE,
                                 "import %zu is not an engine host function; a pre-instantiated "
                                 "module with other imports needs their store", i);
    wafer_error *err = instance_match_imports(module, imports, nimports);
    if (err) return err;
    wafer_instance_pre *pre = calloc(1, sizeof *pre);
    if (!pre) return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    if (nimports) {
        pre->imports = malloc(nimports * sizeof *pre->imports);
        if (!pre->imports) {
            free(pre);
            return error_new(WAFER_ERROR_RESOURCE, "out of memory");
        }
        memcpy(pre->imports, imports, nimports * sizeof *pre->imports);
    }
    pre->nimports = nimports;
    pre->store = store;
    wafer_module_retain(module);
    pre->module = module;
    *out = pre;
    return NULL;
}

wafer_error *wafer_instance_pre_instantiate(const wafer_instance_pre *pre, wafer_store *store,
                                            wafer_instance **out) {
    *out = NULL;
    if (!store) store = pre->store;
    if (!store)
        return error_new(WAFER_ERROR_USAGE, "a pre-instantiated module made without a store "
                                            "needs one to instantiate in");
    if (store->engine != pre->module->engine)
        return error_new(WAFER_ERROR_USAGE, "module and store belong to different engines");
    /* Imported objects belong to the pre's store and may not enter another. */
    if (pre->store && store != pre->store && pre->nimports)
        return error_new(WAFER_ERROR_USAGE,
                         "a pre-instantiated module with imports instantiates in its own store");
    return instance_new_matched(store, pre->module, pre->imports, out);
}

void wafer_instance_pre_delete(wafer_instance_pre *pre) {
    if (!pre) return;
    wafer_module_release(pre->module);
    free(pre->imports);
    free(pre);
}
