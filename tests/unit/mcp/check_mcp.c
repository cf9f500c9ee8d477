/*
 * MCP dispatch and every tool against a real PostgreSQL, plus the worker-side job execution
 * (auth, sessions, seed endpoints, held claims) without the network: work_exec() on jobs.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/clock.h"
#include "core/ttlcache.h"
#include "fakeproc.h"
#include "mcp/jrpc.h"
#include "mcp/mcp.h"
#include "mcp/tools.h"
#include "net/work.h"
#include "store/agents.h"
#include "store/queue.h"
#include "store/sessions.h"
#include "store/tokens.h"
#include "fixture.h"
#include "testdb.h"
#include "testsuite.h"

#define FORGE_TOKEN "forge-secret"

static struct cfg cfg;
static pid_t forge_pid;
static int forge_port;
static struct principal me, other;
static char my_token[PRINCIPAL_TOKEN_LEN], other_token[PRINCIPAL_TOKEN_LEN],
    admin_token[PRINCIPAL_TOKEN_LEN];

static void new_agent_token(const char *name, struct principal *who, char tok[PRINCIPAL_TOKEN_LEN])
{
    struct err err = {0};
    char id[37];

    fixture_agent_token(name, id, tok);
    ck_assert_msg(tokens_verify(&fx.db, tok, who, &err) == 0, "%s", err.msg);
}

static void setup(void)
{
    struct err err = {0};
    char *argv[] = {"serve", NULL};

    fixture_setup();
    ck_assert_int_eq(cfg_parse(&cfg, 1, argv, &err), 0);
    cfg.long_poll_max = 5;
    fx.env.cfg = &cfg;
    new_agent_token("me", &me, my_token);
    new_agent_token("other", &other, other_token);
    ck_assert(tokens_create(&fx.db, PRINCIPAL_ADMIN, "root", NULL, admin_token, NULL, &err) == 0);
}

static void teardown(void)
{
    cfg_free(&cfg);
    fixture_teardown();
}

static long long enqueue(const char *title)
{
    struct model_task_new t = {.title = title, .repo_url = "file:///tmp/r.git"};

    return fixture_enqueue(&t);
}

static void ctx_for(struct mcp_ctx *c, const struct principal *who)
{
    memset(c, 0, sizeof(*c));
    c->svc = &fx.svc;
    c->who = who;
}

/* Call a tool as `who`; returns the CallToolResult (owned). */
static json_t *call(const struct principal *who, const char *tool, const char *args_fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_t *call(const struct principal *who, const char *tool, const char *args_fmt, ...)
{
    char args[2048];
    va_list ap;
    struct mcp_ctx c;
    struct err err;
    json_t *a, *r = NULL;

    va_start(ap, args_fmt);
    vsnprintf(args, sizeof(args), args_fmt, ap);
    va_end(ap);
    a = json_loads(args, 0, NULL);
    ck_assert_msg(a != NULL, "bad test args %s", args);
    ctx_for(&c, who);
    tools_call(&c, tool, a, &r, &err);
    json_decref(a);
    mcp_ctx_clear(&c);
    ck_assert_ptr_nonnull(r);
    return r;
}

static const json_t *sc(const json_t *r)
{
    return json_object_get(r, "structuredContent");
}

static void assert_error(json_t *r, const char *code)
{
    const char *text;
    json_t *e;

    ck_assert_msg(json_is_true(json_object_get(r, "isError")), "expected an error result");
    text = json_string_value(
        json_object_get(json_array_get(json_object_get(r, "content"), 0), "text"));
    e = json_loads(text, 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(e, "error"), "code")), code);
    json_decref(e);
    json_decref(r);
}

static long long claim(long long *epoch)
{
    json_t *r = call(&me, "get_next_task", "{}");
    const json_t *t = json_object_get(sc(r), "task");
    long long id;

    ck_assert(json_is_object(t));
    id = json_integer_value(json_object_get(t, "id"));
    *epoch = json_integer_value(json_object_get(t, "lease_epoch"));
    json_decref(r);
    return id;
}

