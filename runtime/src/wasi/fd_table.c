/* The descriptor table: see fd_table.h. */
#include "fd_table.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Far beyond any program's need and below the host's own limits, so a guest opening files in a
 * loop meets EMFILE from the table before the table's memory grows without bound. */
#define FD_TABLE_MAX (1u << 20)

void fd_rights_for(int host, uint8_t filetype, wasi_rights *base, wasi_rights *inheriting) {
    *inheriting = 0;
    switch (filetype) {
    case WASI_FILETYPE_DIRECTORY:
        *base = WASI_RIGHTS_DIRECTORY;
        *inheriting = WASI_RIGHTS_DIRECTORY | WASI_RIGHTS_FILE;
        break;
    case WASI_FILETYPE_REGULAR_FILE:
    case WASI_FILETYPE_BLOCK_DEVICE: *base = WASI_RIGHTS_FILE; break;
    case WASI_FILETYPE_CHARACTER_DEVICE:
        *base = isatty(host) ? WASI_RIGHTS_STREAM : WASI_RIGHTS_FILE;
        break;
    default: *base = WASI_RIGHTS_STREAM; break;
    }
}

static void entry_release(wasi_fd *entry) {
    if (entry->dir)
        closedir(entry->dir);
    if (entry->host >= 0) close(entry->host);
    free(entry->preopen);
    memset(entry, 0, sizeof *entry);
    entry->host = -1;
}

static bool table_reserve(fd_table *table, uint32_t needed) {
    if (needed <= table->capacity) return true;
    if (needed > FD_TABLE_MAX) return false;
    uint32_t capacity = table->capacity ? table->capacity : 8;
    while (capacity < needed) capacity *= 2;
    if (capacity > FD_TABLE_MAX) capacity = FD_TABLE_MAX;
    wasi_fd *grown = realloc(table->fds, (size_t)capacity * sizeof *grown);
    if (!grown) return false;
    for (uint32_t i = table->capacity; i < capacity; i++) {
        memset(&grown[i], 0, sizeof grown[i]);
        grown[i].host = -1;
    }
    table->fds = grown;
    table->capacity = capacity;
    return true;
}

wasi_errno fd_table_insert(fd_table *table, wasi_fd entry, int64_t at, uint32_t *out) {
    uint32_t slot;
    if (at >= 0) {
        slot = (uint32_t)at;
    } else {
        slot = 0;
        while (slot < table->capacity && table->fds[slot].open) slot++;
    }
    if (slot >= FD_TABLE_MAX || !table_reserve(table, slot + 1)) {
        entry_release(&entry);
        return slot >= FD_TABLE_MAX ? WASI_EMFILE : WASI_ENOMEM;
    }
    entry.open = true;
    table->fds[slot] = entry;
    *out = slot;
    return WASI_ESUCCESS;
}

wasi_errno fd_table_get(fd_table *table, uint32_t fd, wasi_rights needed, wasi_fd **out) {
    if (fd >= table->capacity || !table->fds[fd].open) return WASI_EBADF;
    wasi_fd *entry = &table->fds[fd];
    if ((entry->base & needed) != needed) return WASI_ENOTCAPABLE;
    *out = entry;
    return WASI_ESUCCESS;
}

wasi_errno fd_table_close(fd_table *table, uint32_t fd) {
    if (fd >= table->capacity || !table->fds[fd].open) return WASI_EBADF;
    entry_release(&table->fds[fd]);
    return WASI_ESUCCESS;
}

wasi_errno fd_table_renumber(fd_table *table, uint32_t from, uint32_t to) {
    if (from >= table->capacity || !table->fds[from].open) return WASI_EBADF;
    if (to >= table->capacity || !table->fds[to].open) return WASI_EBADF;
    if (from == to) return WASI_ESUCCESS;
    entry_release(&table->fds[to]);
    table->fds[to] = table->fds[from];
    memset(&table->fds[from], 0, sizeof table->fds[from]);
    table->fds[from].host = -1;
    return WASI_ESUCCESS;
}

void fd_table_free(fd_table *table) {
    for (uint32_t i = 0; i < table->capacity; i++)
        if (table->fds[i].open) entry_release(&table->fds[i]);
    free(table->fds);
    table->fds = NULL;
    table->capacity = 0;
}
