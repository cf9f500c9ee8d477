/*
 * Heartbeats answered from memory (svc_hbmem) against the real PostgreSQL, through
 * svc_status_heartbeat as a worker calls it: the first heartbeat is synchronous, the next ones
 * with the same task set are answered from memory and written only by the flush (which extends
 * the lease then); a changed task set falls back; a cancel, and a requeue, reach the very next
 * heartbeat through NOTIFY (sql/046) with no flush in between; a usage past a cached budget
 * falls back and the budget stop acts on that first heartbeat.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/agents.h"
#include "store/queue.h"
#include "svc/svc.h"
#include "svc/svc_hbmem.h"
#include "svc/svc_status.h"
#include "fixture.h"
#include "testdb.h"

static long long held_task(const char *agent, const char *budget)
{
    struct model_task_new t = {.title = "beaten", .repo_url = FIXTURE_REPO, .budget_json = budget};

    return fixture_held_task(agent, &t);
}

/* One heartbeat through svc_status; its answer (owned). */
static json_t *beat(const char *agent, long long task, const char *usage)
{
    json_t *ids = task ? json_pack("[I]", (json_int_t)task) : json_array();
    json_t *u = usage ? json_loads(usage, 0, NULL) : NULL, *out = NULL;
    struct err err = {0};

    ck_assert_msg(svc_status_heartbeat(&fx.svc, agent, "busy", NULL, ids, u, &out, &err) == 0, "%s",
                  err.msg);
    json_decref(ids);
    json_decref(u);
    return out;
}

static bool cancelled(const json_t *out, long long task)
{
    return json_is_true(json_object_get(fixture_heartbeat_task(out, task), "cancelled"));
}

static struct svc_hbmem_stats stats(void)
{
    struct svc_hbmem_stats s;

    svc_hbmem_stats(fx.env.hbmem, &s);
    return s;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

START_TEST(memory_answers_and_the_flush_writes)
{
    char a[37];
    long long t;
    struct err err = {0};
    json_t *out;

    fx.env.hbmem = svc_hbmem_new(200, 64);
    svc_hbmem_set_listening(fx.env.hbmem, true); /* no thread: the test flushes by hand */
    fixture_agent(a);
    t = held_task(a, NULL);
    out = beat(a, t, NULL);
    ck_assert(!cancelled(out, t) && fixture_heartbeat_task(out, t));
    ck_assert_int_eq(stats().fallback, 1);
    ck_assert_int_eq(stats().memory, 0);
    json_decref(out);
    /* Leases nearly out and an old heartbeat: only a flush may change them now. */
    fixture_exec("UPDATE tasks SET lease_expires_at = now() + interval '5 seconds'");
    fixture_exec("UPDATE agents SET last_heartbeat_at = now() - interval '1 hour'");
    out = beat(a, t, "{\"tokens\": 10}");
    ck_assert_int_eq(stats().memory, 1);
    ck_assert(fixture_heartbeat_task(out, t) && !cancelled(out, t));
    ck_assert(json_is_integer(json_object_get(out, "heartbeat_interval")));
    json_decref(out);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks WHERE lease_expires_at < now() + "
                                    "interval '10 seconds'"),
                     1);
    ck_assert_int_eq(svc_hbmem_flush(fx.env.hbmem, &fx.db, &fx.qo, &err), 0);
    ck_assert_int_eq(stats().flushed, 1);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks WHERE lease_expires_at > now() + "
                                    "interval '100 seconds'"),
                     1);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM agents WHERE last_heartbeat_at > now() - "
                                    "interval '10 seconds'"),
                     1);
    ck_assert_int_eq(fixture_scalar("SELECT (usage->>'tokens')::int FROM tasks"), 10);
    /* A flush with nothing queued writes nothing. */
    ck_assert_int_eq(svc_hbmem_flush(fx.env.hbmem, &fx.db, &fx.qo, &err), 0);
    ck_assert_int_eq(stats().flushed, 1);
    /* Another task set: the database answers. */
    out = beat(a, 0, NULL);
    ck_assert_int_eq(stats().fallback, 2);
    json_decref(out);
    /* Not listening (the change feed is down): nothing from memory. */
    out = beat(a, 0, NULL);
    ck_assert_int_eq(stats().memory, 2);
    json_decref(out);
    svc_hbmem_set_listening(fx.env.hbmem, false);
    out = beat(a, 0, NULL);
    ck_assert_int_eq(stats().memory, 2);
    ck_assert_int_eq(stats().fallback, 3);
    json_decref(out);
}
END_TEST

START_TEST(a_status_change_lands_after_the_queued_heartbeat)
{
    char a[37];
    long long t;
    struct err err = {0};
    json_t *task = NULL;

    fx.env.hbmem = svc_hbmem_new(200, 64);
    svc_hbmem_set_listening(fx.env.hbmem, true);
    fixture_agent(a);
    t = held_task(a, NULL);
    json_decref(beat(a, t, "{\"tokens\": 10}"));
    json_decref(beat(a, t, "{\"tokens\": 70}")); /* from memory, queued */
    ck_assert_int_eq(stats().memory, 1);
    /* Completed before any flush: the queued usage must reach the task first. */
    ck_assert_msg(svc_status_update(&fx.svc, a, t, 1, "completed", NULL, &task, &err) == 0, "%s",
                  err.msg);
    json_decref(task);
    ck_assert_int_eq(fixture_scalar("SELECT (usage->>'tokens')::int FROM tasks"), 70);
    ck_assert_int_eq(svc_hbmem_flush(fx.env.hbmem, &fx.db, &fx.qo, &err), 0);
    ck_assert_int_eq(stats().flushed, 1); /* written once, by the status change */
}
END_TEST

