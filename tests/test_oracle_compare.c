/* The comparison rules of oracles/compare.c, each with observations that must agree and that
 * must not, written in observation.h's text format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../oracles/compare.h"

static void parse(const char *text, observation_list *out) {
    char why[200];
    observation_list_init(out);
    assert_true(observation_list_parse(text, strlen(text), out, why, sizeof why));
}

/* The verdict of wafer's text against the reference's (named "wabt"), with facts. */
static verdict judge_with(const char *ours, const char *theirs, const char *reference,
                          const module_facts *facts) {
    observation_list a, b;
    parse(ours, &a);
    parse(theirs, &b);
    verdict v;
    compare_observations(&a, &b, reference, facts, &v);
    observation_list_free(&a);
    observation_list_free(&b);
    return v;
}

static verdict judge(const char *ours, const char *theirs) {
    return judge_with(ours, theirs, "wabt", NULL);
}

#define CALL_F "instantiate ok\ncall f\n"

/* ---- Rule 1: an engine that gives up ends the comparison ------------------------------------- */

static void inconclusive_when_wafer_runs_out_of_stack(void **state) {
    verdict v = judge(CALL_F "inconclusive stack call stack exhausted\n",
                      CALL_F "return i32:0x1\n");
    assert_int_equal(v.kind, VERDICT_INCONCLUSIVE);
    assert_string_equal(v.what, "wafer stack");
    assert_string_equal(v.text, "inconclusive: wafer stack (call stack exhausted)");
}

static void inconclusive_when_the_reference_times_out(void **state) {
    verdict v = judge(CALL_F "return i32:0x1\ncall g\nreturn\n",
                      CALL_F "return i32:0x1\ncall g\ninconclusive time\n");
    assert_int_equal(v.kind, VERDICT_INCONCLUSIVE);
    assert_string_equal(v.what, "wabt time");
}

static void giving_up_after_a_difference_does_not_hide_it(void **state) {
    verdict v = judge(CALL_F "return i32:0x1\ninconclusive fuel\n",
                      CALL_F "return i32:0x2\ninconclusive fuel\n");
    assert_int_equal(v.kind, VERDICT_MISMATCH);
}

static void giving_up_keeps_an_earlier_trap_kind_finding(void **state) {
    verdict v = judge(CALL_F "trap div_zero\ncall g\ninconclusive stack\n",
                      CALL_F "trap int_overflow\ncall g\nreturn\n");
    assert_int_equal(v.kind, VERDICT_TRAP_KIND);
}

/* ---- Rule 2: values bit for bit, NaNs agree with NaNs of their type -------------------------- */

static void equal_values_agree(void **state) {
    verdict v = judge(CALL_F "return i32:0x2a i64:0xffffffffffffffff f32:0x3f800000 "
                             "f64:0x3fb999999999999a funcref:null externref:nonnull\n",
                      CALL_F "return i32:0x2a i64:0xffffffffffffffff f32:0x3f800000 "
                             "f64:0x3fb999999999999a funcref:null externref:nonnull\n");
    assert_int_equal(v.kind, VERDICT_AGREE);
    assert_string_equal(v.text, "agree");
}

static void a_different_bit_mismatches(void **state) {
    verdict v = judge(CALL_F "return f64:0x3fb999999999999a\n",
                      CALL_F "return f64:0x3fb9999999999999\n");
    assert_int_equal(v.kind, VERDICT_MISMATCH);
    assert_string_equal(v.what, "value");
    assert_string_equal(v.text, "MISMATCH: call f: wafer return f64:0x3fb999999999999a, "
                                "wabt return f64:0x3fb9999999999999");
}

static void nans_of_one_type_agree_whatever_their_payload_and_sign(void **state) {
    assert_int_equal(judge(CALL_F "return f32:0x7fc00000\n", CALL_F "return f32:0xffa00001\n").kind,
                     VERDICT_AGREE);
    assert_int_equal(judge(CALL_F "return f64:0x7ff8000000000000\n",
                           CALL_F "return f64:0xfff0000000000001\n")
                         .kind,
                     VERDICT_AGREE);
}

