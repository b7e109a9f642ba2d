/* Memory images and memory slots: see image.h. */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "planted.h"
#include "runtime.h"
#include "sys.h"

/* ---- Images --------------------------------------------------------------------------------- */

static wafer_error *image_error(const char *what) {
    return error_new(WAFER_ERROR_RESOURCE, "memory image: %s failed: %s", what, strerror(errno));
}

void memory_image_retain(memory_image *image) {
    __atomic_fetch_add(&image->refcount, 1, __ATOMIC_RELAXED);
}

void memory_image_release(memory_image *image) {
    if (!image || __atomic_sub_fetch(&image->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    sys_munmap((void *)image->bytes, image->len);
    close(image->fd);
    free(image);
}

/* Completes an image whose fd and placement are set: maps its bytes for copying resets, and takes
 * ownership of fd (closed on failure). */
static wafer_error *image_finish(int fd, uint64_t fd_offset, uint64_t memory_offset, uint64_t len,
                                 memory_image **out) {
    void *bytes = sys_mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)fd_offset);
    if (bytes == MAP_FAILED) {
        wafer_error *err = image_error("mmap");
        close(fd);
        return err;
    }
    memory_image *image = malloc(sizeof *image);
    if (!image) {
        sys_munmap(bytes, len);
        close(fd);
        return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    }
    *image = (memory_image){.refcount = 1, .fd = fd, .fd_offset = fd_offset,
                            .memory_offset = memory_offset, .len = len, .bytes = bytes};
    *out = image;
    return NULL;
}

static bool page_aligned(uint64_t x) { return x % sys_page_size() == 0; }

wafer_error *memory_image_from_file(int fd, uint64_t fd_offset, uint64_t memory_offset,
                                    uint64_t len, memory_image **out) {
    *out = NULL;
    if (len == 0 || !page_aligned(fd_offset) || !page_aligned(memory_offset) || !page_aligned(len))
        return error_new(WAFER_ERROR_MALFORMED, "memory image: range is not page aligned");
    struct stat st;
    if (fstat(fd, &st) != 0) return image_error("fstat");
    if (fd_offset > (uint64_t)st.st_size || len > (uint64_t)st.st_size - fd_offset)
        return error_new(WAFER_ERROR_MALFORMED,
                         "memory image: range lies past the end of the file");
    int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) return image_error("dup");
    return image_finish(own, fd_offset, memory_offset, len, out);
}

module_images *module_images_new(uint32_t num_defined_memories) {
    module_images *images = calloc(1, sizeof *images);
    if (!images) return NULL;
    images->num_defined_memories = num_defined_memories;
    if (num_defined_memories) {
        images->images = calloc(num_defined_memories, sizeof *images->images);
        if (!images->images) {
            free(images);
            return NULL;
        }
    }
    return images;
}

void module_images_free(module_images *images) {
    if (!images) return;
    for (uint32_t i = 0; i < images->num_defined_memories; i++)
        memory_image_release(images->images[i]);
    free(images->images);
    free(images);
}

/* A memory's minimum size in bytes; saturates at UINT64_MAX (2^48 pages of memory64 are 2^64
 * bytes, DESIGN.md invariant 2), which only makes more segments fit: such a memory is refused at
 * instantiation anyway. */
static uint64_t min_bytes_saturating(const wafer_memorytype *type) {
    if (type->limits.min > UINT64_MAX / WAFER_PAGE_SIZE) return UINT64_MAX;
    return type->limits.min * WAFER_PAGE_SIZE;
}

/* The constant offset of an active segment, if it is one an image can use. */
static bool constant_offset(const module_data *d, bool is64, uint64_t *out) {
    if (d->offset.count != 1) return false;
    const const_instr *in = &d->offset.instrs[0];
    if (in->opcode == 0x41 && !is64) *out = (uint32_t)in->imm.i32; /* i32.const */
    else if (in->opcode == 0x42 && is64) *out = (uint64_t)in->imm.i64; /* i64.const */
    else return false; /* global.get: known only at instantiation */
    return true;
}

/* Where the bytes of each defined memory's segments lie, before any file exists. */
typedef struct image_span {
    uint64_t lo, hi; /* page-aligned [lo, hi); lo == hi: no data */
} image_span;

