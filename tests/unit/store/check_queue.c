/*
 * The queue against a real PostgreSQL: enqueue, idempotency, claim order and concurrency,
 * heartbeats, fenced transitions, back-off, the reaper, timeouts, counts, admin transitions.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/agents.h"
#include "store/queue.h"
#include "store/review.h"
#include "fixture.h"
#include "testdb.h"

static int64_t enqueue(const char *title, int priority)
{
    struct model_task_new t = {.title = title, .repo_url = FIXTURE_REPO, .priority = priority};

    return fixture_enqueue(&t);
}

/* A task "t" claimed by a new agent `ag`: the claimed task (owned). */
static json_t *held(char ag[37])
{
    json_t *t;

    enqueue("t", 0);
    fixture_agent(ag);
    t = fixture_claim(ag);
    ck_assert_ptr_nonnull(t);
    return t;
}

static int64_t jint(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* A snapshot of everything a refused call must leave alone. */
static char *snapshot(void)
{
    PGresult *r = PQexec(fx.db.conn, "SELECT (SELECT coalesce(jsonb_agg(t ORDER BY id), '[]')"
                                     " FROM tasks t)::text || (SELECT count(*) FROM activity)::text"
                                     " || (SELECT coalesce(jsonb_agg(a ORDER BY id), '[]')"
                                     " FROM agents a)::text");
    char *s;

    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    s = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return s;
}

START_TEST(enqueue_returns_backlog_task_and_activity)
{
    struct model_task_new t = {.title = "Add /health",
                               .description = "prompt",
                               .repo_url = "file:///r.git",
                               .base_branch = "dev",
                               .model = "sonnet"};
    struct err err = {0};
    json_t *task = NULL;
    bool created = false;

    ck_assert_int_eq(queue_enqueue(&fx.db, &t, &task, &created, &err), 0);
    ck_assert(created);
    ck_assert_str_eq(jstr(task, "state"), "backlog");
    ck_assert_str_eq(jstr(task, "title"), "Add /health");
    ck_assert_str_eq(jstr(task, "base_branch"), "dev");
    ck_assert_str_eq(jstr(json_object_get(task, "project"), "repoUrl"), "file:///r.git");
    ck_assert_int_eq(jint(task, "attempt"), 0);
    ck_assert_int_eq(jint(task, "max_attempts"), 3);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM activity WHERE kind = 'state'"), 1);
    json_decref(task);
}
END_TEST

START_TEST(enqueue_with_project)
{
    struct model_task_new t = {.title = "x", .project_id = 1};
    struct err err = {0};
    json_t *task = NULL;

    fixture_exec("INSERT INTO projects (name, repo_url, default_branch) VALUES ('demo', "
                 "'file:///demo.git', 'trunk')");
    ck_assert_int_eq(queue_enqueue(&fx.db, &t, &task, NULL, &err), 0);
    ck_assert_str_eq(jstr(json_object_get(task, "project"), "name"), "demo");
    ck_assert_str_eq(jstr(json_object_get(task, "project"), "defaultBranch"), "trunk");
    ck_assert_str_eq(jstr(task, "base_branch"), "trunk");
    json_decref(task);
    t.project_id = 99;
    ck_assert_int_eq(queue_enqueue(&fx.db, &t, &task, NULL, &err), -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
}
END_TEST

START_TEST(enqueue_idempotency_key_returns_existing)
{
    struct model_task_new t = {.title = "once", .repo_url = "r", .idempotency_key = "k-1"};
    struct err err = {0};
    json_t *a = NULL, *b = NULL;
    bool created = true;

    ck_assert_int_eq(queue_enqueue(&fx.db, &t, &a, &created, &err), 0);
    ck_assert(created);
    ck_assert_int_eq(queue_enqueue(&fx.db, &t, &b, &created, &err), 0);
    ck_assert(!created);
    ck_assert_int_eq(jint(a, "id"), jint(b, "id"));
    ck_assert_str_eq(jstr(b, "title"), "once");
    /* The same key for a different request is a conflict, never the other task. */
    t.title = "twice";
    json_decref(b);
    b = NULL;
    ck_assert_int_eq(queue_enqueue(&fx.db, &t, &b, &created, &err), -1);
    ck_assert_int_eq(err.code, ERR_CONFLICT);
    ck_assert_ptr_null(b);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks"), 1);
    json_decref(a);
    json_decref(b);
}
END_TEST

static char big[600];
static const struct model_task_new bad_tasks[] = {
    {.title = NULL, .repo_url = "r"},
    {.title = "", .repo_url = "r"},
    {.title = big, .repo_url = "r"},
    {.title = "bad \xc3 utf8", .repo_url = "r"},
    {.title = "no repo"},
    {.title = "prio", .repo_url = "r", .priority = 5000},
    {.title = "attempts", .repo_url = "r", .max_attempts = 1000},
    {.title = "timeout", .repo_url = "r", .timeout_seconds = -5},
    {.title = "budget", .repo_url = "r", .budget_json = "[1]"},
    {.title = "parent", .repo_url = "r", .parent_id = 12345},
};

START_TEST(enqueue_rejects_bad_input_and_changes_nothing)
{
    struct err err = {0};
    json_t *task = NULL;
    char *before, *after;

    memset(big, 'a', sizeof(big) - 1);
    before = snapshot();
    ck_assert_int_eq(queue_enqueue(&fx.db, &bad_tasks[_i], &task, NULL, &err), -1);
    ck_assert_ptr_null(task);
    ck_assert(err.code == ERR_INVALID || err.code == ERR_TOO_LARGE || err.code == ERR_NOT_FOUND);
    ck_assert(strlen(err.msg) > 0);
    after = snapshot();
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
}
END_TEST

START_TEST(claim_orders_by_priority_then_age_and_honours_run_after)
{
    char ag[37];
    int64_t low = enqueue("low", 0), high = enqueue("high", 10), low2 = enqueue("low2", 0);
    struct model_task_new later = {
        .title = "later", .repo_url = "r", .priority = 100, .delay_seconds = 3600};
    struct err err = {0};
    json_t *t;

    ck_assert_int_eq(queue_enqueue(&fx.db, &later, &t, NULL, &err), 0);
    json_decref(t);
    fixture_agent(ag);
    fx.qo.max_tasks_per_agent = 100; /* one agent takes them all, to see the order */
    t = fixture_claim(ag);
    ck_assert_int_eq(jint(t, "id"), high);
    ck_assert_str_eq(jstr(t, "state"), "in_progress");
    ck_assert_int_eq(jint(t, "attempt"), 1);
    ck_assert_int_eq(jint(t, "lease_epoch"), 1);
    ck_assert_str_eq(jstr(t, "agent_id"), ag);
    ck_assert_ptr_nonnull(jstr(t, "lease_expires_at"));
    json_decref(t);
    t = fixture_claim(ag);
    ck_assert_int_eq(jint(t, "id"), low);
    json_decref(t);
    t = fixture_claim(ag);
    ck_assert_int_eq(jint(t, "id"), low2);
    json_decref(t);
    ck_assert_ptr_null(fixture_claim(ag)); /* "later" is not runnable yet */
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM agents WHERE status = 'busy'"), 1);
}
END_TEST

/* Most claims are long-polls finding nothing: those must lock and write nothing (a row lock
 * would give the transaction an id and its commit a WAL flush). A lock leaves the locker's id
 * in the row's xmax. */
START_TEST(empty_claim_takes_no_lock)
{
    char ag[37];
    char sql[160];

    fixture_agent(ag);
    snprintf(sql, sizeof(sql), "SELECT xmax::text::bigint FROM agents WHERE id = '%s'", ag);
    ck_assert_int_eq(fixture_scalar(sql), 0);
    ck_assert_ptr_null(fixture_claim(ag));
    ck_assert_int_eq(fixture_scalar(sql), 0);
    enqueue("one", 0);
    json_decref(fixture_claim(ag)); /* a claim that takes a task does lock (and update) the agent */
    ck_assert_int_ne(fixture_scalar(sql), 0);
}
END_TEST

START_TEST(claim_refuses_draining_offline_and_unknown_agents)
{
    char ag[37];
    struct err err = {0};
    json_t *t = NULL;
    bool drained = false;

    enqueue("t", 0);
    fixture_agent(ag);
    ck_assert_int_eq(agents_drain(&fx.db, ag, &drained, &err), 0);
    ck_assert(drained);
    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, ag, &t, &err), -1);
    ck_assert_int_eq(err.code, ERR_CONFLICT);
    ck_assert_int_eq(agents_mark_offline(&fx.db, ag, "test", &err), 0);
    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, ag, &t, &err), -1);
    ck_assert_int_eq(err.code, ERR_CONFLICT);
    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, "00000000-0000-0000-0000-000000000000", &t, &err),
                     -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, "x'; DROP TABLE tasks; --", &t, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'backlog'"), 1);
}
END_TEST