static void a_nan_does_not_agree_with_a_number_or_another_type(void **state) {
    /* infinity is not a NaN (zero mantissa) */
    assert_int_equal(judge(CALL_F "return f32:0x7fc00000\n", CALL_F "return f32:0x7f800000\n").kind,
                     VERDICT_MISMATCH);
    assert_int_equal(judge(CALL_F "return f32:0x7fc00000\n",
                           CALL_F "return f64:0x7ff8000000000000\n")
                         .kind,
                     VERDICT_MISMATCH);
    /* integers with a NaN's bits are integers */
    assert_int_equal(judge(CALL_F "return i32:0x7fc00000\n", CALL_F "return i32:0x7fc00001\n").kind,
                     VERDICT_MISMATCH);
}

static void signed_zeros_differ(void **state) {
    assert_int_equal(judge(CALL_F "return f64:0x0\n", CALL_F "return f64:0x8000000000000000\n").kind,
                     VERDICT_MISMATCH);
}

static void result_counts_and_references_must_match(void **state) {
    assert_int_equal(judge(CALL_F "return i32:0x1\n", CALL_F "return i32:0x1 i32:0x2\n").kind,
                     VERDICT_MISMATCH);
    assert_int_equal(judge(CALL_F "return funcref:null\n", CALL_F "return funcref:nonnull\n").kind,
                     VERDICT_MISMATCH);
}

/* ---- Rule 3: traps ------------------------------------------------------------------------- */

static void same_traps_agree(void **state) {
    assert_int_equal(judge(CALL_F "trap memory_oob\n", CALL_F "trap memory_oob\n").kind,
                     VERDICT_AGREE);
}

static void trap_kinds_differing_is_a_lower_rank_finding(void **state) {
    verdict v = judge(CALL_F "trap undefined_element\n", CALL_F "trap uninitialized_element\n");
    assert_int_equal(v.kind, VERDICT_TRAP_KIND);
    assert_string_equal(v.what, "trap-kind");
    assert_string_equal(v.text, "MISMATCH (trap kind): call f: wafer trap undefined_element, "
                                "wabt trap uninitialized_element");
}

static void class_other_agrees_with_any_trap(void **state) {
    assert_int_equal(judge(CALL_F "trap int_overflow\n", CALL_F "trap other\n").kind,
                     VERDICT_AGREE);
}

static void a_trap_against_a_return_mismatches(void **state) {
    verdict v = judge(CALL_F "trap unreachable\n", CALL_F "return\n");
    assert_int_equal(v.kind, VERDICT_MISMATCH);
    assert_string_equal(v.what, "trap");
}

static void a_later_mismatch_outranks_a_trap_kind(void **state) {
    verdict v = judge(CALL_F "trap div_zero\ncall g\nreturn i32:0x1\n",
                      CALL_F "trap int_overflow\ncall g\nreturn i32:0x2\n");
    assert_int_equal(v.kind, VERDICT_MISMATCH);
    assert_string_equal(v.what, "value");
}

static void instantiation_traps_follow_the_same_rule(void **state) {
    assert_int_equal(judge("instantiate trap memory_oob\n", "instantiate trap memory_oob\n").kind,
                     VERDICT_AGREE);
    assert_int_equal(judge("instantiate trap memory_oob\n", "instantiate trap table_oob\n").kind,
                     VERDICT_TRAP_KIND);
    verdict v = judge("instantiate trap memory_oob\n", "instantiate ok\n");
    assert_int_equal(v.kind, VERDICT_MISMATCH);
    assert_string_equal(v.what, "instantiation");
}

/* ---- Rule 4: modules both refuse ------------------------------------------------------------- */

static void malformed_and_invalid_are_one_class(void **state) {
    assert_int_equal(judge("instantiate error malformed\n", "instantiate error invalid\n").kind,
                     VERDICT_AGREE);
    assert_int_equal(judge("instantiate error unlinkable\n", "instantiate error invalid\n").kind,
                     VERDICT_MISMATCH);
}

static void refusing_a_module_the_reference_runs_mismatches(void **state) {
    verdict v = judge("instantiate error invalid\n", "instantiate ok\n");
    assert_int_equal(v.kind, VERDICT_MISMATCH);
    assert_string_equal(v.what, "validation");
    assert_string_equal(v.text,
                        "MISMATCH: instantiation: wafer instantiate error invalid, wabt instantiate ok");
}

/* ---- Rule 5: host logs, globals, memories -------------------------------------------------- */

static void identical_logs_agree(void **state) {
    assert_int_equal(judge(CALL_F "log env log%20it i32:0x1 f32:0x7fc00000\nreturn\n",
                           CALL_F "log env log%20it i32:0x1 f32:0x7fc00001\nreturn\n")
                         .kind,
                     VERDICT_AGREE);
}

