/*
 * Job execution on worker threads.
 */
#include "net/work.h"
#include "store/schedules.h"
#include "api/router.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "mcp/jrpc.h"
#include "mcp/mcp.h"
#include "mcp/tools.h"
#include "net/authcache.h"
#include "net/sesscache.h"
#include "store/migrate.h"
#include "store/sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

/* An MCP session nobody used for a day is forgotten (clients re-initialize on 404). */
#define WORK_SESSION_IDLE_SECONDS 86400

static void work_auth_fail(struct job *j, int status, const char *code, const char *msg)
{
    if (j->ws) {
        job_reply_json(j, 200, jrpc_error(NULL, JRPC_UNAUTHORIZED, msg, NULL));
        j->close_ws = true;
        return;
    }
    if (j->kind == JOB_API) {
        job_reply_error(j, status, code, msg);
    } else {
        job_reply_json(j, status, json_pack("{s:s,s:s}", "error", code, "error_description", msg));
    }
    j->www_auth = status == 401;
}

/*
 * Authenticate the job's token into j->who. Returns 0, or -1 with the reply set. `need_agent`:
 * only agent tokens may call (MCP and the seed endpoints).
 */
static int work_auth(const struct work_env *env, struct db *db, struct job *j, bool need_agent)
{
    struct err err = {0};

    memset(&j->who, 0, sizeof(j->who));
    if (!env->cfg->auth) {
        j->who.scope = j->kind == JOB_API ? TOKENS_SCOPE_ADMIN : TOKENS_SCOPE_NONE;
        snprintf(j->who.name, sizeof(j->who.name), "auth-off");
        return 0;
    }
    if (!j->token) {
        if (j->kind == JOB_API)
            return 0; /* the router decides: public routes need no token */
        work_auth_fail(j, 401, "invalid_token", "missing bearer token");
        return -1;
    }
    if (authcache_verify(db, j->token, &j->who, &err) < 0) {
        if (err.code == ERR_UNAVAILABLE) {
            if (j->ws)
                job_reply_json(j, 200, jrpc_error(NULL, JRPC_SERVER_ERROR, err.msg, NULL));
            else
                job_reply_error(j, 503, "unavailable", "database unavailable, retry shortly");
            return -1;
        }
        work_auth_fail(j, 401, "invalid_token", err.msg);
        return -1;
    }
    if (need_agent && j->who.scope != TOKENS_SCOPE_AGENT) {
        work_auth_fail(j, 403, "insufficient_scope", "this endpoint needs an agent token");
        return -1;
    }
    if (need_agent && j->agent_hdr && strcasecmp(j->agent_hdr, j->who.agent_id) != 0) {
        work_auth_fail(j, 403, "forbidden", "X-Agent-ID does not match the agent of this token");
        return -1;
    }
    return 0;
}

static void work_ctx(const struct work_env *env, struct db *db, struct job *j, struct mcp_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->db = db;
    c->qo = &env->qo;
    c->cfg = env->cfg;
    c->who = &j->who;
    c->agent_hint = !env->cfg->auth ? j->agent_hdr : NULL;
    c->allow_park = true;
    c->claims_closed = env->claims_closed && atomic_load(env->claims_closed);
}

/* The parked-claim bookkeeping common to every transport. */
static void work_park(struct job *j, struct mcp_ctx *c, enum job_wrap wrap)
{
    j->park_seconds = c->park_seconds;
    j->wrap = wrap;
    json_decref(j->jrpc_id);
    j->jrpc_id = c->park_id ? json_incref(c->park_id) : NULL;
    snprintf(j->agent_id, sizeof(j->agent_id), "%s", tools_agent(c));
}

/* A body that does not parse: 400 with the JSON-RPC error (the SDK's answer), or a ws reply. */
static json_t *work_parse(struct job *j, int *status)
{
    json_t *msg = NULL;
    int code;
    char emsg[256];

    *status = 200;
    if (jrpc_parse(j->body, j->body_len, &msg, &code, emsg, sizeof(emsg)) < 0) {
        *status = 400;
        job_reply_json(j, 400, jrpc_error(NULL, code, emsg, NULL));
        return NULL;
    }
    return msg;
}

static bool work_is_initialize(const json_t *msg)
{
    const json_t *m = json_object_get(msg, "method");

    return json_is_object(msg) && json_is_string(m) &&
           strcmp(json_string_value(m), "initialize") == 0;
}

