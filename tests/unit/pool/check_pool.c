/*
 * The pool against a real PostgreSQL and real processes.
 *  - The admin handlers (called directly with a struct api_request until the router exists):
 *    validation, audit, pins, agent start/stop.
 *  - The pool thread with the `process` backend: each agent is this very binary re-executed as
 *    `--fake-agent`, a stand-in for drover-agent that heartbeats, claims and completes tasks
 *    with the real queue functions (its token is checked, so delivery is tested too).
 *    Scenarios: settle at 2; 30 tasks -> 10 long before a tick; drain -> back to 2 after the
 *    window without touching a busy agent; kill -9 mid-task -> re-run once; admin min/max and
 *    pin -> the pool follows; a crashing agent command opens the breaker with its exit code.
 *  - The pool thread with backend none: a drop in load is decided within about a second
 *    (drover_task_done, debounced), not at the 30 s tick, and the window and min still hold.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "api/pool.h"
#include "pool/agentpool.h"
#include "pool/loop.h"
#include <pthread.h>
#include "store/agents.h"
#include "store/poolstore.h"
#include "store/queue.h"
#include "store/tokens.h"
#include "fixture.h"
#include "testdb.h"
#include "core/clock.h"
#include "testsuite.h"

/* The pool the current test started (agentpool_start), if any. */
static struct agentpool *pool;

static char self_exe[1024];
static char log_dir[256];

/* ---- the stand-in agent ------------------------------------------------------------------ */

static volatile sig_atomic_t fake_stop;

static void fake_term(int sig)
{
    (void)sig;
    fake_stop = 1;
}

