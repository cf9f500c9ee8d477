/* Unit tests for the pure core helpers: err, buf, text, the transition table. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/jsonkeys.h"
#include "core/text.h"
#include "store/migrate.h"
#include "store/queue.h"
#include "testsuite.h"

START_TEST(err_set_formats_and_maps)
{
    struct err e;

    ck_assert_int_eq(err_set(&e, ERR_STALE_EPOCH, "epoch %d", 3), -1);
    ck_assert_str_eq(e.msg, "epoch 3");
    ck_assert_str_eq(err_code_name(e.code), "stale_epoch");
    ck_assert_int_eq(err_http_status(ERR_NOT_FOUND), 404);
    ck_assert_int_eq(err_http_status(ERR_TOO_LARGE), 413);
    ck_assert_int_eq(err_set(NULL, ERR_INVALID, "x"), -1);
}
END_TEST

START_TEST(buf_respects_limit)
{
    struct buf b;

    buf_init(&b, 8);
    ck_assert_int_eq(buf_append(&b, "1234", 4), 0);
    ck_assert_int_eq(buf_append(&b, "5678", 4), 0);
    ck_assert_int_eq(buf_append(&b, "9", 1), -1);
    ck_assert_uint_eq(b.len, 8);
    ck_assert_str_eq(b.data, "12345678");
    buf_reset(&b);
    ck_assert_int_eq(buf_appendf(&b, "%d-%s", 42, "x"), 0);
    ck_assert_str_eq(b.data, "42-x");
    buf_clear(&b);
}
END_TEST

static const struct {
    const char *s;
    int ok;
} utf8_cases[] = {
    {"plain ascii", 1}, {"h\xc3\xa9llo", 1}, {"\xe2\x82\xac", 1}, {"\xf0\x9f\x98\x80", 1},
    {"\xc3", 0},        {"\xc0\xaf", 0},     {"\xed\xa0\x80", 0}, {"\xf5\x80\x80\x80", 0},
    {"\xe2\x82", 0},    {"\x80", 0},
};

START_TEST(text_utf8_table)
{
    ck_assert_int_eq(text_utf8_valid(utf8_cases[_i].s, strlen(utf8_cases[_i].s)),
                     utf8_cases[_i].ok);
}
END_TEST

START_TEST(jsonkeys_finds_the_unknown_member)
{
    static const char *const names[] = {"name", "url", NULL};
    json_t *ok = json_pack("{s:s,s:s}", "name", "a", "url", "b");
    json_t *typo = json_pack("{s:s,s:s}", "name", "a", "ulr", "b");

    ck_assert_ptr_null(jsonkeys_unknown(ok, names));
    ck_assert_str_eq(jsonkeys_unknown(typo, names), "ulr");
    ck_assert_ptr_null(jsonkeys_unknown(NULL, names));
    json_decref(ok);
    json_decref(typo);
}
END_TEST

START_TEST(text_helpers)
{
    char slug[32];

    ck_assert(text_utf8_valid("ab", 2));
    ck_assert(!text_utf8_valid("a\0b", 3));
    ck_assert_uint_eq(text_utf8_chars("h\xc3\xa9llo"), 5);
    ck_assert(text_is_uuid("123e4567-e89b-12d3-a456-426614174000"));
    ck_assert(!text_is_uuid("123e4567-e89b-12d3-a456-42661417400"));
    ck_assert(!text_is_uuid("' OR 1=1 --"));
    text_slug("Add a /health endpoint!", slug, sizeof(slug));
    ck_assert_str_eq(slug, "add-a-health-endpoint");
    text_slug("  ", slug, sizeof(slug));
    ck_assert_str_eq(slug, "");
    {
        static const unsigned char raw[] = {0x00, 0x0f, 0xa5, 0xff, 0x10};
        char hex[2 * sizeof(raw) + 2];

        memset(hex, 'x', sizeof(hex));
        text_hex(raw, sizeof(raw), hex);
        ck_assert_str_eq(hex, "000fa5ff10");
        ck_assert_int_eq(hex[sizeof(hex) - 1], 'x'); /* 2n characters and one NUL, no more */
        text_hex(raw, 0, hex);
        ck_assert_str_eq(hex, "");
    }
    text_env_name("DROVER_FORGE_TOKEN_", "my-app.v2", slug, sizeof(slug));
    ck_assert_str_eq(slug, "DROVER_FORGE_TOKEN_MY_APP_V2");
    text_env_name("DROVER_X_", NULL, slug, sizeof(slug));
    ck_assert_str_eq(slug, "DROVER_X_");
    text_env_name("DROVER_FORGE_TOKEN_", "a-very-long-project-name", slug, sizeof(slug));
    ck_assert_str_eq(slug, "DROVER_FORGE_TOKEN_A_VERY_LONG_");
    {
        static const char *const urls[][2] = {
            {"https://u:secret@git.example/o/r.git", "https://***@git.example/o/r.git"},
            {"https://git.example/o/r@v1", "https://git.example/o/r@v1"},
            {"git@git.example:o/r.git", "git@git.example:o/r.git"},
            {"ssh://git@host/r", "ssh://***@host/r"}};

        for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
            char *safe = text_url_redact(urls[i][0]);

            ck_assert_str_eq(safe, urls[i][1]);
            free(safe);
        }
    }
}
END_TEST

