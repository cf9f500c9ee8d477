/* droverd serve's settings (core/cfg.c): defaults, validation, environment. */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/err.h"
#include "testsuite.h"

START_TEST(cfg_defaults_and_validation)
{
    struct cfg c;
    struct err err = {0};
    char *ok[] = {"serve", "--listen", "127.0.0.1:18199", "--workers", "2", NULL};
    char *bad_port[] = {"serve", "--listen", "127.0.0.1:99999", NULL};
    char *bad_auth[] = {"serve", "--listen", "0.0.0.0:8080", "--auth", "off", NULL};
    char *bad_workers[] = {"serve", "--workers", "0", NULL};
    char *unknown[] = {"serve", "--bogus", "1", NULL};

    ck_assert_int_eq(cfg_parse(&c, 5, ok, &err), 0);
    ck_assert_str_eq(c.listen_host, "127.0.0.1");
    ck_assert_int_eq(c.listen_port, 18199);
    ck_assert_int_eq(c.workers, 2);
    ck_assert(c.auth);
    ck_assert_int_eq(c.long_poll_max, 60);
    ck_assert_int_gt(c.norigins, 0);
    cfg_free(&c);
    ck_assert_int_eq(cfg_parse(&c, 3, bad_port, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "--listen"));
    cfg_free(&c);
    ck_assert_int_eq(cfg_parse(&c, 5, bad_auth, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "loopback"));
    cfg_free(&c);
    ck_assert_int_eq(cfg_parse(&c, 3, bad_workers, &err), -1);
    cfg_free(&c);
    ck_assert_int_eq(cfg_parse(&c, 3, unknown, &err), -1);
    cfg_free(&c);
    {
        char *hosts[] = {"serve",           "--listen",   "0.0.0.0:8080",
                         "--allowed-hosts", "drover.svc", NULL};
        ck_assert_int_eq(cfg_parse(&c, 5, hosts, &err), 0);
        ck_assert(c.hosts_explicit);
        ck_assert_int_eq(c.nhosts, 1);
        ck_assert_str_eq(c.hosts[0], "drover.svc");
        cfg_free(&c);
        ck_assert_int_eq(cfg_parse(&c, 3, ok, &err), 0);
        ck_assert(!c.hosts_explicit);
        cfg_free(&c);
    }
    setenv("DROVER_LONG_POLL_MAX", "7", 1);
    ck_assert_int_eq(cfg_parse(&c, 1, ok, &err), 0);
    ck_assert_int_eq(c.long_poll_max, 7);
    cfg_free(&c);
    setenv("DROVER_LONG_POLL_MAX", "lots", 1);
    ck_assert_int_eq(cfg_parse(&c, 1, ok, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "DROVER_LONG_POLL_MAX"));
    cfg_free(&c);
    unsetenv("DROVER_LONG_POLL_MAX");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cfg");
    TCase *tc = tcase_create("cfg");

    tcase_add_test(tc, cfg_defaults_and_validation);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