static int fake_agent(void)
{
    const char *id = getenv("AGENT_ID"), *token = getenv("DROVER_TOKEN");
    struct principal who;
    struct queue_opts qo;
    struct err err = {0};
    struct db d;

    signal(SIGTERM, fake_term);
    if (!id || !token || db_open(&d, getenv("DROVER_TEST_DSN"), &err) < 0) {
        fprintf(stderr, "fake agent: no AGENT_ID/DROVER_TOKEN or no database: %s\n", err.msg);
        return 3;
    }
    if (tokens_verify(&d, token, &who, &err) < 0 || strcmp(who.agent_id, id) != 0) {
        fprintf(stderr, "fake agent: bad token: %s\n", err.msg);
        return 4;
    }
    queue_opts_default(&qo);
    qo.lease_seconds = 5;
    while (!fake_stop) {
        json_t *out = NULL, *task = NULL, *agent = NULL;
        const char *status;

        /* Like drover-agent, which stops when the server answers 401. */
        if (tokens_verify(&d, token, &who, &err) < 0) {
            db_close(&d);
            return err.code == ERR_UNAUTHORIZED ? 0 : 4;
        }
        if (queue_heartbeat(&d, &qo, id, NULL, NULL, NULL, &out, &err) < 0)
            return 5;
        json_decref(out);
        if (agents_get(&d, id, &agent, &err) < 0)
            return 6;
        status = json_string_value(json_object_get(agent, "status"));
        if (strcmp(status, "draining") == 0 || strcmp(status, "offline") == 0) {
            json_decref(agent);
            break;
        }
        json_decref(agent);
        if (queue_claim(&d, &qo, id, &task, &err) < 0) {
            usleep(100000);
            continue;
        }
        if (task) {
            /* The title says how long to "work": "work 1500" = 1.5 s, heartbeating. */
            int ms = atoi(json_string_value(json_object_get(task, "title")) + 5);
            int64_t tid = json_integer_value(json_object_get(task, "id"));
            int64_t ep = json_integer_value(json_object_get(task, "lease_epoch"));
            json_t *done = NULL;

            for (int w = 0; w < ms && !fake_stop; w += 100) {
                usleep(100000);
                if (w % 1000 == 0) {
                    queue_heartbeat(&d, &qo, id, NULL, NULL, NULL, &out, &err);
                    json_decref(out);
                }
            }
            queue_update_status(&d, &qo, id, tid, ep, "completed", &(struct model_outcome){0},
                                &done, &err);
            json_decref(done);
            json_decref(task);
            continue;
        }
        usleep(150000);
    }
    db_close(&d);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------------ */

/* Wait until `sql` returns `want`, for up to `secs`; returns the seconds it took. */
static double wait_for(const char *sql, long long want, double secs)
{
    double t0 = clock_s();
    long long v = -1;

    secs *= testdb_slowdown();
    while (clock_s() - t0 < secs) {
        v = fixture_scalar(sql);
        if (v == want)
            return clock_s() - t0;
        usleep(100000);
    }
    ck_abort_msg("timed out after %.0f s: %s = %lld, want %lld", secs, sql, v, want);
    return -1;
}

#define LIVE "SELECT count(*) FROM agents WHERE status IN ('idle', 'busy', 'initializing')"
#define READY "SELECT count(*) FROM agents WHERE status IN ('idle', 'busy')"

static void enqueue(int n, int ms)
{
    for (int i = 0; i < n; i++) {
        char title[32];
        struct model_task_new t = {.title = title, .repo_url = "file:///tmp/r.git"};
        struct err err = {0};
        json_t *task = NULL;

        snprintf(title, sizeof(title), "work %d", ms);
        ck_assert_msg(queue_enqueue(&fx.db, &t, &task, NULL, &err) == 0, "%s", err.msg);
        json_decref(task);
    }
}

/* The pool's tables and settings too: testdb_reset leaves them alone. */
static void setup(void)
{
    fixture_setup();
    fixture_exec("TRUNCATE scale_events, pool_audit, pool_leader RESTART IDENTITY");
    fixture_exec("UPDATE pool_settings SET min_agents = 2, max_agents = 10, pinned_target = NULL,"
                 " pinned_until = NULL");
}

static struct principal admin = {.scope = PRINCIPAL_ADMIN, .name = "alice"};

static struct api_response
call(int (*fn)(const struct api_request *, const char *const *, size_t, struct api_response *),
     const char *method, const char *body, const char *param, const char *query)
{
    struct api_request req = {.method = method,
                              .path = "/api/pool",
                              .query = query ? query : "",
                              .body = body,
                              .body_len = body ? strlen(body) : 0,
                              .who = &admin,
                              .svc = &fx.svc};
    struct api_response resp = {0};
    const char *params[1] = {param};

    ck_assert_int_eq(fn(&req, params, param ? 1 : 0, &resp), 0);
    return resp;
}

static const char *errmsg(const struct api_response *r)
{
    return json_string_value(json_object_get(json_object_get(r->body, "error"), "message"));
}

/* ---- the admin handlers -------------------------------------------------------------------- */

static const struct {
    const char *body;
    int status;
    const char *msg; /* a substring of the error message */
} put_rows[] = {
    {"{\"min_agents\": 3, \"max_agents\": 8}", 200, NULL},
    {"{\"max_agents\": 12}", 200, NULL},
    {"{\"min_agents\": -1}", 400, "min_agents must be >= 0"},
    {"{\"min_agents\": 5, \"max_agents\": 4}", 400, "must be <= max_agents"},
    {"{\"max_agents\": 51}", 400, "hard cap (50)"},
    {"{\"min_agents\": \"2\"}", 400, "must be an integer"},
    {"{\"min_agents\": 2.5}", 400, "must be an integer"},
    {"{\"min\": 2}", 400, "unknown field 'min'"},
    {"{}", 400, "give min_agents"},
    {"[1]", 400, "JSON object"},
    {"{bad", 400, "JSON object"},
    {"", 400, "body is required"},
};

START_TEST(test_put_validation)
{
    struct api_response r;
    long long audits = fixture_scalar("SELECT count(*) FROM pool_audit");
    long long min_before = fixture_scalar("SELECT min_agents FROM pool_settings");

    r = call(api_pool_put, "PUT", put_rows[_i].body, NULL, NULL);
    ck_assert_msg(r.status == put_rows[_i].status, "row %d: %d", _i, r.status);
    if (put_rows[_i].msg) {
        ck_assert_msg(errmsg(&r) && strstr(errmsg(&r), put_rows[_i].msg), "row %d: %s", _i,
                      errmsg(&r));
        /* Bad input changes nothing and audits nothing. */
        ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM pool_audit"), audits);
        ck_assert_int_eq(fixture_scalar("SELECT min_agents FROM pool_settings"), min_before);
    } else {
        ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM pool_audit"), audits + 1);
        ck_assert_ptr_nonnull(json_object_get(r.body, "settings"));
    }
    json_decref(r.body);
}
END_TEST

START_TEST(test_audit_and_get)
{
    struct api_response r;
    json_t *s, *a;

    r = call(api_pool_put, "PUT", "{\"min_agents\": 1, \"max_agents\": 6}", NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    json_decref(r.body);
    r = call(api_pool_scale, "POST", "{\"count\": 4, \"ttl_seconds\": 600}", NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    s = json_object_get(r.body, "settings");
    ck_assert_int_eq(json_integer_value(json_object_get(s, "pinned_target")), 4);
    ck_assert(json_is_string(json_object_get(s, "pinned_until")));
    ck_assert_int_eq(json_integer_value(json_object_get(s, "min_agents")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "hard_cap")), 50);
    /* The audit trail: newest first, who, old -> new. */
    a = json_array_get(json_object_get(r.body, "audit"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(a, "actor")), "alice");
    ck_assert_str_eq(json_string_value(json_object_get(a, "action")), "settings");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(a, "old"), "min_agents")),
                     2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(a, "new"), "max_agents")),
                     6);
    ck_assert_ptr_nonnull(json_object_get(r.body, "counts"));
    json_decref(r.body);

    /* Bad pins: 400, nothing changes. */
    r = call(api_pool_scale, "POST", "{\"count\": 51}", NULL, NULL);
    ck_assert_int_eq(r.status, 400);
    json_decref(r.body);
    r = call(api_pool_scale, "POST", "{\"count\": 3, \"ttl_seconds\": 0}", NULL, NULL);
    ck_assert_int_eq(r.status, 400);
    json_decref(r.body);
    r = call(api_pool_scale, "POST", "{\"ttl_seconds\": 10}", NULL, NULL);
    ck_assert_int_eq(r.status, 400);
    json_decref(r.body);
    ck_assert_int_eq(fixture_scalar("SELECT pinned_target FROM pool_settings"), 4);
    /* Unpin. */
    r = call(api_pool_scale, "POST", "{\"count\": null}", NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert(json_is_null(json_object_get(json_object_get(r.body, "settings"), "pinned_target")));
    json_decref(r.body);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM pool_audit WHERE action = 'unpin'"), 1);
}
END_TEST

