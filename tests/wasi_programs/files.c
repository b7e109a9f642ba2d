/* File I/O in a preopened directory (argv[1], e.g. /sandbox): create, write, seek, read back,
 * append, truncate, stat, rename, link-free moves between subdirectories, unlink, rmdir, and the
 * errors a program sees for a missing file, a directory that is not empty, and a path that tries
 * to leave the preopen. Prints what it observed; the comparison with node's WASI checks it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path_buf[4][512];

/* root/name in one of four rotating buffers, so a call can take two. */
static const char *at(const char *root, const char *name) {
    static int next;
    char *buf = path_buf[next++ % 4];
    snprintf(buf, sizeof path_buf[0], "%s/%s", root, name);
    return buf;
}

static void report_errno(const char *what, int result) {
    printf("%s: %s\n", what, result == 0 ? "ok" : strerror(errno));
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: files DIR\n");
        return 2;
    }
    const char *root = argv[1];

    FILE *f = fopen(at(root, "notes.txt"), "w");
    if (!f) { perror("fopen notes.txt"); return 1; }
    for (int i = 0; i < 100; i++) fprintf(f, "line %03d: %d\n", i, i * i);
    printf("written, ftell %ld\n", ftell(f));
    fclose(f);

    f = fopen(at(root, "notes.txt"), "r+");
    if (!f) { perror("fopen r+"); return 1; }
    char line[64];
    fseek(f, 750, SEEK_SET);  /* mid-line, mid-file: the next fgets reads a partial line */
    if (fgets(line, sizeof line, f)) printf("at 750: %s", line);
    fseek(f, -10, SEEK_END);
    size_t n = fread(line, 1, sizeof line - 1, f);
    line[n] = '\0';
    printf("last %zu bytes: %s", n, line);
    fseek(f, 0, SEEK_SET);
    fputs("LINE", f);
    fclose(f);

    f = fopen(at(root, "notes.txt"), "a");
    fputs("appended\n", f);
    fclose(f);

    struct stat st;
    report_errno("stat notes.txt", stat(at(root, "notes.txt"), &st));
    printf("size %lld, regular %d, dir %d\n", (long long)st.st_size, S_ISREG(st.st_mode) != 0,
           S_ISDIR(st.st_mode) != 0);

    int fd = open(at(root, "notes.txt"), O_RDONLY);
    char head[16] = {0};
    printf("pread: %zd ", pread(fd, head, 8, 0));
    printf("'%s'\n", head);
    printf("lseek end: %lld\n", (long long)lseek(fd, 0, SEEK_END));
    struct stat fst;
    fstat(fd, &fst);
    printf("fstat size matches: %d\n", fst.st_size == st.st_size);
    close(fd);

    report_errno("truncate to 20", truncate(at(root, "notes.txt"), 20));
    stat(at(root, "notes.txt"), &st);
    printf("size after truncate %lld\n", (long long)st.st_size);

    report_errno("mkdir sub", mkdir(at(root, "sub"), 0755));
    report_errno("mkdir sub again", mkdir(at(root, "sub"), 0755));
    report_errno("rename into sub", rename(at(root, "notes.txt"), at(root, "sub/moved.txt")));
    report_errno("stat old name", stat(at(root, "notes.txt"), &st));
    report_errno("stat sub", stat(at(root, "sub"), &st));
    printf("sub is dir %d\n", S_ISDIR(st.st_mode) != 0);
    report_errno("rmdir non-empty sub", rmdir(at(root, "sub")));

    f = fopen(at(root, "sub/moved.txt"), "r");
    if (f && fgets(line, sizeof line, f)) printf("moved file starts: %s", line);
    if (f) fclose(f);

    report_errno("open missing", open(at(root, "missing.txt"), O_RDONLY) < 0 ? -1 : 0);
    report_errno("open outside with ..", open(at(root, "../escape.txt"), O_CREAT | O_WRONLY, 0644)
                                                 < 0 ? -1 : 0);
    report_errno("open sub/../../x", open(at(root, "sub/../../x"), O_RDONLY) < 0 ? -1 : 0);
    report_errno("open O_EXCL existing",
                 open(at(root, "sub/moved.txt"), O_CREAT | O_EXCL | O_WRONLY, 0644) < 0 ? -1 : 0);
    report_errno("unlink a directory", unlink(at(root, "sub")));

    /* A larger file written and read back in odd-sized chunks. */
    fd = open(at(root, "big.bin"), O_CREAT | O_TRUNC | O_RDWR, 0644);
    unsigned char chunk[777];
    unsigned sum_out = 0, sum_in = 0;
    for (int i = 0; i < 300; i++) {
        for (size_t j = 0; j < sizeof chunk; j++) chunk[j] = (unsigned char)(i * 31 + j * 7);
        for (size_t j = 0; j < sizeof chunk; j++) sum_out = sum_out * 33 + chunk[j];
        if (write(fd, chunk, sizeof chunk) != (ssize_t)sizeof chunk) perror("write big");
    }
    lseek(fd, 0, SEEK_SET);
    ssize_t got;
    long long total = 0;
    while ((got = read(fd, chunk, 500)) > 0) {
        for (ssize_t j = 0; j < got; j++) sum_in = sum_in * 33 + chunk[j];
        total += got;
    }
    close(fd);
    printf("big.bin %lld bytes, checksums %s\n", total, sum_in == sum_out ? "match" : "DIFFER");

    report_errno("unlink big.bin", unlink(at(root, "big.bin")));
    report_errno("unlink sub/moved.txt", unlink(at(root, "sub/moved.txt")));
    report_errno("rmdir sub", rmdir(at(root, "sub")));
    report_errno("unlink missing", unlink(at(root, "big.bin")));

    f = fopen(at(root, "result.txt"), "w");
    fputs("files: done\n", f);
    fclose(f);
    puts("done");
    return 0;
}