START_TEST(drain_refuses_busy_agent)
{
    char ag[37];
    struct err err = {0};
    bool drained = true;
    json_t *t;

    t = held(ag);
    ck_assert_ptr_nonnull(t);
    json_decref(t);
    ck_assert_int_eq(agents_drain(&fx.db, ag, &drained, &err), 0);
    ck_assert(!drained);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM agents WHERE status = 'busy'"), 1);
}
END_TEST

#define CONC_TASKS 10000
#define CONC_THREADS 8

struct claimer {
    char agent[37];
    int64_t *ids;
    int n;
    char error[256];
};

static void *claimer_run(void *arg)
{
    struct claimer *c = arg;
    struct db mine;
    struct err err = {0};

    if (db_open(&mine, testdb_dsn(), &err) < 0) {
        snprintf(c->error, sizeof(c->error), "%s", err.msg);
        return NULL;
    }
    for (;;) {
        json_t *t = NULL;

        if (queue_claim(&mine, &fx.qo, c->agent, &t, &err) < 0) {
            snprintf(c->error, sizeof(c->error), "%s", err.msg);
            break;
        }
        if (!t)
            break;
        c->ids[c->n++] = jint(t, "id");
        json_decref(t);
    }
    db_close(&mine);
    return NULL;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

START_TEST(claim_limit_per_agent_and_never_a_group)
{
    char ag[37], other[37];
    int64_t a = enqueue("a", 5), b = enqueue("b", 4);
    struct err err = {0};
    json_t *t = NULL;

    fixture_agent(ag);
    fixture_agent(other);
    /* A group parent in the backlog (a retried cancelled group, before the fix) is no task. */
    fixture_exec("UPDATE tasks SET is_group = true, priority = 100 WHERE id = (SELECT max(id) FROM "
                 "tasks)");
    t = fixture_claim(ag);
    ck_assert_int_eq(jint(t, "id"), a);
    json_decref(t);
    /* The default limit is one task in progress per agent. */
    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, ag, &t, &err), 0);
    ck_assert_ptr_null(t);
    t = fixture_claim(other);
    ck_assert_ptr_null(t); /* b is the group parent here: nothing else is claimable */
    (void)b;
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'in_progress'"), 1);
    fx.qo.max_tasks_per_agent = 2;
    fixture_exec("UPDATE tasks SET is_group = false WHERE state = 'backlog'");
    t = fixture_claim(ag);
    ck_assert_int_eq(jint(t, "id"), b);
    json_decref(t);
}
END_TEST

