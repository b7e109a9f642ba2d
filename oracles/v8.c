/* The V8 oracle: see v8.h. */
#include "v8.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coprocess.h"
#include "wafer.h"

enum { MAX_ARGS = 12 };

/* How long node may take to start and answer its first (empty) module. */
#define STARTUP_MS 60000

struct oracle_session {
    oracle_options options;
    char *argv[MAX_ARGS];
    char stack_flag[32];
    char limit_flag[48];
    char runner[PATH_MAX];
    coprocess child; /* child.pid is 0 until started, and after a crash or a timeout */
};

static bool readable(const char *path) { return access(path, R_OK) == 0; }

/* Finds v8_runner.js (see v8.h) and writes its path into out. */
static bool find_runner(char *out, size_t out_size) {
    const char *env = getenv("WAFER_V8_RUNNER");
    if (env && *env) {
        if (readable(env)) {
            snprintf(out, out_size, "%s", env);
            return true;
        }
        snprintf(out, out_size, "WAFER_V8_RUNNER=%s is not readable", env);
        return false;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        static const char *const ups[] = {"/..", "/../.."};
        for (size_t i = 0; i < sizeof ups / sizeof ups[0]; i++) {
            char candidate[PATH_MAX + 32];
            snprintf(candidate, sizeof candidate, "%s%s/oracles/v8_runner.js", exe, ups[i]);
            if (readable(candidate) && realpath(candidate, out)) return true;
        }
    }
    if (readable("oracles/v8_runner.js") && realpath("oracles/v8_runner.js", out)) return true;
    snprintf(out, out_size, "oracles/v8_runner.js not found (set WAFER_V8_RUNNER)");
    return false;
}

/* V8's stack limit in KiB: half the main thread's stack, at most 4000 (V8 must stop before the
 * OS does, or node dies of SIGSEGV instead of throwing RangeError). */
static unsigned stack_kib(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 4000;
    rlim_t half = rl.rlim_cur / 2048;
    return half < 4000 ? (unsigned)half : 4000;
}

/* Fills the session's argv. The flags: type reflection gives the exports' types to the runner;
 * memory64 where the features ask for it; tail calls off, as wafer has none (V8 then rejects such
 * modules as wafer does, instead of running them). */
static bool build_argv(oracle_session *s, char *why, size_t why_size) {
    if (!find_runner(s->runner, sizeof s->runner)) {
        snprintf(why, why_size, "%s", s->runner);
        return false;
    }
    snprintf(s->stack_flag, sizeof s->stack_flag, "--stack-size=%u", stack_kib());
    size_t n = 0;
    s->argv[n++] = "node";
    s->argv[n++] = "--experimental-wasm-type-reflection";
    if (s->options.features & WAFER_FEATURE_MEMORY64) s->argv[n++] = "--experimental-wasm-memory64";
    s->argv[n++] = "--no-experimental-wasm-return-call";
    s->argv[n++] = s->stack_flag;
    s->argv[n++] = s->runner;
    snprintf(s->limit_flag, sizeof s->limit_flag, "--observation-limit=%d", OBSERVATION_LIMIT);
    s->argv[n++] = s->limit_flag;
    s->argv[n] = NULL;
    return true;
}

bool v8_command_line(const oracle_options *options, char *buf, size_t buf_size) {
    oracle_session s = {.options = *options};
    if (!build_argv(&s, buf, buf_size)) return false;
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; s.argv[i] && used < buf_size; i++)
        used += (size_t)snprintf(buf + used, buf_size - used, "%s%s", i ? " " : "", s.argv[i]);
    return true;
}

/* Starts node and waits until the runner answers (for an empty module), so that node's
 * start-up is not charged to the first module's time limit. */