static long long scalar(const char *sql)
{
    PGresult *r = PQexec(fx.db.conn, sql);
    long long v;

    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(fx.db.conn));
    v = PQgetisnull(r, 0, 0) ? -1 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

/* A new task, claimed by `me`: its id, and its lease epoch in *epoch. */
static long long enqueue_claimed(const char *title, long long *epoch)
{
    enqueue(title);
    return claim(epoch);
}

/*
 * A call of a task tool as `who` on task id under lease epoch (the arguments nearly every task
 * tool takes), plus `extra`: more members of the arguments object, "" for none.
 */
static json_t *call_leased(const struct principal *who, const char *tool, long long id,
                           long long epoch, const char *extra)
{
    return call(who, tool, "{\"task_id\":%lld,\"lease_epoch\":%lld%s%s}", id, epoch,
                *extra ? "," : "", extra);
}

/* The state of the task a tool result carries; frees r. */
static void assert_task_state(json_t *r, const char *state)
{
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(sc(r), "task"), "state")),
                     state);
    json_decref(r);
}

START_TEST(get_next_task_empty_claim_and_park)
{
    struct err err;
    struct mcp_ctx c;
    json_t *r, *a;
    long long id, epoch;

    r = call(&me, "get_next_task", "{}");
    ck_assert(json_is_null(json_object_get(sc(r), "task")));
    json_decref(r);
    /* waiting allowed and nothing runnable: the transport is asked to hold the request */
    ctx_for(&c, &me);
    c.allow_park = true;
    a = json_pack("{s:i}", "wait_seconds", 100);
    tools_call(&c, "get_next_task", a, &r, &err);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(c.park_seconds, 5); /* bounded by --long-poll-max */
    json_decref(a);
    mcp_ctx_clear(&c);
    assert_error(call(&me, "get_next_task", "{\"wait_seconds\":-1}"), "invalid_argument");
    assert_error(call(&me, "get_next_task", "{\"wait\":1}"), "invalid_argument");
    enqueue("one");
    id = claim(&epoch);
    ck_assert_int_gt(id, 0);
    ck_assert_int_eq(epoch, 1);
    ck_assert_int_eq(scalar("SELECT count(*) FROM tasks WHERE state = 'in_progress'"), 1);
}
END_TEST

/* The branch creations the fake forge received (its request log). */
static int forge_branch_posts(void)
{
    char cmd[256], out[64] = "";
    FILE *f;

    snprintf(cmd, sizeof(cmd),
             "curl -s --max-time 10 http://127.0.0.1:%d/_fake/requests | python3 -c 'import json,"
             "sys; print(sum(1 for r in json.load(sys.stdin) if r[\"method\"] == \"POST\" and "
             "r[\"path\"].split(\"?\")[0].endswith(\"/branches\")))'",
             forge_port);
    f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(out, sizeof(out), f));
    pclose(f);
    return atoi(out);
}

/* A Gitea project on the fake forge (`api` = its API URL), and one task of it. */
static long long enqueue_on_forge(const char *title, const char *api)
{
    struct model_task_new t = {.title = title};
    struct err err = {0};
    json_t *task = NULL;
    char sql[512];
    long long id;

    snprintf(sql, sizeof(sql),
             "INSERT INTO projects (name, repo_url, forge_kind, forge_api_url, forge_repo_path)"
             " VALUES ('widgets', 'https://forge.test/acme/widgets.git', 'gitea', '%s',"
             " 'acme/widgets') RETURNING id",
             api);
    t.project_id = scalar(sql);
    ck_assert_msg(queue_enqueue(&fx.db, &t, &task, NULL, &err) == 0, "%s", err.msg);
    id = json_integer_value(json_object_get(task, "id"));
    json_decref(task);
    return id;
}

