/* Directory listing in a preopened directory (argv[1]): makes files, subdirectories and more
 * entries than one fd_readdir buffer holds, then lists them with opendir/readdir (fd_readdir,
 * resumed by cookie), stats each, rewinds and lists again, and lists a subdirectory opened by
 * path, and a link made inside. Entries are sorted before printing: the order fd_readdir returns
 * is the host filesystem's. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_NAMES = 512 };

typedef struct entry {
    char *name;
    unsigned char type;
} entry;

typedef struct listing {
    entry entries[MAX_NAMES];
    int count;
} listing;

static int by_name(const void *a, const void *b) {
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static void read_all(DIR *dir, listing *out) {
    struct dirent *found;
    out->count = 0;
    while ((found = readdir(dir)) && out->count < MAX_NAMES) {
        /* Hosts differ here and preview 1 leaves it open: wasmtime and wafer list "." and "..",
         * node's (libuv's) fd_readdir leaves them out. */
        if (strcmp(found->d_name, ".") == 0 || strcmp(found->d_name, "..") == 0) continue;
        out->entries[out->count++] = (entry){strdup(found->d_name), found->d_type};
    }
    qsort(out->entries, (size_t)out->count, sizeof out->entries[0], by_name);
}

static const char *type_name(unsigned char type) {
    switch (type) {
    case DT_REG: return "file";
    case DT_DIR: return "dir";
    case DT_LNK: return "link";
    default: return "other";
    }
}

/* Prints each entry with its type as readdir gave it and, for files, the size lstat gives. */
static void print_listing(const char *dir_path, const listing *l) {
    printf("%s: %d entries\n", dir_path, l->count);
    for (int i = 0; i < l->count; i++) {
        const entry *e = &l->entries[i];
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir_path, e->name);
        struct stat st;
        if (lstat(path, &st) != 0)
            printf("  %-40s %-5s lstat: %s\n", e->name, type_name(e->type), strerror(errno));
        else if (S_ISREG(st.st_mode))
            printf("  %-40s %-5s %lld bytes\n", e->name, type_name(e->type), (long long)st.st_size);
        else
            printf("  %-40s %-5s\n", e->name, type_name(e->type));
    }
}

static void free_listing(listing *l) {
    for (int i = 0; i < l->count; i++) free(l->entries[i].name);
    l->count = 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: readdir DIR\n");
        return 2;
    }
    const char *root = argv[1];
    char path[600];
    snprintf(path, sizeof path, "%s/tree", root);
    if (mkdir(path, 0755) != 0) { perror("mkdir tree"); return 1; }
    snprintf(path, sizeof path, "%s/tree/inner", root);
    mkdir(path, 0755);
    /* Long names, so the entries outgrow one fd_readdir buffer and the cookie must resume. */
    for (int i = 0; i < 150; i++) {
        snprintf(path, sizeof path, "%s/tree/entry-with-a-rather-long-name-%03d.txt", root, i);
        FILE *f = fopen(path, "w");
        if (!f) { perror(path); return 1; }
        for (int j = 0; j < i; j++) fputc('a' + j % 26, f);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/tree/inner/deep.txt", root);
    FILE *f = fopen(path, "w");
    fputs("deep\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/tree/link-to-deep", root);
    if (symlink("inner/deep.txt", path) != 0) perror("symlink");
    char target[64] = {0};
    ssize_t len = readlink(path, target, sizeof target - 1);
    printf("readlink: %zd [%s]\n", len, len > 0 ? target : "");

    static listing l;
    snprintf(path, sizeof path, "%s/tree", root);
    DIR *dir = opendir(path);
    if (!dir) { perror("opendir tree"); return 1; }
    read_all(dir, &l);
    print_listing(path, &l);
    int first = l.count;
    free_listing(&l);
    rewinddir(dir);
    read_all(dir, &l);
    printf("after rewinddir: %d entries, %s\n", l.count, l.count == first ? "same" : "DIFFERENT");
    free_listing(&l);
    closedir(dir);

    snprintf(path, sizeof path, "%s/tree/inner", root);
    dir = opendir(path);
    read_all(dir, &l);
    print_listing(path, &l);
    free_listing(&l);
    closedir(dir);

    /* fdopendir on a descriptor from open(O_DIRECTORY), and errors. */
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    dir = fd >= 0 ? fdopendir(fd) : NULL;
    printf("fdopendir: %s\n", dir ? "ok" : strerror(errno));
    if (dir) closedir(dir);
    snprintf(path, sizeof path, "%s/tree/entry-with-a-rather-long-name-001.txt", root);
    dir = opendir(path);
    printf("opendir on a file: %s\n", dir ? "ok" : strerror(errno));
    snprintf(path, sizeof path, "%s/no-such-dir", root);
    dir = opendir(path);
    printf("opendir missing: %s\n", dir ? "ok" : strerror(errno));

    /* The preopen itself lists the tree just made. */
    dir = opendir(root);
    read_all(dir, &l);
    printf("%s:", root);
    for (int i = 0; i < l.count; i++) printf(" %s", l.entries[i].name);
    printf("\n");
    free_listing(&l);
    closedir(dir);
    return 0;
}