static bool start(oracle_session *s, char *why, size_t why_size) {
    static const uint8_t hello[] = {8, 0, 0, 0, 0, 'a', 's', 'm', 1, 0, 0, 0};
    if (!coprocess_start(&s->child, s->argv, why, why_size)) return false;
    coprocess_reply reply;
    if (!coprocess_exchange(&s->child, hello, sizeof hello, "#end", STARTUP_MS, &reply, why,
                            why_size)) {
        coprocess_stop(&s->child);
        return false;
    }
    bool ok = reply.end == COPROCESS_REPLIED && strcmp(reply.text, "instantiate ok\n") == 0;
    if (!ok) {
        snprintf(why, why_size, "node did not run %s: %s", s->runner,
                 reply.end == COPROCESS_TIMED_OUT ? "no answer" : s->child.err_tail);
        coprocess_stop(&s->child);
    }
    free(reply.text);
    return ok;
}

static bool v8_open(const oracle_options *options, oracle_session **out, char *why,
                    size_t why_size) {
    oracle_session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    s->options = *options;
    if (!build_argv(s, why, why_size) || !start(s, why, why_size)) {
        free(s);
        return false;
    }
    *out = s;
    return true;
}

/* Why node died, from its exit status and the end of its stderr. */
static void add_death(observation_list *out, const coprocess *child, int status) {
    char detail[256];
    const char *tail = child->err_tail;
    size_t len = strlen(tail);
    while (len && (tail[len - 1] == '\n' || tail[len - 1] == ' ')) len--;
    size_t start = len;
    while (start && tail[start - 1] != '\n') start--;
    if (WIFSIGNALED(status))
        snprintf(detail, sizeof detail, "node killed by signal %d: %.*s", WTERMSIG(status),
                 (int)(len - start), tail + start);
    else
        snprintf(detail, sizeof detail, "node exited with status %d: %.*s",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, (int)(len - start), tail + start);
    bool oom = strstr(tail, "out of memory") || strstr(tail, "Out of memory") ||
               strstr(tail, "Cannot allocate");
    obs_add_inconclusive(out, oom ? "memory" : "crash", detail);
}

static bool run_module(oracle_session *s, const oracle_module *module, observation_list *out,
                       char *why, size_t why_size) {
    if (module->len > UINT32_MAX) return obs_add_inconclusive(out, "memory", "module over 4 GiB");
    if (s->child.pid == 0 && !start(s, why, why_size)) return false;
    uint8_t *request = malloc(module->len + 4);
    if (!request) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    for (int i = 0; i < 4; i++) request[i] = (uint8_t)(module->len >> (8 * i));
    memcpy(request + 4, module->bytes, module->len);
    coprocess_reply reply;
    bool ok = coprocess_exchange(&s->child, request, module->len + 4, "#end",
                                 s->options.time_limit_ms, &reply, why, why_size);
    free(request);
    if (!ok) return false;
    char parse_why[256];
    if (!observation_list_parse(reply.text, reply.len, out, parse_why, sizeof parse_why)) {
        char detail[320];
        snprintf(detail, sizeof detail, "v8_runner.js wrote a bad %s", parse_why);
        obs_add_inconclusive(out, "crash", detail);
    }
    free(reply.text);
    if (observation_list_ended(out)) return true;
    if (reply.end == COPROCESS_TIMED_OUT) {
        char detail[64];
        snprintf(detail, sizeof detail, "over %u ms", s->options.time_limit_ms);
        obs_add_inconclusive(out, "time", detail);
    } else if (reply.end == COPROCESS_DIED) {
        add_death(out, &s->child, reply.status);
    }
    return true;
}

static bool v8_run(oracle_session *s, const oracle_module *modules, size_t count,
                   observation_list *outs, char *why, size_t why_size) {
    for (size_t i = 0; i < count; i++)
        if (!run_module(s, &modules[i], &outs[i], why, why_size)) return false;
    return true;
}

static void v8_close(oracle_session *s) {
    if (!s) return;
    coprocess_stop(&s->child);
    free(s);
}

/* V8 refuses grows past 65536 pages per memory (memory64 too) and 10^7 table elements
 * (--wasm-max-table-size), whatever the module declares. */
const oracle_engine oracle_v8 = {
    .name = "v8",
    .limits = {.memory_pages = 65536, .table_elements = 10000000},
    .open = v8_open,
    .run = v8_run,
    .close = v8_close,
};