static void work_jrpc(const struct work_env *env, struct db *db, struct job *j, bool sessions)
{
    struct mcp_ctx c;
    struct err err = {0};
    json_t *msg, *reply = NULL;
    int status;
    const char *why;

    if (work_auth(env, db, j, true) < 0)
        return;
    if (!(msg = work_parse(j, &status)))
        return;
    work_ctx(env, db, j, &c);
    if (sessions) {
        bool found = false;

        c.sessions = true;
        if (j->session) {
            if (sesscache_known(j->session, j->who.token_id)) {
                found = true;
            } else {
                if (sessions_check(db, j->session, j->who.token_id, &found, &err) < 0 &&
                    (err.code != ERR_UNAVAILABLE || db_ensure(db, NULL) < 0 ||
                     sessions_check(db, j->session, j->who.token_id, &found, &err) < 0)) {
                    job_reply_json(
                        j, 503, jrpc_error(NULL, JRPC_SERVER_ERROR, "database unavailable", NULL));
                    goto out;
                }
                if (found) /* only a database answer starts a TTL: it never slides */
                    sesscache_put(j->session, j->who.token_id);
            }
            if (!found) {
                job_reply_json(j, 404,
                               jrpc_error(NULL, JRPC_SERVER_ERROR, "Session not found", NULL));
                goto out;
            }
            c.session_id = j->session;
            c.sessions = false; /* re-initialising inside a session keeps it */
        } else if (!work_is_initialize(msg)) {
            job_reply_json(j, 400,
                           jrpc_error(NULL, JRPC_SERVER_ERROR,
                                      "Bad Request: Mcp-Session-Id header is required", NULL));
            goto out;
        }
    }
    /* A lone message that is not JSON-RPC at all is the transport's 400. */
    if (!j->ws && json_is_object(msg) && jrpc_classify(msg, &why) == JRPC_KIND_INVALID) {
        char buf[200];
        snprintf(buf, sizeof(buf), "Invalid Request: %s", why);
        job_reply_json(j, 400, jrpc_error(jrpc_id(msg), JRPC_INVALID_REQUEST, buf, NULL));
        goto out;
    }
    mcp_handle(&c, msg, j->version, &reply);
    if (c.new_session[0]) {
        j->new_session = mem_strdup(c.new_session);
        sesscache_put(c.new_session, j->who.token_id);
    }
    if (c.cancel_id)
        j->cancel_id = json_incref(c.cancel_id);
    if (c.park_seconds > 0)
        work_park(j, &c, JOB_WRAP_JRPC);
    else if (reply)
        job_reply_json(j, 200, reply);
    else
        j->status = j->ws ? 0 : 202; /* notifications and responses: accepted, no body */
    reply = NULL;
out:
    json_decref(reply);
    json_decref(msg);
    mcp_ctx_clear(&c);
}

static void work_tools_call(const struct work_env *env, struct db *db, struct job *j)
{
    struct mcp_ctx c;
    json_t *msg, *result = NULL;
    const json_t *name, *args;
    int status;

    if (work_auth(env, db, j, true) < 0)
        return;
    if (!(msg = work_parse(j, &status)))
        return;
    work_ctx(env, db, j, &c);
    name = json_object_get(msg, "name");
    args = json_object_get(msg, "arguments");
    if (!json_is_string(name) || (args && !json_is_null(args) && !json_is_object(args))) {
        job_reply_error(j, 400, "invalid_argument",
                        "body must be {\"name\": \"<tool>\", \"arguments\": {...}}");
        goto out;
    }
    tools_call(&c, json_string_value(name), json_is_object(args) ? args : NULL, &result);
    if (!result && c.park_seconds > 0)
        work_park(j, &c, JOB_WRAP_TOOL);
    else
        job_reply_json(j, 200, result);
out:
    json_decref(msg);
    mcp_ctx_clear(&c);
}

