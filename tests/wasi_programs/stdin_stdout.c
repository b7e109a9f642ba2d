/* A filter: reads all of stdin (fd_read until end of file) in small and odd-sized reads, writes
 * it to stdout with lines numbered and letters upper-cased, then counts lines, words and bytes
 * like wc to stderr. With argument "bytes" it copies stdin to stdout unchanged through read() and
 * write() directly, for binary input. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int copy_bytes(void) {
    char buf[1000];
    ssize_t n;
    long long total = 0;
    while ((n = read(0, buf, sizeof buf)) > 0) {
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(1, buf + off, (size_t)(n - off));
            if (w <= 0) { perror("write"); return 1; }
            off += w;
        }
        total += n;
    }
    if (n < 0) { perror("read"); return 1; }
    fprintf(stderr, "copied %lld bytes\n", total);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "bytes") == 0) return copy_bytes();
    long lines = 0, words = 0, bytes = 0;
    int in_word = 0, at_line_start = 1, c;
    while ((c = getchar()) != EOF) {
        bytes++;
        if (at_line_start) printf("%4ld| ", lines + 1);
        at_line_start = 0;
        putchar(toupper(c));
        if (c == '\n') { lines++; at_line_start = 1; }
        if (isspace(c)) in_word = 0;
        else if (!in_word) { in_word = 1; words++; }
    }
    if (!at_line_start) putchar('\n');
    if (ferror(stdin)) { perror("stdin"); return 1; }
    fprintf(stderr, "%ld lines, %ld words, %ld bytes\n", lines, words, bytes);
    return 0;
}