START_TEST(test_agent_start_stop)
{
    struct api_response r;
    struct err err = {0};
    struct queue_opts qo;
    char busy[37], idle[37];
    json_t *task = NULL;

    queue_opts_default(&qo);
    r = call(api_pool_agent_start, "POST", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 202);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM agents WHERE backend = 'requested'"), 1);
    json_decref(r.body);

    ck_assert(agents_create(&fx.db, "b", "process", busy, &err) == 0);
    ck_assert(agents_create(&fx.db, "i", "process", idle, &err) == 0);
    enqueue(1, 0);
    ck_assert(queue_claim(&fx.db, &qo, busy, &task, &err) == 0 && task);
    json_decref(task);

    /* A busy agent drains but keeps its task... */
    r = call(api_pool_agent_stop, "DELETE", NULL, busy, "");
    ck_assert_int_eq(r.status, 202);
    ck_assert_str_eq(json_string_value(json_object_get(r.body, "previous_status")), "busy");
    json_decref(r.body);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'in_progress'"), 1);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM agents WHERE status = 'draining'"), 1);
    /* ... and cannot claim another one. */
    enqueue(1, 0);
    ck_assert_int_eq(queue_claim(&fx.db, &qo, busy, &task, &err), -1);
    ck_assert_int_eq(err.code, ERR_CONFLICT);

    /* force: the task goes back to the queue now. */
    r = call(api_pool_agent_stop, "DELETE", NULL, busy, "force=1");
    ck_assert_int_eq(r.status, 202);
    json_decref(r.body);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'backlog'"), 2);

    r = call(api_pool_agent_stop, "DELETE", NULL, idle, NULL);
    ck_assert_int_eq(r.status, 202);
    json_decref(r.body);
    r = call(api_pool_agent_stop, "DELETE", NULL, "not-a-uuid", NULL);
    ck_assert_int_eq(r.status, 400);
    json_decref(r.body);
    r = call(api_pool_agent_stop, "DELETE", NULL, "00000000-0000-0000-0000-000000000000", NULL);
    ck_assert_int_eq(r.status, 404);
    json_decref(r.body);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM pool_audit WHERE action = 'stop_agent'"),
                     3);
}
END_TEST