/* Start the threads and wait until a heartbeat of `agent` is answered from memory. */
static void started_and_warm(const char *agent, long long t)
{
    long long before = stats().memory;

    for (int i = 0; i < 100 && stats().memory == before; i++) {
        json_decref(beat(agent, t, NULL));
        sleep_ms(50);
    }
    ck_assert_msg(stats().memory > before, "%s never answered from memory", agent);
}

/* Beat until the answer says `t` is cancelled; how many heartbeats that took. */
static int beats_until_cancelled(const char *agent, long long t)
{
    for (int i = 1; i <= 40; i++) {
        json_t *out = beat(agent, t, NULL);
        bool c = cancelled(out, t);

        json_decref(out);
        if (c)
            return i;
        sleep_ms(25);
    }
    return -1;
}

START_TEST(a_queued_heartbeat_does_not_undo_a_later_retirement)
{
    char a[37];
    struct err err = {0};
    PGresult *r;

    fx.env.hbmem = svc_hbmem_new(200, 64);
    svc_hbmem_set_listening(fx.env.hbmem, true);
    fixture_agent(a);
    json_decref(beat(a, 0, NULL));
    json_decref(beat(a, 0, NULL)); /* from memory, queued */
    ck_assert_int_eq(stats().memory, 1);
    /* The pool retires the agent before the flush: the older heartbeat must not revive it. */
    fixture_exec("UPDATE agents SET status = 'offline', offline_reason = 'unusable: test'");
    ck_assert_int_eq(svc_hbmem_flush(fx.env.hbmem, &fx.db, &fx.qo, &err), 0);
    ck_assert_int_eq(stats().flushed, 1);
    r = PQexec(fx.db.conn, "SELECT status || ' ' || offline_reason FROM agents");
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "offline unusable: test");
    PQclear(r);
}
END_TEST

START_TEST(cancel_and_requeue_reach_the_next_heartbeat)
{
    char a[37], b[37];
    long long ta, tb, flushes;
    struct err err = {0};
    json_t *task = NULL;
    int n;

    /* A tick far longer than the test: only NOTIFY can make an answer change. */
    fx.env.hbmem = svc_hbmem_new(10000, 64);
    svc_hbmem_start(fx.env.hbmem, testdb_dsn(), &fx.qo);
    fixture_agent(a);
    fixture_agent(b);
    ta = held_task(a, NULL);
    tb = held_task(b, NULL);
    started_and_warm(a, ta);
    started_and_warm(b, tb);
    flushes = stats().flushes;
    ck_assert(queue_cancel(&fx.db, ta, "admin", "stop", &task, &err) == 0);
    json_decref(task);
    /* The NOTIFY crosses on the LISTEN connection: a few ms, well inside one interval. */
    n = beats_until_cancelled(a, ta);
    ck_assert_msg(n > 0 && n <= 20, "the cancel reached the agent after %d heartbeats", n);
    /* A reaped or requeued task reads as cancelled to its old holder too. */
    fixture_exec("UPDATE tasks SET state = 'backlog', agent_id = NULL, lease_expires_at = NULL"
                 " WHERE id = (SELECT max(id) FROM tasks WHERE state = 'in_progress')");
    n = beats_until_cancelled(b, tb);
    ck_assert_msg(n > 0 && n <= 20, "the requeue reached the agent after %d heartbeats", n);
    ck_assert_int_eq(stats().flushes, flushes); /* not a flush's refresh */
    ck_assert_int_ge(stats().dropped, 2);
    svc_hbmem_stop(fx.env.hbmem);
}
END_TEST

START_TEST(budget_crossing_falls_back_and_stops_at_once)
{
    char a[37];
    long long t;
    json_t *out;

    fx.env.hbmem = svc_hbmem_new(200, 64);
    svc_hbmem_set_listening(fx.env.hbmem, true);
    fixture_agent(a);
    t = held_task(a, "{\"tokens\": 100}");
    json_decref(beat(a, t, "{\"tokens\": 10}"));
    out = beat(a, t, "{\"tokens\": 90}"); /* under: memory */
    ck_assert_int_eq(stats().memory, 1);
    ck_assert(!cancelled(out, t));
    json_decref(out);
    out = beat(a, t, "{\"tokens\": 150}"); /* past it: the database, and the stop, now */
    ck_assert_int_eq(stats().memory, 1);
    ck_assert_int_eq(stats().fallback, 2);
    ck_assert(cancelled(out, t));
    json_decref(out);
    ck_assert_int_eq(
        fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'needs_input' AND reason "
                       "= 'budget'"),
        1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("svc_hbmem");
    TCase *tc = tcase_create("svc_hbmem");

    testdb_setup();
    tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, memory_answers_and_the_flush_writes);
    tcase_add_test(tc, a_status_change_lands_after_the_queued_heartbeat);
    tcase_add_test(tc, a_queued_heartbeat_does_not_undo_a_later_retirement);
    tcase_add_test(tc, cancel_and_requeue_reach_the_next_heartbeat);
    tcase_add_test(tc, budget_crossing_falls_back_and_stops_at_once);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