static void work_heartbeat(const struct work_env *env, struct db *db, struct job *j)
{
    struct mcp_ctx c;
    json_t *msg, *args = NULL, *result = NULL;
    const json_t *agent, *sc;
    int status;

    if (work_auth(env, db, j, true) < 0)
        return;
    if (!(msg = work_parse(j, &status)))
        return;
    work_ctx(env, db, j, &c);
    agent = json_object_get(msg, "agentId");
    if (!json_is_object(msg) || (agent && !json_is_string(agent))) {
        job_reply_error(j, 400, "invalid_argument", "body must be {\"agentId\", \"status\", ...}");
        goto out;
    }
    args = json_object();
    if (agent)
        json_object_set(args, "agentId", (json_t *)agent);
    if (json_object_get(msg, "status"))
        json_object_set(args, "status", json_object_get(msg, "status"));
    if (json_object_get(msg, "taskIds"))
        json_object_set(args, "task_ids", json_object_get(msg, "taskIds"));
    if (json_object_get(msg, "task_ids"))
        json_object_set(args, "task_ids", json_object_get(msg, "task_ids"));
    if (json_object_get(msg, "usage"))
        json_object_set(args, "usage", json_object_get(msg, "usage"));
    tools_call(&c, "heartbeat", args, &result);
    sc = json_object_get(result, "structuredContent");
    if (sc) {
        job_reply_json(j, 200, json_incref((json_t *)sc));
    } else {
        /* The error text is {"error":{...}}: hand it back as the body with a fitting status. */
        const char *text = json_string_value(
            json_object_get(json_array_get(json_object_get(result, "content"), 0), "text"));
        json_t *e = text ? json_loads(text, 0, NULL) : NULL;
        const char *code = json_string_value(json_object_get(json_object_get(e, "error"), "code"));
        int st = 400;
        if (code && strcmp(code, "forbidden") == 0)
            st = 403;
        else if (code && strcmp(code, "not_found") == 0)
            st = 404;
        else if (code && strcmp(code, "unavailable") == 0)
            st = 503;
        job_reply_json(j, st, e ? e : json_pack("{s:{s:s}}", "error", "code", "internal"));
    }
out:
    json_decref(result);
    json_decref(args);
    json_decref(msg);
    mcp_ctx_clear(&c);
}

static void work_claim(const struct work_env *env, struct db *db, struct job *j)
{
    struct mcp_ctx c;
    json_t *result = NULL;

    work_ctx(env, db, j, &c);
    tools_claim(&c, j->agent_id, &result);
    if (!result) {
        if (authcache_now_ms() < j->deadline_ms) {
            j->park_seconds = 1; /* still nothing: keep holding */
            return;
        }
        result = tools_result(json_pack("{s:n}", "task"));
    }
    j->park_seconds = 0;
    job_reply_json(j, 200, j->wrap == JOB_WRAP_TOOL ? result : jrpc_result(j->jrpc_id, result));
}

static void work_api(const struct work_env *env, struct db *db, struct job *j)
{
    struct api_request req = {0};
    struct api_response resp = {0};
    struct err err = {0};

    if (work_auth(env, db, j, false) < 0)
        return;
    if (env->cfg->auth && j->token && j->who.scope == TOKENS_SCOPE_AGENT) {
        job_reply_error(j, 403, "forbidden", "agent tokens cannot use the REST API");
        return;
    }
    if (db_ensure(db, &err) < 0) {
        job_reply_error(j, 503, "unavailable", "database unavailable, retry shortly");
        return;
    }
    req.method = j->method;
    req.path = j->path;
    req.query = j->query ? j->query : "";
    req.body = j->body;
    req.body_len = j->body_len;
    req.idempotency_key = j->idem_key;
    req.last_event_id = j->last_event_id;
    req.who = j->who.scope != TOKENS_SCOPE_NONE ? &j->who : NULL;
    req.db = db;
    req.env = NULL;
    router_dispatch(&req, &resp);
    if (resp.stream.fetch && resp.status < 300) {
        j->is_stream = true;
        j->stream = resp.stream;
        j->status = 200;
        json_decref(resp.body);
        free(resp.raw);
        return;
    }
    if (resp.raw) {
        free(j->out);
        j->out = resp.raw;
        j->out_len = resp.raw_len;
        j->status = resp.status;
        j->content_type = resp.content_type ? resp.content_type : "text/plain";
        json_decref(resp.body);
    } else {
        job_reply_json(j, resp.status, resp.body);
    }
    j->www_auth = resp.status == 401;
}

/* One fetch of a stream: the events since the cursor, formatted as SSE text. */
static void work_sse_fetch(struct db *db, struct job *j)
{
    struct err err = {0};
    struct buf b;
    json_t *events = NULL, *e;
    size_t i;

    j->status = 200;
    if (db_ensure(db, &err) < 0)
        return; /* try again on the next poll */
    if (j->stream.fetch(db, j->stream.arg, j->stream.cursor, &events, &err) < 0) {
        log_info("sse", "stream ended: %s", err.msg);
        j->stream_end = true;
        return;
    }
    buf_init(&b, 64 * 1024 * 1024);
    json_array_foreach(events, i, e)
    {
        const json_t *id = json_object_get(e, "id"), *ev = json_object_get(e, "event");
        const json_t *data = json_object_get(e, "data");
        char *d = json_dumps(data ? data : e, JSON_COMPACT | JSON_ENCODE_ANY);

        if (json_is_string(id))
            buf_appendf(&b, "id: %s\n", json_string_value(id));
        else if (json_is_integer(id))
            buf_appendf(&b, "id: %lld\n", (long long)json_integer_value(id));
        if (json_is_string(ev))
            buf_appendf(&b, "event: %s\n", json_string_value(ev));
        buf_appendf(&b, "data: %s\n\n", d ? d : "null");
        free(d);
    }
    json_decref(events);
    free(j->out);
    j->out = buf_take(&b, &j->out_len);
}

