/* Named externs: see export_map.h. */
#include "export_map.h"

#include <stdlib.h>
#include <string.h>

void export_map_init(export_map *map) { memset(map, 0, sizeof *map); }

void export_map_free(export_map *map) {
    for (size_t i = 0; i < map->count; i++) free(map->entries[i].name);
    free(map->entries);
    export_map_init(map);
}

bool export_map_add(export_map *map, const char *name, size_t name_len, wafer_extern ext) {
    if (map->count == map->capacity) {
        size_t capacity = map->capacity ? map->capacity * 2 : 8;
        export_entry *grown = realloc(map->entries, capacity * sizeof *grown);
        if (!grown) return false;
        map->entries = grown;
        map->capacity = capacity;
    }
    char *copy = malloc(name_len + 1);
    if (!copy) return false;
    if (name_len) memcpy(copy, name, name_len);
    copy[name_len] = '\0';
    map->entries[map->count++] = (export_entry){copy, name_len, ext};
    return true;
}

bool export_map_fill(export_map *map, const wafer_instance *instance) {
    size_t count = wafer_instance_export_count(instance);
    for (size_t i = 0; i < count; i++) {
        wafer_name name;
        wafer_extern ext = wafer_instance_export_at(instance, i, &name);
        if (!export_map_add(map, name.bytes, name.len, ext)) return false;
    }
    return true;
}

bool export_map_find(const export_map *map, const char *name, size_t name_len, wafer_extern *out) {
    for (size_t i = 0; i < map->count; i++) {
        const export_entry *entry = &map->entries[i];
        if (entry->name_len != name_len) continue;
        if (name_len == 0 || memcmp(entry->name, name, name_len) == 0) {
            *out = entry->ext;
            return true;
        }
    }
    return false;
}
