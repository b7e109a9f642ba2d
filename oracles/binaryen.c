/* The binaryen oracle: binaryen's interpreter through its fuzz-exec harness,
 *
 *   wasm-opt VARIANT.wasm --fuzz-exec-before -q --enable-... (features of oracle_options)
 *
 * one process per variant of the module (binaryen_module.h), with the time and memory limits of
 * oracle_options. The harness prints, per exported function in export order (after calling
 * hangLimitInitializer, as the protocol does):
 *
 *   [fuzz-exec] calling NAME
 *   [LoggingExternalInterface logging ARGS]          an import in module "fuzzing-support"
 *   [LoggingExternalInterface log-execution ARGS]    the import env.log_execution
 *   [trap MESSAGE]                                   or [host limit MESSAGE]
 *   [fuzz-exec] note result: NAME => VALUE           or => (VALUE, VALUE, ...) for several
 *
 * Values are exact: i32 and i64 in signed decimal (an i64 argument of a "fuzzing-support" import
 * as two i32 halves, low first), floats as the shortest decimal that reads back to the same
 * double, "-0", "inf", and NaNs as nan:0xMANTISSA with their sign. References print as
 * funcref(NAME) / funcref(null) / anyref(null) inside logs and tuples, but a single reference
 * result prints as just its type: that call is inconclusive: feature.
 *
 * Classified, never guessed: binaryen's "stack limit" trap (its interpreter's depth limit) is
 * inconclusive: stack; a "host limit" is inconclusive: limit; std::bad_alloc under the memory
 * limit is inconclusive: memory; a module binaryen will not read or validate is inconclusive:
 * feature (its validator is stricter than the spec in places, e.g. constant segment offsets out
 * of bounds). binaryen 108's reference types let a funcref stand for an externref (the earlier
 * proposal), so it runs modules the spec rejects: a module wabt's validator (wasm-validate)
 * rejects is not run here (inconclusive: feature); binaryen is asked about execution only.
 * binaryen refuses memory.grow past 16384 pages (1 GiB) in all; its tables grow until memory
 * runs out. It fails an assertion when it must call an imported function directly (as the start
 * function, or as a re-exported import): inconclusive: crash.
 *
 * Variant 0 runs first; the next ones run only while some log line still fits more than one
 * import (by its channels so far and the shape of its arguments), and all must agree on
 * everything but the logs' channels.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "binaryen_module.h"
#include "oracle.h"
#include "subprocess.h"
#include "wafer.h"
#include "wasm_writer.h"

struct oracle_session {
    oracle_options options;
    char dir[64]; /* a private temporary directory for the variants */
};

/* ---- One run's output ----------------------------------------------------------------------- */

typedef enum event_kind {
    EV_CALL,       /* index: into the plan's called list */
    EV_LOG,        /* channel_b; text: the arguments */
    EV_RESULT,     /* text: the value or the tuple */
    EV_TRAP,       /* text: the message */
    EV_HOST_LIMIT, /* text: the message */
    EV_EXCEPTION,  /* text: the message */
} event_kind;

typedef struct event {
    event_kind kind;
    bool channel_b;
    uint32_t index;
    const char *text; /* into the run's stdout; len bytes, not NUL-terminated */
    size_t len;
} event;

typedef struct run_output {
    subprocess_result res;
    event *events;
    size_t nevents;
    char stop[160]; /* why reading stopped before the end of stdout, or "" */
} run_output;

/* The function exports binaryen calls, in order: the module's, then the getters. */
typedef struct called {
    const uint8_t *name;
    size_t name_len;
    uint32_t export_index; /* into facts.exports, or UINT32_MAX for a getter */
    uint32_t getter;       /* for a getter: its index in the plan */
} called;

static bool starts(const char *p, const char *end, const char *prefix) {
    size_t n = strlen(prefix);
    return (size_t)(end - p) >= n && memcmp(p, prefix, n) == 0;
}

static bool push_event(run_output *run, event ev) {
    event *events = realloc(run->events, (run->nevents + 1) * sizeof *events);
    if (!events) return false;
    run->events = events;
    run->events[run->nevents++] = ev;
    return true;
}

