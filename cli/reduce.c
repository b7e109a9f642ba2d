/* `wafer reduce`: shrink a module that `wafer diff` finds mismatching with binaryen's
 * wasm-reduce, keeping the mismatch's class. wasm-reduce keeps a reduction when the command's
 * stdout and exit status stay the same, so the command is `wafer diff --class`, whose whole
 * output is the verdict's class ("MISMATCH value", ...): a smaller module that mismatches in
 * another way, or agrees, or becomes inconclusive, prints something else and is refused. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../oracles/subprocess.h"
#include "commands.h"
#include "file_bytes.h"

const char reduce_usage[] =
    "usage: wafer reduce MODULE.wasm -o OUT.wasm [--oracle NAME] [--timeout S]\n"
    "                    [--max-time S] [DIFF OPTIONS]\n"
    "\n"
    "Minimises MODULE.wasm, which `wafer diff` must find mismatching, with binaryen's\n"
    "wasm-reduce, keeping the mismatch's class (wafer diff --class stays the same), and writes\n"
    "the result to OUT.wasm.\n"
    "\n"
    "  --oracle NAME  the reference engine, as for wafer diff (default wabt)\n"
    "  --timeout S    wasm-reduce's limit per run of the check (default 10 seconds)\n"
    "  --max-time S   the whole reduction's limit (default 3600 seconds)\n"
    "Other options (feature switches, --fuel, --time-limit, --memory-limit) are passed to\n"
    "every `wafer diff` the reduction runs. Needs wasm-reduce and wasm-opt on PATH; wasm-reduce\n"
    "re-encodes modules, so mismatches in the binary encoding itself do not reduce this way.\n"
    "\n"
    "Exit status: 0 reduced; 1 the module does not mismatch, or the reduction failed; 2 usage.\n";

typedef struct reduce_request {
    const char *input;
    const char *output;
    const char *oracle;
    unsigned timeout_s;
    unsigned max_time_s;
    char **diff_flags; /* points into argv */
    int ndiff_flags;
} reduce_request;

