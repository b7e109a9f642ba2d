/* A WASI context's life: made from a configuration (arguments, environment, stdio, preopened
 * directories), a program run in it, deleted (wafer_wasi.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context.h"
#include "host.h"

void wafer_wasi_config_default(wafer_wasi_config *config) {
    memset(config, 0, sizeof *config);
    config->stdin_fd = 0;
    config->stdout_fd = 1;
    config->stderr_fd = 2;
}

static void string_list_free(string_list *list) {
    for (size_t i = 0; i < list->count; i++) free(list->items[i]);
    free(list->items);
    memset(list, 0, sizeof *list);
}

static bool string_list_copy(string_list *list, size_t count, const char *const *items) {
    memset(list, 0, sizeof *list);
    list->items = calloc(count + 1, sizeof *list->items);
    if (!list->items) return false;
    for (size_t i = 0; i < count; i++) {
        list->items[i] = strdup(items[i]);
        if (!list->items[i]) {
            list->count = i;
            string_list_free(list);
            return false;
        }
        list->bytes += strlen(items[i]) + 1;
    }
    list->count = count;
    return true;
}

static wafer_error *os_error(const char *what, const char *path) {
    char message[512];
    snprintf(message, sizeof message, "wasi: %s %s: %s", what, path, strerror(errno));
    return wafer_error_new(WAFER_ERROR_RESOURCE, message);
}

/* Guest descriptor `at` for a duplicate of the host's `host` (the embedder keeps its own). */
static wafer_error *add_stdio(wafer_wasi *wasi, int host, uint32_t at) {
    if (host < 0) return NULL;
    int fd = fcntl(host, F_DUPFD_CLOEXEC, 0);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        char name[32];
        snprintf(name, sizeof name, "descriptor %d", host);
        if (fd >= 0) close(fd);
        return os_error("cannot use host", name);
    }
    wasi_fd entry = {.host = fd, .filetype = host_filetype(st.st_mode)};
    fd_rights_for(fd, entry.filetype, &entry.base, &entry.inheriting);
    uint32_t got;
    if (fd_table_insert(&wasi->fds, entry, at, &got) != WASI_ESUCCESS)
        return wafer_error_new(WAFER_ERROR_RESOURCE, "wasi: out of memory");
    return NULL;
}

static wafer_error *add_preopen(wafer_wasi *wasi, const wafer_wasi_preopen *preopen, uint32_t at) {
    int fd = open(preopen->host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return os_error("cannot open preopened directory", preopen->host_path);
    wasi_fd entry = {.host = fd, .filetype = WASI_FILETYPE_DIRECTORY};
    fd_rights_for(fd, entry.filetype, &entry.base, &entry.inheriting);
    entry.preopen = strdup(preopen->guest_path);
    uint32_t got;
    if (!entry.preopen || fd_table_insert(&wasi->fds, entry, at, &got) != WASI_ESUCCESS) {
        if (!entry.preopen) close(fd);
        return wafer_error_new(WAFER_ERROR_RESOURCE, "wasi: out of memory");
    }
    return NULL;
}

wafer_error *wafer_wasi_new(const wafer_wasi_config *config, wafer_wasi **out) {
    *out = NULL;
    wafer_wasi *wasi = calloc(1, sizeof *wasi);
    if (!wasi) return wafer_error_new(WAFER_ERROR_RESOURCE, "wasi: out of memory");
    for (size_t i = 0; i < wasi_function_count; i++)
        wasi->bindings[i] = (wasi_binding){wasi, &wasi_functions[i]};
    if (!string_list_copy(&wasi->args, config->argc, config->argv) ||
        !string_list_copy(&wasi->environ, config->envc, config->environ)) {
        wafer_wasi_delete(wasi);
        return wafer_error_new(WAFER_ERROR_RESOURCE, "wasi: out of memory");
    }
    const int stdio[3] = {config->stdin_fd, config->stdout_fd, config->stderr_fd};
    wafer_error *err = NULL;
    for (uint32_t i = 0; i < 3 && !err; i++) err = add_stdio(wasi, stdio[i], i);
    for (size_t i = 0; i < config->npreopens && !err; i++)
        err = add_preopen(wasi, &config->preopens[i], 3 + (uint32_t)i);
    if (err) {
        wafer_wasi_delete(wasi);
        return err;
    }
    *out = wasi;
    return NULL;
}

void wafer_wasi_delete(wafer_wasi *wasi) {
    if (!wasi) return;
    string_list_free(&wasi->args);
    string_list_free(&wasi->environ);
    fd_table_free(&wasi->fds);
    free(wasi);
}

bool wafer_wasi_exit_code(const wafer_wasi *wasi, uint32_t *code) {
    if (wasi->exited) *code = wasi->exit_code;
    return wasi->exited;
}

wafer_error *wafer_wasi_run_start(wafer_wasi *wasi, wafer_store *store, wafer_instance *instance,
                                  uint32_t *exit_code) {
    *exit_code = 0;
    wafer_extern start;
    if (!wafer_instance_export(instance, "_start", 6, &start) || start.kind != WAFER_EXTERN_FUNC)
        return wafer_error_new(WAFER_ERROR_USAGE,
                               "the module exports no _start function (not a WASI command)");
    const wafer_functype *type = wafer_func_type(start.of.func);
    if (type->num_params || type->num_results)
        return wafer_error_new(WAFER_ERROR_USAGE, "_start must take and return nothing");
    wafer_error *err = wafer_func_call(store, start.of.func, NULL, 0, NULL, 0);
    if (err && wafer_wasi_exit_code(wasi, exit_code)) {
        wafer_error_free(err);
        return NULL;
    }
    return err;
}
