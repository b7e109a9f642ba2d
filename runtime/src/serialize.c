/* Precompiled modules (wafer.h, "Precompiled modules").
 *
 * File layout, all integers little-endian:
 *   header (HEADER_SIZE bytes)
 *     0  magic "\0wafercw"
 *     8  u32 format version (CWASM_VERSION)
 *    12  u32 header size
 *    16  u64 checksum of every byte from offset 24 to the end of the file: FNV-1a 64 taken over
 *        little-endian 64-bit words (the last, short one zero-padded) rather than bytes, eight
 *        times fewer multiplications for the same mixing
 *    24  u64 file length
 *    32  u64 configuration fingerprint (features and validation limits of the engine)
 *    40  u64 payload length (the payload follows the header)
 *    48  u64 reserved, 0
 *    56  u64 reserved, 0
 *   payload
 *     u64 n, n bytes: the wasm binary. Its fields are decoded again on load by the same decoder
 *       (linear and cheap); what is costly, validation and compilation, is stored:
 *     u32 defined functions; per function its code_func: 8 u32 (type_index, num_params,
 *       num_results, num_locals, frame_size, code_len, num_stack_maps, num_map_slots), then the
 *       code cells, the stack maps (3 u32 each) and the map slots
 *     u32 n, n bytes: declared_refs
 *     u32 images: NO_IMAGES, or the number of defined memories, then per memory
 *       u32 present, u64 file offset, u64 memory offset, u64 length
 *   memory images, each at an IMAGE_ALIGN-aligned file offset, so that loading maps them
 *   MAP_PRIVATE straight from the file (image.h, memory_image_from_file).
 *
 * Nothing read from a file is trusted: the header is checked (magic, version, lengths, checksum,
 * fingerprint) before the payload is parsed, every count and offset is bounds-checked against what
 * remains, the wasm binary goes through the decoder, and compiled code goes through code_verify
 * (code_verify.h), which proves every operand of every instruction safe for the interpreter.
 */
#include "runtime.h"
#include "code_verify.h"
#include "image.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_SIZE 64u
#define CWASM_VERSION 3u
#define NO_IMAGES UINT32_MAX
/* The largest OS page size among the platforms wafer runs on, so a file maps anywhere. */
#define IMAGE_ALIGN 65536u

static const uint8_t cwasm_magic[8] = {0, 'w', 'a', 'f', 'e', 'r', 'c', 'w'};

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv1a64(uint64_t h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t file_checksum(const uint8_t *p, size_t n) {
    uint64_t h = FNV_OFFSET;
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8); /* little-endian host: interp.c requires one */
        h = (h ^ w) * FNV_PRIME;
    }
    if (i < n) {
        uint8_t last[8] = {0};
        memcpy(last, p + i, n - i);
        uint64_t w;
        memcpy(&w, last, 8);
        h = (h ^ w) * FNV_PRIME;
    }
    return h;
}

/* What validation depends on: a module compiled under other features or limits may be one this
 * engine would refuse. */
static uint64_t config_fingerprint(const wafer_config *c) {
    uint64_t fields[] = {
        c->features,
        c->limits.max_types,
        c->limits.max_functions,
        c->limits.max_imports,
        c->limits.max_exports,
        c->limits.max_globals,
        c->limits.max_tables,
        c->limits.max_memories,
        c->limits.max_element_segments,
        c->limits.max_data_segments,
        c->limits.max_params,
        c->limits.max_locals,
        c->limits.max_function_size,
        c->limits.max_nesting,
        c->limits.max_table_elements,
        c->limits.max_memory_pages,
        sizeof(void *),
        CODE_OP_COUNT,
        c->consume_fuel,        /* metered code carries FUEL instructions */
        c->epoch_interruption,  /* its back edges are _LOOP branches */
    };
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        uint8_t b[8];
        for (int k = 0; k < 8; k++) b[k] = (uint8_t)(fields[i] >> (8 * k));
        h = fnv1a64(h, b, 8);
    }
    /* The internal instruction set, by name and number: code from a wafer whose compiler emits
     * other opcodes never runs here. */
    for (int op = 0; op < CODE_OP_COUNT; op++) {
        const char *name = code_op_name((code_op)op);
        h = fnv1a64(h, (const uint8_t *)name, strlen(name) + 1);
    }
    return h;
}