/* Reads the harness's lines into events. False only when memory runs out. */
static bool read_events(run_output *run, const called *calls, size_t ncalls) {
    const char *p = run->res.out, *end = run->res.out + run->res.out_len;
    size_t next_call = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break; /* a line cut off by a crash or the time limit */
        event ev = {0};
        bool known = true;
        if (starts(p, end, "[fuzz-exec] calling ")) {
            const char *name = p + strlen("[fuzz-exec] calling ");
            /* Names may hold any byte, newlines too: match the expected one exactly. */
            if (next_call >= ncalls || (size_t)(end - name) <= calls[next_call].name_len ||
                memcmp(name, calls[next_call].name, calls[next_call].name_len) != 0 ||
                name[calls[next_call].name_len] != '\n') {
                snprintf(run->stop, sizeof run->stop, "binaryen called an unexpected export");
                return true;
            }
            nl = name + calls[next_call].name_len;
            ev = (event){.kind = EV_CALL, .index = (uint32_t)next_call++};
        } else if (starts(p, end, "[fuzz-exec] note result: ") && next_call > 0) {
            const called *c = &calls[next_call - 1];
            const char *name = p + strlen("[fuzz-exec] note result: ");
            if ((size_t)(end - name) < c->name_len + 4 || memcmp(name, c->name, c->name_len) != 0 ||
                memcmp(name + c->name_len, " => ", 4) != 0) {
                snprintf(run->stop, sizeof run->stop, "binaryen noted a result of another export");
                return true;
            }
            const char *value = name + c->name_len + 4;
            nl = memchr(value, '\n', (size_t)(end - value));
            if (!nl) break;
            ev = (event){.kind = EV_RESULT, .text = value, .len = (size_t)(nl - value)};
        } else if (nl > p && nl[-1] == ']') {
            static const struct {
                const char *prefix;
                event_kind kind;
                bool channel_b;
            } bracketed[] = {
                {"[LoggingExternalInterface logging", EV_LOG, false},
                {"[LoggingExternalInterface log-execution", EV_LOG, true},
                {"[trap ", EV_TRAP, false},
                {"[host limit ", EV_HOST_LIMIT, false},
                {"[exception thrown: ", EV_EXCEPTION, false},
            };
            known = false;
            for (size_t i = 0; i < sizeof bracketed / sizeof bracketed[0] && !known; i++) {
                if (!starts(p, nl, bracketed[i].prefix)) continue;
                const char *text = p + strlen(bracketed[i].prefix);
                ev = (event){.kind = bracketed[i].kind, .channel_b = bracketed[i].channel_b,
                             .text = text, .len = (size_t)(nl - 1 - text)};
                known = true;
            }
        } else {
            known = false;
        }
        if (!known) {
            snprintf(run->stop, sizeof run->stop, "binaryen printed \"%.*s\"",
                     (int)((nl - p) < 80 ? (nl - p) : 80), p);
            return true;
        }
        if (!push_event(run, ev)) return false;
        p = nl + 1;
    }
    return true;
}

/* ---- Values --------------------------------------------------------------------------------- */

/* The next space-separated token of [*p, end), or false at the end. */
static bool next_token(const char **p, const char *end, char *tok, size_t tok_size) {
    while (*p < end && **p == ' ') (*p)++;
    if (*p >= end) return false;
    size_t n = 0;
    while (*p < end && **p != ' ') {
        if (n + 1 >= tok_size) return false;
        tok[n++] = *(*p)++;
    }
    tok[n] = '\0';
    return true;
}

static bool parse_int(const char *tok, int64_t min, int64_t max, int64_t *out) {
    if (!*tok || (tok[0] != '-' && (tok[0] < '0' || tok[0] > '9'))) return false;
    char *end;
    errno = 0;
    long long v = strtoll(tok, &end, 10);
    if (*end || errno == ERANGE || v < min || v > max) return false;
    *out = v;
    return true;
}