/* Finds each defined memory's span, or returns false when some segment cannot go into an image. */
static bool plan_spans(const wafer_module *m, image_span *spans) {
    uint64_t page = sys_page_size();
    for (uint32_t i = 0; i < m->num_datas; i++) {
        const module_data *d = &m->datas[i];
        if (d->mode != SEGMENT_ACTIVE) continue;
        if (d->memory_index < m->num_imported_memories) return false;
        const wafer_memorytype *type = &m->memories[d->memory_index];
        /* refused at instantiation anyway: no image (and no file sized for it) */
        if (type->limits.min > m->engine->config.limits.max_memory_pages) return false;
        uint64_t offset, limit = min_bytes_saturating(type);
        if (!constant_offset(d, type->is64, &offset)) return false;
        if (offset > limit || d->len > limit - offset) return false; /* it traps, in order */
        if (d->len == 0) continue;
        /* limit is a multiple of 64 KiB (or UINT64_MAX), so rounding up stays within it unless the
         * end is within a page of 2^64, which no memory can be instantiated with */
        uint64_t end = offset + d->len;
        if (end > UINT64_MAX - page) return false;
        uint64_t lo = offset / page * page, hi = (end + page - 1) / page * page;
        image_span *s = &spans[d->memory_index - m->num_imported_memories];
        if (s->lo == s->hi) {
            s->lo = lo;
            s->hi = hi;
        } else {
            if (lo < s->lo) s->lo = lo;
            if (hi > s->hi) s->hi = hi;
        }
    }
    return true;
}

static bool write_all(int fd, const uint8_t *bytes, size_t len, uint64_t at) {
    while (len > 0) {
        ssize_t n = pwrite(fd, bytes, len, (off_t)at);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes += n;
        len -= (size_t)n;
        at += (uint64_t)n;
    }
    return true;
}

/* Writes the segments of defined memory `defined` into a fresh memfd, in segment order, so later
 * segments overwrite earlier ones exactly as copying them in order would. */
static wafer_error *build_image(const wafer_module *m, uint32_t defined, image_span span,
                                memory_image **out) {
    uint64_t len = span.hi - span.lo;
    if (len > (uint64_t)INT64_MAX)
        return error_new(WAFER_ERROR_RESOURCE, "memory image: too large");
    int fd = sys_memfd_create("wafer-memory-image", MFD_CLOEXEC);
    if (fd < 0) return image_error("memfd_create");
    if (sys_ftruncate(fd, (off_t)len) != 0) {
        wafer_error *err = image_error("ftruncate");
        close(fd);
        return err;
    }
    uint32_t memory_index = m->num_imported_memories + defined;
    for (uint32_t i = 0; i < m->num_datas; i++) {
        const module_data *d = &m->datas[i];
        if (d->mode != SEGMENT_ACTIVE || d->memory_index != memory_index || d->len == 0) continue;
        uint64_t offset = 0;
        constant_offset(d, m->memories[memory_index].is64, &offset); /* plan_spans checked it */
        if (!write_all(fd, d->bytes, d->len, offset - span.lo)) {
            wafer_error *err = image_error("write");
            close(fd);
            return err;
        }
    }
    return image_finish(fd, 0, span.lo, len, out);
}

wafer_error *module_images_build(const wafer_module *m, module_images **out) {
    *out = NULL;
    uint32_t ndefined = m->num_memories - m->num_imported_memories;
    bool any_active = false;
    for (uint32_t i = 0; i < m->num_datas; i++)
        if (m->datas[i].mode == SEGMENT_ACTIVE) any_active = true;
    if (!any_active || ndefined == 0) return NULL;
    image_span *spans = calloc(ndefined, sizeof *spans);
    if (!spans) return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    if (!plan_spans(m, spans)) {
        free(spans);
        return NULL;
    }
    module_images *images = module_images_new(ndefined);
    if (!images) {
        free(spans);
        return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    }
    for (uint32_t d = 0; d < ndefined; d++) {
        if (spans[d].lo == spans[d].hi) continue;
        wafer_error *err = build_image(m, d, spans[d], &images->images[d]);
        if (err) {
            free(spans);
            module_images_free(images);
            return err;
        }
    }
    free(spans);
    *out = images;
    return NULL;
}

/* ---- Memory slots --------------------------------------------------------------------------- */

#define RESERVATION_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

/* The one abort the runtime allows (DESIGN.md invariant 1): the slot's contents or protection are
 * unknown, and handing it out again could show one instance's data to the next. */
static _Noreturn void slot_broken(const char *what, const memory_slot *slot) {
    fprintf(stderr, "wafer: fatal: %s of a memory slot at %p failed (%s); a slot that cannot be "
                    "cleaned must not be reused\n",
            what, (void *)slot->base, strerror(errno));
    abort();
}

wafer_error *memory_slot_reserve(memory_slot *slot, size_t reserved) {
    *slot = (memory_slot){0};
    if (reserved == 0) reserved = sys_page_size(); /* a valid non-NULL base for empty memories */
    void *base = sys_mmap(NULL, reserved, PROT_NONE, RESERVATION_FLAGS, -1, 0);
    if (base == MAP_FAILED)
        return error_new(WAFER_ERROR_RESOURCE, "could not reserve %zu bytes for a memory: %s",
                         reserved, strerror(errno));
    slot->base = base;
    slot->reserved = reserved;
    return NULL;
}

