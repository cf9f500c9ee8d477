/*
 * Heartbeat group commit against the real PostgreSQL: one batch statement (store/hbbatch)
 * answers each agent as queue_heartbeat does (its leases extended, cancelled tasks flagged,
 * another agent's task only as cancelled without its state, unknown agents and bad input
 * refused alone), and svc_hbbatch_beat from many threads at once,
 * with two threads beating for the same agent, answers every heartbeat with its own reply.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/agents.h"
#include "store/hbbatch.h"
#include "store/queue.h"
#include "svc/svc.h"
#include "svc/svc_hbbatch.h"
#include "fixture.h"
#include "testdb.h"

/* Enqueue one task and have `agent` claim it; its id. */
static long long held_task(const char *agent, const char *title)
{
    struct model_task_new t = {.title = title, .repo_url = FIXTURE_REPO};

    return fixture_held_task(agent, &t);
}

START_TEST(batch_answers_each_agent_alone)
{
    char a[37], b[37], c[37];
    long long ta, tb, tc;
    struct err err = {0};
    json_t *ia, *ib, *ic, *task = NULL, *single = NULL;
    struct hbbatch_req reqs[5];
    PGresult *r;

    fixture_agent(a);
    fixture_agent(b);
    fixture_agent(c);
    ta = held_task(a, "a's");
    tb = held_task(b, "b's");
    tc = held_task(c, "c's");
    ck_assert(queue_cancel(&fx.db, tc, "admin", "stop", &task, &err) == 0);
    json_decref(task);
    /* Leases nearly out: the batch must push them to now + lease. */
    ck_assert(db_command(&fx.db, "UPDATE tasks SET lease_expires_at = now() + interval '1 second'",
                         &err) == 0);
    ia = json_pack("[I,I]", (json_int_t)ta, (json_int_t)tb); /* a names b's task too */
    ib = json_pack("[I]", (json_int_t)tb);
    ic = json_pack("[I]", (json_int_t)tc);
    memset(reqs, 0, sizeof(reqs));
    reqs[0] = (struct hbbatch_req){.agent_id = a, .reported = "busy", .task_ids = ia};
    reqs[1] = (struct hbbatch_req){.agent_id = "00000000-0000-4000-8000-000000000001"};
    reqs[2] = (struct hbbatch_req){.agent_id = b, .reported = "busy", .task_ids = ib};
    reqs[3] = (struct hbbatch_req){.agent_id = c, .reported = "sleeping"};
    reqs[4] = (struct hbbatch_req){.agent_id = c, .reported = "busy", .task_ids = ic};
    ck_assert_msg(hbbatch_exec(&fx.db, &fx.qo, reqs, 5, &err) == 0, "%s", err.msg);

    ck_assert_int_eq(reqs[0].rc, 0);
    ck_assert(json_is_false(json_object_get(fixture_heartbeat_task(reqs[0].out, ta), "cancelled")));
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(reqs[0].out, "agent"), "status")),
        "busy");
    /* b's task: not a's, so cancelled for a, and no word on its state. */
    ck_assert(json_is_true(json_object_get(fixture_heartbeat_task(reqs[0].out, tb), "cancelled")));
    ck_assert(json_is_null(json_object_get(fixture_heartbeat_task(reqs[0].out, tb), "state")));
    ck_assert_int_eq(reqs[1].rc, -1);
    ck_assert_int_eq(reqs[1].err.code, ERR_NOT_FOUND);
    ck_assert_int_eq(reqs[2].rc, 0);
    ck_assert(json_is_false(json_object_get(fixture_heartbeat_task(reqs[2].out, tb), "cancelled")));
    ck_assert(!fixture_heartbeat_task(reqs[2].out, ta)); /* only what b named or holds */
    ck_assert_int_eq(reqs[3].rc, -1);
    ck_assert_int_eq(reqs[3].err.code, ERR_INVALID);
    ck_assert_int_eq(reqs[4].rc, 0);
    ck_assert(json_is_true(json_object_get(fixture_heartbeat_task(reqs[4].out, tc), "cancelled")));
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(reqs[4].out, "agent"), "status")),
        "idle");
    /* The effect: both held leases extended to about now + lease, heartbeats recorded. */
    r = PQexec(fx.db.conn, "SELECT count(*) FROM tasks WHERE state = 'in_progress'"
                           " AND lease_expires_at > now() + interval '100 seconds'");
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "2");
    PQclear(r);
    r = PQexec(fx.db.conn, "SELECT count(*) FROM agents WHERE last_heartbeat_at IS NOT NULL"
                           " AND last_heartbeat_at > now() - interval '10 seconds'");
    ck_assert_int_ge(atoi(PQgetvalue(r, 0, 0)), 3);
    PQclear(r);
    /* The same answer, key for key, as a heartbeat on its own. */
    ck_assert(queue_heartbeat(&fx.db, &fx.qo, a, "busy", ia, NULL, &single, &err) == 0);
    ck_assert_int_eq(json_object_size(json_object_get(single, "agent")),
                     json_object_size(json_object_get(reqs[0].out, "agent")));
    ck_assert_int_eq(json_object_size(fixture_heartbeat_task(single, ta)),
                     json_object_size(fixture_heartbeat_task(reqs[0].out, ta)));
    json_decref(single);
    /* The budgets svc_hbmem checks usage against: none here, none past. */
    ck_assert(json_is_null(json_object_get(reqs[0].limits, "tokens")));
    ck_assert(json_is_false(json_object_get(reqs[0].limits, "over")));
    for (int i = 0; i < 5; i++) {
        json_decref(reqs[i].out);
        json_decref(reqs[i].limits);
    }
    json_decref(ia);
    json_decref(ib);
    json_decref(ic);
}
END_TEST