START_TEST(create_branch_rules)
{
    long long id, epoch;
    json_t *r;

    char sql[256];
    int posts;

    /* First the project's forge cannot be reached: a clear error, nothing recorded. */
    enqueue_on_forge("Fix the Login", "http://127.0.0.1:1/api/v1");
    id = claim(&epoch);
    setenv("DROVER_FORGE_TOKEN", FORGE_TOKEN, 1);
    assert_error(call_leased(&me, "create_branch", id, epoch, "\"name\":\"x/forge-fails\""),
                 "unavailable");
    ck_assert_int_eq(scalar("SELECT count(*) FROM tasks WHERE branch IS NOT NULL"), 0);
    snprintf(sql, sizeof(sql),
             "UPDATE projects SET forge_api_url = 'http://127.0.0.1:%d/api/v1' RETURNING id",
             forge_port);
    scalar(sql);
    posts = forge_branch_posts();
    r = call_leased(&me, "create_branch", id, epoch, "");
    ck_assert_str_eq(json_string_value(json_object_get(sc(r), "branch")), "drover/1-fix-the-login");
    ck_assert(json_is_true(json_object_get(sc(r), "created")));
    json_decref(r);
    ck_assert_int_eq(forge_branch_posts(), posts + 1);
    r = call(&me, "create_branch", "{\"task_id\":\"%lld\",\"lease_epoch\":%lld}", id, epoch);
    ck_assert(json_is_false(json_object_get(sc(r), "created")));
    json_decref(r);
    ck_assert_int_eq(forge_branch_posts(), posts + 1); /* idempotent: no second forge call */
    assert_error(call_leased(&me, "create_branch", id, epoch, "\"name\":\"another\""), "conflict");
    assert_error(call_leased(&me, "create_branch", id, epoch + 1, ""), "stale_epoch");
    assert_error(call_leased(&other, "create_branch", id, epoch, ""), "forbidden");
    assert_error(call(&me, "create_branch", "{\"task_id\":999,\"lease_epoch\":1}"), "not_found");
    assert_error(call(&me, "create_branch", "{\"task_id\":%lld}", id), "invalid_argument");
    assert_error(call_leased(&me, "create_branch", id, epoch, "\"name\":\"a b\""),
                 "invalid_argument");
}
END_TEST

START_TEST(log_activity_one_and_batch)
{
    long long id, epoch;
    json_t *r;

    id = enqueue_claimed("logs", &epoch);
    r = call(&me, "log_activity", "{\"task_id\":%lld,\"message\":\"hi\",\"metadata\":{\"k\":1}}",
             id);
    ck_assert_int_eq(json_integer_value(json_object_get(sc(r), "logged")), 1);
    json_decref(r);
    r = call(&me, "log_activity",
             "{\"task_id\":%lld,\"entries\":[{\"message\":\"a\"},{\"message\":\"b\",\"level\":"
             "\"error\"}]}",
             id);
    ck_assert_int_eq(json_integer_value(json_object_get(sc(r), "logged")), 2);
    json_decref(r);
    ck_assert_int_eq(scalar("SELECT count(*) FROM activity WHERE kind = 'log'"), 3);
    assert_error(call(&me, "log_activity", "{\"task_id\":%lld}", id), "invalid_argument");
    assert_error(
        call(&me, "log_activity", "{\"task_id\":%lld,\"message\":\"x\",\"level\":\"loud\"}", id),
        "invalid_argument");
    assert_error(call(&other, "log_activity", "{\"task_id\":%lld,\"message\":\"x\"}", id),
                 "forbidden");
    ck_assert_int_eq(scalar("SELECT count(*) FROM activity WHERE kind = 'log'"), 3);
}
END_TEST

START_TEST(update_status_and_question)
{
    long long id, epoch;

    id = enqueue_claimed("status", &epoch);
    assert_error(call_leased(&me, "update_task_status", id, epoch, "\"status\":\"backlog\""),
                 "invalid_argument");
    assert_error(call_leased(&me, "update_task_status", id, epoch,
                             "\"status\":\"completed\",\"result\":[1]"),
                 "invalid_argument");
    assert_error(call_leased(&me, "ask_user_question", id, epoch, "\"question\":\"\""),
                 "invalid_argument");
    assert_task_state(call_leased(&me, "ask_user_question", id, epoch, "\"question\":\"?\""),
                      "needs_input");
    id = enqueue_claimed("done", &epoch);
    assert_task_state(call_leased(&me, "update_task_status", id, epoch,
                                  "\"status\":\"failed\",\"error\":\"boom\",\"retry\":false"),
                      "failed");
    assert_error(call_leased(&me, "update_task_status", id, epoch, "\"status\":\"completed\""),
                 "conflict");
}
END_TEST