/* ---- the pool thread with real processes ---------------------------------------------------- */

static void start_pool(const char *command, int stabilization)
{
    struct agentpool_cfg c;
    struct err err = {0};
    char cmd[1200];

    agentpool_cfg_default(&c);
    snprintf(cmd, sizeof(cmd), "%s", command ? command : "");
    if (!command) {
        /* droverd keeps its database password from agents; this stand-in talks to the database
         * itself, so the test hands it the password on its command line. */
        const char *pw = getenv("PGPASSWORD");

        if (pw && strspn(pw, "0123456789abcdefABCDEF") == strlen(pw))
            snprintf(cmd, sizeof(cmd), "env PGPASSWORD=%s '%s' --fake-agent", pw, self_exe);
        else
            snprintf(cmd, sizeof(cmd), "'%s' --fake-agent", self_exe);
    }
    ck_assert(agentpool_cfg_set(&c, "agent-command", cmd, &err) == 1);
    ck_assert(agentpool_cfg_set(&c, "agent-log-dir", log_dir, &err) == 1);
    c.tick_seconds = 30; /* everything below must happen long before a tick */
    c.stabilization_seconds = stabilization;
    c.grace_seconds = 2;
    c.max_starting = 10;
    c.startup_deadline_seconds = 20;
    ck_assert_msg(agentpool_start(&c, testdb_dsn(), &pool, &err) == 0, "%s", err.msg);
    fx.env.pool = pool;
}