#define HB_THREADS 8
#define HB_BEATS 40

struct beater {
    char agent[37];
    long long task;
    int ok;
    char fail[300];
};

static void *beat_main(void *arg)
{
    struct beater *bt = arg;
    struct svc_ctx *c = svc_ctx_open(&fx.env, testdb_dsn());
    json_t *ids = json_pack("[I]", (json_int_t)bt->task);

    for (int i = 0; i < HB_BEATS; i++) {
        struct err err = {0};
        json_t *out = NULL;

        if (svc_hbbatch_beat(fx.env.hbbatch, c, bt->agent, "busy", ids, NULL, &out, NULL, &err) <
            0) {
            snprintf(bt->fail, sizeof(bt->fail), "%.250s", err.msg);
            break;
        }
        if (fixture_heartbeat_task(out, bt->task) &&
            json_is_false(json_object_get(fixture_heartbeat_task(out, bt->task), "cancelled")))
            bt->ok++;
        json_decref(out);
    }
    json_decref(ids);
    svc_ctx_close(c);
    return NULL;
}

START_TEST(concurrent_beats_each_get_their_answer)
{
    struct beater bt[HB_THREADS];
    pthread_t th[HB_THREADS];
    long long batches = 0, beats = 0;

    memset(bt, 0, sizeof(bt));
    for (int i = 0; i < HB_THREADS; i++) {
        if (i == HB_THREADS - 1) { /* two threads beat for one agent: never in one batch */
            memcpy(bt[i].agent, bt[0].agent, sizeof(bt[i].agent));
            bt[i].task = bt[0].task;
            continue;
        }
        fixture_agent(bt[i].agent);
        bt[i].task = held_task(bt[i].agent, "beaten");
    }
    for (int i = 0; i < HB_THREADS; i++)
        pthread_create(&th[i], NULL, beat_main, &bt[i]);
    for (int i = 0; i < HB_THREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < HB_THREADS; i++)
        ck_assert_msg(bt[i].ok == HB_BEATS, "thread %d: %d of %d answered right (%s)", i, bt[i].ok,
                      HB_BEATS, bt[i].fail);
    svc_hbbatch_stats(fx.env.hbbatch, &batches, &beats);
    ck_assert_int_eq(beats, HB_THREADS * HB_BEATS);
    ck_assert_int_ge(batches, 1);
    ck_assert_int_le(batches, beats);
    fprintf(stderr, "check_svc_hbbatch: %lld heartbeats in %lld statements\n", beats, batches);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("svc_hbbatch");
    TCase *tc = tcase_create("svc_hbbatch");

    testdb_setup();
    tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, batch_answers_each_agent_alone);
    tcase_add_test(tc, concurrent_beats_each_get_their_answer);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
