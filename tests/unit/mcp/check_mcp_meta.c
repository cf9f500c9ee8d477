/*
 * The _meta envelope cache of 2026-07-28 bodies (mcp/mcp_meta.h) and the scan it rests on
 * (jrpc_meta_span): every body parses to what jrpc_parse makes of it, with the same error code
 * and message when it does not, whether its envelope is new to the cache or kept from before.
 * No database.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/jrpc.h"
#include "mcp/mcp_meta.h"
#include "testsuite.h"

#define META                                                                                       \
    "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","                       \
    "\"io.modelcontextprotocol/clientInfo\":{\"name\":\"x\",\"version\":\"1\"},"                   \
    "\"io.modelcontextprotocol/clientCapabilities\":{}}"
#define CALL(id, meta)                                                                             \
    "{\"method\":\"tools/call\",\"params\":{\"name\":\"heartbeat\",\"arguments\":{\"status\":"     \
    "\"busy\",\"task_ids\":[1]}," meta "},\"jsonrpc\":\"2.0\",\"id\":" id "}"

static const char *const bodies[] = {
    CALL("1", META),
    CALL("2", META), /* the same envelope, another request */
    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"server/discover\",\"params\":{" META "}}",
    /* errors after, before and inside the envelope */
    CALL("1,", META),
    "{\"jsonrpc\":\"2.0\",\"id\":,\"method\":\"x\",\"params\":{" META "}}",
    CALL("4", "\"_meta\":{\"a\":1,\"a\":2}"),
    CALL("5", "\"_meta\":{\"a\":\"\xff\"}"),
    "{\"jsonrpc\":\"2.0\",\"id\":6,\"x\":\"\xff\",\"params\":{" META "}}",
    /* a duplicate _meta or params: the parser's duplicate-key error */
    CALL("7", META ",\"_meta\":1"),
    CALL("8", META ",\"_meta\":{}"),
    "{\"params\":{" META "},\"params\":{},\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"x\"}",
    /* too deep, around a kept envelope */
    CALL("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", META),
    /* not an envelope the scan takes: escaped keys, another type, another place, a batch */
    CALL("10", "\"_m\\u0065ta\":{}"),
    "{\"par\\u0061ms\":{" META "},\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"x\"}",
    CALL("12", "\"_meta\":[1]"),
    "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"x\",\"other\":{" META "}}",
    "[" CALL("14", META) "]",
    /* brackets and quotes inside strings */
    CALL("15", "\"_meta\":{\"a\":\"}]\\\"{[\",\"b\":\"\\\\\"}"),
    "",
    "{\"params\":{\"_meta\":{}",
};

/* mcp_meta_parse and jrpc_parse agree on body b: with META kept, and twice (the envelope new,
 * then kept). */
static void same(const char *b)
{
    json_t *prime = NULL;
    int code;
    char msg[256];

    ck_assert_int_eq(mcp_meta_parse(bodies[0], strlen(bodies[0]), &prime, &code, msg, sizeof(msg)),
                     0);
    json_decref(prime);
    for (int round = 0; round < 2; round++) {
        json_t *x = NULL, *y = NULL;
        int cx = -1, cy = -1;
        char mx[256], my[256];
        int rx = mcp_meta_parse(b, strlen(b), &x, &cx, mx, sizeof(mx));
        int ry = jrpc_parse(b, strlen(b), &y, &cy, my, sizeof(my));

        ck_assert_msg(rx == ry, "%s: %d against %d", b, rx, ry);
        ck_assert_int_eq(cx, cy);
        ck_assert_str_eq(mx, my);
        ck_assert_msg(json_equal(x, y) || (!x && !y), "%s: different values", b);
        json_decref(x);
        json_decref(y);
    }
}

START_TEST(as_jrpc_parse)
{
    same(bodies[_i]);
}
END_TEST

START_TEST(envelope_kept)
{
    const char *a = CALL("1", META), *b = CALL("2", META);
    json_t *x = NULL, *y = NULL;
    int code;
    char msg[256];

    ck_assert_int_eq(mcp_meta_parse(a, strlen(a), &x, &code, msg, sizeof(msg)), 0);
    ck_assert_int_eq(mcp_meta_parse(b, strlen(b), &y, &code, msg, sizeof(msg)), 0);
    /* The second request's envelope is the first one's value, not a parse of its own. */
    ck_assert_ptr_eq(json_object_get(json_object_get(x, "params"), "_meta"),
                     json_object_get(json_object_get(y, "params"), "_meta"));
    ck_assert_int_eq(json_integer_value(json_object_get(y, "id")), 2);
    json_decref(x);
    json_decref(y);
}
END_TEST

static size_t known_meta(void *arg, const char *s, size_t avail, int *depth)
{
    const char *t = arg;
    size_t n = strlen(t);

    *depth = jrpc_depth(t, n);
    return n <= avail && memcmp(s, t, n) == 0 ? n : 0;
}

START_TEST(span)
{
    const char *b = CALL("1", META);
    struct jrpc_span sp, sk;

    ck_assert(jrpc_meta_span(b, strlen(b), NULL, NULL, &sp));
    ck_assert_int_eq(sp.depth, jrpc_depth(b, strlen(b)));
    ck_assert(!sp.known);
    ck_assert_int_eq(b[sp.off], '{');
    ck_assert_int_eq(b[sp.off + sp.n - 1], '}');
    ck_assert_int_eq(strncmp(b + sp.off - 8, "\"_meta\":{", 9), 0);
    /* A known text: the same span and depth, without scanning it. */
    char *t = strndup(b + sp.off, sp.n);
    ck_assert(jrpc_meta_span(b, strlen(b), known_meta, t, &sk));
    ck_assert(sk.known);
    ck_assert_int_eq(sk.off, sp.off);
    ck_assert_int_eq(sk.n, sp.n);
    ck_assert_int_eq(sk.depth, sp.depth);
    free(t);
    ck_assert(!jrpc_meta_span("{\"params\":{\"_meta\":{}}", 21, NULL, NULL, &sp));
    ck_assert(!jrpc_meta_span("{\"params\":{\"x\":{}}}", 19, NULL, NULL, &sp));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mcp_meta");
    TCase *tc = tcase_create("mcp_meta");

    tcase_add_loop_test(tc, as_jrpc_parse, 0, sizeof(bodies) / sizeof(bodies[0]));
    tcase_add_test(tc, envelope_kept);
    tcase_add_test(tc, span);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
