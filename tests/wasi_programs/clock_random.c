/* Clocks and randomness: what can be checked of values that differ from run to run. Prints only
 * verdicts, so two engines print the same lines: the monotonic clock never goes back and advances
 * across a sleep (poll_oneoff) by at least its length; the realtime clock is after 2020 and agrees
 * with time(); clock resolutions are positive; the process CPU clock exists; random_get fills
 * every byte (no run of the same value over a large buffer) and two draws differ. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t ns_of(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static void verdict(const char *what, int ok) { printf("%-44s %s\n", what, ok ? "ok" : "FAILED"); }

int main(void) {
    struct timespec a, b, res;
    int back = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 10000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (ns_of(b) < ns_of(a)) back = 1;
        a = b;
    }
    verdict("monotonic never goes back", !back);

    struct timespec before, after, pause = {0, 20 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &before);
    int slept = nanosleep(&pause, NULL);
    clock_gettime(CLOCK_MONOTONIC, &after);
    verdict("nanosleep returns 0", slept == 0);
    verdict("monotonic advances by the 20 ms slept", ns_of(after) - ns_of(before) >= 20000000);
    verdict("and by less than 10 s", ns_of(after) - ns_of(before) < 10000000000LL);

    clock_gettime(CLOCK_MONOTONIC, &before);
    usleep(5000);
    clock_gettime(CLOCK_MONOTONIC, &after);
    verdict("usleep(5000) sleeps 5 ms", ns_of(after) - ns_of(before) >= 5000000);

    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    verdict("realtime is after 2020", real.tv_sec > 1577836800);
    time_t now = time(NULL);
    verdict("time() agrees with realtime", now - real.tv_sec >= 0 && now - real.tv_sec < 5);

    verdict("monotonic resolution positive",
            clock_getres(CLOCK_MONOTONIC, &res) == 0 && ns_of(res) > 0);
    verdict("realtime resolution positive",
            clock_getres(CLOCK_REALTIME, &res) == 0 && ns_of(res) > 0);
    struct timespec cpu;
    verdict("process cpu clock readable", clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0);

    static unsigned char r1[4096], r2[4096];
    verdict("getentropy 256 bytes", getentropy(r1, 256) == 0);
    verdict("getentropy over 256 bytes is EIO",
            getentropy(r1, 257) == -1 && errno == EIO);
    for (size_t off = 0; off < sizeof r1; off += 256) {
        getentropy(r1 + off, 256);
        getentropy(r2 + off, 256);
    }
    int counts[256] = {0}, longest = 0, run = 0;
    for (size_t i = 0; i < sizeof r1; i++) {
        counts[r1[i]]++;
        run = i > 0 && r1[i] == r1[i - 1] ? run + 1 : 0;
        if (run > longest) longest = run;
    }
    int missing = 0;
    for (int v = 0; v < 256; v++) missing += counts[v] == 0;
    verdict("4096 random bytes take almost every value", missing < 8);
    verdict("no long run of one byte", longest < 6);
    verdict("two draws differ", memcmp(r1, r2, sizeof r1) != 0);
    return 0;
}
