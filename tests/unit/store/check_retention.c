/*
 * Retention against a real PostgreSQL (store/retention.c, svc/svc_retention.c): what goes
 * (activity of finished tasks and rows without a task, older than the horizon; old scale
 * decisions), what stays (the activity of open tasks however old, anything recent), batches
 * capped per run with the rest left for the next one, one replica per interval, and a row
 * another session holds skipped, not waited for.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "store/retention.h"
#include "svc/svc_retention.h"
#include "fixture.h"
#include "testdb.h"

/* The retention tables too: testdb_reset leaves them alone. */
static void setup(void)
{
    fixture_setup();
    fixture_exec("TRUNCATE scale_events, outbox, notify_endpoints CASCADE; UPDATE "
                 "maintenance_runs SET last_run_at = '-infinity', last_result = NULL");
}

/* Tasks 1 (completed), 2 (in_progress), 3 (needs_input), 4 (cancelled); `n` old rows each, one
 * new row each, `n` old rows without a task; old and new scale decisions. */
static void fill(int n)
{
    char sql[4096];

    fixture_exec(
        "INSERT INTO tasks (id, title, state) VALUES (1, 'done', 'completed'),"
        " (2, 'open', 'in_progress'), (3, 'waiting', 'needs_input'), (4, 'gone', 'cancelled')");
    snprintf(
        sql, sizeof(sql),
        "INSERT INTO activity (task_id, ts, kind, message)"
        " SELECT t, now() - interval '40 days', 'log', 'old' FROM generate_series(1, 4) t,"
        " generate_series(1, %d);"
        "INSERT INTO activity (task_id, ts, kind, message)"
        " SELECT NULL, now() - interval '40 days', 'system', 'old' FROM generate_series(1, %d);"
        "INSERT INTO activity (task_id, kind, message) SELECT t, 'log', 'new'"
        " FROM generate_series(1, 4) t;"
        "INSERT INTO scale_events (ts, replica, trigger, inputs, raw, target, current, reason)"
        " SELECT now() - interval '40 days', 'r', 'tick', '{}', 1, 1, 1, 'old'"
        " FROM generate_series(1, %d);"
        "INSERT INTO scale_events (replica, trigger, inputs, raw, target, current, reason)"
        " VALUES ('r', 'tick', '{}', 1, 1, 1, 'new');"
        "INSERT INTO notify_endpoints (id, name, url) VALUES (1, 'hook', 'https://h.test/');"
        "INSERT INTO outbox (endpoint_id, event, payload, state, created_at, delivered_at)"
        " VALUES (1, 'completed', '{}', 'delivered', now() - interval '40 days',"
        "  now() - interval '40 days'),"
        " (1, 'completed', '{}', 'pending', now() - interval '40 days', NULL),"
        " (1, 'completed', '{}', 'delivered', now(), now())",
        n, n, n);
    fixture_exec(sql);
}

START_TEST(prunes_finished_and_keeps_open_and_recent)
{
    struct svc_retention_counts n;
    struct err err = {0};

    fill(3);
    ck_assert_int_eq(svc_retention_run(&fx.svc, 30, 1000, &n, &err), 0);
    ck_assert_int_eq(n.activity, 3 + 3 + 3); /* tasks 1 and 4, and the rows without a task */
    ck_assert_int_eq(n.scale_events, 3);
    ck_assert(!n.more);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM activity WHERE task_id IN (2, 3)"),
                     2 * 4);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM activity WHERE task_id IN (1, 4)"), 2);
    ck_assert_int_eq(
        fixture_scalar("SELECT count(*) FROM activity WHERE message = 'old' AND task_id"
                       " NOT IN (2, 3)"),
        0);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM scale_events"), 1);
    /* The old delivered notification goes; the pending one and the recent one stay. */
    ck_assert_int_eq(n.outbox, 1);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM outbox WHERE state = 'pending'"), 1);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM outbox"), 2);
    /* Idempotent: nothing more to do. */
    ck_assert_int_eq(svc_retention_run(&fx.svc, 30, 1000, &n, &err), 0);
    ck_assert_int_eq(n.activity + n.scale_events + n.outbox, 0);
}
END_TEST

START_TEST(batches_are_capped_and_the_rest_waits)
{
    struct svc_retention_counts n;
    struct err err = {0};
    const int batch = 2, per = SVC_RETENTION_MAX_BATCHES * batch;

    fill(per); /* tasks 1 and 4 plus the task-less rows: 3 * per old rows to prune */
    ck_assert_int_eq(svc_retention_run(&fx.svc, 30, batch, &n, &err), 0);
    ck_assert_int_eq(n.activity, per);
    ck_assert(n.more);
    ck_assert_int_eq(svc_retention_run(&fx.svc, 30, batch, &n, &err), 0);
    ck_assert_int_eq(n.activity, per);
    ck_assert_int_eq(svc_retention_run(&fx.svc, 30, batch, &n, &err), 0);
    ck_assert_int_eq(n.activity, per);
    ck_assert_int_eq(svc_retention_run(&fx.svc, 30, batch, &n, &err), 0);
    ck_assert_int_eq(n.activity, 0);
    ck_assert(!n.more);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM activity WHERE task_id IN (2, 3)"),
                     2 * (per + 1));
}
END_TEST

START_TEST(one_replica_per_interval)
{
    struct err err = {0};
    bool due = false;

    ck_assert_int_eq(retention_claim(&fx.db, "retention", 3600, "a", &due, &err), 0);
    ck_assert(due);
    ck_assert_int_eq(retention_claim(&fx.db, "retention", 3600, "b", &due, &err), 0);
    ck_assert(!due);
    /* A run that stopped at its cap is due again at once. */
    ck_assert_int_eq(retention_done(&fx.db, "retention", "{\"more\":true}", true, &err), 0);
    ck_assert_int_eq(retention_claim(&fx.db, "retention", 3600, "b", &due, &err), 0);
    ck_assert(due);
    ck_assert_int_eq(retention_done(&fx.db, "retention", "{}", false, &err), 0);
    ck_assert_int_eq(retention_claim(&fx.db, "retention", 3600, "a", &due, &err), 0);
    ck_assert(!due);
}
END_TEST

START_TEST(a_locked_row_is_skipped_not_waited_for)
{
    struct db other;
    struct err err = {0};
    struct svc_retention_counts n;
    double t0;

    fill(2);
    testdb_connect(&other);
    ck_assert_int_eq(db_command(&other, "BEGIN", &err), 0);
    ck_assert_int_eq(db_command(&other,
                                "SELECT * FROM activity WHERE task_id = 1 ORDER BY id LIMIT 1"
                                " FOR UPDATE",
                                &err),
                     0);
    t0 = clock_s();
    ck_assert_int_eq(svc_retention_run(&fx.svc, 30, 1000, &n, &err), 0);
    ck_assert_msg(clock_s() - t0 < 5, "pruning waited for another session's lock");
    ck_assert_int_eq(n.activity, 2 + 2 + 2 - 1);
    db_rollback(&other);
    db_close(&other);
    ck_assert_int_eq(svc_retention_run(&fx.svc, 30, 1000, &n, &err), 0);
    ck_assert_int_eq(n.activity, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("retention");
    TCase *tc = tcase_create("retention");

    testdb_setup();
    tcase_add_checked_fixture(tc, setup, fixture_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, prunes_finished_and_keeps_open_and_recent);
    tcase_add_test(tc, batches_are_capped_and_the_rest_waits);
    tcase_add_test(tc, one_replica_per_interval);
    tcase_add_test(tc, a_locked_row_is_skipped_not_waited_for);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
