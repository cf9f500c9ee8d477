/*
 * The JSON-RPC layer (pure, table-driven), MCP version helpers, branch-name rules and the
 * serve configuration table. No database.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/jrpc.h"
#include "mcp/mcp.h"
#include "mcp/tools.h"
#include "testsuite.h"

static const struct {
    const char *body;
    int code; /* 0 = parses */
} parse_cases[] = {
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", 0},
    {"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", 0},
    {"", JRPC_PARSE_ERROR},
    {"{", JRPC_PARSE_ERROR},
    {"{\"a\":1,}", JRPC_PARSE_ERROR},
    {"nul", JRPC_PARSE_ERROR},
    {"\"just a string\"", JRPC_INVALID_REQUEST},
    {"42", JRPC_INVALID_REQUEST},
    {"{\"a\":\"\xff\"}", JRPC_PARSE_ERROR},                  /* invalid UTF-8 */
    {"{\"a\":1,\"a\":2}", JRPC_PARSE_ERROR},                 /* duplicate keys */
    {"{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}", 0}, /* brackets in strings don't count */
};

START_TEST(parse_table)
{
    json_t *v = NULL;
    int code = -1;
    char msg[256];
    int rc =
        jrpc_parse(parse_cases[_i].body, strlen(parse_cases[_i].body), &v, &code, msg, sizeof(msg));

    if (parse_cases[_i].code == 0) {
        ck_assert_msg(rc == 0, "%s: %s", parse_cases[_i].body, msg);
        ck_assert_ptr_nonnull(v);
    } else {
        ck_assert_int_eq(rc, -1);
        ck_assert_ptr_null(v);
        ck_assert_int_eq(code, parse_cases[_i].code);
        ck_assert(strlen(msg) > 0);
    }
    json_decref(v);
}
END_TEST

START_TEST(parse_depth_limit)
{
    char body[512];
    json_t *v = NULL;
    int code, n;
    char msg[128];

    /* JRPC_MAX_DEPTH levels parse, one more does not. */
    for (int depth = JRPC_MAX_DEPTH; depth <= JRPC_MAX_DEPTH + 1; depth++) {
        n = 0;
        for (int i = 0; i < depth; i++)
            body[n++] = '[';
        for (int i = 0; i < depth; i++)
            body[n++] = ']';
        ck_assert_int_eq(jrpc_depth(body, (size_t)n), depth);
        int rc = jrpc_parse(body, (size_t)n, &v, &code, msg, sizeof(msg));
        ck_assert_int_eq(rc, depth <= JRPC_MAX_DEPTH ? 0 : -1);
        json_decref(v);
        v = NULL;
    }
    /* NUL bytes inside the body are refused (they would truncate strings further on). */
    ck_assert_int_eq(jrpc_parse("{\"a\":\"x\0y\"}", 11, &v, &code, msg, sizeof(msg)), -1);
}
END_TEST

static const struct {
    const char *msg;
    enum jrpc_kind kind;
} classify_cases[] = {
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", JRPC_KIND_REQUEST},
    {"{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"ping\",\"params\":{}}", JRPC_KIND_REQUEST},
    {"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", JRPC_KIND_NOTIFICATION},
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", JRPC_KIND_RESPONSE},
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1,\"message\":\"x\"}}", JRPC_KIND_RESPONSE},
    {"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", JRPC_KIND_INVALID},
    {"{\"id\":1,\"method\":\"ping\"}", JRPC_KIND_INVALID},
    {"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", JRPC_KIND_INVALID},
    {"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", JRPC_KIND_INVALID},
    {"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", JRPC_KIND_INVALID},
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", JRPC_KIND_INVALID},
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}", JRPC_KIND_INVALID},
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":3}", JRPC_KIND_INVALID},
    {"{\"jsonrpc\":\"2.0\",\"id\":1}", JRPC_KIND_INVALID},
    {"[1]", JRPC_KIND_INVALID},
};

START_TEST(classify_table)
{
    json_t *m = json_loads(classify_cases[_i].msg, 0, NULL);
    const char *why = NULL;

    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(jrpc_classify(m, &why), classify_cases[_i].kind);
    if (classify_cases[_i].kind == JRPC_KIND_INVALID)
        ck_assert_ptr_nonnull(why);
    json_decref(m);
}
END_TEST

START_TEST(builders)
{
    json_t *id = json_integer(7);
    json_t *r = jrpc_result(id, json_object());
    json_t *e = jrpc_error(NULL, JRPC_METHOD_NOT_FOUND, "Method not found: x", NULL);

    ck_assert_str_eq(json_string_value(json_object_get(r, "jsonrpc")), "2.0");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 7);
    ck_assert(json_is_object(json_object_get(r, "result")));
    ck_assert(json_is_null(json_object_get(e, "id")));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(e, "error"), "code")),
                     -32601);
    json_decref(id);
    json_decref(r);
    json_decref(e);
}
END_TEST

START_TEST(versions)
{
    ck_assert(mcp_version_supported("2025-11-25"));
    ck_assert(mcp_version_supported("2025-06-18"));
    ck_assert(mcp_version_supported("2025-03-26"));
    ck_assert(!mcp_version_supported("2024-11-05"));
    ck_assert(!mcp_version_supported("2026-07-28"));
    ck_assert(!mcp_version_supported(NULL));
}
END_TEST