START_TEST(test_pool_lifecycle)
{
    struct api_response r;
    double took;
    long long pid, deleted_busy, victim;
    char sql[256];

    start_pool(NULL, 4);
    /* Empty queue: the pool settles at min_agents = 2. */
    wait_for(READY, 2, 20);
    usleep(1500000);
    ck_assert_int_eq(fixture_scalar(LIVE), 2);
    ck_assert_int_ge(fixture_scalar("SELECT count(*) FROM pool_leader"), 1);

    /* 30 tasks: 10 agents long before the next 30 s tick (woken by drover_task_ready). */
    enqueue(30, 1500);
    took = wait_for(LIVE, 10, 25);
    ck_assert_msg(took < 20, "took %.1f s (the tick is 30 s)", took);
    ck_assert_int_eq(
        fixture_scalar("SELECT count(*) FROM scale_events WHERE trigger = 'task_ready'") > 0, 1);

    /* kill -9 one busy agent mid-task: its task is re-run by another agent. */
    /* The agent holding the most recently claimed task (1.5 s of work left). */
    wait_for("SELECT least(count(*), 1) FROM tasks WHERE state = 'in_progress'", 1, 10);
    victim = fixture_scalar("SELECT t.id FROM tasks t WHERE t.state = 'in_progress'"
                            " ORDER BY t.started_at DESC LIMIT 1");
    snprintf(sql, sizeof(sql),
             "SELECT substr(a.pod_name, 6)::bigint FROM tasks t JOIN agents a ON a.id ="
             " t.agent_id WHERE t.id = %lld",
             victim);
    pid = fixture_scalar(sql);
    ck_assert_int_eq(kill((pid_t)pid, SIGKILL), 0);

    /* Everything completes, each task exactly once; the killed task had a second attempt. */
    wait_for("SELECT count(*) FROM tasks WHERE state = 'completed'", 30, 40);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM activity WHERE kind = 'state'"
                                    " AND message LIKE 'in_progress -> completed%'"),
                     30);
    snprintf(sql, sizeof(sql), "SELECT attempt FROM tasks WHERE id = %lld AND state = 'completed'",
             victim);
    ck_assert_int_eq(fixture_scalar(sql), 2);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks WHERE attempt > 1"), 1);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM agents WHERE pod_name = 'proc-%lld' AND status = 'offline'"
             " AND offline_reason LIKE 'pod ended: killed by signal 9%%'",
             pid);
    ck_assert_int_eq(fixture_scalar(sql), 1);

    /* Drained: back to 2 after the 4 s window; no agent was scaled down while busy. */
    took = wait_for(LIVE, 2, 30);
    /* Only the killed agent's task ever lost its lease: scale-down never hit a busy agent. */
    deleted_busy = fixture_scalar("SELECT count(*) FROM activity WHERE metadata->>'reason' = "
                                  "'lease_expired'");
    ck_assert_int_eq(deleted_busy, 1);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks WHERE attempt > 1"), 1);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM scale_events WHERE reason LIKE "
                                    "'%stabilised%'") > 0,
                     1);

    /* The admin raises min to 4: the pool follows. */
    r = call(api_pool_put, "PUT", "{\"min_agents\": 4, \"max_agents\": 10}", NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    json_decref(r.body);
    wait_for(LIVE, 4, 15);
    /* A pin of 6 for 3 s: up to 6, then back to min 4 after expiry + window. */
    r = call(api_pool_scale, "POST", "{\"count\": 6, \"ttl_seconds\": 3}", NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    json_decref(r.body);
    wait_for(LIVE, 6, 15);
    wait_for(LIVE, 4, 30);
    /* Lower max and min: 1 agent stays (min 1), the rest are drained. */
    r = call(api_pool_put, "PUT", "{\"min_agents\": 1, \"max_agents\": 1}", NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    json_decref(r.body);
    wait_for(LIVE, 1, 30);
    /* POST /api/agents starts one more (adopted by the leader). */
    r = call(api_pool_agent_start, "POST", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 202);
    json_decref(r.body);
    wait_for("SELECT count(*) FROM agents WHERE name LIKE 'requested by%' AND status = 'idle'", 1,
             15);
    agentpool_stop(pool);
    pool = fx.env.pool = NULL;
    /* Stopping droverd stops its process agents. */
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM scale_events") > 0, 1);
}
END_TEST

START_TEST(test_crashing_agents_open_the_breaker)
{
    start_pool("sh -c 'exit 3'", 4);
    wait_for("SELECT least(count(*), 1) FROM scale_events WHERE breaker_open", 1, 45);
    ck_assert_int_ge(fixture_scalar("SELECT count(*) FROM agents WHERE offline_reason LIKE "
                                    "'exited before its first heartbeat: exit code 3'"),
                     3);
    ck_assert_int_eq(
        fixture_scalar("SELECT count(*) FROM scale_events WHERE reason LIKE "
                       "'%circuit breaker open after _ start failure(s) (exit code 3)%'") > 0,
        1);
    /* While open, nothing is being created. */
    ck_assert_int_eq(fixture_scalar(LIVE), 0);
    agentpool_stop(pool);
    pool = fx.env.pool = NULL;
}
END_TEST

static void *run_loop(void *l)
{
    loop_run(l);
    return NULL;
}

/* Two replicas: exactly one leads; when it goes away the other takes over within seconds. */
START_TEST(test_leader_failover)
{
    struct agentpool_cfg c;
    struct loop *a, *b;
    pthread_t ta, tb;
    struct err err = {0};
    char sql[200];
    bool a_leads;

    agentpool_cfg_default(&c);
    snprintf(c.backend, sizeof(c.backend), "none");
    c.tick_seconds = 1;
    snprintf(c.replica, sizeof(c.replica), "replica-a");
    ck_assert_msg(loop_create(&c, testdb_dsn(), &a, &err) == 0, "%s", err.msg);
    snprintf(c.replica, sizeof(c.replica), "replica-b");
    ck_assert_msg(loop_create(&c, testdb_dsn(), &b, &err) == 0, "%s", err.msg);
    pthread_create(&ta, NULL, run_loop, a);
    pthread_create(&tb, NULL, run_loop, b);
    wait_for("SELECT count(*) FROM pool_leader", 1, 10);
    usleep(2500000);
    /* Both evaluate only while leading: every decision so far is the leader's. */
    ck_assert_int_eq(fixture_scalar("SELECT count(DISTINCT replica) FROM scale_events"), 1);
    a_leads = fixture_scalar("SELECT count(*) FROM pool_leader WHERE replica = 'replica-a'") == 1;
    /* The leader dies (its session ends with it). */
    loop_request_stop(a_leads ? a : b);
    pthread_join(a_leads ? ta : tb, NULL);
    loop_destroy(a_leads ? a : b);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pool_leader WHERE replica = '%s'",
             a_leads ? "replica-b" : "replica-a");
    ck_assert_msg(wait_for(sql, 1, 10) < 8, "takeover took too long");
    /* With backend none the target is still computed and published. */
    wait_for("SELECT count(DISTINCT replica) FROM scale_events", 2, 5);
    ck_assert_int_eq(fixture_scalar("SELECT target FROM scale_events ORDER BY id DESC LIMIT 1"), 2);
    loop_request_stop(a_leads ? b : a);
    pthread_join(a_leads ? tb : ta, NULL);
    loop_destroy(a_leads ? b : a);
}
END_TEST

/*
 * Load drops: the leader re-evaluates within about a second (drover_task_done), not at the 30 s
 * tick; those evaluations are debounced to one a second; the scale-down window and min_agents
 * still hold. Backend none: the agents are rows this test heartbeats, and the decisions are
 * what scale_events records.
 */
START_TEST(test_load_drop_wakes_the_pool)
{
    struct agentpool_cfg c;
    struct queue_opts qo;
    struct loop *l;
    pthread_t t;
    struct err err = {0};
    char ids[8][37], sql[400];
    json_t *tasks[6] = {0};
    long long first, m0;
    double t0, took;

    fixture_exec("UPDATE pool_settings SET min_agents = 3, max_agents = 10");
    queue_opts_default(&qo);
    qo.lease_seconds = 120;
    enqueue(6, 0);
    /* 6 busy agents and 2 idle ones: raw = busy + 1 = 7 < current = 8, nothing to create. */
    for (int i = 0; i < 8; i++) {
        json_t *out = NULL;

        ck_assert_msg(agents_create(&fx.db, "drop", "none", ids[i], &err) == 0, "%s", err.msg);
        ck_assert_msg(queue_heartbeat(&fx.db, &qo, ids[i], NULL, NULL, NULL, &out, &err) == 0, "%s",
                      err.msg);
        json_decref(out);
        if (i < 6)
            ck_assert_msg(queue_claim(&fx.db, &qo, ids[i], &tasks[i], &err) == 0 && tasks[i], "%s",
                          err.msg);
    }
    agentpool_cfg_default(&c);
    snprintf(c.backend, sizeof(c.backend), "none");
    c.tick_seconds = 30;
    c.stabilization_seconds = 3;
    ck_assert_msg(loop_create(&c, testdb_dsn(), &l, &err) == 0, "%s", err.msg);
    pthread_create(&t, NULL, run_loop, l);
    /* The start-up evaluation (a tick); then nothing is due for 30 s. */
    wait_for("SELECT count(*) FROM scale_events WHERE trigger = 'tick' AND raw = 7 AND target = 7",
             1, 10);
    usleep(1500000);
    m0 = fixture_scalar("SELECT max(id) FROM scale_events");

    /* The load drops: the 6 tasks finish within 0.75 s. */
    t0 = clock_s();
    for (int i = 0; i < 6; i++) {
        json_t *done = NULL;

        ck_assert_msg(queue_update_status(
                          &fx.db, &qo, ids[i], json_integer_value(json_object_get(tasks[i], "id")),
                          json_integer_value(json_object_get(tasks[i], "lease_epoch")), "completed",
                          &(struct model_outcome){0}, &done, &err) == 0,
                      "%s", err.msg);
        json_decref(done);
        json_decref(tasks[i]);
        usleep(150000);
    }
    /* Noticed at once: the first decision after the drop comes within ~1 s and sees it. (The
     * NOTIFY channels are database-wide: another schema's task_ready may wake this leader too,
     * which only makes it sooner.) */
    snprintf(sql, sizeof(sql), "SELECT least(count(*), 1) FROM scale_events WHERE id > %lld", m0);
    took = wait_for(sql, 1, 5);
    ck_assert_msg(took < 2, "the first decision came %.1f s after the first task finished", took);
    snprintf(sql, sizeof(sql), "SELECT min(id) FROM scale_events WHERE id > %lld", m0);
    first = fixture_scalar(sql);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM scale_events WHERE id = %lld AND raw < 7 AND target = 7"
             " AND reason LIKE '%%stabilised at 7%%'",
             first);
    ck_assert_int_eq(fixture_scalar(sql), 1);
    /* The window (3 s since raw 7 was last in force) still holds, then min_agents = 3 does. */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM scale_events WHERE id > %lld AND target = 3 AND raw = 3", m0);
    took = clock_s() - t0 + wait_for(sql, 1, 10);
    ck_assert_msg(took > 2.8 && took < 7, "the scale-down came %.1f s after the drop", took);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM scale_events WHERE id > %lld AND target < 3",
             m0);
    ck_assert_int_eq(fixture_scalar(sql), 0);
    /* Woken by drover_task_done, and debounced: no evaluation it woke came less than a second
     * after the one before (6 tasks finished within 0.75 s, each changing raw: without the
     * debounce each would have been recorded). */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM scale_events WHERE id > %lld AND trigger = 'task_done'", m0);
    ck_assert_int_ge(fixture_scalar(sql), 1);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM scale_events a JOIN scale_events b ON b.id > a.id"
             " WHERE a.id > %lld AND b.trigger = 'task_done' AND b.ts - a.ts < interval '0.9 s'",
             m0);
    ck_assert_int_eq(fixture_scalar(sql), 0);
    loop_request_stop(l);
    pthread_join(t, NULL);
    loop_destroy(l);
}
END_TEST

