/* Observations and their text format: see observation.h. */
#include "observation.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const trap_names[] = {
    [OBS_TRAP_UNREACHABLE] = "unreachable",
    [OBS_TRAP_MEMORY_OOB] = "memory_oob",
    [OBS_TRAP_TABLE_OOB] = "table_oob",
    [OBS_TRAP_DIV_ZERO] = "div_zero",
    [OBS_TRAP_INT_OVERFLOW] = "int_overflow",
    [OBS_TRAP_INVALID_CONVERSION] = "invalid_conversion",
    [OBS_TRAP_UNDEFINED_ELEMENT] = "undefined_element",
    [OBS_TRAP_UNINITIALIZED_ELEMENT] = "uninitialized_element",
    [OBS_TRAP_INDIRECT_CALL_MISMATCH] = "indirect_call_mismatch",
    [OBS_TRAP_HOST] = "host",
    [OBS_TRAP_OTHER] = "other",
};
#define TRAP_COUNT (sizeof trap_names / sizeof trap_names[0])

static const char *const type_names[] = {
    [OBS_I32] = "i32",         [OBS_I64] = "i64",          [OBS_F32] = "f32",
    [OBS_F64] = "f64",         [OBS_FUNCREF] = "funcref", [OBS_EXTERNREF] = "externref",
};
#define TYPE_COUNT (sizeof type_names / sizeof type_names[0])

const char *obs_trap_name(obs_trap trap) {
    return (size_t)trap < TRAP_COUNT ? trap_names[trap] : "other";
}

bool obs_trap_from_name(const char *name, obs_trap *out) {
    for (size_t i = 0; i < TRAP_COUNT; i++) {
        if (strcmp(name, trap_names[i]) == 0) {
            *out = (obs_trap)i;
            return true;
        }
    }
    return false;
}

/* A zero byte only multiplies the hash by the prime, so eight of them multiply it by prime^8: the
 * memories of fuzzed modules are mostly zeros, and hashing them byte by byte took a twentieth of
 * the differential target's time (make bench-fuzz). */
uint64_t obs_fnv1a64(const uint8_t *bytes, size_t len) {
    const uint64_t prime = UINT64_C(0x100000001b3);
    uint64_t prime8 = 1;
    for (int i = 0; i < 8; i++) prime8 *= prime;
    uint64_t hash = UINT64_C(0xcbf29ce484222325);
    size_t i = 0;
    while (i < len) {
        uint64_t word;
        if (len - i >= 8 && (memcpy(&word, bytes + i, 8), word == 0)) {
            hash *= prime8;
            i += 8;
            continue;
        }
        hash ^= bytes[i++];
        hash *= prime;
    }
    return hash;
}

/* ---- The list ------------------------------------------------------------------------------ */

void observation_list_init(observation_list *list) { memset(list, 0, sizeof *list); }

static void observation_free(observation *obs) {
    free(obs->module);
    free(obs->name);
    free(obs->word);
    free(obs->detail);
    free(obs->values);
}

void observation_list_free(observation_list *list) {
    for (size_t i = 0; i < list->count; i++) observation_free(&list->items[i]);
    free(list->items);
    observation_list_init(list);
}

bool observation_list_ended(const observation_list *list) {
    return list->count > 0 && list->items[list->count - 1].kind == OBS_INCONCLUSIVE;
}

/* Takes ownership of obs's allocations: on failure they are freed. */
static bool list_push(observation_list *list, observation *obs) {
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 16;
        observation *items = realloc(list->items, capacity * sizeof *items);
        if (!items) {
            observation_free(obs);
            return false;
        }
        list->items = items;
        list->capacity = capacity;
    }
    list->items[list->count++] = *obs;
    return true;
}

static bool is_plain_name_byte(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '$' || c == '-';
}