static void logs_differing_in_name_argument_or_count_mismatch(void **state) {
    verdict v = judge(CALL_F "log env a i32:0x1\nreturn\n", CALL_F "log env b i32:0x1\nreturn\n");
    assert_int_equal(v.kind, VERDICT_MISMATCH);
    assert_string_equal(v.what, "log");
    assert_int_equal(
        judge(CALL_F "log env a i32:0x1\nreturn\n", CALL_F "log env a i32:0x2\nreturn\n").kind,
        VERDICT_MISMATCH);
    v = judge(CALL_F "log env a i32:0x1\nlog env a i32:0x1\nreturn\n",
              CALL_F "log env a i32:0x1\nreturn\n");
    assert_int_equal(v.kind, VERDICT_MISMATCH);
    assert_string_equal(v.what, "log");
}

static void globals_compare_as_values(void **state) {
    assert_int_equal(judge("instantiate ok\nglobal g f32:0x7fc00000\n",
                           "instantiate ok\nglobal g f32:0x7f800001\n")
                         .kind,
                     VERDICT_AGREE);
    verdict v = judge("instantiate ok\nglobal g i64:0x1\n", "instantiate ok\nglobal g i64:0x0\n");
    assert_int_equal(v.kind, VERDICT_MISMATCH);
    assert_string_equal(v.what, "global");
    assert_string_equal(v.text,
                        "MISMATCH: final state: wafer global g i64:0x1, wabt global g i64:0x0");
}

static void memories_compare_size_and_hash_when_both_hashed(void **state) {
    assert_int_equal(judge("instantiate ok\nmemory m 1 00000000000000ff\n",
                           "instantiate ok\nmemory m 1 00000000000000ff\n")
                         .kind,
                     VERDICT_AGREE);
    assert_int_equal(judge("instantiate ok\nmemory m 1 00000000000000ff\n",
                           "instantiate ok\nmemory m 1 -\n")
                         .kind,
                     VERDICT_AGREE);
    verdict v = judge("instantiate ok\nmemory m 1 00000000000000ff\n",
                      "instantiate ok\nmemory m 1 00000000000000fe\n");
    assert_int_equal(v.kind, VERDICT_MISMATCH);
    assert_string_equal(v.what, "memory");
    assert_int_equal(judge("instantiate ok\nmemory m 2 -\n", "instantiate ok\nmemory m 1 -\n").kind,
                     VERDICT_MISMATCH);
}

static void a_missing_observation_mismatches(void **state) {
    verdict v = judge(CALL_F "return\n", CALL_F "return\ncall g\nreturn\n");
    assert_int_equal(v.kind, VERDICT_MISMATCH);
    assert_string_equal(v.what, "length");
    assert_string_equal(v.text, "MISMATCH: call f: wafer (nothing more), wabt call g");
}

/* ---- Masks of known reference bugs ----------------------------------------------------------- */

/* wabt's memory64 of 2^48 pages wraps to 0 bytes: growing to it succeeds in wabt only. */
static void wabt_memory64_wrap_is_masked_narrowly(void **state) {
    facts_limits mem64 = {.min = 0, .has_max = false, .is64 = true};
    facts_limits mem32 = {.min = 0, .has_max = false, .is64 = false};
    module_facts facts64 = {.memories = &mem64, .nmemories = 1};
    module_facts facts32 = {.memories = &mem32, .nmemories = 1};
    const char *ours = CALL_F "return i64:0xffffffffffffffff\n";
    const char *wabt = CALL_F "return i64:0x0\n";
    verdict v = judge_with(ours, wabt, "wabt", &facts64);
    assert_int_equal(v.kind, VERDICT_INCONCLUSIVE);
    assert_string_equal(v.what, "wabt bug");
    /* Not for another reference, a 32-bit memory, unknown facts, or other values. */
    assert_int_equal(judge_with(ours, wabt, "v8", &facts64).kind, VERDICT_MISMATCH);
    assert_int_equal(judge_with(ours, wabt, "wabt", &facts32).kind, VERDICT_MISMATCH);
    assert_int_equal(judge_with(ours, wabt, "wabt", NULL).kind, VERDICT_MISMATCH);
    assert_int_equal(judge_with(CALL_F "return i64:0xfffffffffffffffe\n", wabt, "wabt", &facts64).kind,
                     VERDICT_MISMATCH);
    assert_int_equal(
        judge_with(ours, CALL_F "return i64:0x1000000000000\n", "wabt", &facts64).kind,
        VERDICT_MISMATCH);
    /* A memory64 whose maximum keeps it below 2^48 pages cannot wrap. */
    mem64.has_max = true;
    mem64.max = 65536;
    assert_int_equal(judge_with(ours, wabt, "wabt", &facts64).kind, VERDICT_MISMATCH);
}