START_TEST(concurrent_claims_never_share_and_cover_all)
{
    struct claimer cs[CONC_THREADS];
    pthread_t th[CONC_THREADS];
    int64_t *all = calloc(CONC_TASKS, sizeof(*all));
    int total = 0;

    fixture_exec("INSERT INTO tasks (title, repo_url, priority)"
                 " SELECT 'task ' || g, 'r', g % 7 FROM generate_series(1, 10000) g");
    fx.qo.max_tasks_per_agent = CONC_TASKS; /* each claimer keeps what it takes */
    for (int i = 0; i < CONC_THREADS; i++) {
        memset(&cs[i], 0, sizeof(cs[i]));
        fixture_agent(cs[i].agent);
        cs[i].ids = calloc(CONC_TASKS, sizeof(int64_t));
        ck_assert_int_eq(pthread_create(&th[i], NULL, claimer_run, &cs[i]), 0);
    }
    for (int i = 0; i < CONC_THREADS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(cs[i].error[0] == '\0', "claimer %d: %s", i, cs[i].error);
        ck_assert_msg(cs[i].n > 0, "claimer %d received nothing", i);
        memcpy(all + total, cs[i].ids, (size_t)cs[i].n * sizeof(int64_t));
        total += cs[i].n;
        free(cs[i].ids);
    }
    ck_assert_int_eq(total, CONC_TASKS);
    qsort(all, CONC_TASKS, sizeof(*all), cmp_id);
    for (int i = 1; i < CONC_TASKS; i++)
        ck_assert_msg(all[i] != all[i - 1], "task %lld claimed twice", (long long)all[i]);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'in_progress'"
                                    " AND attempt = 1 AND lease_epoch = 1"),
                     CONC_TASKS);
    free(all);
}
END_TEST

