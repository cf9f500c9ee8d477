/*
 * 2026-07-28 request metadata headers (mcp/mcp_headers.h) and the modern era's dispatch without
 * a database (mcp/mcp_modern.h): header-vs-body validation, Base64 sentinels, version and _meta
 * checks, removed methods, resultType and caching hints.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/jrpc.h"
#include "mcp/mcp_headers.h"
#include "mcp/mcp_modern.h"
#include "testsuite.h"

static const struct {
    const char *raw, *want; /* want NULL: rejected */
} decode_cases[] = {
    {"tools/call", "tools/call"},
    {"  padded\t ", "padded"},
    {"=?base64?SGVsbG8=?=", "Hello"},
    {"=?base64?SGVsbG8sIOS4lueVjA==?=", "Hello, \xe4\xb8\x96\xe7\x95\x8c"},
    {"=?base64?SGVsbG8?=", NULL},               /* missing padding */
    {"=?base64?SGVs!!!bG8=?=", NULL},           /* outside the alphabet */
    {"=?base64?SGVsbG8=", "=?base64?SGVsbG8="}, /* no suffix: literal */
    {"=?base64?/w==?=", NULL},                  /* decodes to invalid UTF-8 */
    {"=?base64?AA==?=", NULL},                  /* decodes to a NUL */
    {"bad\x01value", NULL},                     /* a control character */
    {"caf\xc3\xa9", NULL},                      /* non-ASCII sent raw */
};

START_TEST(decode_table)
{
    char out[64];
    int rc = mcp_headers_decode(decode_cases[_i].raw, out, sizeof(out));

    if (!decode_cases[_i].want)
        ck_assert_msg(rc < 0, "accepted %s as %s", decode_cases[_i].raw, out);
    else {
        ck_assert_msg(rc == 0, "rejected %s", decode_cases[_i].raw);
        ck_assert_str_eq(out, decode_cases[_i].want);
    }
}
END_TEST

START_TEST(check_standard_and_params)
{
    json_t *call = json_loads("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
                              "{\"name\":\"t\",\"arguments\":{\"region\":\"eu\",\"n\":42}}}",
                              0, NULL);
    json_t *schema = json_loads("{\"type\":\"object\",\"properties\":{\"region\":{\"type\":"
                                "\"string\",\"x-mcp-header\":\"Region\"},\"n\":{\"type\":"
                                "\"integer\",\"x-mcp-header\":\"N\"},\"z\":{\"type\":\"string\","
                                "\"x-mcp-header\":\"Z\"}}}",
                                0, NULL);
    struct mcp_headers h = {.version = "2026-07-28", .method = "tools/call", .name = "t"};
    char why[300];
    const char *names[8];
    size_t n = 0;

    h.params[h.nparams++] = (struct mcp_header_param){"region", "eu"};
    h.params[h.nparams++] = (struct mcp_header_param){"N", "42.0"};
    ck_assert_int_eq(mcp_headers_check(&h, call, schema, why, sizeof(why)), 0);
    h.params[0].value = "=?base64?ZXU=?=";
    ck_assert_int_eq(mcp_headers_check(&h, call, schema, why, sizeof(why)), 0);
    h.params[0].value = "us";
    ck_assert_int_eq(mcp_headers_check(&h, call, schema, why, sizeof(why)), -1);
    ck_assert_ptr_nonnull(strstr(why, "Mcp-Param-Region"));
    h.nparams = 1;
    h.params[0].value = "eu";
    ck_assert_int_eq(mcp_headers_check(&h, call, schema, why, sizeof(why)), -1); /* N missing */
    h.nparams = 2;
    h.params[1] = (struct mcp_header_param){"Z", "x"}; /* a header without a body value */
    ck_assert_int_eq(mcp_headers_check(&h, call, schema, why, sizeof(why)), -1);
    h.params[1] = (struct mcp_header_param){"n", "42"};
    ck_assert_int_eq(mcp_headers_check(&h, call, schema, why, sizeof(why)), 0);
    h.name = "u";
    ck_assert_int_eq(mcp_headers_check(&h, call, schema, why, sizeof(why)), -1);
    h.name = NULL;
    ck_assert_int_eq(mcp_headers_check(&h, call, schema, why, sizeof(why)), -1);
    h.name = "t";
    h.method = "tools/list";
    ck_assert_int_eq(mcp_headers_check(&h, call, schema, why, sizeof(why)), -1);
    h.method = NULL;
    ck_assert_int_eq(mcp_headers_check(&h, call, schema, why, sizeof(why)), -1);
    mcp_headers_schema_names(schema, names, &n, 8);
    mcp_headers_schema_names(schema, names, &n, 8); /* duplicates are skipped */
    ck_assert_uint_eq(n, 3);
    json_decref(call);
    json_decref(schema);
}
END_TEST

