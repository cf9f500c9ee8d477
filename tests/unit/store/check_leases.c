/*
 * store/leases against a real PostgreSQL: the live lease a lease-less (seed) call stands on.
 * Another agent's task, an expired lease, a finished task and an unknown one are refused; the
 * current task is the one claimed last.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "store/leases.h"
#include "fixture.h"
#include "testdb.h"

static int64_t enqueue(const char *title)
{
    struct model_task_new t = {.title = title, .repo_url = FIXTURE_REPO};

    return fixture_enqueue(&t);
}

/* Claims and returns the claimed task's id and epoch. */
static int64_t claim(const char *agent, int64_t *epoch)
{
    json_t *task = fixture_claim(agent);
    int64_t id;

    ck_assert_ptr_nonnull(task);
    id = json_integer_value(json_object_get(task, "id"));
    *epoch = json_integer_value(json_object_get(task, "lease_epoch"));
    json_decref(task);
    return id;
}

START_TEST(live_lease_gives_its_epoch_and_current_task)
{
    char a[37];
    int64_t t, e, got_e = -1, got_t = 0;
    struct err err = {0};

    fixture_agent(a);
    enqueue("one");
    t = claim(a, &e);
    ck_assert_int_eq(leases_epoch(&fx.db, a, t, &got_e, &err), 0);
    ck_assert_int_eq(got_e, e);
    got_e = -1;
    ck_assert_int_eq(leases_current(&fx.db, a, &got_t, &got_e, &err), 0);
    ck_assert_int_eq(got_t, t);
    ck_assert_int_eq(got_e, e);
}
END_TEST

START_TEST(current_is_the_task_claimed_last)
{
    char a[37];
    int64_t t1, t2, e, got_e, got_t = 0;
    struct err err = {0};
    char sql[512];

    fixture_agent(a);
    enqueue("one");
    t2 = enqueue("two");
    t1 = claim(a, &e);
    ck_assert_int_ne(t1, t2);
    /* An agent allowed several tasks (--max-tasks-per-agent) holds a second one, claimed later. */
    snprintf(sql, sizeof(sql),
             "UPDATE tasks SET started_at = now() - interval '1 minute' WHERE id = %lld;"
             "UPDATE tasks SET state = 'in_progress', agent_id = '%s', lease_epoch = 7,"
             " started_at = now(), lease_expires_at = now() + interval '1 minute' WHERE id = %lld",
             (long long)t1, a, (long long)t2);
    fixture_exec(sql);
    ck_assert_int_eq(leases_current(&fx.db, a, &got_t, &got_e, &err), 0);
    ck_assert_int_eq(got_t, t2);
    ck_assert_int_eq(got_e, 7);
}
END_TEST

START_TEST(refusals)
{
    char a[37], b[37], sql[160];
    int64_t t, e, got = -7;
    struct err err = {0};

    fixture_agent(a);
    fixture_agent(b);
    enqueue("one");
    t = claim(b, &e);
    /* Another agent's task. */
    ck_assert_int_eq(leases_epoch(&fx.db, a, t, &got, &err), -1);
    ck_assert_int_eq(err.code, ERR_FORBIDDEN);
    ck_assert_int_eq(leases_current(&fx.db, a, &got, &got, &err), -1);
    ck_assert_int_eq(err.code, ERR_CONFLICT);
    /* An unknown task; a bad id. */
    ck_assert_int_eq(leases_epoch(&fx.db, b, t + 1000, &got, &err), -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
    ck_assert_int_eq(leases_epoch(&fx.db, b, 0, &got, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    /* The holder's lease expired (not reaped yet): stale, and no current task. */
    snprintf(sql, sizeof(sql),
             "UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = %lld",
             (long long)t);
    fixture_exec(sql);
    ck_assert_int_eq(leases_epoch(&fx.db, b, t, &got, &err), -1);
    ck_assert_int_eq(err.code, ERR_STALE_EPOCH);
    ck_assert_int_eq(leases_current(&fx.db, b, &got, &got, &err), -1);
    ck_assert_int_eq(err.code, ERR_CONFLICT);
    /* A finished task. */
    snprintf(sql, sizeof(sql), "UPDATE tasks SET state = 'cancelled' WHERE id = %lld",
             (long long)t);
    fixture_exec(sql);
    ck_assert_int_eq(leases_epoch(&fx.db, b, t, &got, &err), -1);
    ck_assert_int_eq(err.code, ERR_CONFLICT);
    ck_assert_int_eq(got, -7); /* never written on a refusal */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("leases");
    TCase *tc = tcase_create("leases");

    testdb_setup();
    tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, live_lease_gives_its_epoch_and_current_task);
    tcase_add_test(tc, current_is_the_task_claimed_last);
    tcase_add_test(tc, refusals);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
