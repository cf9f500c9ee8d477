/*
 * core/opt, the one settings table of droverd serve: defaults, then the environment, then argv
 * (a flag wins), over several modules' groups at once; integer bounds (int and long), string
 * sizes, custom setters; messages naming where a bad value came from; unknown flags, missing
 * values, stray arguments, --help; one usage listing every group; and cfg_parse_with reading
 * the agent pool's rows in the same pass as the server's.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/opt.h"
#include "pool/agentpool.h"
#include "testsuite.h"

struct a_cfg {
    int n;
    long big;
    char name[8];
    char mode[8];
};

struct b_cfg {
    int other;
    char keep[16];
};

static int set_mode(void *target, const struct opt *o, const char *name, const char *v,
                    struct err *err)
{
    struct a_cfg *a = target;

    (void)o;
    if (strcmp(v, "fast") != 0 && strcmp(v, "slow") != 0)
        return err_set(err, ERR_INVALID, "%s must be fast or slow (got '%s')", name, v);
    snprintf(a->mode, sizeof(a->mode), "%s", v);
    return 0;
}

static const struct opt a_opts[] = {
    OPT_INT_ROW("n", "OPT_T_N", "3", struct a_cfg, n, 1, 10, "a small number"),
    OPT_INT_ROW("big", "OPT_T_BIG", "5000000000", struct a_cfg, big, 0, 9000000000L, "a long"),
    OPT_STR_ROW("name", "OPT_T_NAME", "abc", struct a_cfg, name, "up to 7 characters"),
    OPT_CUSTOM_ROW("mode", "OPT_T_MODE", "slow", set_mode, "fast or slow"),
};

static const struct opt b_opts[] = {
    OPT_INT_ROW("other", "OPT_T_OTHER", "1", struct b_cfg, other, 0, 100, "another group's"),
    OPT_STR_ROW("keep", NULL, NULL, struct b_cfg, keep, "no default: the target's own"),
};

static struct a_cfg a;
static struct b_cfg b;
static struct opt_group groups[2];

static void setup(void)
{
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    snprintf(b.keep, sizeof(b.keep), "preset");
    groups[0] = (struct opt_group){NULL, a_opts, sizeof(a_opts) / sizeof(a_opts[0]), &a};
    groups[1] = (struct opt_group){"group b", b_opts, sizeof(b_opts) / sizeof(b_opts[0]), &b};
    unsetenv("OPT_T_N");
    unsetenv("OPT_T_BIG");
    unsetenv("OPT_T_NAME");
    unsetenv("OPT_T_MODE");
    unsetenv("OPT_T_OTHER");
}

static int parse(struct err *err, int argc, char **argv)
{
    return opt_parse(groups, 2, argc, argv, err);
}

START_TEST(defaults_then_environment_then_flags)
{
    char *none[] = {"cmd", NULL};
    char *flags[] = {"cmd", "--n", "9", "--other=42", "--mode", "fast", "--keep", "k", NULL};
    struct err err = {0};

    ck_assert_int_eq(parse(&err, 1, none), 0);
    ck_assert_int_eq(a.n, 3);
    ck_assert(a.big == 5000000000L); /* a long row holds more than an int */
    ck_assert_str_eq(a.name, "abc");
    ck_assert_str_eq(a.mode, "slow");
    ck_assert_int_eq(b.other, 1);
    ck_assert_str_eq(b.keep, "preset"); /* no default: untouched */

    setenv("OPT_T_N", "7", 1);
    setenv("OPT_T_OTHER", "", 1); /* empty: not set */
    ck_assert_int_eq(parse(&err, 1, none), 0);
    ck_assert_int_eq(a.n, 7);
    ck_assert_int_eq(b.other, 1);

    ck_assert_int_eq(parse(&err, 8, flags), 0);
    ck_assert_int_eq(a.n, 9); /* the flag wins over OPT_T_N */
    ck_assert_int_eq(b.other, 42);
    ck_assert_str_eq(a.mode, "fast");
    ck_assert_str_eq(b.keep, "k");
}
END_TEST

START_TEST(bad_values_name_their_source)
{
    char *bad_flag[] = {"cmd", "--n", "11", NULL};
    char *bad_str[] = {"cmd", "--name", "12345678", NULL};
    char *bad_custom[] = {"cmd", "--mode", "medium", NULL};
    char *none[] = {"cmd", NULL};
    struct err err = {0};

    ck_assert_int_eq(parse(&err, 3, bad_flag), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_str_eq(err.msg, "--n must be an integer from 1 to 10 (got '11')");
    ck_assert_int_eq(parse(&err, 3, bad_str), -1);
    ck_assert_str_eq(err.msg, "--name is longer than 7 characters");
    ck_assert_int_eq(parse(&err, 3, bad_custom), -1);
    ck_assert_str_eq(err.msg, "--mode must be fast or slow (got 'medium')");
    setenv("OPT_T_N", "lots", 1);
    ck_assert_int_eq(parse(&err, 1, none), -1);
    ck_assert_str_eq(err.msg, "OPT_T_N must be an integer from 1 to 10 (got 'lots')");
    unsetenv("OPT_T_N");
    setenv("OPT_T_BIG", "99999999999999999999999", 1); /* overflows a long */
    ck_assert_int_eq(parse(&err, 1, none), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "OPT_T_BIG"));
    unsetenv("OPT_T_BIG");
    {
        static const struct opt broken[] = {
            OPT_INT_ROW("n", NULL, "0", struct a_cfg, n, 1, 10, "a default out of bounds")};
        struct opt_group g = {NULL, broken, 1, &a};

        ck_assert_int_eq(opt_defaults(&g, 1, &err), -1);
        ck_assert_str_eq(err.msg, "default of --n must be an integer from 1 to 10 (got '0')");
    }
}
END_TEST

