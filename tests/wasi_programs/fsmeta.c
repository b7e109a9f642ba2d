/* File metadata and the less common file calls, in a preopened directory (argv[1]): timestamps
 * set and read back exactly, hard links and their count, O_APPEND set with fcntl, ftruncate and
 * writes past the end (a hole reads as zeros), fsync and fdatasync, rename over an existing file
 * and of a directory into itself, and the errors POSIX names for a file used as a directory, a
 * directory opened for writing, a trailing slash on a file, a name too long, a missing parent and
 * readlink of a file. Prints what it observed.
 * Three things are printed less exactly than wafer keeps them, because node's WASI (uvwasi) does
 * not: it keeps timestamps to the second only, reports O_APPEND on a descriptor opened without it,
 * and refuses a link to an absolute path with EPERM where wafer says ENOTCAPABLE (preview 1 names
 * neither). test_wasi_files.c holds wafer to the exact behaviour. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *root;

static const char *at(const char *name) {
    static char bufs[4][600];
    static int next;
    char *buf = bufs[next++ % 4];
    snprintf(buf, sizeof bufs[0], "%s/%s", root, name);
    return buf;
}

static void report(const char *what, int failed) {
    printf("%-40s %s\n", what, failed ? strerror(errno) : "ok");
}

static void make_file(const char *name, const char *content) {
    int fd = open(at(name), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content)) perror(name);
    close(fd);
}

static void print_file(const char *name) {
    char buf[256];
    int fd = open(at(name), O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    printf("%s: ", name);
    for (ssize_t i = 0; i < n; i++) putchar(buf[i] ? buf[i] : '0');
    printf(" (%zd bytes)\n", n);
    close(fd);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: fsmeta DIR\n");
        return 2;
    }
    root = argv[1];
    struct stat st;

    make_file("stamped.txt", "time");
    struct timespec times[2] = {{1000000000, 123456789}, {1234567890, 987654321}};
    report("utimensat", utimensat(AT_FDCWD, at("stamped.txt"), times, 0) != 0);
    stat(at("stamped.txt"), &st);
    printf("atime %lld mtime %lld\n", (long long)st.st_atim.tv_sec, (long long)st.st_mtim.tv_sec);
    int fd = open(at("stamped.txt"), O_RDWR);
    struct timespec only_mtime[2] = {{0, UTIME_OMIT}, {1500000000, 5}};
    report("futimens, atime omitted", futimens(fd, only_mtime) != 0);
    fstat(fd, &st);
    printf("atime %lld mtime %lld\n", (long long)st.st_atim.tv_sec, (long long)st.st_mtim.tv_sec);
    close(fd);

    report("link", link(at("stamped.txt"), at("hard.txt")) != 0);
    stat(at("stamped.txt"), &st);
    struct stat st2;
    stat(at("hard.txt"), &st2);
    printf("nlink %llu, same inode %d\n", (unsigned long long)st.st_nlink, st.st_ino == st2.st_ino);
    report("link onto an existing name", link(at("stamped.txt"), at("hard.txt")) != 0);
    report("unlink one name", unlink(at("hard.txt")) != 0);
    stat(at("stamped.txt"), &st);
    printf("nlink %llu\n", (unsigned long long)st.st_nlink);

    make_file("log.txt", "first\n");
    fd = open(at("log.txt"), O_WRONLY);
    int flags = fcntl(fd, F_GETFL);
    printf("write-only: %d\n", (flags & O_ACCMODE) == O_WRONLY);
    report("fcntl F_SETFL O_APPEND", fcntl(fd, F_SETFL, flags | O_APPEND) != 0);
    printf("append after: %d\n", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    lseek(fd, 0, SEEK_SET);
    if (write(fd, "second\n", 7) != 7) perror("append");
    close(fd);
    print_file("log.txt");

    make_file("holes.bin", "abc");
    fd = open(at("holes.bin"), O_RDWR);
    report("ftruncate to 8", ftruncate(fd, 8) != 0);
    lseek(fd, 12, SEEK_SET);
    if (write(fd, "end", 3) != 3) perror("write past end");
    report("fsync", fsync(fd) != 0);
    report("fdatasync", fdatasync(fd) != 0);
    report("pwrite at 4", pwrite(fd, "P", 1, 4) != 1);
    char small[4] = {0};
    printf("pread at 11: %zd\n", pread(fd, small, 4, 11));
    close(fd);
    print_file("holes.bin");
    report("truncate to 2", truncate(at("holes.bin"), 2) != 0);
    print_file("holes.bin");

    make_file("a.txt", "A");
    make_file("b.txt", "B");
    report("rename over an existing file", rename(at("a.txt"), at("b.txt")) != 0);
    print_file("b.txt");
    report("stat renamed-away name", stat(at("a.txt"), &st) != 0);
    mkdir(at("d"), 0755);
    mkdir(at("d/e"), 0755);
    report("rename a directory into itself", rename(at("d"), at("d/e/d")) != 0);
    report("rename a file over a directory", rename(at("b.txt"), at("d")) != 0);
    report("rename a directory over a file", rename(at("d"), at("b.txt")) != 0);
    report("rmdir a file", rmdir(at("b.txt")) != 0);

    report("open a file as a directory", open(at("b.txt/x"), O_RDONLY) < 0);
    report("open O_DIRECTORY on a file", open(at("b.txt"), O_RDONLY | O_DIRECTORY) < 0);
    report("open a directory for writing", open(at("d"), O_WRONLY) < 0);
    report("stat with a trailing slash on a file", stat(at("b.txt/"), &st) != 0);
    report("stat with a trailing slash on a dir", stat(at("d/"), &st) != 0);
    char long_name[300];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    report("create a 299-byte name", open(at(long_name), O_CREAT | O_WRONLY, 0644) < 0);
    report("mkdir with a missing parent", mkdir(at("no/such/dir"), 0755) != 0);
    char target[32];
    report("readlink of a file", readlink(at("b.txt"), target, sizeof target) < 0);
    report("symlink onto an existing name", symlink("b.txt", at("d")) != 0);
    printf("%-40s %s\n", "symlink to an absolute path",
           symlink("/etc/passwd", at("abs-link")) == 0 ? "made" : "refused");
    report("unlink that link", unlink(at("abs-link")) != 0);

    fstat(1, &st);
    printf("stdout is a regular file: %d\n", S_ISREG(st.st_mode) != 0);
    report("lseek on a directory fd", lseek(open(at("d"), O_RDONLY | O_DIRECTORY), 0, SEEK_CUR) < 0);
    return 0;
}