/* The escaped form of a raw name: bytes outside [A-Za-z0-9_.$-] as %XX. NULL if memory ran out. */
static char *escape_name(const char *raw, size_t len) {
    char *out = malloc(len * 3 + 1);
    if (!out) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (is_plain_name_byte(c)) {
            out[n++] = (char)c;
        } else {
            snprintf(out + n, 4, "%%%02X", c);
            n += 3;
        }
    }
    out[n] = '\0';
    return out;
}

static char *copy_text(const char *text) {
    size_t len = strlen(text);
    char *out = malloc(len + 1);
    if (out) memcpy(out, text, len + 1);
    return out;
}

static obs_value *copy_values(const obs_value *values, size_t n) {
    obs_value *out = malloc((n ? n : 1) * sizeof *out);
    if (out && n) memcpy(out, values, n * sizeof *out);
    return out;
}

bool obs_add_instantiate_ok(observation_list *list) {
    observation obs = {.kind = OBS_INSTANTIATE_OK};
    return list_push(list, &obs);
}

bool obs_add_instantiate_trap(observation_list *list, obs_trap trap) {
    observation obs = {.kind = OBS_INSTANTIATE_TRAP, .trap = trap};
    return list_push(list, &obs);
}

bool obs_add_instantiate_error(observation_list *list, const char *kind) {
    observation obs = {.kind = OBS_INSTANTIATE_ERROR, .word = escape_name(kind, strlen(kind))};
    return obs.word && list_push(list, &obs);
}

bool obs_add_call(observation_list *list, const char *name, size_t name_len) {
    observation obs = {.kind = OBS_CALL, .name = escape_name(name, name_len)};
    return obs.name && list_push(list, &obs);
}

bool obs_add_log(observation_list *list, const char *module, size_t module_len, const char *name,
                 size_t name_len, const obs_value *values, size_t nvalues) {
    observation obs = {.kind = OBS_LOG,
                       .module = escape_name(module, module_len),
                       .name = escape_name(name, name_len),
                       .values = copy_values(values, nvalues),
                       .nvalues = nvalues};
    if (!obs.module || !obs.name || !obs.values) {
        observation_free(&obs);
        return false;
    }
    return list_push(list, &obs);
}

bool obs_add_return(observation_list *list, const obs_value *values, size_t nvalues) {
    observation obs = {
        .kind = OBS_RETURN, .values = copy_values(values, nvalues), .nvalues = nvalues};
    return obs.values && list_push(list, &obs);
}

bool obs_add_trap(observation_list *list, obs_trap trap) {
    observation obs = {.kind = OBS_TRAP, .trap = trap};
    return list_push(list, &obs);
}

bool obs_add_global(observation_list *list, const char *name, size_t name_len, obs_value value) {
    observation obs = {.kind = OBS_GLOBAL,
                       .name = escape_name(name, name_len),
                       .values = copy_values(&value, 1),
                       .nvalues = 1};
    if (!obs.name || !obs.values) {
        observation_free(&obs);
        return false;
    }
    return list_push(list, &obs);
}

bool obs_add_memory(observation_list *list, const char *name, size_t name_len, uint64_t pages,
                    bool has_hash, uint64_t hash) {
    observation obs = {.kind = OBS_MEMORY,
                       .name = escape_name(name, name_len),
                       .pages = pages,
                       .hash = has_hash ? hash : 0,
                       .has_hash = has_hash};
    return obs.name && list_push(list, &obs);
}

bool obs_add_inconclusive(observation_list *list, const char *reason, const char *detail) {
    observation obs = {.kind = OBS_INCONCLUSIVE, .word = escape_name(reason, strlen(reason))};
    if (detail && *detail) {
        obs.detail = copy_text(detail);
        for (char *p = obs.detail; p && *p; p++)
            if (*p == '\n' || *p == '\r') *p = ' ';
        if (!obs.detail) {
            observation_free(&obs);
            return false;
        }
    }
    return obs.word && list_push(list, &obs);
}