START_TEST(heartbeat_reports_cancellation)
{
    long long id, epoch;
    json_t *r;
    struct err err = {0};
    json_t *t = NULL;

    id = enqueue_claimed("hb", &epoch);
    ck_assert(queue_cancel(&fx.db, id, "test", "stop", &t, &err) == 0);
    json_decref(t);
    r = call(&me, "heartbeat", "{\"status\":\"busy\",\"task_ids\":[%lld]}", id);
    ck_assert(json_is_true(
        json_object_get(json_array_get(json_object_get(sc(r), "tasks"), 0), "cancelled")));
    ck_assert_int_eq(json_integer_value(json_object_get(sc(r), "heartbeat_interval")), 30);
    json_decref(r);
    assert_error(call(&me, "heartbeat", "{\"status\":\"sleepy\"}"), "invalid_argument");
    assert_error(call(&me, "heartbeat", "{\"task_ids\":[\"x\"]}"), "invalid_argument");
    assert_error(call(&me, "heartbeat", "{\"agentId\":\"%s\"}", other.agent_id), "forbidden");
}
END_TEST

START_TEST(pull_request_recorded_once)
{
    long long id, epoch;
    json_t *r;

    id = enqueue_claimed("pr", &epoch);
    assert_error(call_leased(&me, "create_pull_request", id, epoch, "\"title\":\"t\""),
                 "conflict"); /* no branch yet */
    json_decref(call_leased(&me, "create_branch", id, epoch, ""));
    r = call_leased(&me, "create_pull_request", id, epoch, "\"title\":\"PR\",\"body\":\"b\"");
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(sc(r), "pull_request"), "base")), "main");
    json_decref(r);
    r = call_leased(&me, "create_pull_request", id, epoch, "\"title\":\"Other\"");
    ck_assert(json_is_false(json_object_get(sc(r), "created")));
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(sc(r), "pull_request"), "title")), "PR");
    json_decref(r);
    ck_assert_int_eq(scalar("SELECT count(*) FROM tasks WHERE pull_request->>'state' = 'open'"), 1);
}
END_TEST

START_TEST(sessions_are_bound_to_tokens)
{
    char sid[SESSIONS_ID_LEN];
    struct err err = {0};
    bool found, deleted;

    ck_assert(sessions_create(&fx.db, me.token_id, "2025-11-25", NULL, sid, &err) == 0);
    ck_assert_int_eq(strlen(sid), SESSIONS_ID_LEN - 1);
    ck_assert(sessions_check(&fx.db, sid, me.token_id, &found, &err) == 0 && found);
    ck_assert(sessions_check(&fx.db, sid, other.token_id, &found, &err) == 0 && !found);
    ck_assert(sessions_check(&fx.db, "nope", me.token_id, &found, &err) == 0 && !found);
    ck_assert(sessions_check(&fx.db, "bad id with spaces", me.token_id, &found, &err) == 0 &&
              !found);
    ck_assert(sessions_delete(&fx.db, sid, other.token_id, &deleted, &err) == 0 && !deleted);
    ck_assert(sessions_delete(&fx.db, sid, me.token_id, &deleted, &err) == 0 && deleted);
    ck_assert(sessions_check(&fx.db, sid, me.token_id, &found, &err) == 0 && !found);
}
END_TEST

/* ---- work_exec: the worker side of every endpoint ---- */

static struct job *job(enum job_kind kind, const char *token, const char *body)
{
    struct job *j = job_new(kind, 1);

    j->token = token ? strdup(token) : NULL;
    if (body) {
        j->body = strdup(body);
        j->body_len = strlen(body);
    }
    return j;
}