START_TEST(heartbeat_extends_lease_and_reports_cancellation)
{
    char ag[37];
    struct err err = {0};
    json_t *t, *hb = NULL, *ids, *done = NULL;
    int64_t id;

    t = held(ag);
    id = jint(t, "id");
    json_decref(t);
    fixture_exec("UPDATE tasks SET lease_expires_at = now() + interval '1 second'");
    ids = json_pack("[I]", (json_int_t)id);
    ck_assert_int_eq(queue_heartbeat(&fx.db, &fx.qo, ag, "busy", ids, NULL, &hb, &err), 0);
    ck_assert_str_eq(jstr(json_object_get(hb, "agent"), "status"), "busy");
    ck_assert_int_eq(json_array_size(json_object_get(hb, "tasks")), 1);
    ck_assert(json_is_false(
        json_object_get(json_array_get(json_object_get(hb, "tasks"), 0), "cancelled")));
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks WHERE lease_expires_at > now() + "
                                    "interval '100 seconds'"),
                     1);
    json_decref(hb);
    ck_assert_int_eq(queue_cancel(&fx.db, id, "admin", "no longer needed", &done, &err), 0);
    ck_assert_str_eq(jstr(done, "state"), "cancelled");
    json_decref(done);
    ck_assert_int_eq(queue_heartbeat(&fx.db, &fx.qo, ag, "busy", ids, NULL, &hb, &err), 0);
    ck_assert(json_is_true(
        json_object_get(json_array_get(json_object_get(hb, "tasks"), 0), "cancelled")));
    /* Holding nothing now, the agent is idle whatever it reported. */
    ck_assert_str_eq(jstr(json_object_get(hb, "agent"), "status"), "idle");
    json_decref(hb);
    ck_assert_int_eq(queue_heartbeat(&fx.db, &fx.qo, ag, "sleeping", NULL, NULL, &hb, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_int_eq(queue_heartbeat(&fx.db, &fx.qo, "11111111-1111-1111-1111-111111111111", "idle",
                                     NULL, NULL, &hb, &err),
                     -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
    ck_assert_int_eq(queue_heartbeat(&fx.db, &fx.qo, ag, "offline", NULL, NULL, &hb, &err), 0);
    ck_assert_str_eq(jstr(json_object_get(hb, "agent"), "status"), "offline");
    json_decref(hb);
    json_decref(ids);
}
END_TEST

START_TEST(update_status_completes_and_frees_agent)
{
    char ag[37];
    struct err err = {0};
    json_t *t, *done = NULL, *result = json_pack("{s:s}", "summary", "ok");
    struct model_outcome oc = {.result = result};

    t = held(ag);
    ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, ag, jint(t, "id"), jint(t, "lease_epoch"),
                                         "completed", &oc, &done, &err),
                     0);
    ck_assert_str_eq(jstr(done, "state"), "completed");
    ck_assert_ptr_nonnull(jstr(done, "finished_at"));
    ck_assert_str_eq(jstr(json_object_get(done, "result"), "summary"), "ok");
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM agents WHERE status = 'idle'"), 1);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM activity WHERE message = 'in_progress -> "
                                    "completed'"),
                     1);
    json_decref(t);
    json_decref(done);
    json_decref(result);
}
END_TEST

/* Refusals: each leaves the database exactly as it was. */
struct refusal {
    const char *name;
    int agent;      /* 0 = holder, 1 = other agent */
    int64_t id_add; /* added to the task id */
    int64_t epoch_add;
    const char *to;
    enum err_code code;
};

static const struct refusal refusals[] = {
    {"unknown task", 0, 1000, 0, "completed", ERR_NOT_FOUND},
    {"wrong agent", 1, 0, 0, "completed", ERR_FORBIDDEN},
    {"stale epoch", 0, 0, -1, "completed", ERR_STALE_EPOCH},
    {"future epoch", 0, 0, 5, "completed", ERR_STALE_EPOCH},
    {"unknown state", 0, 0, 0, "done", ERR_INVALID},
    {"illegal target cancelled", 0, 0, 0, "cancelled", ERR_CONFLICT},
    {"illegal target in_progress", 0, 0, 0, "in_progress", ERR_CONFLICT},
    {"illegal target backlog", 0, 0, 0, "backlog", ERR_CONFLICT},
    {"needs_input without question", 0, 0, 0, "needs_input", ERR_INVALID},
};

