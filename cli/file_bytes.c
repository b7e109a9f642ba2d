/* Whole-file reads: see file_bytes.h. */
#include "file_bytes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool file_bytes_read(const char *path, uint8_t **out, size_t *len, const char **why) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        *why = strerror(errno);
        return false;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        *why = "not a regular file";
        fclose(f);
        return false;
    }
    size_t size = (size_t)st.st_size;
    /* One spare byte so that an empty file still gets a non-NULL buffer. */
    uint8_t *bytes = malloc(size + 1);
    if (!bytes) {
        *why = "out of memory";
        fclose(f);
        return false;
    }
    size_t got = fread(bytes, 1, size, f);
    bool failed = ferror(f) || got != size;
    fclose(f);
    if (failed) {
        free(bytes);
        *why = "read error";
        return false;
    }
    *out = bytes;
    *len = size;
    return true;
}