bool wafer_module_is_serialized(const uint8_t *bytes, size_t len) {
    return len >= sizeof cwasm_magic && memcmp(bytes, cwasm_magic, sizeof cwasm_magic) == 0;
}

/* ---- Writing -------------------------------------------------------------------------------- */

typedef struct out_buf {
    uint8_t *p;
    size_t len, cap;
    bool failed;
} out_buf;

static void put(out_buf *b, const void *data, size_t n) {
    if (b->failed || n == 0) return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->failed = true;
                return;
            }
            cap *= 2;
        }
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_u32(out_buf *b, uint32_t v) {
    uint8_t x[4];
    for (int k = 0; k < 4; k++) x[k] = (uint8_t)(v >> (8 * k));
    put(b, x, 4);
}

static void put_u64(out_buf *b, uint64_t v) {
    uint8_t x[8];
    for (int k = 0; k < 8; k++) x[k] = (uint8_t)(v >> (8 * k));
    put(b, x, 8);
}

static void set_u64(uint8_t *at, uint64_t v) {
    for (int k = 0; k < 8; k++) at[k] = (uint8_t)(v >> (8 * k));
}

static void put_cells(out_buf *b, const uint32_t *cells, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) put_u32(b, cells[i]);
}

static uint32_t num_map_slots(const code_func *f) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < f->num_stack_maps; i++) {
        uint32_t end = f->stack_maps[i].first + f->stack_maps[i].count;
        if (end > n) n = end;
    }
    return n;
}