START_TEST(update_status_refusals_change_nothing)
{
    const struct refusal *c = &refusals[_i];
    char ag[37], other[37];
    struct err err = {0};
    json_t *t, *out = NULL;
    char *before, *after;

    enqueue("t", 0);
    fixture_agent(ag);
    fixture_agent(other);
    t = fixture_claim(ag);
    before = snapshot();
    ck_assert_int_eq(
        queue_update_status(&fx.db, &fx.qo, c->agent ? other : ag, jint(t, "id") + c->id_add,
                            jint(t, "lease_epoch") + c->epoch_add, c->to, NULL, &out, &err),
        -1);
    ck_assert_msg(err.code == c->code, "%s: got %s (%s)", c->name, err_code_name(err.code),
                  err.msg);
    ck_assert_ptr_null(out);
    after = snapshot();
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    json_decref(t);
}
END_TEST

START_TEST(update_status_refused_once_terminal)
{
    char ag[37];
    struct err err = {0};
    json_t *t, *out = NULL;

    t = held(ag);
    ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, ag, jint(t, "id"), jint(t, "lease_epoch"),
                                         "completed", NULL, &out, &err),
                     0);
    json_decref(out);
    ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, ag, jint(t, "id"), jint(t, "lease_epoch"),
                                         "completed", NULL, &out, &err),
                     -1);
    ck_assert_int_eq(err.code, ERR_CONFLICT);
    ck_assert_int_eq(
        fixture_scalar("SELECT count(*) FROM activity WHERE message LIKE '%-> completed'"), 1);
    json_decref(t);
}
END_TEST

START_TEST(failed_retries_with_backoff_then_terminal)
{
    char ag[37];
    struct err err = {0};
    struct model_outcome oc = {.error = "tests failed"};
    json_t *t, *out = NULL;
    int64_t id = enqueue("flaky", 0);

    fixture_agent(ag);
    for (int attempt = 1; attempt <= 3; attempt++) {
        t = fixture_claim(ag);
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(jint(t, "attempt"), attempt);
        ck_assert_int_eq(jint(t, "lease_epoch"), attempt);
        ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, ag, id, jint(t, "lease_epoch"),
                                             "failed", &oc, &out, &err),
                         0);
        if (attempt < 3) {
            long long delay;

            ck_assert_str_eq(jstr(out, "state"), "backlog");
            delay = fixture_scalar(
                "SELECT round(extract(epoch FROM run_after - updated_at)) FROM tasks");
            ck_assert_int_eq(delay, attempt == 1 ? 10 : 20);
            ck_assert_ptr_null(fixture_claim(ag)); /* not runnable until the back-off passes */
            fixture_exec("UPDATE tasks SET run_after = now()");
        } else {
            ck_assert_str_eq(jstr(out, "state"), "failed");
            ck_assert_str_eq(jstr(out, "last_error"), "tests failed");
        }
        json_decref(out);
        json_decref(t);
    }
    ck_assert_ptr_null(fixture_claim(ag));
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM activity WHERE kind = 'state' AND"
                                    " metadata->>'error' = 'tests failed'"),
                     3);
}
END_TEST

START_TEST(failed_without_retry_is_terminal)
{
    char ag[37];
    struct err err = {0};
    struct model_outcome oc = {.error = "repository not found", .no_retry = true};
    json_t *t, *out = NULL;

    t = held(ag);
    ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, ag, jint(t, "id"), jint(t, "lease_epoch"),
                                         "failed", &oc, &out, &err),
                     0);
    ck_assert_str_eq(jstr(out, "state"), "failed");
    json_decref(out);
    json_decref(t);
}
END_TEST