/* A float token of binaryen's into bits: mantissa_bits 23 (f32) or 52 (f64). */
static bool parse_float(const char *tok, bool is_f32, uint64_t *bits) {
    unsigned mantissa_bits = is_f32 ? 23 : 52;
    uint64_t mantissa_mask = (UINT64_C(1) << mantissa_bits) - 1;
    uint64_t exponent = is_f32 ? UINT64_C(0x7f800000) : UINT64_C(0x7ff0000000000000);
    uint64_t sign = 0;
    const char *t = tok;
    if (*t == '-') {
        sign = UINT64_C(1) << (is_f32 ? 31 : 63);
        t++;
    }
    if (strncmp(t, "nan", 3) == 0) {
        uint64_t payload = UINT64_C(1) << (mantissa_bits - 1); /* plain "nan": canonical */
        if (t[3] == ':') {
            if (strncmp(t + 4, "0x", 2) != 0 || !t[6]) return false;
            char *end;
            errno = 0;
            unsigned long long v = strtoull(t + 6, &end, 16);
            if (*end || errno == ERANGE) return false;
            payload = v;
        } else if (t[3]) {
            return false;
        }
        if (payload == 0 || payload > mantissa_mask) return false;
        *bits = sign | exponent | payload;
        return true;
    }
    if (strcmp(t, "inf") == 0) {
        *bits = sign | exponent;
        return true;
    }
    if (!*t || ((*t < '0' || *t > '9') && *t != '.')) return false;
    char *end;
    double d = strtod(tok, &end);
    if (*end || isinf(d) || isnan(d)) return false;
    if (is_f32) {
        float f = (float)d;
        if ((double)f != d) return false; /* not an f32 value */
        uint32_t b;
        memcpy(&b, &f, 4);
        *bits = b;
    } else {
        memcpy(bits, &d, 8);
    }
    return true;
}

/* A reference token: funcref(...) / anyref(...) / externref(...), null or not. */
static bool parse_ref(const char *tok, uint8_t type, uint64_t *bits) {
    const char *open = strchr(tok, '(');
    size_t len = strlen(tok);
    if (!open || len < 2 || tok[len - 1] != ')') return false;
    size_t head = (size_t)(open - tok);
    bool func = head == 7 && strncmp(tok, "funcref", 7) == 0;
    bool ext = (head == 6 && strncmp(tok, "anyref", 6) == 0) ||
               (head == 9 && strncmp(tok, "externref", 9) == 0);
    if ((type == WASM_FUNCREF && !func) || (type == WASM_EXTERNREF && !ext)) return false;
    *bits = strcmp(open, "(null)") != 0;
    return true;
}

static obs_type obs_type_of(uint8_t t) {
    switch (t) {
    case WASM_I64: return OBS_I64;
    case WASM_F32: return OBS_F32;
    case WASM_F64: return OBS_F64;
    case WASM_FUNCREF: return OBS_FUNCREF;
    case WASM_EXTERNREF: return OBS_EXTERNREF;
    default: return OBS_I32;
    }
}

/* One value of type t from its tokens; split_i64: as two i32 halves (a fuzzing-support log). */
static bool parse_value(const char **p, const char *end, uint8_t t, bool split_i64,
                        obs_value *out) {
    char tok[128];
    int64_t v, hi;
    out->type = obs_type_of(t);
    if (!next_token(p, end, tok, sizeof tok)) return false;
    switch (t) {
    case WASM_I32:
        if (!parse_int(tok, INT32_MIN, INT32_MAX, &v)) return false;
        out->bits = (uint32_t)v;
        return true;
    case WASM_I64:
        if (!split_i64) {
            if (!parse_int(tok, INT64_MIN, INT64_MAX, &v)) return false;
            out->bits = (uint64_t)v;
            return true;
        }
        if (!parse_int(tok, INT32_MIN, INT32_MAX, &v) || !next_token(p, end, tok, sizeof tok) ||
            !parse_int(tok, INT32_MIN, INT32_MAX, &hi))
            return false;
        out->bits = (uint64_t)(uint32_t)hi << 32 | (uint32_t)v;
        return true;
    case WASM_F32: return parse_float(tok, true, &out->bits);
    case WASM_F64: return parse_float(tok, false, &out->bits);
    case WASM_FUNCREF:
    case WASM_EXTERNREF: return parse_ref(tok, t, &out->bits);
    default: return false;
    }
}

/* A log line's arguments under import type `type` through channel b: all tokens, exactly. */
static bool parse_log_args(const event *ev, const facts_functype *type, obs_value *values) {
    const char *p = ev->text, *end = ev->text + ev->len;
    for (uint32_t i = 0; i < type->nparams; i++)
        if (!parse_value(&p, end, type->params[i], !ev->channel_b, &values[i])) return false;
    char tok[8];
    return !next_token(&p, end, tok, sizeof tok);
}

