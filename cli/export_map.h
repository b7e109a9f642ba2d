/* Named externs: what an instance exports, or what a host module (spectest) offers, in a form the
 * spec runner can register under a module name and search when resolving imports. Names are byte
 * strings with lengths (they may hold NUL bytes).
 */
#ifndef WAFER_CLI_EXPORT_MAP_H
#define WAFER_CLI_EXPORT_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "wafer.h"

typedef struct export_entry {
    char *name;
    size_t name_len;
    wafer_extern ext;
} export_entry;

typedef struct export_map {
    export_entry *entries;
    size_t count;
    size_t capacity;
} export_map;

/* An empty map, to be filled by export_map_add or export_map_fill. */
void export_map_init(export_map *map);
void export_map_free(export_map *map);
/* Copies the name. False if memory ran out. */
bool export_map_add(export_map *map, const char *name, size_t name_len, wafer_extern ext);
/* Adds every export of instance, in export order. False if memory ran out. */
bool export_map_fill(export_map *map, const wafer_instance *instance);
/* The first entry of that name. */
bool export_map_find(const export_map *map, const char *name, size_t name_len, wafer_extern *out);

#endif
