/* Request header checks (server/net/reqcheck.c): Host / Origin, Accept, Content-Type, Bearer. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "net/reqcheck.h"
#include "testsuite.h"

static struct cfg reqcheck_cfg(const char *listen, bool explicit_hosts)
{
    struct cfg c;

    memset(&c, 0, sizeof(c));
    snprintf(c.listen_host, sizeof(c.listen_host), "%s", listen);
    c.origins[0] = "http://127.0.0.1:8080";
    c.norigins = 1;
    c.hosts[0] = "127.0.0.1";
    c.hosts[1] = "localhost";
    c.hosts[2] = "[::1]";
    c.nhosts = 3;
    c.hosts_explicit = explicit_hosts;
    return c;
}

START_TEST(origin_and_host)
{
    struct cfg lo = reqcheck_cfg("127.0.0.1", false), any = reqcheck_cfg("0.0.0.0", false);
    struct cfg listed = reqcheck_cfg("0.0.0.0", true);

    ck_assert(reqcheck_origin(&lo, NULL, false, NULL, false));
    ck_assert(reqcheck_origin(&lo, "http://127.0.0.1:8080", false, "127.0.0.1:8080", false));
    ck_assert(reqcheck_origin(&lo, "HTTP://127.0.0.1:8080", false, "LOCALHOST", false));
    ck_assert(reqcheck_origin(&lo, NULL, false, "[::1]:8080", false));
    ck_assert(!reqcheck_origin(&lo, "http://evil.example", false, "127.0.0.1", false));
    ck_assert(!reqcheck_origin(&lo, "null", false, "127.0.0.1", false));
    ck_assert(!reqcheck_origin(&lo, NULL, false, "evil.example", false));
    ck_assert(!reqcheck_origin(&lo, NULL, false, "127.0.0.1.evil.example:80", false));
    ck_assert(!reqcheck_origin(&lo, NULL, true, "127.0.0.1", false)); /* Origin too long */
    ck_assert(!reqcheck_origin(&lo, NULL, false, NULL, true));        /* Host too long */
    /* Behind an ingress without an explicit list, any Host; Origin is still checked. */
    ck_assert(reqcheck_origin(&any, NULL, false, "drover.example.com", false));
    ck_assert(reqcheck_origin(&any, NULL, false, NULL, true));
    ck_assert(!reqcheck_origin(&any, "http://evil.example", false, "drover", false));
    ck_assert(!reqcheck_origin(&listed, NULL, false, "drover.example.com", false));
    ck_assert(reqcheck_origin(&listed, NULL, false, "localhost:1", false));
}
END_TEST

START_TEST(accept_ctype_bearer)
{
    ck_assert(reqcheck_accept("application/json, text/event-stream"));
    ck_assert(reqcheck_accept("*/*, text/event-stream"));
    ck_assert(!reqcheck_accept("application/json"));
    ck_assert(!reqcheck_accept(NULL));
    ck_assert(reqcheck_ctype_json("application/json"));
    ck_assert(reqcheck_ctype_json("Application/JSON; charset=utf-8"));
    ck_assert(!reqcheck_ctype_json("application/jsonx"));
    ck_assert(!reqcheck_ctype_json("text/plain"));
    ck_assert(!reqcheck_ctype_json(NULL));
    ck_assert_str_eq(reqcheck_bearer("Bearer abc"), "abc");
    ck_assert_str_eq(reqcheck_bearer("bearer    abc"), "abc");
    ck_assert_str_eq(reqcheck_bearer("Bearer "), "");
    ck_assert_ptr_null(reqcheck_bearer("Basic abc"));
    ck_assert_ptr_null(reqcheck_bearer("Bearer"));
    ck_assert_ptr_null(reqcheck_bearer(NULL));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reqcheck");
    TCase *tc = tcase_create("reqcheck");

    tcase_add_test(tc, origin_and_host);
    tcase_add_test(tc, accept_ctype_bearer);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