/* ---- Writing --------------------------------------------------------------------------------- */

/* A small bounded appender: writes past the end are dropped, the text stays NUL-terminated. */
typedef struct text_buf {
    char *buf;
    size_t size;
    size_t len;
} text_buf;

static void put(text_buf *t, const char *fmt, ...) {
    if (t->size == 0 || t->len >= t->size - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    t->len += (size_t)n;
    if (t->len > t->size - 1) t->len = t->size - 1;
}

void obs_value_format(obs_value value, char *buf, size_t buf_size) {
    const char *type = (size_t)value.type < TYPE_COUNT ? type_names[value.type] : "?";
    switch (value.type) {
    case OBS_FUNCREF:
    case OBS_EXTERNREF:
        snprintf(buf, buf_size, "%s:%s", type, value.bits ? "nonnull" : "null");
        break;
    case OBS_I32:
    case OBS_F32:
        snprintf(buf, buf_size, "%s:0x%llx", type, (unsigned long long)(value.bits & 0xffffffffu));
        break;
    default: snprintf(buf, buf_size, "%s:0x%llx", type, (unsigned long long)value.bits); break;
    }
}

static void put_values(text_buf *t, const obs_value *values, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char one[48];
        obs_value_format(values[i], one, sizeof one);
        put(t, " %s", one);
    }
}

void observation_format(const observation *obs, char *buf, size_t buf_size) {
    text_buf t = {buf, buf_size, 0};
    if (buf_size) buf[0] = '\0';
    switch (obs->kind) {
    case OBS_INSTANTIATE_OK: put(&t, "instantiate ok"); break;
    case OBS_INSTANTIATE_TRAP: put(&t, "instantiate trap %s", obs_trap_name(obs->trap)); break;
    case OBS_INSTANTIATE_ERROR: put(&t, "instantiate error %s", obs->word); break;
    case OBS_CALL: put(&t, "call %s", obs->name); break;
    case OBS_LOG:
        put(&t, "log %s %s", obs->module, obs->name);
        put_values(&t, obs->values, obs->nvalues);
        break;
    case OBS_RETURN:
        put(&t, "return");
        put_values(&t, obs->values, obs->nvalues);
        break;
    case OBS_TRAP: put(&t, "trap %s", obs_trap_name(obs->trap)); break;
    case OBS_GLOBAL:
        put(&t, "global %s", obs->name);
        put_values(&t, obs->values, obs->nvalues);
        break;
    case OBS_MEMORY:
        if (obs->has_hash)
            put(&t, "memory %s %llu %016llx", obs->name, (unsigned long long)obs->pages,
                (unsigned long long)obs->hash);
        else
            put(&t, "memory %s %llu -", obs->name, (unsigned long long)obs->pages);
        break;
    case OBS_INCONCLUSIVE:
        put(&t, "inconclusive %s", obs->word);
        if (obs->detail) put(&t, " %s", obs->detail);
        break;
    }
}

bool observation_write(FILE *out, const observation *obs) {
    /* A line is short except for logs and returns with many values and long details. */
    size_t size = 256 + obs->nvalues * 40 + (obs->detail ? strlen(obs->detail) : 0) +
                  (obs->name ? strlen(obs->name) : 0) + (obs->module ? strlen(obs->module) : 0);
    char *line = malloc(size);
    if (!line) return false;
    observation_format(obs, line, size);
    bool ok = fprintf(out, "%s\n", line) >= 0;
    free(line);
    return ok;
}

bool observation_list_write(FILE *out, const observation_list *list) {
    for (size_t i = 0; i < list->count; i++)
        if (!observation_write(out, &list->items[i])) return false;
    return true;
}

/* ---- Parsing --------------------------------------------------------------------------------- */

#define MAX_FIELDS 1024

/* One line split at single spaces, in place. */
typedef struct fields {
    char *at[MAX_FIELDS];
    size_t count;
} fields;

