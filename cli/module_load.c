/* Loading modules from files: see module_load.h. */
#include "module_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

wafer_error *module_load(wafer_engine *engine, const char *path, const uint8_t *bytes, size_t len,
                         wafer_module **out) {
    if (wafer_module_is_serialized(bytes, len))
        return wafer_module_deserialize_file(engine, path, out);
    return wafer_module_new(engine, bytes, len, out);
}

wafer_error *module_round_trip(wafer_engine *engine, wafer_module **module) {
    char path[] = "/tmp/wafer-roundtrip-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return wafer_error_new_trap("cannot create a temporary file");
    close(fd);
    wafer_error *err = wafer_module_serialize_file(*module, path);
    wafer_module *loaded = NULL;
    if (!err) err = wafer_module_deserialize_file(engine, path, &loaded);
    unlink(path);
    if (err) return err;
    wafer_module_release(*module);
    *module = loaded;
    return NULL;
}
