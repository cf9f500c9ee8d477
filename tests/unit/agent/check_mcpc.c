/*
 * The agent's MCP client against tests/fakes/fake_mcp.py, a Streamable HTTP server that
 * answers with SSE streams (priming events, notifications, multi-line data), requires the
 * session and protocol-version headers, and can forget sessions: structured results, text-only
 * results, tool errors mapped to err codes, JSON-RPC errors, re-initialization after a 404,
 * auth and transport failures. The fake speaks only the legacy era, so every test here also
 * covers the fall-back from the 2026-07-28 probe (check_mcpc_eras has the modern era).
 */
#include <check.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakeproc.h"
#include "core/mem.h"
#include "mcpc.h"
#include "testsuite.h"

#define TOKEN "fake-mcp-token"

static pid_t fake_pid;
static int fake_port;

static void fake_up(void)
{
    fake_pid = fakeproc_start("tests/fakes/fake_mcp.py", TOKEN, &fake_port);
}

static void fake_down(void)
{
    fakeproc_stop(fake_pid);
}

static void client(struct mcpc *m, const char *token)
{
    char *url = mem_printf("http://127.0.0.1:%d", fake_port);
    struct err err = {0};

    ck_assert_int_eq(mcpc_init(m, url, token, &err), 0);
    ck_assert_str_eq(m->url + strlen(url), "/mcp"); /* the endpoint is appended */
    free(url);
}

START_TEST(initialize_and_calls)
{
    struct mcpc m;
    struct err err = {0};
    json_t *args = json_pack("{s:i, s:s}", "task_id", 7, "note", "hé"), *r = NULL;

    client(&m, TOKEN);
    ck_assert_msg(mcpc_initialize(&m, "check", "1", &err) == 0, "%s", err.msg);
    ck_assert(!m.modern); /* the fake is legacy-only: server/discover failed, initialize worked */
    ck_assert_ptr_nonnull(m.session_id);
    ck_assert_str_eq(m.protocol_version, "2025-11-25");
    ck_assert_str_eq(json_string_value(json_object_get(m.server_info, "name")), "fake-mcp");
    ck_assert_msg(mcpc_call(&m, "echo", args, 0, &r, &err) == 0, "%s", err.msg);
    ck_assert(json_equal(r, args));
    json_decref(r);
    ck_assert_msg(mcpc_call(&m, "text_only", args, 0, &r, &err) == 0, "%s", err.msg);
    ck_assert(json_equal(r, args));
    json_decref(r);
    ck_assert_int_eq(mcpc_call(&m, "boom", NULL, 0, &r, &err), -1);
    ck_assert_int_eq(err.code, ERR_STALE_EPOCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "lease epoch 1 is not current"));
    ck_assert_ptr_null(r);
    ck_assert_int_eq(mcpc_call(&m, "nope", NULL, 0, &r, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    json_decref(args);
    mcpc_clear(&m);
}
END_TEST

START_TEST(session_lost_reinitializes)
{
    struct mcpc m;
    struct err err = {0};
    json_t *r = NULL, *args = json_pack("{s:b}", "ok", 1);
    char *first;

    client(&m, TOKEN);
    ck_assert_int_eq(mcpc_initialize(&m, "check", "1", &err), 0);
    first = mem_strdup(m.session_id);
    ck_assert_int_eq(mcpc_call(&m, "forget", NULL, 0, &r, &err), 0);
    json_decref(r);
    ck_assert_msg(mcpc_call(&m, "echo", args, 0, &r, &err) == 0, "%s", err.msg);
    ck_assert(json_equal(r, args));
    ck_assert_str_ne(first, m.session_id);
    json_decref(r);
    json_decref(args);
    free(first);
    mcpc_clear(&m);
}
END_TEST

START_TEST(failures)
{
    struct mcpc m;
    struct err err = {0};

    client(&m, "wrong");
    ck_assert_int_eq(mcpc_initialize(&m, "check", "1", &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAUTHORIZED);
    ck_assert_ptr_null(strstr(err.msg, "wrong"));
    mcpc_clear(&m);
    ck_assert_int_eq(mcpc_init(&m, "http://127.0.0.1:1/mcp", TOKEN, &err), 0);
    ck_assert_int_eq(mcpc_initialize(&m, "check", "1", &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAVAILABLE);
    mcpc_clear(&m);
    ck_assert_int_eq(mcpc_init(&m, "ws://127.0.0.1:1/ws", TOKEN, &err), 0);
    ck_assert_int_eq(mcpc_initialize(&m, "check", "1", &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAVAILABLE);
    mcpc_clear(&m);
    ck_assert_int_eq(mcpc_init(&m, "ftp://x", TOKEN, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
}
END_TEST

START_TEST(error_names)
{
    ck_assert_int_eq(mcpc_err_code("not_found"), ERR_NOT_FOUND);
    ck_assert_int_eq(mcpc_err_code("conflict"), ERR_CONFLICT);
    ck_assert_int_eq(mcpc_err_code("invalid"), ERR_INVALID);
    ck_assert_int_eq(mcpc_err_code("unauthorized"), ERR_UNAUTHORIZED);
    ck_assert_int_eq(mcpc_err_code("whatever"), ERR_INTERNAL);
    ck_assert_int_eq(mcpc_err_code(NULL), ERR_INTERNAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mcpc");
    TCase *tc = tcase_create("mcpc");
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    fake_up();
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, initialize_and_calls);
    tcase_add_test(tc, session_lost_reinitializes);
    tcase_add_test(tc, failures);
    tcase_add_test(tc, error_names);
    suite_add_tcase(s, tc);
    failed = testsuite_run(s) != EXIT_SUCCESS;
    fake_down();
    curl_global_cleanup();
    return failed ? 1 : 0;
}