/*
 * An agent the backend does not list (here: a process this test started itself, as one left
 * behind by an earlier droverd would be) loses its token when the pool finds its pod gone, and
 * stops. Marking it offline alone was not enough: each heartbeat revived it, and it went on
 * claiming tasks that were requeued under it at every evaluation.
 */
START_TEST(test_ghost_agent_is_disowned)
{
    struct err err = {0};
    struct principal who;
    char id[37], token[PRINCIPAL_TOKEN_LEN], env_id[64], env_token[128], sql[256];
    char out_id[37], out_token[PRINCIPAL_TOKEN_LEN];
    int status = -1;
    pid_t ghost, w = 0;
    double t0;

    start_pool(NULL, 4);
    wait_for(READY, 2, 20);
    ck_assert(agents_create(&fx.db, "ghost", "process", id, &err) == 0);
    ck_assert(tokens_create(&fx.db, PRINCIPAL_AGENT, "agent-ghost", id, token, NULL, &err) == 0);
    /* A process name the backend never started (pid 1 is never droverd's child). */
    ck_assert(poolstore_agent_set_pod(&fx.db, id, "proc-1", NULL, &err) == 0);
    snprintf(env_id, sizeof(env_id), "AGENT_ID=%s", id);
    snprintf(env_token, sizeof(env_token), "DROVER_TOKEN=%s", token);
    ghost = fork();
    ck_assert_int_ge(ghost, 0);
    if (ghost == 0) {
        putenv(env_id);
        putenv(env_token);
        execl(self_exe, self_exe, "--fake-agent", (char *)NULL);
        _exit(127);
    }
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM agents WHERE id = '%s' AND status = 'idle'",
             id);
    wait_for(sql, 1, 20);
    /* An agent registered from elsewhere that went quiet an hour ago: the reaper marks it
     * offline, but it is not the pool's to lock out; its next heartbeat revives it. */
    ck_assert(agents_create(&fx.db, "outsider", "none", out_id, &err) == 0);
    ck_assert(tokens_create(&fx.db, PRINCIPAL_AGENT, "agent-outsider", out_id, out_token, NULL,
                            &err) == 0);
    snprintf(sql, sizeof(sql),
             "UPDATE agents SET status = 'idle', last_heartbeat_at = now() - interval '1 hour'"
             " WHERE id = '%s'",
             out_id);
    fixture_exec(sql);
    /* A task wakes the pool (the tick is 30 s away); its evaluation reconciles. */
    enqueue(1, 0);
    t0 = clock_s();
    while (clock_s() - t0 < 20 * testdb_slowdown() && (w = waitpid(ghost, &status, WNOHANG)) == 0)
        usleep(100000);
    if (w == 0) {
        kill(ghost, SIGKILL);
        waitpid(ghost, &status, 0);
        ck_abort_msg("the ghost agent kept its token and is still running");
    }
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ghost status %d", status);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM api_tokens WHERE agent_id = '%s' AND revoked_at IS NULL", id);
    ck_assert_int_eq(fixture_scalar(sql), 0);
    ck_assert_int_eq(tokens_verify(&fx.db, token, &who, &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAUTHORIZED);
    /* The pool's own agents keep theirs, and the task is done exactly once: by one of them,
     * or by the ghost if it claimed it before the evaluation let it go (a lost race on a
     * loaded machine, and a legitimate completion: its lease was good until then). Never is
     * it left leased to the ghost. */
    wait_for("SELECT count(*) FROM tasks WHERE state = 'completed'", 1, 20);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks"), 1);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM tasks WHERE state = 'in_progress' AND agent_id = '%s'", id);
    ck_assert_int_eq(fixture_scalar(sql), 0);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM agents WHERE id = '%s' AND status = 'offline'"
             " AND offline_reason LIKE 'stale:%%'",
             out_id);
    wait_for(sql, 1, 20);
    ck_assert_msg(tokens_verify(&fx.db, out_token, &who, &err) == 0, "outsider: %s", err.msg);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM api_tokens WHERE agent_id IS NOT NULL AND agent_id <> '%s'"
             " AND revoked_at IS NULL",
             out_id);
    ck_assert_int_eq(fixture_scalar(sql), fixture_scalar(LIVE));
    /* A heartbeat in flight may have revived the row once more; the next evaluation ends it. */
    enqueue(1, 0);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM agents WHERE id = '%s' AND status = 'offline'"
             " AND offline_reason = 'pod gone'",
             id);
    wait_for(sql, 1, 20);
    agentpool_stop(pool);
    pool = fx.env.pool = NULL;
}
END_TEST