static void split(char *line, fields *f) {
    f->count = 0;
    char *p = line;
    while (*p && f->count < MAX_FIELDS) {
        f->at[f->count] = p;
        f->count++;
        char *space = strchr(p, ' ');
        if (!space) break;
        *space = '\0';
        p = space + 1;
    }
}

static bool valid_name(const char *name) {
    if (!*name) return false;
    for (const char *p = name; *p; p++) {
        if (*p == '%') {
            if (!strchr("0123456789ABCDEFabcdef", p[1]) || !p[1] ||
                !strchr("0123456789ABCDEFabcdef", p[2]) || !p[2])
                return false;
            p += 2;
        } else if (!is_plain_name_byte((unsigned char)*p)) {
            return false;
        }
    }
    return true;
}

static bool parse_hex(const char *text, uint64_t max, uint64_t *out) {
    if (strncmp(text, "0x", 2) != 0 || !text[2]) return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text + 2, &end, 16);
    if (*end || errno == ERANGE || v > max || text[2] == '-' || text[2] == '+') return false;
    *out = v;
    return true;
}

static bool parse_value(const char *text, obs_value *out) {
    const char *colon = strchr(text, ':');
    if (!colon) return false;
    size_t type_len = (size_t)(colon - text);
    for (size_t t = 0; t < TYPE_COUNT; t++) {
        if (strlen(type_names[t]) != type_len || strncmp(text, type_names[t], type_len) != 0)
            continue;
        out->type = (obs_type)t;
        const char *bits = colon + 1;
        if (t == OBS_FUNCREF || t == OBS_EXTERNREF) {
            if (strcmp(bits, "null") == 0) out->bits = 0;
            else if (strcmp(bits, "nonnull") == 0) out->bits = 1;
            else return false;
            return true;
        }
        uint64_t max = (t == OBS_I32 || t == OBS_F32) ? UINT32_MAX : UINT64_MAX;
        return parse_hex(bits, max, &out->bits);
    }
    return false;
}

static bool parse_values(char **texts, size_t n, obs_value **out) {
    *out = malloc((n ? n : 1) * sizeof **out);
    if (!*out) return false;
    for (size_t i = 0; i < n; i++) {
        if (!parse_value(texts[i], &(*out)[i])) {
            free(*out);
            *out = NULL;
            return false;
        }
    }
    return true;
}

