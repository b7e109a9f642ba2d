/* `wafer wast`: the spec test runner for scripts converted by wast2json.
 *
 * It counts as wabt's spectest-interp counts, so the two compare directly with the suite's
 * reference.tsv: every command is one test except `register`; a module command passes when the
 * module compiles and instantiates; assert_malformed and assert_invalid pass when the module is
 * refused, assert_unlinkable and assert_uninstantiable when compilation succeeds and
 * instantiation fails, assert_trap when the action traps, assert_exhaustion when it runs out of
 * call stack. Where spectest-interp looks no further (which error, which trap), this runner also
 * compares the kind and text and prints a warning line when they differ, without failing the
 * command. Modules in the text format (module_type "text": assert_malformed and assert_invalid
 * of quoted modules) are handed to the binary decoder as they are, as spectest-interp does: they
 * pass when refused, whatever the error, since their point (a text parser's error) is moot here.
 * Unlike spectest-interp, a reference result must match exactly (ref.null must be null), and an
 * action on a missing export fails.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "error_text.h"
#include "export_map.h"
#include "file_bytes.h"
#include "module_load.h"
#include "options.h"
#include "spectest.h"
#include "wast_value.h"

const char wast_usage[] =
    "usage: wafer wast [OPTIONS] [--verbose] SCRIPT.json...\n"
    "\n"
    "Runs spec test scripts converted by wast2json (module files are found relative to each\n"
    "script), counting commands as wabt's spectest-interp does: every command except register\n"
    "is one test. Give the feature flags the script was converted with (as in reference.tsv):\n"
    "like spectest-interp, wast starts from wabt's default features, with memory64 and\n"
    "multi-memory off.\n"
    "Text-format modules (assert_malformed and assert_invalid of quoted modules) go to the\n"
    "binary decoder as they are, as in spectest-interp: they pass when refused.\n"
    "\n"
    "Prints \"FILE:LINE: expected ..., got ...\" for each failure, \"FILE:LINE: warning: ...\"\n"
    "where a command passes as spectest-interp counts it but wafer's error kind or message\n"
    "differs from the script's, a summary line per script, and last\n"
    "\"N passed, N failed\". --verbose also prints each command\n"
    "before running it. Imports resolve against registered modules and the spectest module.\n"
    "Exit status: 0 if no command failed, 1 otherwise, 2 on a usage error.\n";

typedef enum verdict { PASSED, FAILED } verdict;

/* What an operation came to: nothing, or an error copied out of a wafer_error (or made here, as
 * for an import nothing provides). */
typedef struct outcome {
    bool failed;
    wafer_error_kind kind;
    wafer_trap_kind trap;
    char message[512];
} outcome;

typedef struct named_map {
    char *name;
    size_t name_len;
    export_map *map;
} named_map;

typedef struct script {
    const cli_options *opts;
    wafer_engine *engine;
    wafer_store *store;
    bool verbose;
    const char *source; /* the .wast file named in the JSON, for messages */
    char *dir;          /* the JSON's directory, where its module files are */
    uint32_t line;      /* of the command running */

    export_map **maps; /* every map made, freed at the end */
    size_t nmaps, maps_cap;
    named_map *registered; /* module names imports resolve against; later entries win */
    size_t nregistered, registered_cap;
    named_map *named; /* instances named in module commands ($name); later entries win */
    size_t nnamed, named_cap;
    export_map *last; /* the last instance made */
    wafer_module **modules; /* kept until the store is gone */
    size_t nmodules, modules_cap;
    wast_refs refs;

    int passed, failed, warnings;
} script;

typedef struct totals {
    long passed, failed;
} totals;

/* ---- Small helpers ---------------------------------------------------------------------- */

/* A growable array with room for one more item: items itself, or where it moved; NULL (items
 * unchanged) if memory ran out. */
static void *room_for_one(void *items, size_t *capacity, size_t count, size_t item_size) {
    if (count < *capacity) return items;
    size_t grown_capacity = *capacity ? *capacity * 2 : 8;
    void *grown = realloc(items, grown_capacity * item_size);
    if (grown) *capacity = grown_capacity;
    return grown;
}

static void outcome_set(outcome *o, wafer_error_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void outcome_set(outcome *o, wafer_error_kind kind, const char *fmt, ...) {
    o->failed = true;
    o->kind = kind;
    o->trap = WAFER_TRAP_NONE;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->message, sizeof o->message, fmt, ap);
    va_end(ap);
}

