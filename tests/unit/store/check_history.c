/*
 * The dashboard's history against a real PostgreSQL (store/history.c, sql/042): one sample per
 * minute whatever the number of writers, heartbeat gaps from the trigger, buckets in the
 * answer, and pruning by age.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "store/agents.h"
#include "store/history.h"
#include "fixture.h"
#include "testdb.h"

/* The history tables too: testdb_reset leaves them alone. */
static void setup(void)
{
    fixture_setup();
    fixture_exec("TRUNCATE history_samples, agent_gaps, scale_events");
}

START_TEST(sample_counts_and_once_per_minute)
{
    struct err err = {0};
    char a[37];

    fixture_agent(a);
    fixture_exec("UPDATE agents SET status = 'busy'");
    fixture_exec("INSERT INTO tasks (title, state) VALUES ('a', 'backlog'), ('b', 'backlog'),"
                 " ('c', 'in_progress')");
    fixture_exec("INSERT INTO tasks (title, state, finished_at) VALUES ('d', 'completed', now()),"
                 " ('e', 'failed', now()), ('f', 'completed', now() - interval '1 hour')");
    fixture_exec("INSERT INTO scale_events (replica, trigger, inputs, raw, target, current, reason)"
                 " VALUES ('r', 'tick', '{}', 4, 4, 1, 'up')");
    ck_assert_int_eq(history_sample(&fx.db, &err), 0);
    ck_assert_int_eq(history_sample(&fx.db, &err), 0); /* the same minute: nothing more */
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM history_samples"), 1);
    ck_assert_int_eq(
        fixture_scalar("SELECT backlog * 1000000 + in_progress * 100000 + live_agents * 10000"
                       " + busy_agents * 1000 + target * 100 + finished * 10 + failed"
                       " FROM history_samples"),
        2 * 1000000 + 100000 + 10000 + 1000 + 400 + 10 + 1);
}
END_TEST

START_TEST(heartbeat_gaps_from_the_trigger)
{
    char a[37], sql[1024];

    fixture_agent(a);
    snprintf(sql, sizeof(sql),
             "UPDATE agents SET last_heartbeat_at = now() - interval '10 minutes' WHERE id = '%s';"
             "UPDATE agents SET last_heartbeat_at = now() - interval '9 minutes 30 seconds'"
             " WHERE id = '%s';" /* 30 s: no gap */
             "UPDATE agents SET last_heartbeat_at = now() - interval '5 minutes' WHERE id = '%s'",
             a, a, a);
    fixture_exec(sql);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM agent_gaps"), 1);
    ck_assert_int_eq(
        fixture_scalar("SELECT extract(epoch FROM gap_end - gap_start)::int FROM agent_gaps"), 270);
}
END_TEST

START_TEST(answer_in_buckets_with_agents_and_gaps)
{
    struct err err = {0};
    json_t *h = NULL, *s0;
    char a[37], sql[512];

    fixture_agent(a);
    /* 30 samples a minute apart, backlog = minute index, 1 finished each. */
    fixture_exec("INSERT INTO history_samples SELECT date_trunc('hour', now()) - interval '1 hour'"
                 " + make_interval(mins => g), g, 0, 0, 1, 0, 2, 0, 10, 1, 0"
                 " FROM generate_series(0, 29) g");
    snprintf(sql, sizeof(sql),
             "INSERT INTO agent_gaps (agent_id, gap_start, gap_end) VALUES"
             " ('%s', now() - interval '50 minutes', now() - interval '45 minutes'),"
             " ('%s', now() - interval '3 days', now() - interval '3 days' + interval '2 minutes')",
             a, a);
    fixture_exec(sql);
    ck_assert_int_eq(history_get(&fx.db, 3, 600, &h, &err), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(h, "step_seconds")), 600);
    ck_assert_int_eq(json_array_size(json_object_get(h, "samples")),
                     3); /* 30 min in 10-min buckets */
    s0 = json_array_get(json_object_get(h, "samples"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(s0, "backlog")), 9);   /* the max */
    ck_assert_int_eq(json_integer_value(json_object_get(s0, "finished")), 10); /* the sum */
    ck_assert_int_eq(json_array_size(json_object_get(h, "gaps")), 1); /* the 3-day-old one: no */
    ck_assert_int_eq(json_array_size(json_object_get(h, "agents")), 1);
    json_decref(h);
}
END_TEST

START_TEST(prune_by_age)
{
    struct err err = {0};
    char a[37], sql[512];
    int n = 0;

    fixture_agent(a);
    /* Ages 0.5 .. 9.5 days: three older than 7. */
    fixture_exec(
        "INSERT INTO history_samples SELECT now() - make_interval(days => g)"
        " - interval '12 hours', 0, 0, 0, 0, 0, NULL, 0, 0, 0, 0 FROM generate_series(0, 9) g");
    snprintf(sql, sizeof(sql),
             "INSERT INTO agent_gaps (agent_id, gap_start, gap_end) VALUES"
             " ('%s', now() - interval '9 days', now() - interval '9 days'),"
             " ('%s', now() - interval '1 day', now() - interval '1 day')",
             a, a);
    fixture_exec(sql);
    ck_assert_int_eq(history_prune(&fx.db, 7, 2, &n, &err), 0);
    ck_assert_int_eq(n, 2 + 1); /* a batch of 2 samples, the old gap */
    ck_assert_int_eq(history_prune(&fx.db, 7, 100, &n, &err), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM history_samples"), 7);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM agent_gaps"), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("history");
    TCase *tc = tcase_create("history");

    testdb_setup();
    tcase_add_checked_fixture(tc, setup, fixture_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, sample_counts_and_once_per_minute);
    tcase_add_test(tc, heartbeat_gaps_from_the_trigger);
    tcase_add_test(tc, answer_in_buckets_with_agents_and_gaps);
    tcase_add_test(tc, prune_by_age);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
