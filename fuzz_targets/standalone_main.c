/* A main() for fuzz targets built without libFuzzer (gcc with sanitizers, replays in `make check`):
 * feeds each file named on the command line, and every regular file of each directory named, to
 * LLVMFuzzerTestOneInput; with no arguments it feeds standard input. It names each input on
 * stderr before running it, so a sanitizer report can be traced to its file.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Reads the whole stream; NULL on failure. Never returns NULL for an empty stream. */
static uint8_t *read_stream(FILE *f, size_t *size) {
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap) break;
        uint8_t *bigger = realloc(buf, cap * 2);
        if (!bigger) free(buf);
        buf = bigger;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    *size = len;
    return buf;
}

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t size;
    uint8_t *data = read_stream(f, &size);
    fclose(f);
    if (!data) {
        fprintf(stderr, "%s: cannot read\n", path);
        return 1;
    }
    fprintf(stderr, "Running: %s (%zu bytes)\n", path, size);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs the directory's regular files in name order, so replays are repeatable. */
static int run_directory(const char *dir, size_t *ran) {
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return 1;
    }
    char **paths = NULL;
    size_t count = 0, cap = 0;
    int status = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        size_t len = strlen(dir) + strlen(entry->d_name) + 2;
        char *path = malloc(len);
        if (!path) {
            status = 1;
            break;
        }
        snprintf(path, len, "%s/%s", dir, entry->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        if (count == cap) {
            size_t new_cap = cap ? cap * 2 : 64;
            char **bigger = realloc(paths, new_cap * sizeof *paths);
            if (!bigger) {
                free(path);
                status = 1;
                break;
            }
            paths = bigger;
            cap = new_cap;
        }
        paths[count++] = path;
    }
    closedir(d);
    if (count) qsort(paths, count, sizeof *paths, compare_names);
    for (size_t i = 0; i < count; i++) {
        if (status == 0) {
            status = run_file(paths[i]);
            if (status == 0) (*ran)++;
        }
        free(paths[i]);
    }
    free(paths);
    return status;
}

int main(int argc, char **argv) {
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    if (argc < 2) {
        size_t size;
        uint8_t *data = read_stream(stdin, &size);
        if (!data) {
            fprintf(stderr, "cannot read standard input\n");
            return 1;
        }
        LLVMFuzzerTestOneInput(data, size);
        free(data);
        fprintf(stderr, "ran 1 input\n");
        return 0;
    }
    size_t ran = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        int status = S_ISDIR(st.st_mode) ? run_directory(argv[i], &ran) : run_file(argv[i]);
        if (status != 0) return status;
        if (!S_ISDIR(st.st_mode)) ran++;
    }
    fprintf(stderr, "ran %zu inputs\n", ran);
    return 0;
}