START_TEST(expired_lease_is_reaped_and_reclaimed_with_new_epoch)
{
    char a1[37], a2[37];
    struct err err = {0};
    json_t *t1, *t2, *out = NULL;
    int n = 0;

    enqueue("t", 0);
    fixture_agent(a1);
    fixture_agent(a2);
    t1 = fixture_claim(a1);
    /* Not expired yet: the reaper leaves it alone. */
    ck_assert_int_eq(queue_reap(&fx.db, 100, &n, &err), 0);
    ck_assert_int_eq(n, 0);
    fixture_exec("UPDATE tasks SET lease_expires_at = now() - interval '1 second'");
    /* Expired but not yet reaped: a late write is still refused. */
    ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, a1, jint(t1, "id"),
                                         jint(t1, "lease_epoch"), "completed", NULL, &out, &err),
                     -1);
    ck_assert_int_eq(err.code, ERR_STALE_EPOCH);
    ck_assert_int_eq(queue_reap(&fx.db, 100, &n, &err), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM agents WHERE status = 'offline'"), 1);
    t2 = fixture_claim(a2);
    ck_assert_int_eq(jint(t2, "id"), jint(t1, "id"));
    ck_assert_int_eq(jint(t2, "lease_epoch"), jint(t1, "lease_epoch") + 1);
    ck_assert_int_eq(jint(t2, "attempt"), 2);
    /* The old holder's late completion is refused... */
    ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, a1, jint(t1, "id"),
                                         jint(t1, "lease_epoch"), "completed", NULL, &out, &err),
                     -1);
    ck_assert(err.code == ERR_FORBIDDEN || err.code == ERR_STALE_EPOCH);
    /* ...and the new holder's is accepted. */
    ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, a2, jint(t2, "id"),
                                         jint(t2, "lease_epoch"), "completed", NULL, &out, &err),
                     0);
    json_decref(out);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM activity WHERE metadata->>'reason' = "
                                    "'lease_expired'"),
                     1);
    json_decref(t1);
    json_decref(t2);
}
END_TEST

START_TEST(reap_at_max_attempts_fails_task)
{
    char ag[37];
    struct err err = {0};
    struct model_task_new nt = {.title = "once", .repo_url = "r", .max_attempts = 1};
    json_t *t = NULL;
    int n = 0;

    ck_assert_int_eq(queue_enqueue(&fx.db, &nt, &t, NULL, &err), 0);
    json_decref(t);
    fixture_agent(ag);
    t = fixture_claim(ag);
    json_decref(t);
    fixture_exec("UPDATE tasks SET lease_expires_at = now() - interval '1 second'");
    ck_assert_int_eq(queue_reap(&fx.db, 100, &n, &err), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(
        fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'failed' AND last_error"
                       " LIKE 'lease expired%'"),
        1);
}
END_TEST

START_TEST(timeout_moves_task_to_needs_input)
{
    char ag[37];
    struct err err = {0};
    json_t *t, *hb = NULL, *ids;
    int n = 0;

    enqueue("slow", 0);
    fixture_agent(ag);
    t = fixture_claim(ag);
    ids = json_pack("[I]", (json_int_t)jint(t, "id"));
    ck_assert_int_eq(queue_expire_timeouts(&fx.db, 100, &n, &err), 0);
    ck_assert_int_eq(n, 0);
    fixture_exec("UPDATE tasks SET started_at = now() - interval '3 hours'");
    ck_assert_int_eq(queue_expire_timeouts(&fx.db, 100, &n, &err), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(
        fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'needs_input' AND reason = "
                       "'timeout'"),
        1);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM agents WHERE status = 'idle'"), 1);
    ck_assert_int_eq(queue_heartbeat(&fx.db, &fx.qo, ag, "busy", ids, NULL, &hb, &err), 0);
    ck_assert(json_is_true(
        json_object_get(json_array_get(json_object_get(hb, "tasks"), 0), "cancelled")));
    json_decref(hb);
    json_decref(ids);
    json_decref(t);
}
END_TEST

