/* Copy-on-write memory images and the memory slots that map them (DESIGN.md section 3, item 1).
 *
 * An image is the initial contents of one defined memory: a page-aligned run of bytes held in a
 * file (a memfd the image owns, or a precompiled module's file), placed at a page-aligned offset of
 * linear memory. Instantiation maps it MAP_PRIVATE over the memory's reservation, so untouched
 * pages share the file's page cache and written ones get private copies.
 *
 * A memory slot is a reservation of address space for one linear memory: PROT_NONE except its first
 * `accessible` bytes, never moved while it lives. It remembers which image it has mapped, so a slot
 * reset and reused for the same image needs no mmap at all.
 *
 * Images are refcounted: the module holds one reference per image, and a slot holds one for the
 * image it has mapped, so an image outlives every mapping of it whatever order modules, instances
 * and engines are freed in.
 */
#ifndef WAFER_IMAGE_H
#define WAFER_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "module.h"
#include "error.h"

/* ---- Images --------------------------------------------------------------------------------- */

typedef struct memory_image {
    int refcount;           /* atomic */
    int fd;                 /* owned: a memfd, or a dup of the precompiled module's file */
    uint64_t fd_offset;     /* where the image's bytes start in fd; OS-page aligned */
    uint64_t memory_offset; /* where they go in linear memory; OS-page aligned */
    uint64_t len;           /* bytes; an OS-page multiple, never 0 */
    const uint8_t *bytes;   /* the same bytes mapped read-only, shared: the source of resets that
                             * copy instead of discarding (keep_resident) */
} memory_image;

/* An image source other than a memfd: the len bytes at fd_offset in fd (a precompiled module's
 * file, laid out by its writer) are the memory's bytes from memory_offset on. fd is duplicated;
 * the caller keeps its own. Offsets and len must be OS-page aligned, len > 0, and the file must
 * hold the whole range (else WAFER_ERROR_MALFORMED: a mapping past the end would fault when
 * touched). */
wafer_error *memory_image_from_file(int fd, uint64_t fd_offset, uint64_t memory_offset,
                                    uint64_t len, memory_image **out);
void memory_image_retain(memory_image *image);
void memory_image_release(memory_image *image); /* NULL is fine */

/* The images of one module, indexed by *defined* memory index (DESIGN.md invariant 3). A module
 * has either no module_images at all (its active data segments are copied at instantiation, spec
 * 4.5.4 step 16) or one that covers every active data segment it has: then no data segment can
 * trap, and instantiation maps images instead of copying. */
typedef struct module_images {
    uint32_t num_defined_memories;
    memory_image **images; /* NULL entries: that memory starts all zero */
} module_images;

/* Builds the images of a validated module (module creation, when config.memory_images is set).
 * *out stays NULL, without error, when the segments cannot form images: a segment targets an
 * imported memory, its offset is not an i32.const or i64.const, or it does not fit within the
 * memory's minimum size (so it would trap, and must trap in order). Errors are WAFER_ERROR_RESOURCE
 * (memfd_create or ftruncate refused, or out of memory). */
wafer_error *module_images_build(const wafer_module *module, module_images **out);
/* An empty set for num_defined_memories memories (all NULL), for loaders that fill it themselves
 * (precompiled modules, with memory_image_from_file). NULL when out of memory. */
module_images *module_images_new(uint32_t num_defined_memories);
void module_images_free(module_images *images); /* releases each image; NULL is fine */

/* ---- Memory slots --------------------------------------------------------------------------- */

typedef struct memory_slot {
    uint8_t *base;        /* the reservation; NULL when the slot holds none */
    size_t reserved;      /* bytes reserved, guard included */
    size_t accessible;    /* bytes from base that are readable and writable */
    memory_image *image;  /* mapped at base + image->memory_offset (a reference), or NULL */
    bool dirty;           /* accessible bytes may differ from the image (or zero): set by the
                           * slot's user when its memory was written (memory_destroy) */
} memory_slot;

/* Reserves `reserved` bytes (OS-page multiple), all PROT_NONE. WAFER_ERROR_RESOURCE if refused. */
wafer_error *memory_slot_reserve(memory_slot *slot, size_t reserved);
/* Makes a clean slot (just reserved, or reset) hold a fresh memory of `accessible` bytes (an
 * OS-page multiple within the reservation) whose contents are image's, or zeros when image is NULL.
 * The image must lie within `accessible`. Maps the image only if the slot does not hold it already;
 * changes protection only where the accessible size differs. On failure the slot is left clean
 * with nothing accessible. */
wafer_error *memory_slot_instantiate(memory_slot *slot, memory_image *image, size_t accessible);
/* Makes [accessible, new_accessible) readable and writable (zeros). false if refused. */
bool memory_slot_grow(memory_slot *slot, size_t new_accessible);
/* Makes the slot clean again for the next instance of the same image. A slot not marked dirty
 * holds the image's bytes (or zeros) still and only gets its protection back. Otherwise the first
 * keep_resident bytes are rewritten in place (memcpy from the image, memset elsewhere) so they stay resident and
 * the next instance takes no page fault there, the rest of the accessible bytes are discarded with
 * madvise(MADV_DONTNEED) (image pages revert to the file, others to zero), and bytes past
 * `keep_accessible` are made PROT_NONE again. If the OS refuses any of
 * this, the process aborts: a slot that could not be cleaned must never reach another instance
 * (DESIGN.md invariant 1). */
void memory_slot_reset(memory_slot *slot, size_t keep_accessible, size_t keep_resident);
/* Unmaps the whole reservation and releases the image (on-demand drop, pool teardown). */
void memory_slot_unreserve(memory_slot *slot);

#endif