/* Copies err into o and frees it; a NULL err is success. */
static void outcome_take(outcome *o, wafer_error *err) {
    memset(o, 0, sizeof *o);
    if (!err) return;
    o->failed = true;
    o->kind = wafer_error_kind_of(err);
    o->trap = wafer_error_trap_kind(err);
    snprintf(o->message, sizeof o->message, "%s", wafer_error_message(err));
    wafer_error_free(err);
}

static void print_where(script *s) { printf("%s:%u: ", s->source, s->line); }

static verdict fail(script *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static verdict fail(script *s, const char *fmt, ...) {
    print_where(s);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    return FAILED;
}

static void warn(script *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(script *s, const char *fmt, ...) {
    print_where(s);
    fputs("warning: ", stdout);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    s->warnings++;
}

static const char *json_text(json_t *object, const char *key, size_t *len) {
    json_t *value = json_object_get(object, key);
    if (!json_is_string(value)) return NULL;
    if (len) *len = json_string_length(value);
    return json_string_value(value);
}

static bool starts_with(const char *text, const char *prefix) {
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static named_map *find_named(named_map *items, size_t count, const char *name, size_t len) {
    for (size_t i = count; i-- > 0;)
        if (items[i].name_len == len && (len == 0 || memcmp(items[i].name, name, len) == 0))
            return &items[i];
    return NULL;
}

static bool add_named(named_map **items, size_t *count, size_t *capacity, const char *name,
                      size_t len, export_map *map) {
    named_map *grown = room_for_one(*items, capacity, *count, sizeof **items);
    if (!grown) return false;
    *items = grown;
    char *copy = malloc(len + 1);
    if (!copy) return false;
    if (len) memcpy(copy, name, len);
    copy[len] = '\0';
    (*items)[(*count)++] = (named_map){copy, len, map};
    return true;
}

static export_map *new_map(script *s) {
    export_map **grown = room_for_one(s->maps, &s->maps_cap, s->nmaps, sizeof *s->maps);
    if (!grown) return NULL;
    s->maps = grown;
    export_map *map = malloc(sizeof *map);
    if (!map) return NULL;
    export_map_init(map);
    s->maps[s->nmaps++] = map;
    return map;
}

/* ---- Modules ---------------------------------------------------------------------------- */

static char *module_path(const script *s, const char *filename) {
    size_t dir_len = strlen(s->dir), name_len = strlen(filename);
    char *path = malloc(dir_len + name_len + 2);
    if (!path) return NULL;
    if (dir_len) {
        memcpy(path, s->dir, dir_len);
        path[dir_len] = '/';
        memcpy(path + dir_len + 1, filename, name_len + 1);
    } else {
        memcpy(path, filename, name_len + 1);
    }
    return path;
}

/* Reads and compiles the command's module file; NULL with o describing why not. */
static wafer_module *compile(script *s, json_t *command, outcome *o) {
    memset(o, 0, sizeof *o);
    const char *filename = json_text(command, "filename", NULL);
    if (!filename) {
        outcome_set(o, WAFER_ERROR_USAGE, "the command names no module file");
        return NULL;
    }
    char *path = module_path(s, filename);
    uint8_t *bytes = NULL;
    size_t len = 0;
    const char *why = "out of memory";
    bool read = path && file_bytes_read(path, &bytes, &len, &why);
    if (!read) {
        outcome_set(o, WAFER_ERROR_USAGE, "cannot read %s: %s", path ? path : filename, why);
        free(path);
        return NULL;
    }
    wafer_module *module = NULL;
    outcome_take(o, module_load(s->engine, path, bytes, len, &module));
    free(path);
    free(bytes);
    if (o->failed) return NULL;
    const char *precompile = getenv("WAFER_WAST_PRECOMPILE");
    if (precompile && precompile[0] == '1') {
        outcome_take(o, module_round_trip(s->engine, &module));
        if (o->failed) {
            wafer_module_release(module);
            return NULL;
        }
    }
    wafer_module **grown = room_for_one(s->modules, &s->modules_cap, s->nmodules,
                                        sizeof *s->modules);
    if (!grown) {
        wafer_module_release(module);
        outcome_set(o, WAFER_ERROR_RESOURCE, "out of memory");
        return NULL;
    }
    s->modules = grown;
    s->modules[s->nmodules++] = module;
    return module;
}

/* Instantiates module with imports from the registered modules; on success returns the map of
 * its exports, else NULL with o describing why. */
static export_map *instantiate(script *s, wafer_module *module, outcome *o) {
    memset(o, 0, sizeof *o);
    size_t nimports = wafer_module_import_count(module);
    wafer_extern *imports = calloc(nimports + 1, sizeof *imports);
    if (!imports) {
        outcome_set(o, WAFER_ERROR_RESOURCE, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < nimports; i++) {
        wafer_import_desc import = wafer_module_import(module, i);
        named_map *provider = find_named(s->registered, s->nregistered, import.module.bytes,
                                         import.module.len);
        if (!provider ||
            !export_map_find(provider->map, import.name.bytes, import.name.len, &imports[i])) {
            outcome_set(o, WAFER_ERROR_UNLINKABLE, "unknown import \"%.*s\".\"%.*s\"",
                        (int)import.module.len, import.module.bytes, (int)import.name.len,
                        import.name.bytes);
            free(imports);
            return NULL;
        }
    }
    options_prepare_store(s->opts, s->store);
    wafer_instance *instance = NULL;
    outcome_take(o, wafer_instance_new(s->store, module, imports, nimports, &instance));
    free(imports);
    if (o->failed) return NULL;
    export_map *map = new_map(s);
    if (!map || !export_map_fill(map, instance)) {
        outcome_set(o, WAFER_ERROR_RESOURCE, "out of memory");
        return NULL;
    }
    return map;
}

/* ---- Actions ---------------------------------------------------------------------------- */

typedef struct action_result {
    outcome outcome;
    wafer_value *values; /* malloc'd; count values */
    size_t count;
} action_result;

static void action_result_free(action_result *r) {
    for (size_t i = 0; i < r->count; i++) wafer_value_release(&r->values[i]);
    free(r->values);
    r->values = NULL;
    r->count = 0;
}

/* Calls func with the action's arguments; r->outcome says how it went. */
static void invoke(script *s, json_t *action, wafer_func *func, action_result *r) {
    json_t *args_json = json_object_get(action, "args");
    size_t nargs = json_array_size(args_json);
    wafer_value *args = calloc(nargs + 1, sizeof *args);
    const wafer_functype *type = wafer_func_type(func);
    r->values = calloc(type->num_results + 1, sizeof *r->values);
    if (!args || !r->values) {
        free(args);
        outcome_set(&r->outcome, WAFER_ERROR_RESOURCE, "out of memory");
        return;
    }
    for (size_t i = 0; i < nargs; i++) {
        char why[256];
        if (!wast_value_parse_arg(json_array_get(args_json, i), &s->refs, &args[i], why,
                                  sizeof why)) {
            outcome_set(&r->outcome, WAFER_ERROR_USAGE, "argument %zu: %s", i, why);
            free(args);
            return;
        }
    }
    options_prepare_store(s->opts, s->store);
    outcome_take(&r->outcome,
                 wafer_func_call(s->store, func, args, nargs, r->values, type->num_results));
    free(args);
    if (!r->outcome.failed) r->count = type->num_results;
}

/* Runs an "invoke" or "get" action; r->outcome says how it went. */
static void run_action(script *s, json_t *command, action_result *r) {
    memset(r, 0, sizeof *r);
    json_t *action = json_object_get(command, "action");
    const char *type = json_text(action, "type", NULL);
    size_t module_len = 0, field_len = 0;
    const char *module_name = json_text(action, "module", &module_len);
    const char *field = json_text(action, "field", &field_len);
    if (!type || !field) {
        outcome_set(&r->outcome, WAFER_ERROR_USAGE, "an action without a type or field");
        return;
    }
    export_map *target = s->last;
    if (module_name) {
        named_map *named = find_named(s->named, s->nnamed, module_name, module_len);
        target = named ? named->map : NULL;
    }
    wafer_extern ext;
    if (!target || !export_map_find(target, field, field_len, &ext)) {
        outcome_set(&r->outcome, WAFER_ERROR_USAGE, "unknown export \"%s%s%.*s\"",
                    module_name ? module_name : "", module_name ? "." : "", (int)field_len,
                    field);
        return;
    }
    if (strcmp(type, "invoke") == 0 && ext.kind == WAFER_EXTERN_FUNC) {
        invoke(s, action, ext.of.func, r);
    } else if (strcmp(type, "get") == 0 && ext.kind == WAFER_EXTERN_GLOBAL) {
        r->values = malloc(sizeof *r->values);
        if (!r->values) {
            outcome_set(&r->outcome, WAFER_ERROR_RESOURCE, "out of memory");
            return;
        }
        r->values[0] = wafer_global_get(ext.of.global);
        r->count = 1;
    } else {
        outcome_set(&r->outcome, WAFER_ERROR_USAGE, "cannot %s export \"%.*s\"", type,
                    (int)field_len, field);
    }
}

/* Runner problems (a missing file or export) are USAGE outcomes and speak for themselves. */
static void describe_outcome(const outcome *o, char *out, size_t size) {
    if (o->kind == WAFER_ERROR_USAGE)
        snprintf(out, size, "%s", o->message);
    else if (o->kind == WAFER_ERROR_TRAP)
        snprintf(out, size, "trap \"%s\"", o->message);
    else
        snprintf(out, size, "%s error \"%s\"", error_text_kind(o->kind), o->message);
}

/* ---- Commands --------------------------------------------------------------------------- */

static verdict on_module(script *s, json_t *command) {
    outcome o;
    wafer_module *module = compile(s, command, &o);
    char what[600];
    if (!module) {
        describe_outcome(&o, what, sizeof what);
        return fail(s, "expected the module to load, got %s", what);
    }
    export_map *map = instantiate(s, module, &o);
    if (!map) {
        describe_outcome(&o, what, sizeof what);
        return fail(s, "expected the module to instantiate, got %s", what);
    }
    s->last = map;
    size_t name_len = 0;
    const char *name = json_text(command, "name", &name_len);
    if (name && !add_named(&s->named, &s->nnamed, &s->named_cap, name, name_len, map))
        return fail(s, "out of memory naming the module");
    return PASSED;
}

/* Not a test: a failure here is reported and counted, but a success is not. */
static void on_register(script *s, json_t *command) {
    size_t as_len = 0, name_len = 0;
    const char *as = json_text(command, "as", &as_len);
    const char *name = json_text(command, "name", &name_len);
    export_map *map = s->last;
    if (name) {
        named_map *named = find_named(s->named, s->nnamed, name, name_len);
        map = named ? named->map : NULL;
    }
    if (!as || !map) {
        fail(s, "register: no such module %s", name ? name : "(no module was instantiated)");
        s->failed++;
        return;
    }
    if (!add_named(&s->registered, &s->nregistered, &s->registered_cap, as, as_len, map)) {
        fail(s, "register: out of memory");
        s->failed++;
    }
}

static verdict on_action(script *s, json_t *command) {
    action_result r;
    run_action(s, command, &r);
    action_result_free(&r);
    if (!r.outcome.failed) return PASSED;
    char what[600];
    describe_outcome(&r.outcome, what, sizeof what);
    return fail(s, "expected the action to succeed, got %s", what);
}

static verdict check_results(script *s, json_t *command, const action_result *r) {
    json_t *expected = json_object_get(command, "expected");
    size_t count = json_array_size(expected);
    if (count != r->count)
        return fail(s, "expected %zu results, got %zu", count, r->count);
    verdict v = PASSED;
    for (size_t i = 0; i < count; i++) {
        wast_expected want;
        char why[256];
        if (!wast_value_parse_expected(json_array_get(expected, i), &s->refs, &want, why,
                                       sizeof why))
            return fail(s, "result %zu: %s", i, why);
        if (wast_value_matches(&want, r->values[i])) continue;
        print_where(s);
        printf("result %zu: expected ", i);
        wast_value_print_expected(stdout, &want);
        printf(", got ");
        wast_value_print(stdout, r->values[i]);
        putchar('\n');
        v = FAILED;
    }
    return v;
}

static verdict on_assert_return(script *s, json_t *command) {
    action_result r;
    run_action(s, command, &r);
    verdict v;
    if (r.outcome.failed) {
        char what[600];
        describe_outcome(&r.outcome, what, sizeof what);
        v = fail(s, "expected a return, got %s", what);
    } else {
        v = check_results(s, command, &r);
    }
    action_result_free(&r);
    return v;
}

static verdict on_assert_trap(script *s, json_t *command) {
    const char *text = json_text(command, "text", NULL);
    if (!text) text = "";
    action_result r;
    run_action(s, command, &r);
    action_result_free(&r);
    if (!r.outcome.failed) return fail(s, "expected trap \"%s\", got a return", text);
    if (r.outcome.kind != WAFER_ERROR_TRAP) {
        char what[600];
        describe_outcome(&r.outcome, what, sizeof what);
        return fail(s, "expected trap \"%s\", got %s", text, what);
    }
    if (!starts_with(r.outcome.message, text))
        warn(s, "expected trap \"%s\", got trap \"%s\"", text, r.outcome.message);
    return PASSED;
}

static verdict on_assert_exhaustion(script *s, json_t *command) {
    const char *text = json_text(command, "text", NULL);
    if (!text) text = "";
    action_result r;
    run_action(s, command, &r);
    action_result_free(&r);
    if (r.outcome.failed && r.outcome.trap == WAFER_TRAP_CALL_STACK_EXHAUSTED) return PASSED;
    if (!r.outcome.failed) return fail(s, "expected exhaustion \"%s\", got a return", text);
    char what[600];
    describe_outcome(&r.outcome, what, sizeof what);
    return fail(s, "expected exhaustion \"%s\", got %s", text, what);
}

/* assert_malformed, assert_invalid: the module must be refused. */
static verdict on_assert_refused(script *s, json_t *command, wafer_error_kind want_kind) {
    const char *module_type = json_text(command, "module_type", NULL);
    bool text_module = module_type && strcmp(module_type, "text") == 0;
    const char *text = json_text(command, "text", NULL);
    if (!text) text = "";
    outcome o;
    wafer_module *module = compile(s, command, &o);
    if (module)
        return fail(s, "expected the module to be %s (\"%s\"), but it compiled",
                    error_text_kind(want_kind), text);
    if (o.kind == WAFER_ERROR_USAGE) return fail(s, "%s", o.message);
    if (text_module) return PASSED;
    if (o.kind != want_kind || !strstr(o.message, text))
        warn(s, "expected %s \"%s\", got %s \"%s\"", error_text_kind(want_kind), text,
             error_text_kind(o.kind), o.message);
    return PASSED;
}

/* assert_unlinkable, assert_uninstantiable: the module must compile and then fail to
 * instantiate. */
static verdict on_assert_not_instantiated(script *s, json_t *command, wafer_error_kind want_kind) {
    const char *text = json_text(command, "text", NULL);
    if (!text) text = "";
    outcome o;
    char what[600];
    wafer_module *module = compile(s, command, &o);
    if (!module) {
        describe_outcome(&o, what, sizeof what);
        return fail(s, "expected the module to compile and then fail to instantiate (\"%s\"), "
                       "got %s",
                    text, what);
    }
    export_map *map = instantiate(s, module, &o);
    if (map)
        return fail(s, "expected the module to fail to instantiate (\"%s\"), but it did", text);
    if (o.kind != want_kind || !starts_with(o.message, text)) {
        describe_outcome(&o, what, sizeof what);
        warn(s, "expected %s \"%s\", got %s", error_text_kind(want_kind), text, what);
    }
    return PASSED;
}

static verdict run_command(script *s, json_t *command, const char *type) {
    if (strcmp(type, "module") == 0) return on_module(s, command);
    if (strcmp(type, "action") == 0) return on_action(s, command);
    if (strcmp(type, "assert_return") == 0) return on_assert_return(s, command);
    if (strcmp(type, "assert_trap") == 0) return on_assert_trap(s, command);
    if (strcmp(type, "assert_exhaustion") == 0) return on_assert_exhaustion(s, command);
    if (strcmp(type, "assert_malformed") == 0)
        return on_assert_refused(s, command, WAFER_ERROR_MALFORMED);
    if (strcmp(type, "assert_invalid") == 0)
        return on_assert_refused(s, command, WAFER_ERROR_INVALID);
    if (strcmp(type, "assert_unlinkable") == 0)
        return on_assert_not_instantiated(s, command, WAFER_ERROR_UNLINKABLE);
    if (strcmp(type, "assert_uninstantiable") == 0)
        return on_assert_not_instantiated(s, command, WAFER_ERROR_TRAP);
    return fail(s, "unknown command type \"%s\"", type);
}

/* ---- Scripts ---------------------------------------------------------------------------- */

static void script_free(script *s) {
    if (s->store) wafer_store_delete(s->store);
    for (size_t i = 0; i < s->nmodules; i++) wafer_module_release(s->modules[i]);
    for (size_t i = 0; i < s->nmaps; i++) {
        export_map_free(s->maps[i]);
        free(s->maps[i]);
    }
    for (size_t i = 0; i < s->nregistered; i++) free(s->registered[i].name);
    for (size_t i = 0; i < s->nnamed; i++) free(s->named[i].name);
    free(s->modules);
    free(s->maps);
    free(s->registered);
    free(s->named);
    wast_refs_free(&s->refs);
    free(s->dir);
}

/* The store, the spectest module registered as "spectest", and the directory of the script. */
static const char *script_init(script *s, const cli_options *opts, wafer_engine *engine,
                               const char *path) {
    memset(s, 0, sizeof *s);
    s->opts = opts;
    s->engine = engine;
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) : 0;
    s->dir = malloc(dir_len + 1);
    s->store = wafer_store_new(engine);
    if (!s->dir || !s->store) return "out of memory";
    memcpy(s->dir, path, dir_len);
    s->dir[dir_len] = '\0';
    wast_refs_init(&s->refs);
    export_map *spectest = new_map(s);
    if (!spectest) return "out of memory";
    const char *why = spectest_instantiate(s->store, stdout, spectest);
    if (why) return why;
    if (!add_named(&s->registered, &s->nregistered, &s->registered_cap, "spectest", 8, spectest))
        return "out of memory";
    return NULL;
}

static void run_script(const cli_options *opts, wafer_engine *engine, bool verbose,
                       const char *path, totals *t) {
    json_error_t json_error;
    json_t *root = json_load_file(path, JSON_ALLOW_NUL, &json_error);
    json_t *commands = json_object_get(root, "commands");
    if (!json_is_array(commands)) {
        printf("%s:%d: not a wast2json script: %s\n", path, json_error.line,
               root ? "no command list" : json_error.text);
        printf("%s: 0 passed, 1 failed\n", path);
        t->failed++;
        json_decref(root);
        return;
    }
    script s;
    const char *why = script_init(&s, opts, engine, path);
    if (why) {
        printf("%s: cannot start: %s\n", path, why);
        printf("%s: 0 passed, 1 failed\n", path);
        t->failed++;
        script_free(&s);
        json_decref(root);
        return;
    }
    s.verbose = verbose;
    s.source = json_text(root, "source_filename", NULL);
    if (!s.source) s.source = path;
    size_t index;
    json_t *command;
    json_array_foreach(commands, index, command) {
        const char *type = json_text(command, "type", NULL);
        json_int_t line = json_integer_value(json_object_get(command, "line"));
        s.line = (uint32_t)line;
        if (!type) type = "(none)";
        if (s.verbose) {
            print_where(&s);
            printf("%s\n", type);
        }
        if (strcmp(type, "register") == 0) {
            on_register(&s, command);
            continue;
        }
        switch (run_command(&s, command, type)) {
        case PASSED: s.passed++; break;
        case FAILED: s.failed++; break;
        }
    }
    printf("%s: %d passed, %d failed", path, s.passed, s.failed);
    if (s.warnings) printf(" (%d warning%s)", s.warnings, s.warnings == 1 ? "" : "s");
    putchar('\n');
    fflush(stdout);
    t->passed += s.passed;
    t->failed += s.failed;
    script_free(&s);
    json_decref(root);
}

int wast_main(int argc, char **argv) {
    cli_options opts;
    options_init_as_wabt(&opts);
    char **paths = calloc((size_t)argc + 1, sizeof *paths);
    if (!paths) {
        fprintf(stderr, "wafer wast: out of memory\n");
        return EXIT_FAILED;
    }
    bool verbose = false;
    int npaths = 0, i = 0, status = EXIT_OK;
    while (i < argc && status == EXIT_OK) {
        options_result taken = options_take(&opts, argc, argv, &i);
        if (taken == OPTIONS_BAD) status = EXIT_USAGE;
        if (taken != OPTIONS_NOT_MINE) continue;
        if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
            verbose = true;
            i++;
        } else if (strncmp(argv[i], "--", 2) == 0) {
            fprintf(stderr, "wafer wast: unknown option %s (see wafer help wast)\n", argv[i]);
            status = EXIT_USAGE;
        } else {
            paths[npaths++] = argv[i++];
        }
    }
    if (status == EXIT_OK && npaths == 0) {
        fprintf(stderr, "wafer wast: no script given (see wafer help wast)\n");
        status = EXIT_USAGE;
    }
    cli_engine engine;
    if (status == EXIT_OK && !options_engine_start(&opts, &engine)) status = EXIT_FAILED;
    if (status == EXIT_OK) {
        totals t = {0, 0};
        for (int k = 0; k < npaths; k++) run_script(&opts, engine.engine, verbose, paths[k], &t);
        options_engine_stop(&engine);
        printf("%ld passed, %ld failed\n", t.passed, t.failed);
        status = t.failed ? EXIT_FAILED : EXIT_OK;
    }
    free(paths);
    return status;
}
