/*
 * The agent's MCP client against a real droverd child process in both eras: the server/discover
 * probe selects 2026-07-28 (no session, every tool call with _meta and the mirrored headers)
 * over HTTP and over /ws; legacy_only forces initialize on the same server; a held
 * get_next_task in the modern era; a wrong token is refused by the probe itself (no fall-back).
 * The fall-back to a legacy-only server is check_mcpc (tests/fakes/fake_mcp.py).
 */
#include <check.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "droverd_proc.h"
#include "mcpc.h"
#include "store/queue.h"
#include "fixture.h"
#include "testdb.h"

static struct droverd_proc proc;
static char token[PRINCIPAL_TOKEN_LEN];

static void setup(void)
{
    static const char *const extra[] = {"--workers", "2", NULL};
    char agent[37];

    fixture_setup();
    fixture_agent_token("eras", agent, token);
    ck_assert_msg(droverd_proc_start(&proc, extra) == 0, "droverd did not start");
}

static void teardown(void)
{
    if (proc.pid > 0)
        droverd_proc_stop(&proc);
    fixture_teardown();
}

static void enqueue(const char *title)
{
    struct model_task_new t = {.title = title, .repo_url = "file:///tmp/r.git"};

    fixture_enqueue(&t);
}

/* Initialize over `scheme` and claim + log + heartbeat one task. */
static void work_one(const char *scheme, bool legacy_only, bool want_modern)
{
    char *url = mem_printf("%s://127.0.0.1:%d", scheme, proc.port);
    struct mcpc m;
    struct err err = {0};
    json_t *r = NULL, *args;
    long long id, epoch;

    enqueue("eras task");
    ck_assert_int_eq(mcpc_init(&m, url, token, &err), 0);
    m.legacy_only = legacy_only;
    ck_assert_msg(mcpc_initialize(&m, "check-eras", "1", &err) == 0, "%s", err.msg);
    ck_assert(m.modern == want_modern);
    ck_assert_str_eq(m.protocol_version, want_modern ? "2026-07-28" : "2025-11-25");
    ck_assert_str_eq(json_string_value(json_object_get(m.server_info, "name")), "drover");
    if (want_modern)
        ck_assert_ptr_null(m.session_id);
    args = json_pack("{s:i}", "wait_seconds", 0);
    ck_assert_msg(mcpc_call(&m, "get_next_task", args, 0, &r, &err) == 0, "%s", err.msg);
    json_decref(args);
    id = json_integer_value(json_object_get(json_object_get(r, "task"), "id"));
    ck_assert_int_gt(id, 0);
    epoch = json_integer_value(json_object_get(json_object_get(r, "task"), "lease_epoch"));
    json_decref(r);
    args = json_pack("{s:I, s:s}", "task_id", (json_int_t)id, "message", "from check_mcpc_eras");
    ck_assert_msg(mcpc_call(&m, "log_activity", args, 0, &r, &err) == 0, "%s", err.msg);
    json_decref(args);
    json_decref(r);
    args = json_pack("{s:s}", "status", "busy");
    ck_assert_msg(mcpc_call(&m, "heartbeat", args, 0, &r, &err) == 0, "%s", err.msg);
    json_decref(args);
    json_decref(r);
    /* a tool error maps back to its err code in either era */
    args = json_pack("{s:I, s:i, s:s}", "task_id", (json_int_t)id, "lease_epoch", 999, "status",
                     "completed");
    ck_assert_int_eq(mcpc_call(&m, "update_task_status", args, 0, &r, &err), -1);
    ck_assert_int_eq(err.code, ERR_STALE_EPOCH);
    json_decref(args);
    /* done with it: an agent holds one task at a time (--max-tasks-per-agent 1) */
    args = json_pack("{s:I, s:I, s:s}", "task_id", (json_int_t)id, "lease_epoch", (json_int_t)epoch,
                     "status", "completed");
    ck_assert_msg(mcpc_call(&m, "update_task_status", args, 0, &r, &err) == 0, "%s", err.msg);
    json_decref(args);
    json_decref(r);
    mcpc_clear(&m);
    free(url);
}

START_TEST(modern_over_http)
{
    work_one("http", false, true);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM mcp_sessions"), 0);
}
END_TEST

START_TEST(modern_over_ws)
{
    work_one("ws", false, true);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM mcp_sessions"), 0);
}
END_TEST

START_TEST(legacy_when_asked)
{
    work_one("http", true, false);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM mcp_sessions"), 1);
    work_one("ws", true, false);
}
END_TEST

START_TEST(modern_held_poll)
{
    char *url = mem_printf("http://127.0.0.1:%d", proc.port);
    struct mcpc m;
    struct err err = {0};
    json_t *r = NULL, *args = json_pack("{s:i}", "wait_seconds", 1);

    ck_assert_int_eq(mcpc_init(&m, url, token, &err), 0);
    ck_assert_int_eq(mcpc_initialize(&m, "check-eras", "1", &err), 0);
    ck_assert(m.modern);
    ck_assert_msg(mcpc_call(&m, "get_next_task", args, 10, &r, &err) == 0, "%s", err.msg);
    ck_assert(json_is_null(json_object_get(r, "task")));
    json_decref(r);
    json_decref(args);
    mcpc_clear(&m);
    free(url);
}
END_TEST

START_TEST(wrong_token_is_not_a_legacy_server)
{
    char *url = mem_printf("http://127.0.0.1:%d", proc.port);
    struct mcpc m;
    struct err err = {0};

    ck_assert_int_eq(mcpc_init(&m, url, "drv_wrong", &err), 0);
    ck_assert_int_eq(mcpc_initialize(&m, "check-eras", "1", &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAUTHORIZED);
    ck_assert_ptr_null(m.session_id);
    mcpc_clear(&m);
    free(url);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mcpc_eras");
    TCase *tc = tcase_create("mcpc_eras");

    testdb_setup();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, modern_over_http);
    tcase_add_test(tc, modern_over_ws);
    tcase_add_test(tc, legacy_when_asked);
    tcase_add_test(tc, modern_held_poll);
    tcase_add_test(tc, wrong_token_is_not_a_legacy_server);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