/* One modern message through mcp_modern_handle without a database. */
static json_t *modern(const char *body, const struct mcp_headers *h, int *status)
{
    struct mcp_ctx c = {0};
    json_t *msg = json_loads(body, 0, NULL), *reply = NULL;

    ck_assert_ptr_nonnull(msg);
    mcp_modern_handle(&c, msg, h, &reply, status);
    json_decref(msg);
    mcp_ctx_clear(&c);
    return reply;
}

#define META                                                                                       \
    "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","                       \
    "\"io.modelcontextprotocol/clientCapabilities\":{}}"

static int error_code(const json_t *r)
{
    return (int)json_integer_value(json_object_get(json_object_get(r, "error"), "code"));
}

START_TEST(modern_dispatch)
{
    struct mcp_headers h = {.version = "2026-07-28", .method = "server/discover"};
    int status;
    json_t *r;

    r = json_pack("{s:{s:{s:s}}}", "params", "_meta", MCP_META_VERSION, "x");
    ck_assert(mcp_modern_is(r, NULL));
    ck_assert(!mcp_modern_is(json_object_get(r, "params"), "2025-11-25"));
    ck_assert(mcp_modern_is(json_object_get(r, "params"), "1999-01-01"));
    json_decref(r);
    r = modern("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"server/discover\",\"params\":{" META
               "}}",
               &h, &status);
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "result"), "resultType")),
                     "complete");
    ck_assert(json_is_integer(json_object_get(json_object_get(r, "result"), "ttlMs")));
    json_decref(r);

    r = modern("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"server/discover\",\"params\":{}}", &h,
               &status);
    ck_assert_int_eq(status, 400);
    ck_assert_int_eq(error_code(r), JRPC_INVALID_PARAMS);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 8);
    json_decref(r);

    h.version = "v9";
    r = modern("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"server/discover\",\"params\":{\"_meta\":"
               "{\"io.modelcontextprotocol/protocolVersion\":\"v9\"}}}",
               &h, &status);
    ck_assert_int_eq(status, 400);
    ck_assert_int_eq(error_code(r), JRPC_UNSUPPORTED_VERSION);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(r, "error"), "data"), "requested")),
                     "v9");
    json_decref(r);

    h.version = "2026-07-28";
    h.method = "ping";
    r = modern("{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"ping\",\"params\":{" META "}}", &h,
               &status);
    ck_assert_int_eq(status, 404);
    ck_assert_int_eq(error_code(r), JRPC_METHOD_NOT_FOUND);
    json_decref(r);

    /* /ws: no headers to check, the same semantics otherwise */
    r = modern("{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/list\",\"params\":{" META "}}",
               NULL, &status);
    ck_assert_int_eq(status, 200);
    /* the list depends on the caller's scope: not for shared caches */
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "result"), "cacheScope")),
                     "private");
    json_decref(r);

    /* /ws without a version in _meta (found by fuzz_mcpheaders): a clear error, no crash */
    r = modern(
        "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"server/discover\",\"params\":{\"_meta\":"
        "{\"io.modelCapabilities\":{}}}}",
        NULL, &status);
    ck_assert_int_eq(error_code(r), JRPC_INVALID_PARAMS);
    json_decref(r);

    r = modern("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\",\"params\":{" META "}}",
               &h, &status);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(status, 202);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mcp_headers");
    TCase *tc = tcase_create("mcp_headers");

    tcase_add_loop_test(tc, decode_table, 0, sizeof(decode_cases) / sizeof(decode_cases[0]));
    tcase_add_test(tc, check_standard_and_params);
    tcase_add_test(tc, modern_dispatch);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