/* wabt's interpreter types a data segment's offset by memory 0's index type. */
static void wabt_data_offset_type_is_masked_narrowly(void **state) {
    facts_limits mixed[2] = {{.is64 = false}, {.is64 = true}};
    facts_limits same[2] = {{.is64 = true}, {.is64 = true}};
    facts_data on_second = {.active = true, .memory = 1};
    facts_data passive = {.active = false, .memory = 0};
    module_facts bug = {.memories = mixed, .nmemories = 2, .data = &on_second, .ndata = 1};
    module_facts no_mix = {.memories = same, .nmemories = 2, .data = &on_second, .ndata = 1};
    module_facts no_segment = {.memories = mixed, .nmemories = 2, .data = &passive, .ndata = 1};
    const char *wabt = "instantiate error invalid\n";
    verdict v = judge_with("instantiate ok\n", wabt, "wabt", &bug);
    assert_int_equal(v.kind, VERDICT_INCONCLUSIVE);
    assert_string_equal(v.what, "wabt bug");
    assert_int_equal(judge_with("instantiate trap memory_oob\n", wabt, "wabt", &bug).kind,
                     VERDICT_INCONCLUSIVE);
    /* Not when wafer refuses too (that agrees), nor for modules without the shape. */
    assert_int_equal(judge_with("instantiate error invalid\n", wabt, "wabt", &bug).kind,
                     VERDICT_AGREE);
    assert_int_equal(judge_with("instantiate ok\n", wabt, "wabt", &no_mix).kind, VERDICT_MISMATCH);
    assert_int_equal(judge_with("instantiate ok\n", wabt, "wabt", &no_segment).kind,
                     VERDICT_MISMATCH);
    assert_int_equal(judge_with("instantiate ok\n", wabt, "v8", &bug).kind, VERDICT_MISMATCH);
    /* Nor for a disagreement after instantiation. */
    assert_int_equal(
        judge_with(CALL_F "return i32:0x1\n", CALL_F "return i32:0x2\n", "wabt", &bug).kind,
        VERDICT_MISMATCH);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inconclusive_when_wafer_runs_out_of_stack),
        cmocka_unit_test(inconclusive_when_the_reference_times_out),
        cmocka_unit_test(giving_up_after_a_difference_does_not_hide_it),
        cmocka_unit_test(giving_up_keeps_an_earlier_trap_kind_finding),
        cmocka_unit_test(equal_values_agree),
        cmocka_unit_test(a_different_bit_mismatches),
        cmocka_unit_test(nans_of_one_type_agree_whatever_their_payload_and_sign),
        cmocka_unit_test(a_nan_does_not_agree_with_a_number_or_another_type),
        cmocka_unit_test(signed_zeros_differ),
        cmocka_unit_test(result_counts_and_references_must_match),
        cmocka_unit_test(same_traps_agree),
        cmocka_unit_test(trap_kinds_differing_is_a_lower_rank_finding),
        cmocka_unit_test(class_other_agrees_with_any_trap),
        cmocka_unit_test(a_trap_against_a_return_mismatches),
        cmocka_unit_test(a_later_mismatch_outranks_a_trap_kind),
        cmocka_unit_test(instantiation_traps_follow_the_same_rule),
        cmocka_unit_test(malformed_and_invalid_are_one_class),
        cmocka_unit_test(refusing_a_module_the_reference_runs_mismatches),
        cmocka_unit_test(identical_logs_agree),
        cmocka_unit_test(logs_differing_in_name_argument_or_count_mismatch),
        cmocka_unit_test(globals_compare_as_values),
        cmocka_unit_test(memories_compare_size_and_hash_when_both_hashed),
        cmocka_unit_test(a_missing_observation_mismatches),
        cmocka_unit_test(wabt_memory64_wrap_is_masked_narrowly),
        cmocka_unit_test(wabt_data_offset_type_is_masked_narrowly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