static void put_code(out_buf *b, const code_func *f) {
    uint32_t nslots = num_map_slots(f);
    uint32_t head[8] = {f->type_index, f->num_params, f->num_results, f->num_locals,
                        f->frame_size,  f->code_len,   f->num_stack_maps, nslots};
    put_cells(b, head, 8);
    put_cells(b, f->code, f->code_len);
    for (uint32_t i = 0; i < f->num_stack_maps; i++) {
        put_u32(b, f->stack_maps[i].pc);
        put_u32(b, f->stack_maps[i].first);
        put_u32(b, f->stack_maps[i].count);
    }
    put_cells(b, f->map_slots, nslots);
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

static wafer_error *write_all(int fd, const uint8_t *p, size_t n, const char *path) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            return error_new(WAFER_ERROR_RESOURCE, "cannot write %s: %s", path, strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return NULL;
}

/* The image's bytes, read back from its file. */
static bool read_image(const memory_image *img, uint8_t *dst) {
    uint64_t done = 0;
    while (done < img->len) {
        ssize_t r = pread(img->fd, dst + done, img->len - done, (off_t)(img->fd_offset + done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        done += (uint64_t)r;
    }
    return true;
}

wafer_error *wafer_module_serialize_file(const wafer_module *m, const char *path) {
    out_buf b = {0};
    uint8_t zero[HEADER_SIZE] = {0};
    put(&b, zero, HEADER_SIZE);
    put_u64(&b, m->len);
    put(&b, m->bytes, m->len);
    uint32_t ndefined = m->num_funcs - m->num_imported_funcs;
    put_u32(&b, ndefined);
    for (uint32_t d = 0; d < ndefined; d++) put_code(&b, &m->code[d]);
    uint32_t refs_len = m->num_funcs / 8 + 1;
    put_u32(&b, refs_len);
    put(&b, m->declared_refs, refs_len);

    /* Image records first, their offsets patched once the payload's end is known. */
    const module_images *images = m->images;
    size_t records = b.len;
    uint32_t nimages = images ? images->num_defined_memories : NO_IMAGES;
    put_u32(&b, nimages);
    if (images)
        for (uint32_t i = 0; i < nimages; i++) {
            put_u32(&b, 0);
            put_u64(&b, 0);
            put_u64(&b, 0);
            put_u64(&b, 0);
        }
    if (b.failed) {
        free(b.p);
        return error_new(WAFER_ERROR_RESOURCE, "out of memory serialising a module");
    }
    uint64_t payload_len = b.len - HEADER_SIZE;
    uint64_t file_len = b.len;
    if (images)
        for (uint32_t i = 0; i < nimages; i++) {
            const memory_image *img = images->images[i];
            if (!img) continue;
            uint8_t *rec = b.p + records + 4 + (size_t)i * 28;
            uint64_t at = align_up(file_len, IMAGE_ALIGN);
            rec[0] = 1;
            set_u64(rec + 4, at);
            set_u64(rec + 12, img->memory_offset);
            set_u64(rec + 20, img->len);
            file_len = at + img->len;
        }

    /* The file is assembled in memory (images included) so that one checksum pass covers it. */
    uint8_t *file = calloc(1, file_len);
    if (!file) {
        free(b.p);
        return error_new(WAFER_ERROR_RESOURCE, "out of memory serialising a module");
    }
    memcpy(file, b.p, b.len);
    free(b.p);
    if (images)
        for (uint32_t i = 0; i < nimages; i++) {
            const memory_image *img = images->images[i];
            if (!img) continue;
            const uint8_t *rec = file + records + 4 + (size_t)i * 28;
            uint64_t at = 0;
            for (int k = 0; k < 8; k++) at |= (uint64_t)rec[4 + k] << (8 * k);
            if (!read_image(img, file + at)) {
                free(file);
                return error_new(WAFER_ERROR_RESOURCE, "cannot read a memory image back");
            }
        }
    memcpy(file, cwasm_magic, sizeof cwasm_magic);
    for (int k = 0; k < 4; k++) file[8 + k] = (uint8_t)(CWASM_VERSION >> (8 * k));
    for (int k = 0; k < 4; k++) file[12 + k] = (uint8_t)(HEADER_SIZE >> (8 * k));
    set_u64(file + 24, file_len);
    set_u64(file + 32, config_fingerprint(&m->engine->config));
    set_u64(file + 40, payload_len);
    set_u64(file + 16, file_checksum(file + 24, file_len - 24));

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(file);
        return error_new(WAFER_ERROR_RESOURCE, "cannot create %s: %s", path, strerror(errno));
    }
    wafer_error *err = write_all(fd, file, file_len, path);
    free(file);
    if (close(fd) != 0 && !err)
        err = error_new(WAFER_ERROR_RESOURCE, "cannot write %s: %s", path, strerror(errno));
    return err;
}

/* ---- Reading -------------------------------------------------------------------------------- */

typedef struct in_buf {
    const uint8_t *p;
    uint64_t left;
    bool bad;
} in_buf;

static const uint8_t *take(in_buf *r, uint64_t n) {
    if (r->bad || n > r->left) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

static uint32_t get_u32(in_buf *r) {
    const uint8_t *p = take(r, 4);
    if (!p) return 0;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(in_buf *r) {
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}

static uint64_t load_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int k = 0; k < 8; k++) v |= (uint64_t)p[k] << (8 * k);
    return v;
}

/* n cells into a fresh array (NULL with r->bad set on failure; NULL without it for n == 0). */
static uint32_t *get_cells(in_buf *r, uint64_t n) {
    if (n == 0 || r->bad) return NULL;
    if (n > r->left / 4) {
        r->bad = true;
        return NULL;
    }
    uint32_t *cells = malloc(n * sizeof *cells);
    if (!cells) {
        r->bad = true;
        return NULL;
    }
    memcpy(cells, take(r, n * 4), n * 4); /* little-endian host: interp.c requires one */
    return cells;
}

static wafer_error *corrupt(const char *what) {
    return error_new(WAFER_ERROR_MALFORMED, "precompiled module is corrupt: %s", what);
}

static wafer_error *get_code(in_buf *r, const wafer_module *m, uint32_t d, code_func *f) {
    uint32_t head[8];
    for (int k = 0; k < 8; k++) head[k] = get_u32(r);
    if (r->bad) return corrupt("truncated function code");
    *f = (code_func){.type_index = head[0], .num_params = head[1], .num_results = head[2],
                     .num_locals = head[3], .frame_size = head[4], .code_len = head[5],
                     .num_stack_maps = head[6]};
    uint32_t nslots = head[7];
    uint32_t want_type = m->func_type_indices[m->num_imported_funcs + d];
    const wafer_functype *type = &m->types[want_type];
    if (f->type_index != want_type || f->num_params != type->num_params ||
        f->num_results != type->num_results || f->num_locals < f->num_params ||
        f->frame_size < f->num_locals || f->frame_size < f->num_results)
        return corrupt("function code does not match the function's type");
    /* The locals are the body's; the operand stack is no deeper than compile.c lets a body of
     * this size grow it (its code_budget), so a forged frame size cannot inflate the work of
     * code_verify, which is proportional to it. */
    if (d >= m->num_bodies) return corrupt("function count does not match");
    const module_body *body = &m->bodies[d];
    uint64_t max_operands = 16 * (uint64_t)body->code_len + 65536;
    if (f->num_locals != (uint64_t)f->num_params + body->num_locals ||
        f->frame_size > (uint64_t)f->num_locals + max_operands + f->num_results)
        return corrupt("function frame does not match the function's body");
    f->code = get_cells(r, f->code_len);
    if (f->num_stack_maps) {
        if (f->num_stack_maps > r->left / 12) return corrupt("truncated stack maps");
        f->stack_maps = malloc((size_t)f->num_stack_maps * sizeof *f->stack_maps);
        if (!f->stack_maps) return error_new(WAFER_ERROR_RESOURCE, "out of memory");
        for (uint32_t i = 0; i < f->num_stack_maps; i++) {
            f->stack_maps[i].pc = get_u32(r);
            f->stack_maps[i].first = get_u32(r);
            f->stack_maps[i].count = get_u32(r);
            if ((uint64_t)f->stack_maps[i].first + f->stack_maps[i].count > nslots ||
                f->stack_maps[i].pc >= f->code_len)
                return corrupt("stack map out of range");
        }
    }
    f->map_slots = get_cells(r, nslots);
    if (r->bad) return corrupt("truncated function code");
    for (uint32_t i = 0; i < nslots; i++)
        if (f->map_slots[i] >= f->frame_size) return corrupt("stack map slot out of range");
    /* Nothing in the code is trusted either: code_verify proves every operand safe to run. */
    wafer_error *err = code_verify(m, f);
    if (err && wafer_error_kind_of(err) == WAFER_ERROR_MALFORMED) {
        wafer_error *named = error_new(WAFER_ERROR_MALFORMED,
                                       "precompiled code failed verification: function %u: %s",
                                       m->num_imported_funcs + d, wafer_error_message(err));
        wafer_error_free(err);
        return named;
    }
    return err;
}

/* Image records: each image lies after the payload, inside the file, page aligned, and within its
 * memory's minimum size (instantiation maps it into the accessible part). */
static wafer_error *get_images(in_buf *r, const wafer_module *m, int fd, uint64_t payload_end,
                               uint64_t file_len, module_images **out) {
    *out = NULL;
    uint32_t n = get_u32(r);
    if (r->bad) return corrupt("truncated image records");
    if (n == NO_IMAGES) return NULL;
    uint32_t ndefined = m->num_memories - m->num_imported_memories;
    if (n != ndefined) return corrupt("image records do not match the memories");
    if (n > r->left / 28) return corrupt("truncated image records");
    bool use = m->engine->config.memory_images;
    module_images *images = use ? module_images_new(n) : NULL;
    if (use && !images) return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t present = get_u32(r);
        uint64_t at = get_u64(r), memory_offset = get_u64(r), len = get_u64(r);
        if (present > 1) {
            module_images_free(images);
            return corrupt("bad image record");
        }
        if (!present) continue;
        const wafer_memorytype *mt = &m->memories[m->num_imported_memories + i];
        uint64_t min_pages = mt->limits.min;
        bool fits_memory = min_pages <= UINT64_MAX / WAFER_PAGE_SIZE &&
                           memory_offset <= min_pages * WAFER_PAGE_SIZE &&
                           len <= min_pages * WAFER_PAGE_SIZE - memory_offset;
        if (len == 0 || at < payload_end || at > file_len || len > file_len - at ||
            at % IMAGE_ALIGN || memory_offset % sys_page_size() || !fits_memory) {
            module_images_free(images);
            return corrupt("image out of range");
        }
        if (!use) continue;
        wafer_error *err =
            memory_image_from_file(fd, at, memory_offset, len, &images->images[i]);
        if (err) {
            module_images_free(images);
            return err;
        }
    }
    *out = images;
    return NULL;
}

static wafer_error *parse(wafer_engine *engine, const uint8_t *file, uint64_t file_len, int fd,
                          wafer_module **out) {
    in_buf r = {file + HEADER_SIZE, load_u64(file + 40), false};
    uint64_t payload_end = HEADER_SIZE + r.left;
    uint64_t wasm_len = get_u64(&r);
    const uint8_t *wasm = take(&r, wasm_len);
    if (!wasm) return corrupt("truncated wasm binary");
    wafer_module *m;
    wafer_error *err = module_decode(engine, wasm, wasm_len, &m);
    if (err) {
        wafer_error *wrapped = corrupt(wafer_error_message(err));
        wafer_error_free(err);
        return wrapped;
    }
    /* The binary passed validation when it was written; its declarations are checked again
     * (cheap, linear), as instantiation relies on them. Bodies are not: their code is here. */
    if ((err = module_validate_declarations(m))) {
        wafer_error *wrapped = corrupt(wafer_error_message(err));
        wafer_error_free(err);
        module_free(m);
        return wrapped;
    }
    uint32_t ndefined = m->num_funcs - m->num_imported_funcs;
    if (get_u32(&r) != ndefined) {
        module_free(m);
        return corrupt("function count does not match");
    }
    if (ndefined) {
        m->code = calloc(ndefined, sizeof *m->code);
        if (!m->code) {
            module_free(m);
            return error_new(WAFER_ERROR_RESOURCE, "out of memory");
        }
    }
    for (uint32_t d = 0; d < ndefined; d++) {
        if ((err = get_code(&r, m, d, &m->code[d]))) {
            module_free(m);
            return err;
        }
    }
    uint32_t refs_len = get_u32(&r);
    const uint8_t *refs = take(&r, refs_len);
    if (!refs || refs_len != m->num_funcs / 8 + 1) {
        module_free(m);
        return corrupt("bad declared references");
    }
    if (memcmp(m->declared_refs, refs, refs_len) != 0) {
        module_free(m);
        return corrupt("declared references differ from the module's");
    }
    if ((err = get_images(&r, m, fd, payload_end, file_len, &m->images)) ||
        (err = module_plan_tables(m))) {
        module_free(m);
        return err;
    }
    if (r.left != 0) {
        module_free(m);
        return corrupt("trailing bytes after the payload");
    }
    *out = m;
    return NULL;
}

static wafer_error *check_header(const wafer_engine *engine, const uint8_t *file, uint64_t size) {
    if (size < sizeof cwasm_magic || memcmp(file, cwasm_magic, sizeof cwasm_magic) != 0)
        return error_new(WAFER_ERROR_MALFORMED, "not a precompiled module (bad magic)");
    if (size < HEADER_SIZE) return corrupt("truncated header");
    uint32_t version = (uint32_t)load_u64(file + 8);
    uint32_t header_size = (uint32_t)(load_u64(file + 8) >> 32);
    if (version != CWASM_VERSION)
        return error_new(WAFER_ERROR_UNSUPPORTED,
                         "precompiled module has format version %u; this wafer reads version %u",
                         version, CWASM_VERSION);
    if (header_size != HEADER_SIZE) return corrupt("bad header size");
    uint64_t file_len = load_u64(file + 24);
    if (file_len != size)
        return corrupt(file_len > size ? "truncated file" : "trailing bytes after the file");
    if (file_checksum(file + 24, size - 24) != load_u64(file + 16))
        return corrupt("checksum mismatch");
    if (load_u64(file + 32) != config_fingerprint(&engine->config))
        return error_new(WAFER_ERROR_UNSUPPORTED,
                         "precompiled module was compiled for an engine with another "
                         "configuration (features or limits differ)");
    uint64_t payload_len = load_u64(file + 40);
    if (payload_len > size - HEADER_SIZE) return corrupt("payload length past the file");
    if (load_u64(file + 48) || load_u64(file + 56)) return corrupt("reserved header fields set");
    return NULL;
}

wafer_error *wafer_module_deserialize_file(wafer_engine *engine, const char *path,
                                           wafer_module **out) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return error_new(WAFER_ERROR_RESOURCE, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return error_new(WAFER_ERROR_RESOURCE, "%s is not a regular file", path);
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size == 0) {
        close(fd);
        return error_new(WAFER_ERROR_MALFORMED, "not a precompiled module (empty file)");
    }
    /* Mapped read-only for parsing; the images get their own MAP_PRIVATE mappings of fd. */
    void *map = sys_mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        close(fd);
        return error_new(WAFER_ERROR_RESOURCE, "cannot map %s: %s", path, strerror(errno));
    }
    wafer_error *err = check_header(engine, map, size);
    if (!err) err = parse(engine, map, size, fd, out);
    sys_munmap(map, (size_t)size);
    close(fd);
    if (err && wafer_error_kind_of(err) == WAFER_ERROR_MALFORMED) {
        wafer_error *named = error_new(WAFER_ERROR_MALFORMED, "%s: %s", path,
                                       wafer_error_message(err));
        wafer_error_free(err);
        return named;
    }
    return err;
}