START_TEST(needs_input_answer_and_accept_flow)
{
    char ag[37];
    struct err err = {0};
    struct model_outcome oc = {.question = "Which port?"};
    json_t *t, *out = NULL;
    int64_t id;

    id = enqueue("ask", 0);
    fixture_agent(ag);
    t = fixture_claim(ag);
    ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, ag, id, jint(t, "lease_epoch"),
                                         "needs_input", &oc, &out, &err),
                     0);
    ck_assert_str_eq(jstr(out, "question"), "Which port?");
    ck_assert_str_eq(jstr(out, "reason"), "question");
    json_decref(out);
    json_decref(t);
    ck_assert_int_eq(review_accept(&fx.db, id, "admin", NULL, &out, &err), -1);
    ck_assert_int_eq(err.code, ERR_CONFLICT);
    ck_assert_int_eq(queue_answer(&fx.db, id, "admin", "", &out, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_int_eq(queue_answer(&fx.db, id, "admin", "8080", &out, &err), 0);
    ck_assert_str_eq(jstr(out, "state"), "backlog");
    ck_assert_str_eq(jstr(json_array_get(json_object_get(out, "context"), 0), "text"), "8080");
    /* The answer carries its question, for the next attempt's prompt. */
    ck_assert_str_eq(jstr(json_array_get(json_object_get(out, "context"), 0), "question"),
                     "Which port?");
    json_decref(out);
    /* An ask/answer round is not a failed attempt: the attempt that asked is given back. */
    t = fixture_claim(ag);
    ck_assert_int_eq(jint(t, "attempt"), 1);
    ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, ag, id, jint(t, "lease_epoch"),
                                         "ready_to_test", NULL, &out, &err),
                     0);
    json_decref(out);
    ck_assert_int_eq(review_accept(&fx.db, id, "admin", NULL, &out, &err), 0);
    ck_assert_str_eq(jstr(out, "state"), "completed");
    json_decref(out);
    json_decref(t);
    ck_assert_int_eq(queue_cancel(&fx.db, id, "admin", NULL, &out, &err), -1);
    ck_assert_int_eq(err.code, ERR_CONFLICT);
}
END_TEST

