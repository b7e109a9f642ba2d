/* Reading script bundles: see script_bundle.h. */
#include "script_bundle.h"

#include <stdlib.h>
#include <string.h>

typedef struct reader {
    const uint8_t *p;
    size_t left;
    bool bad;
} reader;

static bool take(reader *r, size_t n, const uint8_t **out) {
    if (r->bad || n > r->left) {
        r->bad = true;
        return false;
    }
    *out = r->p;
    r->p += n;
    r->left -= n;
    return true;
}

static uint64_t read_le(reader *r, size_t n) {
    const uint8_t *at;
    uint64_t v = 0;
    if (!take(r, n, &at)) return 0;
    for (size_t k = 0; k < n; k++) v |= (uint64_t)at[k] << (8 * k);
    return v;
}

static uint8_t read_u8(reader *r) { return (uint8_t)read_le(r, 1); }
static uint32_t read_u32(reader *r) { return (uint32_t)read_le(r, 4); }

static bundle_bytes read_bytes(reader *r) {
    bundle_bytes b = {NULL, read_u32(r)};
    if (!take(r, b.len, &b.bytes)) b.len = 0;
    return b;
}

static void read_value(reader *r, bundle_value *v) {
    memset(v, 0, sizeof *v);
    v->type = read_u8(r);
    v->expect = read_u8(r);
    bool is_float = v->type == WAFER_F32 || v->type == WAFER_F64;
    bool is_ref = v->type == WAFER_FUNCREF || v->type == WAFER_EXTERNREF;
    switch (v->expect) {
    case BUNDLE_EXPECT_EXACT: break;
    case BUNDLE_EXPECT_NAN_CANONICAL:
    case BUNDLE_EXPECT_NAN_ARITHMETIC:
        if (!is_float) r->bad = true;
        return;
    case BUNDLE_EXPECT_NON_NULL:
        if (!is_ref) r->bad = true;
        return;
    default: r->bad = true; return;
    }
    switch (v->type) {
    case WAFER_I32:
    case WAFER_F32: v->bits = read_le(r, 4); break;
    case WAFER_I64:
    case WAFER_F64: v->bits = read_le(r, 8); break;
    case WAFER_FUNCREF: v->is_null = true; break;
    case WAFER_EXTERNREF:
        v->is_null = read_u8(r) == 0;
        if (!v->is_null) v->bits = read_u32(r);
        break;
    default: r->bad = true; break;
    }
}

/* count values into a calloc'd array (NULL for none); each value takes at least two bytes, which
 * bounds what a short input can make this allocate. */
static bundle_value *read_values(reader *r, uint32_t count) {
    if (r->bad || count == 0) return NULL;
    if (count > r->left / 2) {
        r->bad = true;
        return NULL;
    }
    bundle_value *values = calloc(count, sizeof *values);
    if (!values) {
        r->bad = true;
        return NULL;
    }
    for (uint32_t i = 0; i < count; i++) read_value(r, &values[i]);
    return values;
}

static void read_action(reader *r, bundle_action *a) {
    a->kind = read_u8(r);
    if (a->kind != BUNDLE_INVOKE && a->kind != BUNDLE_GET) r->bad = true;
    a->module = read_bytes(r);
    a->field = read_bytes(r);
    a->nargs = read_u32(r);
    a->args = read_values(r, a->nargs);
    for (uint32_t i = 0; a->args && i < a->nargs; i++)
        if (a->args[i].expect != BUNDLE_EXPECT_EXACT) r->bad = true;
}

static void command_free(bundle_command *c) {
    free(c->action.args);
    free(c->expected);
}

static void read_command(reader *r, bundle_command *c) {
    memset(c, 0, sizeof *c);
    c->op = read_u8(r);
    c->line = read_u32(r);
    switch (c->op) {
    case BUNDLE_MODULE:
        c->name = read_bytes(r);
        c->module = read_bytes(r);
        break;
    case BUNDLE_REGISTER:
        c->name = read_bytes(r);
        c->source = read_bytes(r);
        break;
    case BUNDLE_ACTION:
    case BUNDLE_ASSERT_TRAP:
    case BUNDLE_ASSERT_EXHAUSTION: read_action(r, &c->action); break;
    case BUNDLE_ASSERT_RETURN:
        read_action(r, &c->action);
        c->nexpected = read_u32(r);
        c->expected = read_values(r, c->nexpected);
        break;
    case BUNDLE_ASSERT_MALFORMED:
    case BUNDLE_ASSERT_INVALID:
    case BUNDLE_ASSERT_UNLINKABLE:
    case BUNDLE_ASSERT_UNINSTANTIABLE: c->module = read_bytes(r); break;
    default: r->bad = true; break;
    }
}

bool script_bundle_read(const uint8_t *data, size_t size, script_bundle *out) {
    memset(out, 0, sizeof *out);
    if (size < BUNDLE_HEADER_SIZE || memcmp(data, BUNDLE_MAGIC, 4) != 0) return false;
    reader r = {data + BUNDLE_CHECKSUM_AT, 8, false};
    uint64_t checksum = read_le(&r, 8);
    out->config = data[BUNDLE_CONFIG_AT];
    out->verified = checksum == bundle_checksum(data + BUNDLE_HEADER_SIZE,
                                                size - BUNDLE_HEADER_SIZE);
    r = (reader){data + BUNDLE_HEADER_SIZE, size - BUNDLE_HEADER_SIZE, false};
    out->features = read_u32(&r);
    size_t capacity = 0;
    while (!r.bad && r.left > 0) {
        if (out->count == capacity) {
            capacity = capacity ? capacity * 2 : 64;
            bundle_command *grown = realloc(out->commands, capacity * sizeof *grown);
            if (!grown) {
                r.bad = true;
                break;
            }
            out->commands = grown;
        }
        read_command(&r, &out->commands[out->count]);
        out->count++;
    }
    if (r.bad) {
        script_bundle_free(out);
        return false;
    }
    return true;
}

void script_bundle_free(script_bundle *bundle) {
    for (size_t i = 0; i < bundle->count; i++) command_free(&bundle->commands[i]);
    free(bundle->commands);
    memset(bundle, 0, sizeof *bundle);
}