/* Puts fresh PROT_NONE memory over the whole reservation: the slot holds nothing and stays ours. */
static void slot_wipe(memory_slot *slot) {
    if (slot->reserved > 0 &&
        sys_mmap(slot->base, slot->reserved, PROT_NONE, RESERVATION_FLAGS | MAP_FIXED, -1, 0) ==
        MAP_FAILED)
        slot_broken("remapping", slot);
    memory_image_release(slot->image);
    slot->image = NULL;
    slot->accessible = 0;
    slot->dirty = false;
}

static int set_protection(memory_slot *slot, size_t from, size_t to, int prot) {
    if (from >= to) return 0;
    return sys_mprotect(slot->base + from, to - from, prot);
}

wafer_error *memory_slot_instantiate(memory_slot *slot, memory_image *image, size_t accessible) {
    if (slot->image != image) {
        if (slot->image) {
            /* Anonymous zeros in place of the old image; the range lies within the accessible
             * bytes (memory_slot_reset keeps at least the image accessible). */
            const memory_image *old = slot->image;
            if (sys_mmap(slot->base + old->memory_offset, old->len, PROT_READ | PROT_WRITE,
                         RESERVATION_FLAGS | MAP_FIXED, -1, 0) == MAP_FAILED) {
                wafer_error *err = error_new(WAFER_ERROR_RESOURCE,
                                             "could not unmap a memory image: %s", strerror(errno));
                slot_wipe(slot);
                return err;
            }
            memory_image_release(slot->image);
            slot->image = NULL;
        }
        if (image) {
            if (sys_mmap(slot->base + image->memory_offset, image->len, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_FIXED, image->fd, (off_t)image->fd_offset) ==
                MAP_FAILED) {
                wafer_error *err = error_new(WAFER_ERROR_RESOURCE,
                                             "could not map a memory image: %s", strerror(errno));
                slot_wipe(slot);
                return err;
            }
            memory_image_retain(image);
            slot->image = image;
        }
    }
    int rc = accessible > slot->accessible
                 ? set_protection(slot, slot->accessible, accessible, PROT_READ | PROT_WRITE)
                 : set_protection(slot, accessible, slot->accessible, PROT_NONE);
    if (rc != 0) {
        wafer_error *err = error_new(WAFER_ERROR_RESOURCE, "could not make %zu bytes of memory "
                                     "accessible: %s", accessible, strerror(errno));
        slot_wipe(slot);
        return err;
    }
    slot->accessible = accessible;
    slot->dirty = false; /* the image's bytes (or zeros) until the memory is written */
    return NULL;
}

bool memory_slot_grow(memory_slot *slot, size_t new_accessible) {
    if (new_accessible <= slot->accessible) return true;
    if (new_accessible > slot->reserved) return false;
    if (set_protection(slot, slot->accessible, new_accessible, PROT_READ | PROT_WRITE) != 0)
        return false;
    slot->accessible = new_accessible;
    return true;
}

static void discard(memory_slot *slot, size_t from, size_t to) {
    if (PLANTED("pool_isolation")) return; /* planted: the slot keeps the last instance's bytes */
    if (from < to && sys_madvise(slot->base + from, to - from, MADV_DONTNEED) != 0)
        slot_broken("madvise", slot);
}

static void zero(memory_slot *slot, size_t from, size_t to) {
    if (from < to) memset(slot->base + from, 0, to - from);
}

void memory_slot_reset(memory_slot *slot, size_t keep_accessible, size_t keep_resident) {
    size_t page = sys_page_size();
    size_t img_lo = 0, img_hi = 0;
    if (slot->image) {
        img_lo = (size_t)slot->image->memory_offset;
        img_hi = img_lo + (size_t)slot->image->len;
    }
    if (keep_accessible > slot->accessible) keep_accessible = slot->accessible;
    if (keep_accessible < img_hi) keep_accessible = img_hi;
    size_t resident = keep_resident / page * page;
    if (resident > keep_accessible) resident = keep_accessible;
    /* Bytes never written are still the image's (or zeros): only a written memory is cleaned,
     * the resident prefix with the image's bytes copied back and zeros elsewhere. */
    if (slot->dirty && img_lo < img_hi && img_lo < resident) {
        size_t copy_end = img_hi < resident ? img_hi : resident;
        zero(slot, 0, img_lo);
        memcpy(slot->base + img_lo, slot->image->bytes, copy_end - img_lo);
        zero(slot, copy_end, resident);
    } else if (slot->dirty) {
        zero(slot, 0, resident);
    }
    if (slot->dirty) discard(slot, resident, slot->accessible);
    if (set_protection(slot, keep_accessible, slot->accessible, PROT_NONE) != 0)
        slot_broken("mprotect", slot);
    slot->accessible = keep_accessible;
    slot->dirty = false;
}

void memory_slot_unreserve(memory_slot *slot) {
    if (slot->base) sys_munmap(slot->base, slot->reserved);
    memory_image_release(slot->image);
    *slot = (memory_slot){0};
}