static bool parse_seconds(const char *flag, const char *text, unsigned *out) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (!*text || *end || errno == ERANGE || v == 0 || v > 86400 || text[0] == '-') {
        fprintf(stderr, "wafer reduce: %s needs a number of seconds, got \"%s\"\n", flag, text);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

/* diff's flags that take a value, so that it travels with them. */
static bool diff_flag_takes_value(const char *arg) {
    static const char *const with_value[] = {"--fuel", "--time-limit", "--memory-limit",
                                             "--epoch-deadline"};
    for (size_t i = 0; i < sizeof with_value / sizeof with_value[0]; i++)
        if (strcmp(arg, with_value[i]) == 0) return true;
    return false;
}

static int parse_request(int argc, char **argv, reduce_request *req) {
    memset(req, 0, sizeof *req);
    req->oracle = "wabt";
    req->timeout_s = 10;
    req->max_time_s = 3600;
    req->diff_flags = calloc((size_t)argc + 1, sizeof *req->diff_flags);
    if (!req->diff_flags) return EXIT_FAILED;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = strcmp(arg, "-o") == 0 || strcmp(arg, "--oracle") == 0 ||
                     strcmp(arg, "--timeout") == 0 || strcmp(arg, "--max-time") == 0;
        if (takes && !value) {
            fprintf(stderr, "wafer reduce: %s needs a value\n", arg);
            return EXIT_USAGE;
        }
        if (strcmp(arg, "-o") == 0) {
            req->output = argv[++i];
        } else if (strcmp(arg, "--oracle") == 0) {
            req->oracle = argv[++i];
        } else if (strcmp(arg, "--timeout") == 0) {
            if (!parse_seconds(arg, argv[++i], &req->timeout_s)) return EXIT_USAGE;
        } else if (strcmp(arg, "--max-time") == 0) {
            if (!parse_seconds(arg, argv[++i], &req->max_time_s)) return EXIT_USAGE;
        } else if (strncmp(arg, "-", 1) == 0) {
            req->diff_flags[req->ndiff_flags++] = argv[i];
            if (diff_flag_takes_value(arg) && value) req->diff_flags[req->ndiff_flags++] = argv[++i];
        } else if (!req->input) {
            req->input = arg;
        } else {
            fprintf(stderr, "wafer reduce: one module only; unexpected %s\n", arg);
            return EXIT_USAGE;
        }
    }
    if (!req->input || !req->output) {
        fprintf(stderr, "wafer reduce: needs MODULE.wasm and -o OUT.wasm (see wafer help reduce)\n");
        return EXIT_USAGE;
    }
    if (strcmp(req->oracle, "all") == 0) {
        fprintf(stderr, "wafer reduce: name one oracle (wabt, binaryen or v8), not all\n");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Appends text to buf as one shell word in single quotes. */
static bool append_quoted(char *buf, size_t size, const char *text) {
    size_t len = strlen(buf);
    if (len + 3 >= size) return false;
    buf[len++] = ' ';
    buf[len++] = '\'';
    for (const char *p = text; *p; p++) {
        const char *piece = *p == '\'' ? "'\\''" : NULL;
        size_t n = piece ? 4 : 1;
        if (len + n + 2 >= size) return false;
        if (piece) memcpy(buf + len, piece, n);
        else buf[len] = *p;
        len += n;
    }
    buf[len++] = '\'';
    buf[len] = '\0';
    return true;
}

/* The class `wafer diff --class` gives module, into class (trailing newline dropped). */
static bool diff_class(const char *self, const reduce_request *req, const char *module,
                       char *class, size_t class_size) {
    char *argv[64];
    int n = 0;
    argv[n++] = (char *)self;
    argv[n++] = "diff";
    argv[n++] = "--class";
    argv[n++] = "--oracle";
    argv[n++] = (char *)req->oracle;
    for (int i = 0; i < req->ndiff_flags && n < 60; i++) argv[n++] = req->diff_flags[i];
    argv[n++] = (char *)module;
    argv[n] = NULL;
    subprocess_limits limits = {.time_ms = 600000};
    subprocess_result res;
    char why[300];
    if (!subprocess_run(argv, NULL, 0, &limits, &res, why, sizeof why)) {
        snprintf(class, class_size, "(%.200s)", why);
        return false;
    }
    snprintf(class, class_size, "%s", res.out_len ? res.out : res.err);
    class[strcspn(class, "\n")] = '\0';
    bool ok = res.end == SUBPROCESS_EXITED && (res.status == 0 || res.status == 1);
    subprocess_result_free(&res);
    return ok;
}

/* The directory holding wasm-opt, which wasm-reduce runs (its -b). */
static bool binaryen_dir(char *dir, size_t size) {
    const char *path = getenv("PATH");
    if (!path) return false;
    while (*path) {
        size_t len = strcspn(path, ":");
        char candidate[PATH_MAX];
        snprintf(candidate, sizeof candidate, "%.*s/wasm-opt", (int)len, path);
        if (len && access(candidate, X_OK) == 0) {
            snprintf(dir, size, "%.*s", (int)len, path);
            return true;
        }
        path += len + (path[len] == ':');
    }
    return false;
}

static bool copy_file(const char *from, const char *to) {
    uint8_t *bytes;
    size_t len;
    const char *why;
    if (!file_bytes_read(from, &bytes, &len, &why)) return false;
    FILE *f = fopen(to, "wb");
    bool ok = f && fwrite(bytes, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = false;
    free(bytes);
    return ok;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int reduce_in(const reduce_request *req, const char *self, const char *dir) {
    char class[256];
    if (!diff_class(self, req, req->input, class, sizeof class)) {
        fprintf(stderr, "wafer reduce: wafer diff failed on %s: %s\n", req->input, class);
        return EXIT_FAILED;
    }
    if (strncmp(class, "MISMATCH", 8) != 0) {
        fprintf(stderr, "wafer reduce: %s does not mismatch (%s); nothing to reduce\n",
                req->input, class);
        return EXIT_FAILED;
    }
    char bin[PATH_MAX];
    if (!binaryen_dir(bin, sizeof bin)) {
        fprintf(stderr, "wafer reduce: wasm-opt is not on PATH (binaryen is needed)\n");
        return EXIT_FAILED;
    }
    char test[PATH_MAX + 16], work[PATH_MAX + 16];
    snprintf(test, sizeof test, "%s/t.wasm", dir);
    snprintf(work, sizeof work, "%s/w.wasm", dir);
    char command[8192] = "--command=";
    bool fits = append_quoted(command, sizeof command, self) &&
                append_quoted(command, sizeof command, "diff") &&
                append_quoted(command, sizeof command, "--class") &&
                append_quoted(command, sizeof command, "--oracle") &&
                append_quoted(command, sizeof command, req->oracle);
    for (int i = 0; i < req->ndiff_flags && fits; i++)
        fits = append_quoted(command, sizeof command, req->diff_flags[i]);
    fits = fits && append_quoted(command, sizeof command, test);
    if (!fits) {
        fprintf(stderr, "wafer reduce: the command line is too long\n");
        return EXIT_USAGE;
    }
    /* "--command= 'x' ..." : drop the space append_quoted put after '='. */
    memmove(command + 10, command + 11, strlen(command + 11) + 1);
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%u", req->timeout_s);
    char *argv[] = {"wasm-reduce", (char *)req->input, command, "-t", test, "-w", work,
                    "-b", bin, "--timeout", timeout, "-all", "--force", NULL};
    subprocess_limits limits = {.time_ms = req->max_time_s * 1000u};
    subprocess_result res;
    char why[300];
    fprintf(stderr, "wafer reduce: %s mismatches (%s); reducing with wasm-reduce\n", req->input,
            class);
    if (!subprocess_run(argv, NULL, 0, &limits, &res, why, sizeof why)) {
        fprintf(stderr, "wafer reduce: %s\n", why);
        return EXIT_FAILED;
    }
    bool ran = res.end == SUBPROCESS_EXITED && res.status == 0;
    if (!ran) {
        const char *tail = res.out_len > 2000 ? res.out + res.out_len - 2000 : res.out;
        fprintf(stderr, "wafer reduce: wasm-reduce failed (%s %d):\n%s%s\n",
                res.end == SUBPROCESS_TIMED_OUT ? "stopped at --max-time, status" : "status",
                res.status, tail, res.err);
    }
    subprocess_result_free(&res);
    /* wasm-reduce leaves its best result in the working file, also when stopped. */
    char reduced_class[256];
    if (file_size(work) <= 0 || !diff_class(self, req, work, reduced_class, sizeof reduced_class) ||
        strcmp(reduced_class, class) != 0) {
        fprintf(stderr, "wafer reduce: no reduced module keeps the mismatch\n");
        return EXIT_FAILED;
    }
    if (!copy_file(work, req->output)) {
        fprintf(stderr, "wafer reduce: cannot write %s\n", req->output);
        return EXIT_FAILED;
    }
    printf("%s: %ld bytes -> %s: %ld bytes, still %s\n", req->input, file_size(req->input),
           req->output, file_size(req->output), class);
    return ran ? EXIT_OK : EXIT_FAILED;
}

int reduce_main(int argc, char **argv) {
    reduce_request req;
    int status = parse_request(argc, argv, &req);
    if (status != EXIT_OK) {
        free(req.diff_flags);
        return status;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "wafer reduce: cannot find its own executable\n");
        free(req.diff_flags);
        return EXIT_FAILED;
    }
    self[n] = '\0';
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/wafer-reduce-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "wafer reduce: mkdtemp: %s\n", strerror(errno));
        free(req.diff_flags);
        return EXIT_FAILED;
    }
    /* wasm-reduce kills a check that runs past --timeout, leaving its temporary files: they go
     * under this directory (TMPDIR for every check), which is removed whole at the end. */
    setenv("TMPDIR", dir, 1);
    status = reduce_in(&req, self, dir);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(req.diff_flags);
    return status;
}
