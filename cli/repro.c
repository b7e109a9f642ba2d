/* `wafer repro`: replays one input through a fuzz target's builds (build/fuzz/<build>/<target>,
 * made by ./build.sh) and says, for each, whether it still fails, how (the report's first line
 * and stack signature, crash_report.h), and the command that reruns it. This is the first step
 * from a finding to a regression input (docs/FUZZING.md); ci/regress_add.sh asks it whether an
 * input crashes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "crash_report.h"

const char repro_usage[] =
    "usage: wafer repro FILE [--target T] [--planted NAME] [--build B]... [--timeout S]\n"
    "\n"
    "Replays FILE through the fuzz target T in the builds of ./build.sh, by default\n"
    "build/fuzz/standalone/T (gcc, ASan+UBSan) and build/fuzz/libfuzzer/T (clang-16, libFuzzer,\n"
    "ASan+UBSan), and prints for each whether FILE still makes it fail, the first line of the\n"
    "report (sanitizer, UBSan, libFuzzer, broken invariant), the stack signature (the top frames\n"
    "in runtime/, innermost first) and the command that reruns it.\n"
    "\n"
    "  --target T     the fuzz target (fuzz_targets/T.c); by default taken from FILE's path:\n"
    "                 corpora/regressions/T/..., findings/T/..., corpora/T/... (and decode for\n"
    "                 a file directly in corpora/regressions/)\n"
    "  --planted NAME also replays FILE through build/fuzz/planted/T (./build.sh planted) with\n"
    "                 WAFER_PLANTED_BUG=NAME, the planted bug switched on (runtime/src/planted.h)\n"
    "  --build B      replays only through the builds named (standalone, libfuzzer, planted,\n"
    "                 msan, afl); repeatable\n"
    "  --timeout S    a run longer than S seconds (default 60) is killed and counts as failing\n"
    "\n"
    "Runs from the repository (the current directory, else the one holding this wafer). A build\n"
    "that is missing is reported with the command that makes it and skipped.\n"
    "\n"
    "Exit status: 0 FILE fails in none of the builds run; 1 it fails in at least one; 2 usage\n"
    "error, or no build to run.\n";

enum { MAX_BUILDS = 8, OUTPUT_MAX = 1 << 20 };

typedef struct build_kind {
    const char *name;
    const char *what;
} build_kind;

static const build_kind build_kinds[] = {
    {"standalone", "gcc ASan+UBSan"},
    {"libfuzzer", "clang-16 libFuzzer ASan+UBSan"},
    {"planted", "libFuzzer ASan+UBSan, planted bugs"},
    {"msan", "clang-16 libFuzzer MSan"},
    {"afl", "AFL++ ASan+UBSan"},
};

typedef struct repro_request {
    const char *input;
    const char *target; /* NULL: inferred from the input's path */
    const char *planted;
    const build_kind *builds[MAX_BUILDS];
    int nbuilds;
    unsigned timeout_s;
} repro_request;

static const build_kind *find_build(const char *name) {
    for (size_t i = 0; i < sizeof build_kinds / sizeof build_kinds[0]; i++)
        if (strcmp(build_kinds[i].name, name) == 0) return &build_kinds[i];
    return NULL;
}

static int parse_request(int argc, char **argv, repro_request *req) {
    memset(req, 0, sizeof *req);
    req->timeout_s = 60;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        bool takes = strcmp(arg, "--target") == 0 || strcmp(arg, "--planted") == 0 ||
                     strcmp(arg, "--build") == 0 || strcmp(arg, "--timeout") == 0;
        if (takes && i + 1 >= argc) {
            fprintf(stderr, "wafer repro: %s needs a value\n", arg);
            return EXIT_USAGE;
        }
        if (strcmp(arg, "--target") == 0) {
            req->target = argv[++i];
        } else if (strcmp(arg, "--planted") == 0) {
            req->planted = argv[++i];
        } else if (strcmp(arg, "--build") == 0) {
            const build_kind *b = find_build(argv[++i]);
            if (!b || req->nbuilds == MAX_BUILDS) {
                fprintf(stderr, "wafer repro: no build \"%s\" (see wafer help repro)\n", argv[i]);
                return EXIT_USAGE;
            }
            req->builds[req->nbuilds++] = b;
        } else if (strcmp(arg, "--timeout") == 0) {
            char *end;
            unsigned long s = strtoul(argv[++i], &end, 10);
            if (*end || s == 0 || s > 86400 || argv[i][0] == '-') {
                fprintf(stderr, "wafer repro: --timeout needs seconds, got \"%s\"\n", argv[i]);
                return EXIT_USAGE;
            }
            req->timeout_s = (unsigned)s;
        } else if (arg[0] == '-' || req->input) {
            fprintf(stderr, "wafer repro: unexpected argument %s (see wafer help repro)\n", arg);
            return EXIT_USAGE;
        } else {
            req->input = arg;
        }
    }
    if (!req->input) {
        fprintf(stderr, "wafer repro: needs the FILE to replay (see wafer help repro)\n");
        return EXIT_USAGE;
    }
    if (req->nbuilds == 0) {
        req->builds[req->nbuilds++] = find_build("standalone");
        req->builds[req->nbuilds++] = find_build("libfuzzer");
        if (req->planted) req->builds[req->nbuilds++] = find_build("planted");
    }
    return EXIT_OK;
}

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_repository(const char *dir) {
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/fuzz_targets", dir);
    if (!is_dir(path)) return false;
    snprintf(path, sizeof path, "%s/runtime/include/wafer.h", dir);
    return access(path, R_OK) == 0;
}