/* A result line: one value, or a tuple "(a, b, ...)". */
static bool parse_result(const event *ev, const facts_functype *type, obs_value *values) {
    if (type->nresults == 1) {
        const char *p = ev->text, *end = ev->text + ev->len;
        char tok[8];
        return parse_value(&p, end, type->results[0], false, &values[0]) &&
               !next_token(&p, end, tok, sizeof tok);
    }
    if (ev->len < 2 || ev->text[0] != '(' || ev->text[ev->len - 1] != ')') return false;
    char buf[4096];
    if (ev->len >= sizeof buf) return false;
    /* "(a, b)" -> "a  b": the commas become spaces, which separate tokens. */
    memcpy(buf, ev->text + 1, ev->len - 2);
    buf[ev->len - 2] = '\0';
    for (char *c = buf; *c; c++)
        if (*c == ',') *c = ' ';
    const char *p = buf, *end = buf + strlen(buf);
    for (uint32_t i = 0; i < type->nresults; i++)
        if (!parse_value(&p, end, type->results[i], false, &values[i])) return false;
    char tok[8];
    return !next_token(&p, end, tok, sizeof tok);
}

/* ---- Traps ---------------------------------------------------------------------------------- */

/* binaryen's trap messages (wasm-interpreter.h) by class; NULL for "stack limit". */
static const char *trap_reason(const event *ev, obs_trap *trap) {
    static const struct {
        const char *text;
        bool suffix;
        obs_trap trap;
    } table[] = {
        {"unreachable", false, OBS_TRAP_UNREACHABLE},
        {" by 0", true, OBS_TRAP_DIV_ZERO},
        {"div_s overflow", true, OBS_TRAP_INT_OVERFLOW},
        {"Float overflow", true, OBS_TRAP_INT_OVERFLOW},
        {"Float of nan", true, OBS_TRAP_INVALID_CONVERSION},
        {"highest > memory", false, OBS_TRAP_MEMORY_OOB},
        {"final > memory", false, OBS_TRAP_MEMORY_OOB},
        {"offset > memory", false, OBS_TRAP_MEMORY_OOB},
        {"out of bounds memory access", false, OBS_TRAP_MEMORY_OOB},
        {"out of bounds segment access in memory.", false, OBS_TRAP_MEMORY_OOB},
        {"out of bounds table access", false, OBS_TRAP_TABLE_OOB},
        {"callTable overflow", false, OBS_TRAP_UNDEFINED_ELEMENT},
        {"uninitialized table element", false, OBS_TRAP_UNINITIALIZED_ELEMENT},
        {"callIndirect: ", false, OBS_TRAP_INDIRECT_CALL_MISMATCH},
    };
    char msg[256];
    size_t n = ev->len < sizeof msg - 1 ? ev->len : sizeof msg - 1;
    memcpy(msg, ev->text, n);
    msg[n] = '\0';
    if (strcmp(msg, "stack limit") == 0) return "stack";
    if (strstr(msg, "fuzzer can only send defaultable parameters")) return "feature";
    *trap = OBS_TRAP_OTHER;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        size_t len = strlen(table[i].text);
        bool hit = table[i].suffix ? n >= len && strcmp(msg + n - len, table[i].text) == 0
                                   : strncmp(msg, table[i].text, len) == 0;
        if (hit) {
            *trap = table[i].trap;
            break;
        }
    }
    return NULL;
}

/* ---- Runs ----------------------------------------------------------------------------------- */

