/* Echoes the program's arguments and environment (args_get, environ_get and their sizes), and
 * looks some variables up, including one that is not set: what it prints depends only on what
 * the host was given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("argc %d\n", argc);
    for (int i = 0; i < argc; i++) printf("argv[%d] = [%s] (%zu bytes)\n", i, argv[i], strlen(argv[i]));
    int count = 0;
    for (char **e = environ; *e; e++) printf("environ[%d] = [%s]\n", count++, *e);
    printf("%d variables\n", count);
    const char *names[] = {"HOME", "GREETING", "EMPTY", "NOT_SET", "PATH"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *value = getenv(names[i]);
        printf("getenv(%s) = %s%s%s\n", names[i], value ? "[" : "", value ? value : "(null)",
               value ? "]" : "");
    }
    /* setenv changes the guest's own copy only. */
    setenv("GREETING", "changed", 1);
    printf("after setenv: %s\n", getenv("GREETING"));
    return argc > 1 && strcmp(argv[1], "fail") == 0 ? 1 : 0;
}