/* Every pair of states: exactly the design's transitions are allowed. */
static const char *const states[] = {"backlog",   "in_progress", "ready_to_test", "needs_input",
                                     "completed", "failed",      "cancelled"};
static const char *const allowed[] = {
    "backlog>in_progress",   "in_progress>ready_to_test", "in_progress>needs_input",
    "in_progress>completed", "in_progress>failed",        "in_progress>backlog",
    "needs_input>backlog",   "ready_to_test>completed",   "backlog>cancelled",
    "in_progress>cancelled", "needs_input>cancelled",     "ready_to_test>cancelled",
    "failed>backlog",        "cancelled>backlog",         "ready_to_test>backlog"};

START_TEST(queue_transition_table)
{
    size_t n = sizeof(states) / sizeof(states[0]);
    const char *from = states[_i / n], *to = states[_i % n];
    char key[64];
    int expect = 0;

    snprintf(key, sizeof(key), "%s>%s", from, to);
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (strcmp(allowed[i], key) == 0)
            expect = 1;
    ck_assert_msg(model_transition_allowed(from, to) == expect, "%s", key);
}
END_TEST

START_TEST(queue_terminal_states_have_no_exit_but_retry)
{
    ck_assert(!model_transition_allowed("completed", "backlog"));
    ck_assert(!model_transition_allowed("completed", "cancelled"));
    ck_assert(!model_transition_allowed("failed", "completed"));
    ck_assert(model_state_valid("needs_input"));
    ck_assert(!model_state_valid("done"));
    ck_assert(!model_state_valid(NULL));
}
END_TEST

START_TEST(migrate_version_parses)
{
    ck_assert_int_eq(migrate_version("001_init.sql"), 1);
    ck_assert_int_eq(migrate_version("042_x.sql"), 42);
    ck_assert_int_eq(migrate_version("init.sql"), -1);
    ck_assert_int_eq(migrate_version("7.sql"), -1);
    ck_assert_ptr_nonnull(migrate_files[0].name);
    ck_assert_int_eq(migrate_version(migrate_files[0].name), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, err_set_formats_and_maps);
    tcase_add_test(tc, buf_respects_limit);
    tcase_add_loop_test(tc, text_utf8_table, 0, sizeof(utf8_cases) / sizeof(utf8_cases[0]));
    tcase_add_test(tc, text_helpers);
    tcase_add_test(tc, jsonkeys_finds_the_unknown_member);
    tcase_add_loop_test(tc, queue_transition_table, 0,
                        (sizeof(states) / sizeof(states[0])) *
                            (sizeof(states) / sizeof(states[0])));
    tcase_add_test(tc, queue_terminal_states_have_no_exit_but_retry);
    tcase_add_test(tc, migrate_version_parses);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