static size_t feature_flags(uint32_t features, char **argv, size_t n) {
    static const struct {
        uint32_t bit;
        const char *flag;
    } flags[] = {
        {WAFER_FEATURE_MUTABLE_GLOBALS, "--enable-mutable-globals"},
        {WAFER_FEATURE_SIGN_EXTENSION, "--enable-sign-ext"},
        {WAFER_FEATURE_SAT_FLOAT_TO_INT, "--enable-nontrapping-float-to-int"},
        {WAFER_FEATURE_MULTI_VALUE, "--enable-multivalue"},
        {WAFER_FEATURE_BULK_MEMORY, "--enable-bulk-memory"},
        {WAFER_FEATURE_REFERENCE_TYPES, "--enable-reference-types"},
        {WAFER_FEATURE_MEMORY64, "--enable-memory64"},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (features & flags[i].bit) argv[n++] = (char *)flags[i].flag;
    return n;
}

static bool write_file(const char *path, const uint8_t *bytes, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(bytes, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

/* wasm-opt on variant `run` of the module; false if the harness broke. */
static bool run_variant(oracle_session *s, const oracle_module *m, const binaryen_plan *plan,
                        uint32_t run, const called *calls, size_t ncalls, run_output *out,
                        char *why, size_t why_size) {
    memset(out, 0, sizeof *out);
    uint8_t *bytes;
    size_t len;
    if (!binaryen_variant(m->bytes, m->len, plan, run, &bytes, &len)) {
        snprintf(why, why_size, "out of memory writing a variant for binaryen");
        return false;
    }
    char path[96];
    snprintf(path, sizeof path, "%s/variant-%u.wasm", s->dir, run);
    bool written = write_file(path, bytes, len);
    free(bytes);
    if (!written) {
        snprintf(why, why_size, "cannot write %s: %s", path, strerror(errno));
        return false;
    }
    char *argv[16] = {"wasm-opt", path, "--fuzz-exec-before", "-q"};
    feature_flags(s->options.features, argv, 4);
    subprocess_limits limits = {.time_ms = s->options.time_limit_ms,
                                .max_output = (size_t)OBSERVATION_LIMIT * 256,
                                .memory_bytes = s->options.memory_limit_bytes};
    bool ok = subprocess_run(argv, NULL, 0, &limits, &out->res, why, why_size);
    unlink(path);
    if (!ok) return false;
    if (!read_events(out, calls, ncalls)) {
        snprintf(why, why_size, "out of memory reading binaryen's output");
        return false;
    }
    return true;
}

static void run_output_free(run_output *run) {
    subprocess_result_free(&run->res);
    free(run->events);
    memset(run, 0, sizeof *run);
}

/* Whether wabt's validator accepts the module (see the file comment). */
static bool wabt_accepts(oracle_session *s, const oracle_module *m, bool *accepts, char *why,
                         size_t why_size) {
    char path[96];
    snprintf(path, sizeof path, "%s/module.wasm", s->dir);
    if (!write_file(path, m->bytes, m->len)) {
        snprintf(why, why_size, "cannot write %s: %s", path, strerror(errno));
        return false;
    }
    char *argv[16] = {"wasm-validate", path};
    oracle_wabt_feature_flags(s->options.features, argv, 2);
    subprocess_limits limits = {.time_ms = s->options.time_limit_ms,
                                .memory_bytes = s->options.memory_limit_bytes};
    subprocess_result res;
    bool ok = subprocess_run(argv, NULL, 0, &limits, &res, why, why_size);
    unlink(path);
    if (!ok) return false;
    *accepts = res.end == SUBPROCESS_EXITED && res.status == 0;
    subprocess_result_free(&res);
    return true;
}

/* How a run ended, as an inconclusive line, or false if it ended well. */
static bool run_gave_up(const run_output *run, const char **reason, char *detail,
                        size_t detail_size) {
    const subprocess_result *r = &run->res;
    if (run->stop[0]) {
        *reason = "crash";
        snprintf(detail, detail_size, "%s", run->stop);
        return true;
    }
    if (r->end == SUBPROCESS_EXITED && r->status == 0) return false;
    const char *err = r->err ? r->err : "";
    const char *first = err;
    while (*first == '\n') first++;
    int first_len = (int)strcspn(first, "\n");
    if (r->end == SUBPROCESS_TIMED_OUT) {
        *reason = "time";
        snprintf(detail, detail_size, "binaryen ran past the time limit");
    } else if (r->end == SUBPROCESS_TOO_MUCH_OUTPUT) {
        *reason = "output";
        snprintf(detail, detail_size, "binaryen printed too much");
    } else if (strstr(err, "bad_alloc") || strstr(err, "out of memory")) {
        *reason = "memory";
        snprintf(detail, detail_size, "binaryen: %.*s", first_len, first);
    } else if (r->end == SUBPROCESS_SIGNALED) {
        *reason = "crash";
        snprintf(detail, detail_size, "binaryen killed by signal %d: %.*s", r->status, first_len,
                 first);
    } else {
        /* It would not read or validate the module (it says so on stderr) or failed otherwise. */
        *reason = "feature";
        snprintf(detail, detail_size, "binaryen refuses it: %.*s", first_len, first);
    }
    return true;
}

/* ---- From events to observations ----------------------------------------------------------- */

/* The first event where run b saw something else than run a (logs compare by position only:
 * their arguments print differently by channel), or where either ended. */
static size_t agree_until(const run_output *a, const run_output *b) {
    size_t i = 0;
    for (; i < a->nevents && i < b->nevents; i++) {
        const event *x = &a->events[i], *y = &b->events[i];
        if (x->kind != y->kind) break;
        if (x->kind == EV_LOG) continue;
        if (x->index != y->index || x->len != y->len ||
            (x->len && memcmp(x->text, y->text, x->len) != 0))
            break;
    }
    return i;
}

/* Which import made log event j of run 0: the one whose channel matches in every run that got
 * that far and whose parameter types read the arguments. UINT32_MAX if none or several; values
 * gets the arguments when one. */
static uint32_t log_import(const binaryen_plan *plan, const run_output *runs, uint32_t nruns,
                           size_t j, obs_value *values) {
    const module_facts *f = &plan->facts;
    uint32_t found = UINT32_MAX;
    for (uint32_t k = 0; k < plan->nfunc_imports; k++) {
        bool fits = true;
        for (uint32_t r = 0; r < nruns && fits; r++)
            if (j < runs[r].nevents) fits = runs[r].events[j].channel_b == binaryen_channel_b(k, r);
        const facts_functype *type = module_facts_func_type(f, f->imports[k].index);
        if (!fits || !parse_log_args(&runs[0].events[j], type, values)) continue;
        if (found != UINT32_MAX) return UINT32_MAX;
        found = k;
    }
    if (found != UINT32_MAX)
        parse_log_args(&runs[0].events[j], module_facts_func_type(f, f->imports[found].index),
                       values);
    return found;
}

typedef struct builder {
    const binaryen_plan *plan;
    const called *calls;
    observation_list *out;
    obs_value *values; /* room for any type's parameters or results */
    bool oom;
    bool ended; /* an inconclusive line (or an instantiation trap) ends the list */
} builder;

static void give_up(builder *b, const char *reason, const char *detail) {
    if (b->ended) return;
    if (!obs_add_inconclusive(b->out, reason, detail)) b->oom = true;
    b->ended = true;
}

/* Whether there is room for one more line besides a closing inconclusive one, as in the wafer
 * adapter; if not, the list ends with "inconclusive output". */
static bool room(builder *b) {
    if (b->ended || b->oom) return false;
    if (b->out->count + 1 >= OBSERVATION_LIMIT) {
        give_up(b, "output", "more observations than OBSERVATION_LIMIT");
        return false;
    }
    return true;
}

static void add(builder *b, bool appended) {
    if (!appended) b->oom = true;
}

static void give_up_quoting(builder *b, const char *reason, const char *what, const event *ev) {
    char detail[200];
    snprintf(detail, sizeof detail, "%s%.*s", what, (int)(ev->len < 120 ? ev->len : 120),
             ev->text);
    give_up(b, reason, detail);
}

typedef enum role { ROLE_EXPORT, ROLE_HANG, ROLE_GETTER } role;

static role role_of(const binaryen_plan *plan, const called *c) {
    if (c->export_index == UINT32_MAX) return ROLE_GETTER;
    return plan->has_hang_limit && c->export_index == plan->hang_export ? ROLE_HANG : ROLE_EXPORT;
}

/* The export's call ended without a trap or a result line: fine for a function without
 * results. */
static void end_call(builder *b, const called *c, bool answered) {
    if (!c || answered || role_of(b->plan, c) != ROLE_EXPORT || !room(b)) return;
    const module_facts *f = &b->plan->facts;
    if (module_facts_func_type(f, f->exports[c->export_index].index)->nresults)
        give_up(b, "crash", "binaryen printed no result for a call");
    else
        add(b, obs_add_return(b->out, NULL, 0));
}

/* A getter's result: a final global or memory line. */
static void getter_result(builder *b, const called *c, const event *ev) {
    const module_facts *f = &b->plan->facts;
    const binaryen_getter *g = &b->plan->getters[c->getter];
    const facts_extern *e = &f->exports[g->export_index];
    uint8_t result = g->result;
    facts_functype type = {0, 1, NULL, &result};
    obs_value v;
    if (!parse_result(ev, &type, &v)) {
        give_up_quoting(b, "crash", "binaryen printed a getter's result oddly: ", ev);
        return;
    }
    if (e->kind == FACTS_MEMORY) {
        add(b, obs_add_memory(b->out, (const char *)e->name, e->name_len, v.bits, false, 0));
        return;
    }
    if (g->is_null_test) v = (obs_value){obs_type_of(f->globals[e->index].type), v.bits == 0};
    add(b, obs_add_global(b->out, (const char *)e->name, e->name_len, v));
}

/* One event of run 0 inside the call of c (NULL: during instantiation). */
static void one_event(builder *b, run_output *runs, uint32_t runs_done, size_t j,
                      const called *c, bool *answered, bool *need_more) {
    const module_facts *f = &b->plan->facts;
    const event *ev = &runs[0].events[j];
    role r = c ? role_of(b->plan, c) : ROLE_EXPORT;
    if (r == ROLE_HANG || (r == ROLE_GETTER && ev->kind != EV_RESULT)) {
        /* hangLimitInitializer only stores constants; a getter only reads. */
        give_up_quoting(b, "crash", "binaryen saw a harness function do more than expected: ",
                        ev);
        return;
    }
    switch (ev->kind) {
    case EV_LOG: {
        uint32_t k = log_import(b->plan, runs, runs_done, j, b->values);
        if (k == UINT32_MAX) {
            for (uint32_t i = 1; i < runs_done; i++) {
                const char *reason;
                char detail[200];
                if (j >= runs[i].nevents && run_gave_up(&runs[i], &reason, detail, sizeof detail)) {
                    give_up(b, reason, detail);
                    return;
                }
            }
            if (runs_done < b->plan->runs) *need_more = true;
            else give_up_quoting(b, "crash", "no import of the module fits binaryen's log ", ev);
            return;
        }
        const facts_extern *imp = &f->imports[k];
        add(b, obs_add_log(b->out, (const char *)imp->module, imp->module_len,
                           (const char *)imp->name, imp->name_len, b->values,
                           module_facts_func_type(f, imp->index)->nparams));
        return;
    }
    case EV_TRAP: {
        obs_trap trap;
        const char *reason = trap_reason(ev, &trap);
        if (reason) give_up_quoting(b, reason, "binaryen: ", ev);
        else if (!c) {
            add(b, obs_add_instantiate_trap(b->out, trap));
            b->ended = true; /* nothing follows an instantiation trap */
        } else if (*answered) {
            give_up_quoting(b, "crash", "binaryen trapped after answering: ", ev);
        } else {
            add(b, obs_add_trap(b->out, trap));
            *answered = true;
        }
        return;
    }
    case EV_HOST_LIMIT: give_up_quoting(b, "limit", "binaryen: ", ev); return;
    case EV_EXCEPTION: give_up_quoting(b, "feature", "binaryen: ", ev); return;
    case EV_RESULT: {
        if (!c || *answered) {
            give_up_quoting(b, "crash", "binaryen noted a result out of place: ", ev);
            return;
        }
        *answered = true;
        if (r == ROLE_GETTER) {
            getter_result(b, c, ev);
            return;
        }
        const facts_functype *type = module_facts_func_type(f, f->exports[c->export_index].index);
        if (parse_result(ev, type, b->values))
            add(b, obs_add_return(b->out, b->values, type->nresults));
        else
            give_up_quoting(b, "feature", "binaryen's result cannot be read exactly: ", ev);
        return;
    }
    case EV_CALL: return;
    }
}

/* Turns run 0's events, their logs named with the help of the other runs, into observations.
 * *need_more: a log cannot be told apart yet and another run would tell. */
static void build(builder *b, run_output *runs, uint32_t runs_done, bool *need_more) {
    *need_more = false;
    size_t agree = runs[0].nevents;
    for (uint32_t r = 1; r < runs_done; r++) {
        size_t a = agree_until(&runs[0], &runs[r]);
        bool ended_early = a == runs[r].nevents && a < runs[0].nevents;
        if (!ended_early && a < agree) agree = a;
    }
    const called *current = NULL;
    bool instantiated = false, answered = false;
    const run_output *run = &runs[0];
    for (size_t j = 0; j < run->nevents && !*need_more && room(b); j++) {
        if (j == agree) {
            give_up(b, "crash", "binaryen's runs of one module disagree");
            return;
        }
        const event *ev = &run->events[j];
        if (ev->kind != EV_CALL) {
            one_event(b, runs, runs_done, j, current, &answered, need_more);
            continue;
        }
        end_call(b, current, answered);
        if (!room(b)) return;
        if (!instantiated) add(b, obs_add_instantiate_ok(b->out));
        instantiated = true;
        current = &b->calls[ev->index];
        answered = false;
        if (role_of(b->plan, current) == ROLE_EXPORT && room(b))
            add(b, obs_add_call(b->out, (const char *)current->name, current->name_len));
    }
    if (b->ended || b->oom || *need_more) return;
    const char *reason;
    char detail[256];
    if (run_gave_up(run, &reason, detail, sizeof detail)) {
        give_up(b, reason, detail);
        return;
    }
    end_call(b, current, answered);
    if (!instantiated && room(b)) add(b, obs_add_instantiate_ok(b->out));
}

/* ---- The adapter ---------------------------------------------------------------------------- */

/* The most parameters or results of any function type. */
static uint32_t max_arity(const module_facts *f) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < f->ntypes; i++) {
        if (f->types[i].nparams > n) n = f->types[i].nparams;
        if (f->types[i].nresults > n) n = f->types[i].nresults;
    }
    return n;
}

/* The exports binaryen calls, in its order: the module's functions, then the getters. */
static called *list_calls(const binaryen_plan *plan, size_t *ncalls) {
    const module_facts *f = &plan->facts;
    called *calls = calloc(f->nexports + plan->ngetters + 1, sizeof *calls);
    if (!calls) return NULL;
    size_t n = 0;
    for (uint32_t i = 0; i < f->nexports; i++) {
        if (f->exports[i].kind != FACTS_FUNC) continue;
        calls[n++] = (called){f->exports[i].name, f->exports[i].name_len, i, 0};
    }
    for (uint32_t g = 0; g < plan->ngetters; g++)
        calls[n++] = (called){(const uint8_t *)plan->getters[g].name,
                              strlen(plan->getters[g].name), UINT32_MAX, g};
    *ncalls = n;
    return calls;
}

static bool run_module(oracle_session *s, const oracle_module *m, observation_list *out,
                       char *why, size_t why_size) {
    binaryen_plan plan;
    if (!binaryen_plan_make(m->bytes, m->len, &plan, why, why_size)) return false;
    if (plan.unsupported) {
        bool ok = obs_add_inconclusive(out, "feature", plan.unsupported);
        binaryen_plan_free(&plan);
        if (!ok) snprintf(why, why_size, "out of memory");
        return ok;
    }
    bool accepts = false;
    if (!wabt_accepts(s, m, &accepts, why, why_size)) {
        binaryen_plan_free(&plan);
        return false;
    }
    if (!accepts) {
        bool ok = obs_add_inconclusive(out, "feature", "wabt rejects it; binaryen 108 is asked "
                                                        "only about modules the spec accepts");
        binaryen_plan_free(&plan);
        if (!ok) snprintf(why, why_size, "out of memory");
        return ok;
    }
    size_t ncalls = 0;
    called *calls = list_calls(&plan, &ncalls);
    run_output *runs = calloc(plan.runs, sizeof *runs);
    obs_value *values = calloc(max_arity(&plan.facts) + 1, sizeof *values);
    bool ok = calls && runs && values;
    if (!ok) snprintf(why, why_size, "out of memory");
    uint32_t done = 0;
    for (bool need_more = true; ok && need_more && done < plan.runs;) {
        ok = run_variant(s, m, &plan, done, calls, ncalls, &runs[done], why, why_size);
        if (!ok) break;
        done++;
        observation_list_free(out);
        builder b = {&plan, calls, out, values, false, false};
        build(&b, runs, done, &need_more);
        if (b.oom) {
            snprintf(why, why_size, "out of memory");
            ok = false;
        }
    }
    free(values);
    for (uint32_t r = 0; runs && r < done; r++) run_output_free(&runs[r]);
    free(runs);
    free(calls);
    binaryen_plan_free(&plan);
    return ok;
}

static bool binaryen_open(const oracle_options *options, oracle_session **out, char *why,
                          size_t why_size) {
    static const char *const tools[] = {"wasm-opt", "wasm-validate"};
    for (size_t i = 0; i < 2; i++)
        if (!subprocess_tool_works(tools[i], i == 0 ? "binaryen" : "wabt", why, why_size))
            return false;
    oracle_session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    s->options = *options;
    const char *tmp = getenv("TMPDIR");
    snprintf(s->dir, sizeof s->dir, "%s/wafer-binaryen-XXXXXX",
             tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
    if (!mkdtemp(s->dir)) {
        snprintf(why, why_size, "mkdtemp: %s", strerror(errno));
        free(s);
        return false;
    }
    *out = s;
    return true;
}

static bool binaryen_run(oracle_session *s, const oracle_module *modules, size_t count,
                         observation_list *outs, char *why, size_t why_size) {
    for (size_t i = 0; i < count; i++)
        if (!run_module(s, &modules[i], &outs[i], why, why_size)) return false;
    return true;
}

static void binaryen_close(oracle_session *s) {
    if (!s) return;
    rmdir(s->dir);
    free(s);
}

const oracle_engine oracle_binaryen = {
    .name = "binaryen",
    .limits = {.memory_pages = 16384, .table_elements = 0},
    .open = binaryen_open,
    .run = binaryen_run,
    .close = binaryen_close,
};
