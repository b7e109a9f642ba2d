/* Waiting (poll_oneoff): poll() with only a timeout sleeps at least that long; stdin, a pipe, is
 * reported readable and then read to its end; and a poll on nothing with a zero timeout returns 0
 * at once. (Regular files are always ready, as POSIX says, in wafer, but node's WASI cannot poll
 * them at all: test_wasi_files.c holds wafer to that.) */
#include <poll.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int main(int argc, char **argv) {
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: poll_wait <PIPE\n");
        return 2;
    }
    int64_t start = now_ns();
    int r = poll(NULL, 0, 30);
    int64_t waited = now_ns() - start;
    printf("poll(nothing, 30 ms): %d, waited at least 30 ms: %d\n", r, waited >= 30000000);

    struct pollfd in = {.fd = 0, .events = POLLIN};
    r = poll(&in, 1, 5000);
    printf("poll(stdin): %d, readable: %d\n", r, (in.revents & POLLIN) != 0);
    char buf[4096];
    long total = 0;
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) total += n;
    printf("read %ld bytes of stdin, then %zd\n", total, n);

    start = now_ns();
    r = poll(NULL, 0, 0);
    printf("poll(nothing, 0): %d, at once: %d\n", r, now_ns() - start < 1000000000);
    return 0;
}
