/* The REST router's path patterns (api/router.c). */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api/router.h"
#include "testsuite.h"

START_TEST(router_patterns)
{
    const char *params[ROUTER_MAX_PARAMS];
    char buf[256];
    size_t n;

    ck_assert(router_match("/api/tasks/{id}/cancel", "/api/tasks/12/cancel", buf, sizeof(buf),
                           params, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(params[0], "12");
    ck_assert(router_match("/api/tasks", "/api/tasks/", buf, sizeof(buf), params, &n));
    ck_assert(!router_match("/api/tasks/{id}", "/api/tasks/", buf, sizeof(buf), params, &n));
    ck_assert(!router_match("/api/tasks/{id}", "/api/tasks/1/x", buf, sizeof(buf), params, &n));
    ck_assert(!router_match("/api/tasks", "/api/taskss", buf, sizeof(buf), params, &n));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("router");

    tcase_add_test(tc, router_patterns);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
