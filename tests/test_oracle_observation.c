/* The observation text format (oracles/observation.h): what adapters write parses back to the
 * same observations, names are escaped, and malformed lines are refused with their number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../oracles/observation.h"

/* The list written as text (malloc'd). */
static char *written(const observation_list *list) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_true(observation_list_write(f, list));
    fclose(f);
    return text;
}

static void text_round_trips(void **state) {
    const char *text = "instantiate ok\n"
                       "log env log i32:0x7 f32:0xda24260 f64:0x3fb999999999999a i64:0x63\n"
                       "call f%20%00x\n"
                       "return i32:0xffffffff funcref:null externref:nonnull\n"
                       "call g\n"
                       "trap indirect_call_mismatch\n"
                       "call h\n"
                       "return\n"
                       "global g f64:0x7ff8000000000001\n"
                       "memory mem 16 0fd1cf34a69200dd\n"
                       "memory big 70000 -\n"
                       "inconclusive stack call stack exhausted (depth 10000)\n";
    observation_list list;
    observation_list_init(&list);
    char why[200];
    assert_true(observation_list_parse(text, strlen(text), &list, why, sizeof why));
    assert_int_equal(list.count, 12);
    assert_int_equal(list.items[1].kind, OBS_LOG);
    assert_int_equal(list.items[1].nvalues, 4);
    assert_int_equal(list.items[1].values[2].type, OBS_F64);
    assert_true(list.items[1].values[2].bits == UINT64_C(0x3fb999999999999a));
    assert_int_equal(list.items[3].values[2].bits, 1);
    assert_int_equal(list.items[5].trap, OBS_TRAP_INDIRECT_CALL_MISMATCH);
    assert_false(list.items[10].has_hash);
    assert_string_equal(list.items[11].word, "stack");
    assert_string_equal(list.items[11].detail, "call stack exhausted (depth 10000)");
    assert_true(observation_list_ended(&list));
    char *again = written(&list);
    assert_string_equal(again, text);
    free(again);
    observation_list_free(&list);
}

static void builders_escape_names_and_write_the_format(void **state) {
    observation_list list;
    observation_list_init(&list);
    obs_value args[] = {{OBS_I32, 0xffffffff}, {OBS_F32, 0x7fc00000}, {OBS_EXTERNREF, 0}};
    assert_true(obs_add_instantiate_ok(&list));
    assert_true(obs_add_call(&list, "a b\0c", 5));
    assert_true(obs_add_log(&list, "fuzzing-support", 15, "log-i32", 7, args, 3));
    assert_true(obs_add_return(&list, NULL, 0));
    assert_true(obs_add_memory(&list, "m", 1, 1, true, 0xab));
    assert_true(obs_add_inconclusive(&list, "crash", "line one\nline two"));
    char *text = written(&list);
    assert_string_equal(text, "instantiate ok\n"
                              "call a%20b%00c\n"
                              "log fuzzing-support log-i32 i32:0xffffffff f32:0x7fc00000 "
                              "externref:null\n"
                              "return\n"
                              "memory m 1 00000000000000ab\n"
                              "inconclusive crash line one line two\n");
    free(text);
    observation_list_free(&list);
}

static void comments_and_blank_lines_are_ignored(void **state) {
    const char *text = "# wabt 1.0.32\n\ninstantiate ok\r\n";
    observation_list list;
    observation_list_init(&list);
    char why[200];
    assert_true(observation_list_parse(text, strlen(text), &list, why, sizeof why));
    assert_int_equal(list.count, 1);
    observation_list_free(&list);
}

/* Each bad line is refused, naming its line number. */
static void malformed_lines_are_refused(void **state) {
    static const char *const bad[] = {
        "return i32:42",               /* not hex */
        "return i32:0x100000000",      /* wider than the type */
        "return f32",                  /* no bits */
        "return v128:0x0",             /* no such type here */
        "return funcref:0x1",          /* references are null or nonnull */
        "trap segfault",               /* no such class */
        "call",                        /* no name */
        "call a b",                    /* names have no spaces */
        "call a%2",                    /* a cut escape */
        "log env",                     /* no name */
        "memory m 1 abc",              /* HASH is 16 digits */
        "memory m -1 -",               /* PAGES is unsigned */
        "instantiate maybe",           /* not ok, trap or error */
        "inconclusive",                /* no reason */
        "finished",                    /* unknown */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[200], why[200];
        snprintf(text, sizeof text, "instantiate ok\n%s\n", bad[i]);
        observation_list list;
        observation_list_init(&list);
        if (observation_list_parse(text, strlen(text), &list, why, sizeof why))
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(strncmp(why, "line 2:", 7), 0);
        assert_int_equal(list.count, 1);
        observation_list_free(&list);
    }
}

static void fnv1a64_is_the_reference_hash(void **state) {
    /* FNV-1a 64 test vectors (Fowler, Noll, Vo). */
    assert_true(obs_fnv1a64((const uint8_t *)"", 0) == UINT64_C(0xcbf29ce484222325));
    assert_true(obs_fnv1a64((const uint8_t *)"a", 1) == UINT64_C(0xaf63dc4c8601ec8c));
    assert_true(obs_fnv1a64((const uint8_t *)"foobar", 6) == UINT64_C(0x85944171f73967e8));
    /* runs of zeros (hashed eight at a time) among other bytes, at every alignment and length,
     * against the byte-by-byte definition */
    uint8_t buf[100] = {0};
    buf[3] = 7, buf[40] = 1, buf[41] = 0xFF, buf[90] = 2;
    for (size_t start = 0; start < 16; start++) {
        for (size_t len = 0; start + len <= sizeof buf; len++) {
            uint64_t h = UINT64_C(0xcbf29ce484222325);
            for (size_t i = 0; i < len; i++) h = (h ^ buf[start + i]) * UINT64_C(0x100000001b3);
            assert_true(obs_fnv1a64(buf + start, len) == h);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_round_trips),
        cmocka_unit_test(builders_escape_names_and_write_the_format),
        cmocka_unit_test(comments_and_blank_lines_are_ignored),
        cmocka_unit_test(malformed_lines_are_refused),
        cmocka_unit_test(fnv1a64_is_the_reference_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