/* The repository: "." when the current directory is one (paths are then shown relative),
 * else the nearest directory above this executable that is one. */
static bool find_repository(char *root, size_t size) {
    if (is_repository(".")) {
        snprintf(root, size, ".");
        return true;
    }
    char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0) return false;
    dir[n] = '\0';
    for (char *slash = strrchr(dir, '/'); slash && slash != dir; slash = strrchr(dir, '/')) {
        *slash = '\0';
        if (is_repository(dir)) {
            snprintf(root, size, "%s", dir);
            return true;
        }
    }
    return false;
}

static bool target_exists(const char *root, const char *target, size_t len) {
    char path[PATH_MAX + 64];
    if (len == 0 || len > 64) return false;
    snprintf(path, sizeof path, "%s/fuzz_targets/%.*s.c", root, (int)len, target);
    return access(path, R_OK) == 0;
}

/* The target a path names: the directory after corpora/regressions/, findings/ or corpora/ that
 * is a target's name; decode for a file directly in corpora/regressions/. */
static bool infer_target(const char *root, const char *input, char *target, size_t size) {
    char path[PATH_MAX];
    if (!realpath(input, path)) return false;
    const char *parts[PATH_MAX / 2];
    size_t lens[PATH_MAX / 2], n = 0;
    for (const char *p = path; *p && n < PATH_MAX / 2;) {
        p += strspn(p, "/");
        size_t len = strcspn(p, "/");
        if (len) {
            parts[n] = p;
            lens[n++] = len;
        }
        p += len;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        bool regressions = lens[i] == 11 && strncmp(parts[i], "regressions", 11) == 0;
        bool container = regressions || (lens[i] == 8 && strncmp(parts[i], "findings", 8) == 0) ||
                         (lens[i] == 7 && strncmp(parts[i], "corpora", 7) == 0);
        if (!container) continue;
        bool after_corpora =
            i > 0 && lens[i - 1] == 7 && strncmp(parts[i - 1], "corpora", 7) == 0;
        if (regressions && after_corpora && i + 2 == n) {
            snprintf(target, size, "decode");
            return true;
        }
        if (i + 2 < n && target_exists(root, parts[i + 1], lens[i + 1])) {
            snprintf(target, size, "%.*s", (int)lens[i + 1], parts[i + 1]);
            return true;
        }
    }
    return false;
}

static bool newer_than(const struct stat *st, const struct timespec *t) {
    return st->st_mtim.tv_sec > t->tv_sec ||
           (st->st_mtim.tv_sec == t->tv_sec && st->st_mtim.tv_nsec > t->tv_nsec);
}

static bool is_source(const char *name) {
    size_t len = strlen(name);
    return len > 2 && name[len - 2] == '.' && (name[len - 1] == 'c' || name[len - 1] == 'h');
}

/* The newest C source or header directly in dir, if newer than *newest (updating it and
 * newest_path). */
static void newest_in(const char *dir, struct timespec *newest, char *newest_path, size_t size) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[2 * PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (!is_source(e->d_name) || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (newer_than(&st, newest)) {
            *newest = st.st_mtim;
            snprintf(newest_path, size, "%s", path);
        }
    }
    closedir(d);
}

/* A source the target's build compiles (the runtime, the oracles, the shared fuzzing code, the
 * target itself) that is newer than binary, into newer; false if none. */