static Suite *pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *api = tcase_create("api");
    TCase *loop = tcase_create("loop");

    tcase_add_checked_fixture(api, setup, fixture_teardown);
    tcase_add_loop_test(api, test_put_validation, 0, (int)(sizeof(put_rows) / sizeof(put_rows[0])));
    tcase_add_test(api, test_audit_and_get);
    tcase_add_test(api, test_agent_start_stop);
    suite_add_tcase(s, api);

    tcase_add_checked_fixture(loop, setup, fixture_teardown);
    tcase_set_timeout(loop, 150);
    tcase_add_test(loop, test_pool_lifecycle);
    tcase_add_test(loop, test_crashing_agents_open_the_breaker);
    tcase_add_test(loop, test_leader_failover);
    tcase_add_test(loop, test_load_drop_wakes_the_pool);
    tcase_add_test(loop, test_ghost_agent_is_disowned);
    suite_add_tcase(s, loop);
    return s;
}

int main(int argc, char **argv)
{
    int failed;

    if (argc > 1 && strcmp(argv[1], "--fake-agent") == 0)
        return fake_agent();
    if (!realpath("/proc/self/exe", self_exe))
        return 1;
    testdb_setup();
    snprintf(log_dir, sizeof(log_dir), "/tmp/drover-pool-test-%ld", (long)getpid());
    failed = testsuite_run(pool_suite()) != EXIT_SUCCESS;
    testdb_teardown();
    {
        char cmd[300];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", log_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", log_dir);
    }
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
