/* Ways a program ends, chosen by argv[1], with the status from argv[2]: returning from main,
 * exit() (atexit handlers run, stdio is flushed), _Exit() (neither), and exit after writing to a
 * closed stdout. The status the host reports must be the program's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void at_exit_handler(void) {
    printf("atexit handler ran\n");
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: exit_codes return|exit|_Exit|closed-stdout STATUS\n");
        return 2;
    }
    int status = atoi(argv[2]);
    atexit(at_exit_handler);
    printf("buffered before the end\n");
    fprintf(stderr, "to stderr, unbuffered\n");
    if (strcmp(argv[1], "return") == 0) return status;
    if (strcmp(argv[1], "exit") == 0) exit(status);
    if (strcmp(argv[1], "_Exit") == 0) _Exit(status);
    if (strcmp(argv[1], "closed-stdout") == 0) {
        fflush(stdout);
        close(1);
        ssize_t wrote = write(1, "x", 1);
        fprintf(stderr, "write to closed stdout: %zd\n", wrote);
        exit(status);
    }
    fprintf(stderr, "unknown way to end: %s\n", argv[1]);
    return 2;
}