/* Parses one line (modified in place) into obs; NULL on success, else why. */
static const char *parse_line(char *line, observation *obs) {
    memset(obs, 0, sizeof *obs);
    if (strncmp(line, "inconclusive ", 13) == 0) {
        char *reason = line + 13;
        char *space = strchr(reason, ' ');
        if (space) *space = '\0';
        if (!valid_name(reason)) return "expected inconclusive REASON [DETAIL]";
        obs->kind = OBS_INCONCLUSIVE;
        obs->word = copy_text(reason);
        if (!obs->word) return "out of memory";
        if (space && space[1]) {
            obs->detail = copy_text(space + 1);
            if (!obs->detail) return "out of memory";
        }
        return NULL;
    }
    fields f;
    split(line, &f);
    if (f.count == 0) return "empty line";
    const char *head = f.at[0];
    if (strcmp(head, "instantiate") == 0) {
        if (f.count == 2 && strcmp(f.at[1], "ok") == 0) {
            obs->kind = OBS_INSTANTIATE_OK;
            return NULL;
        }
        if (f.count == 3 && strcmp(f.at[1], "trap") == 0) {
            obs->kind = OBS_INSTANTIATE_TRAP;
            return obs_trap_from_name(f.at[2], &obs->trap) ? NULL : "unknown trap class";
        }
        if (f.count == 3 && strcmp(f.at[1], "error") == 0 && valid_name(f.at[2])) {
            obs->kind = OBS_INSTANTIATE_ERROR;
            obs->word = copy_text(f.at[2]);
            return obs->word ? NULL : "out of memory";
        }
        return "expected instantiate ok|trap CLASS|error KIND";
    }
    if (strcmp(head, "call") == 0 || strcmp(head, "global") == 0) {
        bool call = head[0] == 'c';
        if (f.count != (call ? 2u : 3u) || !valid_name(f.at[1]))
            return call ? "expected call NAME" : "expected global NAME VALUE";
        obs->kind = call ? OBS_CALL : OBS_GLOBAL;
        obs->name = copy_text(f.at[1]);
        if (!obs->name) return "out of memory";
        if (!call) {
            obs->nvalues = 1;
            if (!parse_values(&f.at[2], 1, &obs->values)) return "bad value";
        }
        return NULL;
    }
    if (strcmp(head, "log") == 0) {
        if (f.count < 3 || !valid_name(f.at[1]) || !valid_name(f.at[2]))
            return "expected log MODULE NAME VALUE...";
        obs->kind = OBS_LOG;
        obs->module = copy_text(f.at[1]);
        obs->name = copy_text(f.at[2]);
        if (!obs->module || !obs->name) return "out of memory";
        obs->nvalues = f.count - 3;
        return parse_values(&f.at[3], obs->nvalues, &obs->values) ? NULL : "bad value";
    }
    if (strcmp(head, "return") == 0) {
        obs->kind = OBS_RETURN;
        obs->nvalues = f.count - 1;
        return parse_values(&f.at[1], obs->nvalues, &obs->values) ? NULL : "bad value";
    }
    if (strcmp(head, "trap") == 0) {
        if (f.count != 2) return "expected trap CLASS";
        obs->kind = OBS_TRAP;
        return obs_trap_from_name(f.at[1], &obs->trap) ? NULL : "unknown trap class";
    }
    if (strcmp(head, "memory") == 0) {
        if (f.count != 4 || !valid_name(f.at[1])) return "expected memory NAME PAGES HASH";
        obs->kind = OBS_MEMORY;
        obs->name = copy_text(f.at[1]);
        if (!obs->name) return "out of memory";
        char *end;
        errno = 0;
        obs->pages = strtoull(f.at[2], &end, 10);
        if (!f.at[2][0] || *end || errno == ERANGE || f.at[2][0] == '-') return "bad PAGES";
        if (strcmp(f.at[3], "-") == 0) return NULL;
        if (strlen(f.at[3]) != 16) return "HASH is 16 hex digits or -";
        obs->hash = strtoull(f.at[3], &end, 16);
        if (*end || f.at[3][0] == '-' || f.at[3][0] == '+') return "bad HASH";
        obs->has_hash = true;
        return NULL;
    }
    return "unknown observation";
}

bool observation_list_parse(const char *text, size_t len, observation_list *out, char *why,
                            size_t why_size) {
    size_t line_no = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - (text + pos)) : len - pos;
        line_no++;
        char *line = malloc(line_len + 1);
        if (!line) {
            snprintf(why, why_size, "out of memory");
            return false;
        }
        memcpy(line, text + pos, line_len);
        line[line_len] = '\0';
        pos += line_len + (nl ? 1 : 0);
        if (line_len && line[line_len - 1] == '\r') line[--line_len] = '\0';
        if (strlen(line) != line_len) {
            free(line);
            snprintf(why, why_size, "line %zu: NUL byte", line_no);
            return false;
        }
        if (line[0] == '\0' || line[0] == '#') {
            free(line);
            continue;
        }
        observation obs;
        const char *bad = parse_line(line, &obs);
        if (bad) {
            observation_free(&obs);
            snprintf(why, why_size, "line %zu: %s", line_no, bad);
            free(line);
            return false;
        }
        free(line);
        if (!list_push(out, &obs)) {
            snprintf(why, why_size, "out of memory");
            return false;
        }
    }
    return true;
}
