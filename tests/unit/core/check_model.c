/* The model's rules (core/model.c): branch names, default names, states, transitions. */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "testsuite.h"

static const struct {
    const char *name;
    bool ok;
} ref_cases[] = {
    {"drover/12-fix-it", true},
    {"feature/a.b_c", true},
    {"main", true},
    {"", false},
    {"a..b", false},
    {"a b", false},
    {"/a", false},
    {"a/", false},
    {"a.", false},
    {"a//b", false},
    {"a/.hidden", false},
    {"a.lock", false},
    {"x/y.lock/z", false},
    {"a@{b", false},
    {"@", false},
    {"a~1", false},
    {"a^", false},
    {"a:b", false},
    {"a?", false},
    {"a*", false},
    {"a[", false},
    {"a\\b", false},
    {"-x", false},
    {"refs/heads/x", false},
    {"a\x01", false},
};

START_TEST(branch_names)
{
    ck_assert_msg(model_branch_name_valid(ref_cases[_i].name) == ref_cases[_i].ok, "%s",
                  ref_cases[_i].name);
}
END_TEST

START_TEST(branch_default_names)
{
    char out[300];

    model_branch_default(12, "Fix the Login bug!", out, sizeof(out));
    ck_assert_str_eq(out, "drover/12-fix-the-login-bug");
    model_branch_default(3, "!!!", out, sizeof(out));
    ck_assert_str_eq(out, "drover/3");
    model_branch_default(4, "a very long title that goes on and on and on and on and on and on",
                         out, sizeof(out));
    ck_assert(model_branch_name_valid(out));
    ck_assert(strlen(out) < 70);
}
END_TEST

START_TEST(states_and_transitions)
{
    enum model_state st;

    for (int i = 0; i < MODEL_NSTATES; i++) {
        ck_assert_int_eq(model_state_parse(model_state_name((enum model_state)i), &st), 0);
        ck_assert_int_eq(st, i);
        ck_assert_ptr_nonnull(strstr(model_state_list(), model_state_name((enum model_state)i)));
    }
    ck_assert(!model_state_valid("done"));
    ck_assert(!model_state_valid(NULL));
    ck_assert(model_transition_allowed("backlog", "in_progress"));
    ck_assert(model_transition_allowed("needs_input", "backlog"));
    ck_assert(model_transition_allowed("ready_to_test", "completed"));
    ck_assert(!model_transition_allowed("completed", "backlog"));
    ck_assert(!model_transition_allowed("backlog", "completed"));
    ck_assert(!model_transition_allowed("bogus", "backlog"));
    ck_assert(model_state_terminal("failed") && !model_state_terminal("needs_input"));
    ck_assert(model_log_level_valid("warning") && !model_log_level_valid("fatal"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");

    tcase_add_loop_test(tc, branch_names, 0, sizeof(ref_cases) / sizeof(ref_cases[0]));
    tcase_add_test(tc, branch_default_names);
    tcase_add_test(tc, states_and_transitions);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