static void work_ready(struct db *db, struct job *j)
{
    struct err err = {0};
    int pending = 0;

    if (db_ensure(db, &err) < 0 || migrate_pending(db, migrate_files, &pending, &err) < 0) {
        job_reply_json(j, 503, json_pack("{s:s,s:s}", "status", "unavailable", "reason", err.msg));
        return;
    }
    if (pending) {
        job_reply_json(j, 503,
                       json_pack("{s:s,s:i}", "status", "migrations_pending", "pending", pending));
        return;
    }
    job_reply_json(j, 200, json_pack("{s:s}", "status", "ready"));
}

static void work_sweep(struct db *db, struct job *j)
{
    struct err err = {0};
    int reaped = 0, timed = 0, expired = 0;

    int fired = 0;

    if (queue_reap(db, 100, &reaped, &err) < 0 ||
        queue_expire_timeouts(db, 100, &timed, &err) < 0 ||
        sessions_expire(db, WORK_SESSION_IDLE_SECONDS, &expired, &err) < 0 ||
        /* Cron schedules: each slot fires once however many replicas sweep (a unique row). */
        schedules_fire_due(db, time(NULL), &fired, &err) < 0)
        log_warn("sweep", "sweep failed: %s", err.msg);
    else if (reaped || timed || expired || fired)
        log_info("sweep", "reaped=%d timed_out=%d sessions_expired=%d schedules_fired=%d", reaped,
                 timed, expired, fired);
    j->status = 0;
}

void work_exec(const struct work_env *env, struct db *db, struct job *j)
{
    /* Notice a connection the server closed while it sat idle (a restart, a terminated
     * backend): libpq's socket is non-blocking, so this reads only what already arrived, and
     * the next db_ensure reconnects instead of failing this request. */
    for (int i = 0; i < 2 && db->conn && PQstatus(db->conn) == CONNECTION_OK; i++)
        PQconsumeInput(db->conn); /* twice: the FATAL message, then the end of the stream */
    switch (j->kind) {
    case JOB_MCP:
        work_jrpc(env, db, j, true);
        break;
    case JOB_RPC:
        work_jrpc(env, db, j, false);
        break;
    case JOB_MCP_DELETE: {
        struct err err = {0};
        bool deleted = false;

        if (work_auth(env, db, j, true) < 0)
            break;
        sesscache_forget(j->session);
        if (sessions_delete(db, j->session, j->who.token_id, &deleted, &err) < 0)
            job_reply_json(j, 503,
                           jrpc_error(NULL, JRPC_SERVER_ERROR, "database unavailable", NULL));
        else if (!deleted)
            job_reply_json(j, 404, jrpc_error(NULL, JRPC_SERVER_ERROR, "Session not found", NULL));
        else
            job_reply_json(j, 200, NULL);
        break;
    }
    case JOB_TOOLS_CALL:
        work_tools_call(env, db, j);
        break;
    case JOB_HEARTBEAT:
        work_heartbeat(env, db, j);
        break;
    case JOB_CLAIM:
        work_claim(env, db, j);
        break;
    case JOB_API:
        work_api(env, db, j);
        break;
    case JOB_READY:
        work_ready(db, j);
        break;
    case JOB_SWEEP:
        work_sweep(db, j);
        break;
    case JOB_RECHECK: {
        struct err err = {0};
        int n = 0;

        if (queue_runnable(db, j->nevents > 0 ? j->nevents : 1, &n, &err) < 0) {
            log_warn("server", "recheck failed: %s", err.msg);
            n = -1;
        }
        j->nevents = n;
        break;
    }
    case JOB_SSE_FETCH:
        work_sse_fetch(db, j);
        break;
    case JOB_WS_AUTH:
        if (work_auth(env, db, j, true) == 0)
            j->status = 0; /* accepted: nothing to send */
        break;
    default:
        break;
    }
}

void work_run(struct workers_worker *w, struct job *j, void *arg)
{
    work_exec((const struct work_env *)arg, &w->db, j);
}