static json_t *out_json(const struct job *j)
{
    json_t *v = j->out ? json_loadb(j->out, j->out_len, 0, NULL) : NULL;

    ck_assert_msg(v != NULL, "reply is not JSON: %.*s", (int)j->out_len, j->out ? j->out : "");
    return v;
}

/* Runs j as a worker would, checks the HTTP status it ends with, frees it. */
static void exec_expect(struct job *j, int status)
{
    work_exec(&fx.svc, j);
    ck_assert_int_eq(j->status, status);
    job_free(j);
}

/* A job that carries `sid` as its Mcp-Session-Id. */
static struct job *session_job(enum job_kind kind, const char *body, const char *sid)
{
    struct job *j = job(kind, my_token, body);

    j->session = strdup(sid);
    return j;
}

/* A REST call (JOB_API) as `token`. */
static struct job *api_job(const char *token, const char *method, const char *path)
{
    struct job *j = job(JOB_API, token, NULL);

    j->method = strdup(method);
    j->path = strdup(path);
    return j;
}

/* The JSON-RPC error code of j's reply. */
static void assert_jrpc_error(const struct job *j, long long code)
{
    json_t *v = out_json(j);

    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(v, "error"), "code")),
                     code);
    json_decref(v);
}

static const char init_req[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
                               "\"params\":{\"protocolVersion\":\"2025-11-25\"}}";

/* initialize as `me`: the new session's id (owned). */
static char *new_session(void)
{
    struct job *j = job(JOB_MCP, my_token, init_req);
    char *sid;

    work_exec(&fx.svc, j);
    ck_assert_int_eq(j->status, 200);
    ck_assert_ptr_nonnull(j->new_session);
    sid = strdup(j->new_session);
    job_free(j);
    return sid;
}

START_TEST(work_auth_paths)
{
    char bogus[PRINCIPAL_TOKEN_LEN];
    struct err err = {0};
    int revoked;
    struct job *j;

    j = job(JOB_MCP, NULL, init_req);
    work_exec(&fx.svc, j);
    ck_assert_int_eq(j->status, 401);
    ck_assert(j->www_auth);
    job_free(j);
    memcpy(bogus, my_token, sizeof(bogus));
    bogus[10] = bogus[10] == 'a' ? 'b' : 'a';
    exec_expect(job(JOB_MCP, bogus, init_req), 401);
    /* an admin may submit work (tools_submit.h), an operator may not use MCP at all */
    exec_expect(job(JOB_MCP, admin_token, init_req), 200);
    {
        char op[PRINCIPAL_TOKEN_LEN];
        struct err e = {0};
        ck_assert(tokens_create(&fx.db, PRINCIPAL_OPERATOR, "op", NULL, op, NULL, &e) == 0);
        exec_expect(job(JOB_MCP, op, init_req), 403);
    }
    /* an agent token: initialize creates a session */
    free(new_session());
    /* X-Agent-ID of someone else */
    j = job(JOB_TOOLS_CALL, my_token, "{\"name\":\"heartbeat\",\"arguments\":{}}");
    j->agent_hdr = strdup(other.agent_id);
    exec_expect(j, 403);
    /* revoked: refused once the cache entry is gone */
    ck_assert(tokens_revoke(&fx.db, "me", &revoked, &err) == 0);
    ttlcache_clear(fx.env.auth);
    exec_expect(job(JOB_TOOLS_CALL, my_token, "{\"name\":\"heartbeat\",\"arguments\":{}}"), 401);
    /* the pool's revocation: every live token of one agent, only that agent's */
    ck_assert_int_eq(tokens_revoke_agent(&fx.db, "agent-1'; --", &revoked, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    err_clear(&err);
    ck_assert(tokens_revoke_agent(&fx.db, other.agent_id, &revoked, &err) == 0);
    ck_assert_int_eq(revoked, 1);
    ck_assert(tokens_revoke_agent(&fx.db, other.agent_id, &revoked, &err) == 0);
    ck_assert_int_eq(revoked, 0);
    ttlcache_clear(fx.env.auth);
    exec_expect(job(JOB_TOOLS_CALL, other_token, "{\"name\":\"heartbeat\",\"arguments\":{}}"), 401);
    /* ws: an auth failure is a JSON-RPC error and closes the connection */
    j = job(JOB_RPC, NULL, init_req);
    j->ws = true;
    work_exec(&fx.svc, j);
    ck_assert(j->close_ws);
    assert_jrpc_error(j, JRPC_UNAUTHORIZED);
    job_free(j);
}
END_TEST

START_TEST(work_sessions_and_parse_errors)
{
    static const char ping[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
    struct job *j;
    char *sid;

    exec_expect(job(JOB_MCP, my_token, ping), 400); /* no session and not initialize */
    sid = new_session();
    exec_expect(session_job(JOB_MCP, ping, "mcp_unknown"), 404);
    j = session_job(JOB_MCP, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", sid);
    work_exec(&fx.svc, j);
    ck_assert_int_eq(j->status, 202);
    ck_assert_uint_eq(j->out_len, 0);
    job_free(j);
    j = session_job(JOB_MCP, "{oops", sid);
    work_exec(&fx.svc, j);
    ck_assert_int_eq(j->status, 400);
    assert_jrpc_error(j, JRPC_PARSE_ERROR);
    job_free(j);
    exec_expect(session_job(JOB_MCP_DELETE, NULL, sid), 200);
    ck_assert_int_eq(scalar("SELECT count(*) FROM mcp_sessions"), 0);
    free(sid);
}
END_TEST

START_TEST(work_held_claim)
{
    struct job *j;
    json_t *v;

    /* get_next_task with wait over /tools/call: parked, then the claim job delivers */
    j = job(JOB_TOOLS_CALL, my_token,
            "{\"name\":\"get_next_task\",\"arguments\":{\"wait_seconds\":3}}");
    work_exec(&fx.svc, j);
    ck_assert_int_eq(j->park_seconds, 3);
    ck_assert_str_eq(j->agent_id, me.agent_id);
    ck_assert_int_eq(j->wrap, JOB_WRAP_TOOL);
    job_free(j);
    j = job_new(JOB_CLAIM, 1);
    memcpy(j->agent_id, me.agent_id, sizeof(j->agent_id));
    j->jrpc_id = json_integer(77);
    j->deadline_ms = clock_ms() + 5000;
    work_exec(&fx.svc, j);
    ck_assert_int_gt(j->park_seconds, 0); /* still nothing */
    enqueue("arrives");
    work_exec(&fx.svc, j);
    ck_assert_int_eq(j->park_seconds, 0);
    v = out_json(j);
    ck_assert_int_eq(json_integer_value(json_object_get(v, "id")), 77);
    ck_assert_str_eq(
        json_string_value(json_object_get(
            json_object_get(json_object_get(json_object_get(v, "result"), "structuredContent"),
                            "task"),
            "title")),
        "arrives");
    json_decref(v);
    job_free(j);
    /* past the deadline: {task:null} */
    j = job_new(JOB_CLAIM, 1);
    memcpy(j->agent_id, me.agent_id, sizeof(j->agent_id));
    j->wrap = JOB_WRAP_TOOL;
    j->deadline_ms = clock_ms() - 1;
    work_exec(&fx.svc, j);
    v = out_json(j);
    ck_assert(json_is_null(json_object_get(json_object_get(v, "structuredContent"), "task")));
    json_decref(v);
    job_free(j);
}
END_TEST

START_TEST(work_heartbeat_seed_and_ready)
{
    struct job *j;
    json_t *v;
    char body[200];

    snprintf(body, sizeof(body), "{\"agentId\":\"%s\",\"status\":\"idle\"}", me.agent_id);
    j = job(JOB_HEARTBEAT, my_token, body);
    work_exec(&fx.svc, j);
    ck_assert_int_eq(j->status, 200);
    v = out_json(j);
    ck_assert(json_is_array(json_object_get(v, "tasks")));
    json_decref(v);
    job_free(j);
    snprintf(body, sizeof(body), "{\"agentId\":\"%s\",\"status\":\"idle\"}", other.agent_id);
    exec_expect(job(JOB_HEARTBEAT, my_token, body), 403);
    exec_expect(job(JOB_HEARTBEAT, my_token, "[1,2]"), 400);
    exec_expect(job(JOB_READY, NULL, NULL), 200);
    exec_expect(api_job(admin_token, "GET", "/api/whoami"), 200);
    exec_expect(api_job(my_token, "GET", "/api/whoami"), 403);
}
END_TEST

START_TEST(work_sweep_reaps_expired_leases)
{
    long long id, epoch;
    struct job *j;
    char sql[256];

    id = enqueue_claimed("expires", &epoch);
    snprintf(sql, sizeof(sql),
             "UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = %lld", id);
    PQclear(PQexec(fx.db.conn, sql));
    j = job_new(JOB_SWEEP, 0);
    work_exec(&fx.svc, j);
    ck_assert_int_eq(j->status, 0);
    job_free(j);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM tasks WHERE id = %lld AND state = 'backlog'",
             id);
    ck_assert_int_eq(scalar(sql), 1);
    /* and forgets sessions idle for a day, not the fresh one */
    {
        char old[SVC_SESSIONS_ID_LEN], fresh[SVC_SESSIONS_ID_LEN];
        struct err err = {0};

        ck_assert(sessions_create(&fx.db, me.token_id, "2025-11-25", NULL, old, &err) == 0);
        ck_assert(sessions_create(&fx.db, me.token_id, "2025-11-25", NULL, fresh, &err) == 0);
        snprintf(sql, sizeof(sql),
                 "UPDATE mcp_sessions SET last_seen_at = now() - interval '2 days' WHERE id = '%s'",
                 old);
        PQclear(PQexec(fx.db.conn, sql));
        j = job_new(JOB_SWEEP, 0);
        work_exec(&fx.svc, j);
        job_free(j);
        ck_assert_int_eq(scalar("SELECT count(*) FROM mcp_sessions"), 1);
    }
}
END_TEST

/* True when this replica's session cache holds `sid` for `token_id`. */
static bool session_cached(const char *sid, long long token_id)
{
    long long owner;

    return ttlcache_get(fx.env.sessions, sid, &owner) && owner == token_id;
}

START_TEST(deleted_session_is_forgotten_at_once)
{
    struct job *j;
    char *sid;

    sid = new_session();
    ck_assert(session_cached(sid, me.token_id));
    ck_assert(!session_cached(sid, other.token_id));
    j = session_job(JOB_MCP_DELETE, NULL, sid);
    work_exec(&fx.svc, j);
    job_free(j);
    ck_assert(!session_cached(sid, me.token_id));
    j = job(JOB_MCP, my_token, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
    j->session = sid;
    exec_expect(j, 404);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mcp");
    TCase *tc = tcase_create("mcp");
    int failed;

    testdb_setup();
    forge_pid = fakeproc_start("tests/fakes/fake_forge.py", FORGE_TOKEN, &forge_port);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, get_next_task_empty_claim_and_park);
    tcase_add_test(tc, create_branch_rules);
    tcase_add_test(tc, log_activity_one_and_batch);
    tcase_add_test(tc, update_status_and_question);
    tcase_add_test(tc, heartbeat_reports_cancellation);
    tcase_add_test(tc, pull_request_recorded_once);
    tcase_add_test(tc, sessions_are_bound_to_tokens);
    tcase_add_test(tc, work_auth_paths);
    tcase_add_test(tc, work_sessions_and_parse_errors);
    tcase_add_test(tc, work_held_claim);
    tcase_add_test(tc, work_heartbeat_seed_and_ready);
    tcase_add_test(tc, work_sweep_reaps_expired_leases);
    tcase_add_test(tc, deleted_session_is_forgotten_at_once);
    suite_add_tcase(s, tc);
    failed = testsuite_run(s) != EXIT_SUCCESS;
    fakeproc_stop(forge_pid);
    testdb_teardown();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