static bool source_newer_than(const char *root, const char *target, const char *binary,
                              char *newer, size_t size) {
    struct stat st;
    if (stat(binary, &st) != 0) return false;
    static const char *const dirs[] = {"runtime/src", "runtime/include", "oracles",
                                       "fuzz_targets/gen", "fuzz_targets/support"};
    struct timespec newest = st.st_mtim;
    newer[0] = '\0';
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char dir[PATH_MAX + 64];
        snprintf(dir, sizeof dir, "%s/%s", root, dirs[i]);
        newest_in(dir, &newest, newer, size);
    }
    char own[PATH_MAX + 128];
    snprintf(own, sizeof own, "%s/fuzz_targets/%s.c", root, target);
    if (stat(own, &st) == 0 && newer_than(&st, &newest)) snprintf(newer, size, "%s", own);
    return newer[0] != '\0';
}

typedef struct run_result {
    bool timed_out;
    int wait_status;
    char *output; /* stdout and stderr, interleaved as written, NUL-terminated */
} run_result;

/* Reads at most OUTPUT_MAX bytes of the file behind fd, from the start. */
static char *read_all(int fd) {
    char *buf = malloc(OUTPUT_MAX + 1);
    if (!buf) return NULL;
    size_t len = 0;
    ssize_t n;
    lseek(fd, 0, SEEK_SET);
    while (len < OUTPUT_MAX && (n = read(fd, buf + len, OUTPUT_MAX - len)) > 0) len += (size_t)n;
    buf[len] = '\0';
    return buf;
}

/* Runs argv with its output in a temporary file, in a process group of its own, so that a run
 * killed at the time limit takes its children (the sanitizers' symbolizer) with it. */
static bool run_binary(char *const argv[], unsigned timeout_s, run_result *out, char *why,
                       size_t why_size) {
    memset(out, 0, sizeof *out);
    char log[] = "/tmp/wafer-repro-XXXXXX";
    int fd = mkstemp(log);
    if (fd < 0) {
        snprintf(why, why_size, "mkstemp: %s", strerror(errno));
        return false;
    }
    unlink(log);
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fd, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    extern char **environ;
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        snprintf(why, why_size, "cannot run %s: %s", argv[0], strerror(rc));
        close(fd);
        return false;
    }
    struct timespec start, now, tick = {0, 10 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        pid_t done = waitpid(pid, &out->wait_status, WNOHANG);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) {
            snprintf(why, why_size, "waitpid: %s", strerror(errno));
            close(fd);
            return false;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (!out->timed_out && now.tv_sec - start.tv_sec >= (time_t)timeout_s) {
            out->timed_out = true;
            kill(-pid, SIGKILL);
        }
        nanosleep(&tick, NULL);
    }
    if (out->timed_out) kill(-pid, SIGKILL);
    out->output = read_all(fd);
    close(fd);
    if (!out->output) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    return true;
}

/* Prints text as one shell word. */
static void print_word(const char *text) {
    if (*text && strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                              "_-./=:+,@%") == strlen(text)) {
        fputs(text, stdout);
        return;
    }
    putchar('\'');
    for (const char *p = text; *p; p++) {
        if (*p == '\'') fputs("'\\''", stdout);
        else putchar(*p);
    }
    putchar('\'');
}

/* The sanitizer settings of ci/fuzz_lib.sh's fuzz_sanitizer_env, where the caller set none. */
static void set_sanitizer_environment(void) {
    setenv("ASAN_OPTIONS", "detect_leaks=1:allocator_may_return_null=1", 0);
    setenv("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1", 0);
    setenv("MSAN_OPTIONS", "allocator_may_return_null=1", 0);
    if (getenv("ASAN_SYMBOLIZER_PATH")) return;
    static const char *const symbolizers[] = {"/usr/bin/llvm-symbolizer-16",
                                              "/usr/lib/llvm-16/bin/llvm-symbolizer",
                                              "/usr/bin/llvm-symbolizer"};
    for (size_t i = 0; i < sizeof symbolizers / sizeof symbolizers[0]; i++) {
        if (access(symbolizers[i], X_OK) == 0) {
            setenv("ASAN_SYMBOLIZER_PATH", symbolizers[i], 1);
            setenv("MSAN_SYMBOLIZER_PATH", symbolizers[i], 1);
            return;
        }
    }
}

typedef enum verdict { VERDICT_PASSES, VERDICT_FAILS, VERDICT_NOT_RUN } verdict;