/* The dispatch paths that need no database: negotiation, ping, tools/list, errors, batches. */
static json_t *dispatch(const char *msg, const char *version, struct mcp_ctx *c)
{
    json_t *m = json_loads(msg, 0, NULL), *reply = NULL;

    ck_assert_ptr_nonnull(m);
    mcp_handle(c, m, version, &reply);
    json_decref(m);
    return reply;
}

static long long err_code(const json_t *r)
{
    return json_integer_value(json_object_get(json_object_get(r, "error"), "code"));
}

START_TEST(dispatch_without_db)
{
    struct mcp_ctx c = {0};
    json_t *r;

    r = dispatch("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
                 "\"protocolVersion\":\"2025-06-18\"}}",
                 NULL, &c);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(r, "result"), "protocolVersion")),
        "2025-06-18");
    json_decref(r);
    r = dispatch("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
                 "\"protocolVersion\":\"2099-01-01\"}}",
                 NULL, &c);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(r, "result"), "protocolVersion")),
        MCP_VERSION_LATEST);
    json_decref(r);
    r = dispatch("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}", NULL,
                 &c);
    ck_assert_int_eq(err_code(r), JRPC_INVALID_PARAMS);
    json_decref(r);
    r = dispatch("{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}", NULL, &c);
    ck_assert_str_eq(json_string_value(json_object_get(r, "id")), "p");
    ck_assert_int_eq(json_object_size(json_object_get(r, "result")), 0);
    json_decref(r);
    r = dispatch("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", NULL, &c);
    ck_assert_int_eq(json_array_size(json_object_get(json_object_get(r, "result"), "tools")), 11);
    json_decref(r);
    r = dispatch("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{\"cursor\":"
                 "\"x\"}}",
                 NULL, &c);
    ck_assert_int_eq(err_code(r), JRPC_INVALID_PARAMS);
    json_decref(r);
    r = dispatch("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"prompts/list\"}", NULL, &c);
    ck_assert_int_eq(err_code(r), JRPC_METHOD_NOT_FOUND);
    json_decref(r);
    r = dispatch("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
                 "\"rm_rf\"}}",
                 NULL, &c);
    ck_assert_int_eq(err_code(r), JRPC_INVALID_PARAMS);
    json_decref(r);
    r = dispatch("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{}}", NULL,
                 &c);
    ck_assert_int_eq(err_code(r), JRPC_INVALID_PARAMS);
    json_decref(r);
    r = dispatch("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"logging/setLevel\",\"params\":{"
                 "\"level\":\"verbose\"}}",
                 NULL, &c);
    ck_assert_int_eq(err_code(r), JRPC_INVALID_PARAMS);
    json_decref(r);
    /* notifications are never answered; cancelled records the request id */
    ck_assert_ptr_null(
        dispatch("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", NULL, &c));
    ck_assert_ptr_null(dispatch("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                                "\"params\":{\"requestId\":9}}",
                                NULL, &c));
    ck_assert_int_eq(json_integer_value(c.cancel_id), 9);
    ck_assert_ptr_null(dispatch("{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}", NULL, &c));
    /* batches: only in 2025-03-26; notifications in them get no entry */
    r = dispatch("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", "2025-11-25", &c);
    ck_assert_int_eq(err_code(r), JRPC_INVALID_REQUEST);
    json_decref(r);
    r = dispatch("[]", "2025-03-26", &c);
    ck_assert_int_eq(err_code(r), JRPC_INVALID_REQUEST);
    json_decref(r);
    r = dispatch("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},{\"jsonrpc\":\"2.0\","
                 "\"method\":\"notifications/initialized\"},{\"x\":1}]",
                 "2025-03-26", &c);
    ck_assert_int_eq(json_array_size(r), 2);
    ck_assert_int_eq(err_code(json_array_get(r, 1)), JRPC_INVALID_REQUEST);
    json_decref(r);
    mcp_ctx_clear(&c);
}
END_TEST

START_TEST(tool_results_have_both_forms)
{
    json_t *r = tools_result(json_pack("{s:n}", "task"));
    struct err stale = {0};
    json_t *e;

    err_set(&stale, ERR_STALE_EPOCH, "epoch %d is stale", 3);
    e = tools_error(&stale);
    json_t *parsed;

    parsed = json_loads(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "content"), 0), "text")),
                        0, NULL);
    ck_assert(json_equal(parsed, json_object_get(r, "structuredContent")));
    ck_assert(json_is_false(json_object_get(r, "isError")));
    json_decref(parsed);
    ck_assert(json_is_true(json_object_get(e, "isError")));
    parsed = json_loads(json_string_value(json_object_get(
                            json_array_get(json_object_get(e, "content"), 0), "text")),
                        0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(parsed, "error"), "code")),
                     "stale_epoch");
    json_decref(parsed);
    json_decref(r);
    json_decref(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jrpc");
    TCase *tc = tcase_create("jrpc");

    tcase_add_loop_test(tc, parse_table, 0, sizeof(parse_cases) / sizeof(parse_cases[0]));
    tcase_add_test(tc, parse_depth_limit);
    tcase_add_loop_test(tc, classify_table, 0, sizeof(classify_cases) / sizeof(classify_cases[0]));
    tcase_add_test(tc, builders);
    tcase_add_test(tc, versions);
    tcase_add_test(tc, dispatch_without_db);
    tcase_add_test(tc, tool_results_have_both_forms);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
