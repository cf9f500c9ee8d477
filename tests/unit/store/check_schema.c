/*
 * The schema's CHECK constraints (sql/001_init.sql) and core/model.h state the same bounds,
 * defaults and states: each value at a bound is accepted by the table, one past it refused,
 * and the column defaults are the model's. The C checks are the first guard, the table the
 * second; this keeps them from drifting apart.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "store/db.h"
#include "fixture.h"
#include "testdb.h"

/* 1 when the INSERT of a task with `column` = `value` (SQL text) is accepted, 0 when refused. */
static int accepts(const char *column, const char *value)
{
    char sql[512];
    PGresult *r;
    int ok;

    snprintf(sql, sizeof(sql),
             "INSERT INTO tasks (title, repo_url, %s) VALUES ('t', 'file:///r.git', %s)", column,
             value);
    r = PQexec(fx.db.conn, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok;
}

static void bounds(const char *column, long long lo, long long hi)
{
    char v[32];

    snprintf(v, sizeof(v), "%lld", lo);
    ck_assert_msg(accepts(column, v), "%s = %s (the model's minimum) refused", column, v);
    snprintf(v, sizeof(v), "%lld", hi);
    ck_assert_msg(accepts(column, v), "%s = %s (the model's maximum) refused", column, v);
    snprintf(v, sizeof(v), "%lld", lo - 1);
    ck_assert_msg(!accepts(column, v), "%s = %s (below the model's minimum) accepted", column, v);
    snprintf(v, sizeof(v), "%lld", hi + 1);
    ck_assert_msg(!accepts(column, v), "%s = %s (above the model's maximum) accepted", column, v);
}

/* A text of `n` characters as SQL. */
static void text_of(char *out, size_t outsz, long long n)
{
    snprintf(out, outsz, "repeat('x', %lld)", n);
}

START_TEST(numeric_bounds_agree)
{
    bounds("priority", MODEL_PRIORITY_MIN, MODEL_PRIORITY_MAX);
    bounds("max_attempts", MODEL_ATTEMPTS_MIN, MODEL_ATTEMPTS_MAX);
    bounds("timeout_seconds", MODEL_TIMEOUT_MIN, MODEL_TIMEOUT_MAX);
}
END_TEST

START_TEST(text_limits_agree)
{
    static const struct {
        const char *column;
        long long max;
    } cols[] = {
        {"description", MODEL_DESCRIPTION_MAX}, {"model", MODEL_MODEL_MAX},
        {"base_branch", MODEL_BRANCH_MAX},      {"branch", MODEL_BRANCH_MAX},
        {"question", MODEL_QUESTION_MAX},       {"idempotency_key", MODEL_IDEMPOTENCY_KEY_MAX}};
    char v[64];

    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
        text_of(v, sizeof(v), cols[i].max);
        ck_assert_msg(accepts(cols[i].column, v), "%s of %lld characters refused", cols[i].column,
                      cols[i].max);
        text_of(v, sizeof(v), cols[i].max + 1);
        ck_assert_msg(!accepts(cols[i].column, v), "%s of %lld characters accepted", cols[i].column,
                      cols[i].max + 1);
    }
    /* The title (which accepts() always sets) on its own. */
    for (long long n = MODEL_TITLE_MAX; n <= MODEL_TITLE_MAX + 1; n++) {
        char sql[256];
        PGresult *r;

        snprintf(sql, sizeof(sql),
                 "INSERT INTO tasks (title, repo_url) VALUES (repeat('t', %lld), 'r')", n);
        r = PQexec(fx.db.conn, sql);
        ck_assert_msg((PQresultStatus(r) == PGRES_COMMAND_OK) == (n == MODEL_TITLE_MAX),
                      "a title of %lld characters", n);
        PQclear(r);
    }
}
END_TEST

START_TEST(states_and_defaults_agree)
{
    char v[64];
    PGresult *r;

    for (int i = 0; i < MODEL_NSTATES; i++) {
        snprintf(v, sizeof(v), "'%s'", model_state_name((enum model_state)i));
        ck_assert_msg(accepts("state", v), "state %s refused", v);
    }
    ck_assert(!accepts("state", "'done'"));
    r = PQexec(fx.db.conn, "INSERT INTO tasks (title, repo_url) VALUES ('d', 'r')"
                           " RETURNING max_attempts, timeout_seconds");
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    ck_assert_int_eq(atoi(PQgetvalue(r, 0, 0)), MODEL_ATTEMPTS_DEFAULT);
    ck_assert_int_eq(atoi(PQgetvalue(r, 0, 1)), MODEL_TIMEOUT_DEFAULT);
    PQclear(r);
    r = PQexec(fx.db.conn, "INSERT INTO projects (name, repo_url) VALUES ('p', 'r')"
                           " RETURNING default_branch");
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    /* No default branch unless given: the agent asks the repository for its own (sql/011). */
    ck_assert(PQgetisnull(r, 0, 0));
    PQclear(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("schema");
    TCase *tc = tcase_create("schema");

    testdb_setup();
    tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, numeric_bounds_agree);
    tcase_add_test(tc, text_limits_agree);
    tcase_add_test(tc, states_and_defaults_agree);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