/* Replays the input through one build, printing its paragraph. */
static verdict replay(const repro_request *req, const char *root, const char *target,
                      const build_kind *build) {
    char binary[PATH_MAX + 128];
    snprintf(binary, sizeof binary, "%s/build/fuzz/%s/%s", root, build->name, target);
    const char *shown = strncmp(binary, "./", 2) == 0 ? binary + 2 : binary;
    bool planted = strcmp(build->name, "planted") == 0;
    printf("%-10s  ", build->name);
    if (planted && !req->planted) {
        printf("not run: the planted build needs --planted NAME\n");
        return VERDICT_NOT_RUN;
    }
    if (access(binary, X_OK) != 0) {
        printf("not run: %s is missing; build it with ./build.sh %s\n", shown, build->name);
        return VERDICT_NOT_RUN;
    }
    /* Only the planted build reads the switch; the others run as the user would run them. */
    if (planted) setenv("WAFER_PLANTED_BUG", req->planted, 1);
    else unsetenv("WAFER_PLANTED_BUG");
    char *argv[] = {binary, (char *)req->input, NULL};
    run_result res;
    char why[PATH_MAX + 128];
    if (!run_binary(argv, req->timeout_s, &res, why, sizeof why)) {
        printf("not run: %s\n", why);
        return VERDICT_NOT_RUN;
    }
    bool fails = res.timed_out || !WIFEXITED(res.wait_status) || WEXITSTATUS(res.wait_status) != 0;
    crash_report report;
    crash_report_read(res.output, &report);
    if (!fails) {
        printf("passes      %s (%s)\n", shown, build->what);
    } else {
        printf("FAILS       %s (%s)\n", shown, build->what);
        if (res.timed_out)
            printf("            hangs: killed after %u s (--timeout)\n", req->timeout_s);
        else if (report.found)
            printf("            report: %s\n", report.first_line);
        else if (WIFSIGNALED(res.wait_status))
            printf("            killed by signal %d, no report\n", WTERMSIG(res.wait_status));
        else
            printf("            exit status %d, no report\n", WEXITSTATUS(res.wait_status));
        printf("            signature: %s\n", report.signature);
    }
    char newer[2 * PATH_MAX];
    if (source_newer_than(root, target, binary, newer, sizeof newer))
        printf("            stale: %s is newer than the binary; rebuild with ./build.sh %s\n",
               strncmp(newer, "./", 2) == 0 ? newer + 2 : newer, build->name);
    printf("            rerun: ");
    if (planted) {
        printf("WAFER_PLANTED_BUG=");
        print_word(req->planted);
        putchar(' ');
    }
    print_word(shown);
    putchar(' ');
    print_word(req->input);
    putchar('\n');
    free(res.output);
    return fails ? VERDICT_FAILS : VERDICT_PASSES;
}

int repro_main(int argc, char **argv) {
    repro_request req;
    int status = parse_request(argc, argv, &req);
    if (status != EXIT_OK) return status;
    struct stat st;
    if (stat(req.input, &st) != 0) {
        fprintf(stderr, "wafer repro: %s: %s\n", req.input, strerror(errno));
        return EXIT_USAGE;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "wafer repro: %s is not a regular file\n", req.input);
        return EXIT_USAGE;
    }
    char root[PATH_MAX];
    if (!find_repository(root, sizeof root)) {
        fprintf(stderr, "wafer repro: run it in the wafer repository (no fuzz_targets/ here)\n");
        return EXIT_USAGE;
    }
    char target[80];
    if (req.target) {
        if (!target_exists(root, req.target, strlen(req.target))) {
            fprintf(stderr, "wafer repro: no fuzz target fuzz_targets/%s.c\n", req.target);
            return EXIT_USAGE;
        }
        snprintf(target, sizeof target, "%s", req.target);
    } else if (!infer_target(root, req.input, target, sizeof target)) {
        fprintf(stderr, "wafer repro: cannot tell the target from the path %s; name it with "
                        "--target T\n", req.input);
        return EXIT_USAGE;
    }
    set_sanitizer_environment();
    printf("repro: %s (%lld bytes) through fuzz target %s\n", req.input, (long long)st.st_size,
           target);
    int failed = 0, ran = 0;
    for (int i = 0; i < req.nbuilds; i++) {
        fflush(stdout);
        verdict v = replay(&req, root, target, req.builds[i]);
        ran += v != VERDICT_NOT_RUN;
        failed += v == VERDICT_FAILS;
    }
    if (ran == 0) {
        printf("verdict: not replayed (no build of %s to run)\n", target);
        return EXIT_USAGE;
    }
    if (failed) printf("verdict: still fails, in %d of %d builds\n", failed, ran);
    else printf("verdict: no longer fails (passes in %d of %d builds)\n", ran, ran);
    return failed ? EXIT_FAILED : EXIT_OK;
}