START_TEST(retry_restores_failed_task)
{
    struct err err = {0};
    json_t *out = NULL;
    int64_t id = enqueue("t", 0);

    ck_assert_int_eq(queue_retry(&fx.db, id, "admin", &out, &err), -1);
    ck_assert_int_eq(err.code, ERR_CONFLICT);
    ck_assert_int_eq(queue_cancel(&fx.db, id, "admin", "oops", &out, &err), 0);
    json_decref(out);
    ck_assert_int_eq(queue_retry(&fx.db, id, "admin", &out, &err), 0);
    ck_assert_str_eq(jstr(out, "state"), "backlog");
    ck_assert_int_eq(jint(out, "attempt"), 0);
    json_decref(out);
    ck_assert_int_eq(queue_cancel(&fx.db, 424242, "admin", NULL, &out, &err), -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
}
END_TEST

START_TEST(log_single_and_batch)
{
    char ag[37], other[37];
    struct err err = {0};
    json_t *t, *one = json_pack("{s:s}", "message", "cloning"),
               *batch = json_pack("[{s:s,s:s},{s:s,s:{s:i}}]", "message", "a", "level", "warning",
                                  "message", "b", "metadata", "line", 2),
               *bad = json_pack("[{s:s}]", "level", "info"),
               *badlevel = json_pack("{s:s,s:s}", "message", "x", "level", "loud");
    int n = 0;
    char *before, *after;

    enqueue("t", 0);
    fixture_agent(ag);
    fixture_agent(other);
    t = fixture_claim(ag);
    ck_assert_int_eq(queue_log(&fx.db, ag, jint(t, "id"), one, &n, &err), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(queue_log(&fx.db, ag, jint(t, "id"), batch, &n, &err), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM activity WHERE kind = 'log'"), 3);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM activity WHERE kind = 'log' AND level = "
                                    "'warning' AND message = 'a'"),
                     1);
    before = snapshot();
    ck_assert_int_eq(queue_log(&fx.db, other, jint(t, "id"), one, &n, &err), -1);
    ck_assert_int_eq(err.code, ERR_FORBIDDEN);
    ck_assert_int_eq(queue_log(&fx.db, ag, jint(t, "id"), bad, &n, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_int_eq(queue_log(&fx.db, ag, jint(t, "id"), badlevel, &n, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_int_eq(queue_log(&fx.db, ag, 9999, one, &n, &err), -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
    after = snapshot();
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    json_decref(t);
    json_decref(one);
    json_decref(batch);
    json_decref(bad);
    json_decref(badlevel);
}
END_TEST

START_TEST(counts_are_consistent)
{
    char a1[37], a2[37], a3[37];
    struct queue_counts c;
    struct err err = {0};
    int n = 0;
    struct model_task_new later = {.title = "later", .repo_url = "r", .delay_seconds = 60};
    json_t *t;

    for (int i = 0; i < 5; i++)
        enqueue("t", 0);
    ck_assert_int_eq(queue_enqueue(&fx.db, &later, &t, NULL, &err), 0);
    json_decref(t);
    fixture_agent(a1);
    fixture_agent(a2);
    fixture_agent(a3);
    json_decref(fixture_claim(a1));
    json_decref(fixture_claim(a2));
    fixture_exec("UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = 1");
    ck_assert_int_eq(queue_counts(&fx.db, &c, &err), 0);
    ck_assert_int_eq(c.backlog, 3);
    ck_assert_int_eq(c.delayed, 1);
    ck_assert_int_eq(c.in_progress, 2);
    ck_assert_int_eq(c.busy, 2);
    ck_assert_int_eq(c.starting, 1);
    ck_assert_int_eq(c.idle, 0);
    ck_assert_int_eq(c.expired_leases, 1);
    ck_assert(c.oldest_backlog_age >= 0);
    /* What droverd's periodic recheck asks: runnable backlog only, counted up to the limit. */
    ck_assert_int_eq(queue_runnable(&fx.db, 100, &n, &err), 0);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(queue_runnable(&fx.db, 2, &n, &err), 0);
    ck_assert_int_eq(n, 2);
    fixture_exec("UPDATE tasks SET run_after = now() - interval '1 second' WHERE title = 'later'");
    ck_assert_int_eq(queue_runnable(&fx.db, 100, &n, &err), 0);
    ck_assert_int_eq(n, 4);
}
END_TEST

START_TEST(notify_fires_when_task_becomes_runnable)
{
    struct db listener;
    PGnotify *nt;
    int got = 0;

    testdb_connect(&listener);
    PQclear(PQexec(listener.conn, "LISTEN " QUEUE_CHANNEL_READY));
    enqueue("wake", 0);
    for (int i = 0; i < 50 && !got; i++) {
        PQconsumeInput(listener.conn);
        while ((nt = PQnotifies(listener.conn))) {
            got++;
            PQfreemem(nt);
        }
        if (!got)
            usleep(20000);
    }
    ck_assert_int_ge(got, 1);
    db_close(&listener);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("queue");
    TCase *tc = tcase_create("queue");

    testdb_setup();
    tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, enqueue_returns_backlog_task_and_activity);
    tcase_add_test(tc, enqueue_with_project);
    tcase_add_test(tc, enqueue_idempotency_key_returns_existing);
    tcase_add_loop_test(tc, enqueue_rejects_bad_input_and_changes_nothing, 0,
                        sizeof(bad_tasks) / sizeof(bad_tasks[0]));
    tcase_add_test(tc, claim_orders_by_priority_then_age_and_honours_run_after);
    tcase_add_test(tc, empty_claim_takes_no_lock);
    tcase_add_test(tc, claim_refuses_draining_offline_and_unknown_agents);
    tcase_add_test(tc, drain_refuses_busy_agent);
    tcase_add_test(tc, claim_limit_per_agent_and_never_a_group);
    tcase_add_test(tc, concurrent_claims_never_share_and_cover_all);
    tcase_add_test(tc, heartbeat_extends_lease_and_reports_cancellation);
    tcase_add_test(tc, update_status_completes_and_frees_agent);
    tcase_add_loop_test(tc, update_status_refusals_change_nothing, 0,
                        sizeof(refusals) / sizeof(refusals[0]));
    tcase_add_test(tc, update_status_refused_once_terminal);
    tcase_add_test(tc, failed_retries_with_backoff_then_terminal);
    tcase_add_test(tc, failed_without_retry_is_terminal);
    tcase_add_test(tc, expired_lease_is_reaped_and_reclaimed_with_new_epoch);
    tcase_add_test(tc, reap_at_max_attempts_fails_task);
    tcase_add_test(tc, timeout_moves_task_to_needs_input);
    tcase_add_test(tc, needs_input_answer_and_accept_flow);
    tcase_add_test(tc, retry_restores_failed_task);
    tcase_add_test(tc, log_single_and_batch);
    tcase_add_test(tc, counts_are_consistent);
    tcase_add_test(tc, notify_fires_when_task_becomes_runnable);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