START_TEST(flags_that_are_not_rows)
{
    char *unknown[] = {"cmd", "--bogus", "1", NULL};
    char *missing[] = {"cmd", "--n", NULL};
    char *stray[] = {"cmd", "--n", "2", "extra", NULL};
    char *help[] = {"cmd", "--n", "2", "--help", NULL};
    struct err err = {0};

    ck_assert_int_eq(parse(&err, 3, unknown), -1);
    ck_assert_str_eq(err.msg, "unknown option or missing value: '--bogus'");
    ck_assert_int_eq(parse(&err, 2, missing), -1);
    ck_assert_str_eq(err.msg, "--n needs a value");
    ck_assert_int_eq(parse(&err, 4, stray), -1);
    ck_assert_str_eq(err.msg, "unexpected argument 'extra'");
    ck_assert_int_eq(parse(&err, 4, help), 1);
}
END_TEST

START_TEST(set_one_row_by_flag)
{
    struct err err = {0};

    ck_assert_int_eq(opt_set(groups, 2, "other", "5", &err), 1);
    ck_assert_int_eq(b.other, 5);
    ck_assert_int_eq(opt_set(groups, 2, "nope", "5", &err), 0);
    ck_assert_int_eq(opt_set(groups, 2, "other", "500", &err), -1);
    ck_assert_str_eq(err.msg, "--other must be an integer from 0 to 100 (got '500')");
    ck_assert_int_eq(opt_set(groups, 2, "n", NULL, &err), -1); /* no value: "" */
}
END_TEST

static char *usage_of(const struct opt_group *g, size_t n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    opt_usage(f, g, n);
    fclose(f);
    return text;
}

START_TEST(one_usage_for_every_group)
{
    char *u = usage_of(groups, 2);
    const char *help = strstr(u, "--help"), *title = strstr(u, "\ngroup b:\n");

    ck_assert_ptr_nonnull(strstr(u, "--n "));
    ck_assert_ptr_nonnull(strstr(u, "OPT_T_N"));
    ck_assert_ptr_nonnull(strstr(u, "a small number [default: 3]"));
    ck_assert_ptr_nonnull(strstr(u, "--other"));
    ck_assert_ptr_nonnull(strstr(u, "no default: the target's own\n")); /* no [default: ] */
    ck_assert_ptr_nonnull(help);
    ck_assert_ptr_nonnull(title);
    ck_assert(help < title); /* --help closes the command's own settings */
    free(u);
}
END_TEST

START_TEST(serve_reads_the_pool_rows_in_the_same_pass)
{
    char *argv[] = {"serve", "--workers", "3", "--pool-tick", "7", "--pod-backend=none", NULL};
    char *bad[] = {"serve", "--pool-tick", "0", NULL};
    struct agentpool_cfg p;
    struct opt_group pool;
    struct cfg c;
    struct err err = {0};
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    agentpool_cfg_default(&p);
    pool = agentpool_opt_group(&p);
    setenv("DROVER_POOL_MAX_STARTING", "9", 1);
    ck_assert_int_eq(cfg_parse_with(&c, &pool, 1, 6, argv, &err), 0);
    unsetenv("DROVER_POOL_MAX_STARTING");
    ck_assert_int_eq(c.workers, 3);
    ck_assert_int_eq(p.tick_seconds, 7);
    ck_assert_str_eq(p.backend, "none");
    ck_assert_int_eq(p.max_starting, 9);
    ck_assert_int_eq(p.stabilization_seconds, 300); /* defaults kept */
    ck_assert_str_eq(p.agent_log_dir, "/tmp/drover-agents");
    ck_assert_str_eq(p.pod_template, "/etc/drover/agent-pod.yaml");
    ck_assert_str_ne(p.replica, ""); /* computed, not a row default */
    cfg_free(&c);
    ck_assert_int_eq(cfg_parse_with(&c, &pool, 1, 3, bad, &err), -1);
    ck_assert_str_eq(err.msg, "--pool-tick must be an integer from 1 to 3600 (got '0')");
    cfg_free(&c);
    /* The server alone does not know the pool's flags. */
    ck_assert_int_eq(cfg_parse(&c, 6, argv, &err), -1);
    cfg_free(&c);

    f = open_memstream(&text, &len);
    cfg_usage(f, &pool, 1);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "usage: droverd serve"));
    ck_assert_ptr_nonnull(strstr(text, "DROVER_LISTEN"));
    ck_assert_ptr_nonnull(strstr(text, "--pool-tick"));
    ck_assert_ptr_nonnull(strstr(text, "DROVER_POOL_TICK"));
    free(text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("opt");
    TCase *tc = tcase_create("opt");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, defaults_then_environment_then_flags);
    tcase_add_test(tc, bad_values_name_their_source);
    tcase_add_test(tc, flags_that_are_not_rows);
    tcase_add_test(tc, set_one_row_by_flag);
    tcase_add_test(tc, one_usage_for_every_group);
    tcase_add_test(tc, serve_reads_the_pool_rows_in_the_same_pass);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
