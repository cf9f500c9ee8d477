/*
 * Signed task handles (svc/svc_handles.h) against a real PostgreSQL (the key of migration 035):
 * a handle resolves to its task; a tampered MAC, another id under the same MAC, garbage, an
 * over-long handle and every handle after a key rotation resolve to nothing.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/svc_handles.h"
#include "fixture.h"
#include "testdb.h"

static int64_t parse(const char *h, enum err_code *code)
{
    struct err err = {0};
    int64_t id = -1;

    *code = svc_handles_parse(&fx.svc, h, &id, &err) == 0 ? ERR_OK : err.code;
    return id;
}

START_TEST(round_trip_and_forgeries)
{
    char h[SVC_HANDLE_LEN], forged[SVC_HANDLE_LEN + 8], other[SVC_HANDLE_LEN + 8];
    struct err err = {0};
    enum err_code code;
    const char *dot;

    ck_assert_msg(svc_handles_make(&fx.svc, 42, h, &err) == 0, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(h, "drv-task-42."));
    ck_assert_int_eq(parse(h, &code), 42);
    ck_assert_int_eq(code, ERR_OK);

    snprintf(forged, sizeof(forged), "%s", h);
    forged[strlen(forged) - 1] = forged[strlen(forged) - 1] == '0' ? '1' : '0';
    ck_assert_int_eq(parse(forged, &code), 0);
    ck_assert_int_eq(code, ERR_NOT_FOUND);

    dot = strchr(h, '.');
    snprintf(other, sizeof(other), "drv-task-43%s", dot);
    parse(other, &code);
    ck_assert_int_eq(code, ERR_NOT_FOUND);

    static const char *const junk[] = {
        "",
        "drv-task-",
        "drv-task-42",
        "drv-task-42.",
        "42.abc",
        "drv-task--1.00",
        "drv-task-0x2a.00",
        "drv-task-42.zz",
        "drv-task-42.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        parse(junk[i], &code);
        ck_assert_msg(code == ERR_NOT_FOUND, "accepted '%s'", junk[i]);
    }
    parse(NULL, &code);
    ck_assert_int_eq(code, ERR_NOT_FOUND);

    /* a rotated key: every earlier handle stops resolving */
    ck_assert(
        db_command(&fx.db,
                   "UPDATE mcp_keys SET secret = repeat('ab', 40) WHERE name = 'task_handles'",
                   &err) == 0);
    parse(h, &code);
    ck_assert_int_eq(code, ERR_NOT_FOUND);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("svc_handles");
    TCase *tc = tcase_create("svc_handles");

    testdb_setup();
    tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
    tcase_add_test(tc, round_trip_and_forgeries);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
