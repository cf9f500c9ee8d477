/* MCP requests from the transport: auth, sessions, parse, dispatch. Worker threads. */
#include "mcp/mcp_serve.h"
#include "mcp/mcp_listen.h"
#include "core/mem.h"
#include "mcp/jrpc.h"
#include "mcp/mcp.h"
#include "mcp/mcp_meta.h"
#include "mcp/mcp_modern.h"
#include "mcp/tools.h"
#include "mcp/tools_submit.h"
#include "svc/svc_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void mcp_reply_clear(struct mcp_reply *rp)
{
    free(rp->out);
    json_decref(rp->park_id);
    json_decref(rp->cancel_id);
    memset(rp, 0, sizeof(*rp));
}

/* Serialise `body` (stolen) as the reply with `status`. */
static void mcp_serve_json(struct mcp_reply *rp, int status, json_t *body)
{
    free(rp->out);
    rp->out = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    rp->out_len = rp->out ? strlen(rp->out) : 0;
    rp->status = status;
    json_decref(body);
}

/* The REST-style error body {"error": {"code", "message"}} of the seed endpoints. */
static void mcp_serve_error(struct mcp_reply *rp, const struct err *e)
{
    mcp_serve_json(rp, err_http_status(e->code),
                   json_pack("{s:{s:s,s:s}}", "error", "code", err_name(e), "message", e->msg));
}

static void mcp_serve_auth_fail(const struct mcp_request *rq, struct mcp_reply *rp, int status,
                                const char *code, const char *msg)
{
    if (rq->ws) {
        mcp_serve_json(rp, 200, jrpc_error(NULL, JRPC_UNAUTHORIZED, msg, NULL));
        rp->close_ws = true;
        return;
    }
    mcp_serve_json(rp, status, json_pack("{s:s,s:s}", "error", code, "error_description", msg));
    rp->www_auth = status == 401;
}

/*
 * Authenticate into rp->who: only agent tokens may call MCP and the seed endpoints. Returns 0,
 * or -1 with the reply set.
 */
static int mcp_serve_auth(struct svc_ctx *c, const struct mcp_request *rq, struct mcp_reply *rp)
{
    const struct cfg *cfg = c->env->cfg;
    struct err err = {0};

    memset(&rp->who, 0, sizeof(rp->who));
    if (cfg && !cfg->auth) {
        snprintf(rp->who.name, sizeof(rp->who.name), "auth-off");
        return 0;
    }
    if (!rq->token) {
        mcp_serve_auth_fail(rq, rp, 401, "invalid_token", "missing bearer token");
        return -1;
    }
    if (svc_auth_verify(c, rq->token, &rp->who, &err) < 0) {
        if (err.code == ERR_UNAVAILABLE) {
            if (rq->ws)
                mcp_serve_json(rp, 200, jrpc_error(NULL, JRPC_SERVER_ERROR, err.msg, NULL));
            else
                mcp_serve_json(rp, 503,
                               json_pack("{s:{s:s,s:s}}", "error", "code", "unavailable", "message",
                                         "database unavailable, retry shortly"));
            return -1;
        }
        mcp_serve_auth_fail(rq, rp, 401, "invalid_token", err.msg);
        return -1;
    }
    /* Agents, and submitters (tools_submit.h: a developer's agent handing work to the pool). */
    if (rp->who.scope != PRINCIPAL_AGENT && !tools_submit_scope(cfg, &rp->who)) {
        mcp_serve_auth_fail(rq, rp, 403, "insufficient_scope",
                            "this endpoint needs an agent token (or a developer token)");
        return -1;
    }
    if (rq->agent_hdr && strcasecmp(rq->agent_hdr, rp->who.agent_id) != 0) {
        mcp_serve_auth_fail(rq, rp, 403, "forbidden",
                            "X-Agent-ID does not match the agent of this token");
        return -1;
    }
    return 0;
}

static void mcp_serve_ctx(struct svc_ctx *c, const struct mcp_request *rq, struct mcp_reply *rp,
                          struct mcp_ctx *m)
{
    const struct cfg *cfg = c->env->cfg;

    memset(m, 0, sizeof(*m));
    m->svc = c;
    m->who = &rp->who;
    m->agent_hint = cfg && !cfg->auth ? rq->agent_hdr : NULL;
    m->allow_park = true;
    /* The seed's plain endpoints take the seed's shapes; /mcp and /ws are MCP as the SDKs speak it.
     */
    m->seed = (rq->kind == MCP_SERVE_RPC && !rq->ws) || rq->kind == MCP_SERVE_TOOLS_CALL ||
              rq->kind == MCP_SERVE_HEARTBEAT;
}

/* The held-claim bookkeeping common to every transport. */
static void mcp_serve_park(struct mcp_reply *rp, struct mcp_ctx *m, enum mcp_wrap wrap)
{
    rp->park_seconds = m->park_seconds;
    rp->wrap = wrap;
    json_decref(rp->park_id);
    rp->park_id = m->park_id ? json_incref(m->park_id) : NULL;
    snprintf(rp->agent_id, sizeof(rp->agent_id), "%s", tools_agent(m));
}

/* A body that does not parse: 400 with the JSON-RPC error (the SDK's answer), or a ws reply. */
static json_t *mcp_serve_parse(const struct mcp_request *rq, struct mcp_reply *rp)
{
    json_t *msg = NULL;
    int code;
    char emsg[256];
    /* A 2026-07-28 POST (its header says so): the _meta envelope from the thread's cache. */
    bool modern = rq->hdrs && rq->version && !mcp_version_supported(rq->version);

    if ((modern ? mcp_meta_parse : jrpc_parse)(rq->body, rq->body_len, &msg, &code, emsg,
                                               sizeof(emsg)) < 0) {
        mcp_serve_json(rp, 400, jrpc_error(NULL, code, emsg, NULL));
        return NULL;
    }
    return msg;
}

static bool mcp_serve_is_initialize(const json_t *msg)
{
    const json_t *m = json_object_get(msg, "method");

    return json_is_object(msg) && json_is_string(m) &&
           strcmp(json_string_value(m), "initialize") == 0;
}

/* Legacy-era sessions on /mcp: 0 to go on (m set up), -1 with the reply set. */
static int mcp_serve_session(struct svc_ctx *c, const struct mcp_request *rq, struct mcp_reply *rp,
                             const json_t *msg, struct mcp_ctx *m)
{
    struct err err = {0};
    bool found = false;

    m->sessions = true;
    if (!rq->session) {
        if (mcp_serve_is_initialize(msg))
            return 0;
        mcp_serve_json(rp, 400,
                       jrpc_error(jrpc_id(msg), JRPC_SERVER_ERROR,
                                  "Bad Request: Mcp-Session-Id header is required", NULL));
        return -1;
    }
    if (svc_sessions_check(c, rq->session, rp->who.token_id, &found, &err) < 0) {
        mcp_serve_json(rp, 503,
                       jrpc_error(jrpc_id(msg), JRPC_SERVER_ERROR, "database unavailable", NULL));
        return -1;
    }
    if (!found) {
        mcp_serve_json(rp, 404,
                       jrpc_error(jrpc_id(msg), JRPC_SERVER_ERROR, "Session not found", NULL));
        return -1;
    }
    m->session_id = rq->session;
    m->sessions = false; /* re-initialising inside a session keeps it */
    return 0;
}

/* A tools/call of a slow tool, alone or in a batch. */
static bool mcp_serve_is_slow(const json_t *msg)
{
    size_t i;
    const json_t *m;

    if (json_is_array(msg)) {
        json_array_foreach(msg, i, m)
        {
            if (mcp_serve_is_slow(m))
                return true;
        }
        return false;
    }
    m = json_object_get(msg, "method");
    return json_is_string(m) && strcmp(json_string_value(m), "tools/call") == 0 &&
           tools_slow(json_string_value(json_object_get(json_object_get(msg, "params"), "name")));
}

/* A 2026-07-28 request: stateless (no session, Mcp-Session-Id ignored), headers checked. */
static void mcp_serve_modern(struct svc_ctx *c, const struct mcp_request *rq, struct mcp_reply *rp,
                             const json_t *msg, struct mcp_ctx *m)
{
    json_t *reply = NULL;
    int status;

    (void)c;
    if (!rq->slow_ok && mcp_serve_is_slow(msg)) {
        rp->reroute = true;
        return;
    }
    m->can_stream = rq->kind == MCP_SERVE_HTTP && !rq->ws;
    mcp_modern_handle(m, msg, rq->ws ? NULL : rq->hdrs, &reply, &status);
    if (m->listen) {
        rp->status = 200;
        rp->stream_fetch = mcp_listen_fetch;
        memcpy(rp->stream_arg, m->listen_arg, sizeof(rp->stream_arg));
        json_decref(reply);
    } else if (m->park_seconds > 0) {
        mcp_serve_park(rp, m, MCP_WRAP_MODERN);
        json_decref(reply);
    } else if (reply)
        mcp_serve_json(rp, status, reply);
    else
        rp->status = rq->ws ? 0 : 202;
}

static void mcp_serve_jrpc(struct svc_ctx *c, const struct mcp_request *rq, struct mcp_reply *rp,
                           bool sessions)
{
    struct mcp_ctx m;
    json_t *msg, *reply = NULL;
    const char *why;

    if (mcp_serve_auth(c, rq, rp) < 0 || !(msg = mcp_serve_parse(rq, rp)))
        return;
    mcp_serve_ctx(c, rq, rp, &m);
    if (json_is_object(msg) && mcp_modern_is(msg, rq->version)) {
        mcp_serve_modern(c, rq, rp, msg, &m);
        goto out;
    }
    if (json_is_array(msg) && rq->version && !mcp_version_supported(rq->version)) {
        mcp_serve_json(rp, 400,
                       jrpc_error(NULL, JRPC_INVALID_REQUEST,
                                  "Invalid Request: batches exist only in protocol 2025-03-26",
                                  NULL));
        goto out;
    }
    if (sessions && mcp_serve_session(c, rq, rp, msg, &m) < 0)
        goto out;
    if (!rq->slow_ok && mcp_serve_is_slow(msg)) {
        rp->reroute = true;
        goto out;
    }
    /* A lone message that is not JSON-RPC at all is the transport's 400. */
    if (!rq->ws && json_is_object(msg) && jrpc_classify(msg, &why) == JRPC_KIND_INVALID) {
        char buf[200];
        snprintf(buf, sizeof(buf), "Invalid Request: %s", why);
        mcp_serve_json(rp, 400, jrpc_error(jrpc_id(msg), JRPC_INVALID_REQUEST, buf, NULL));
        goto out;
    }
    mcp_handle(&m, msg, rq->version, &reply);
    memcpy(rp->new_session, m.new_session, sizeof(rp->new_session));
    if (m.cancel_id)
        rp->cancel_id = json_incref(m.cancel_id);
    if (m.park_seconds > 0)
        mcp_serve_park(rp, &m, MCP_WRAP_JRPC);
    else if (reply)
        mcp_serve_json(rp, 200, reply);
    else
        rp->status = rq->ws ? 0 : 202; /* notifications and responses: accepted, no body */
    reply = NULL;
out:
    json_decref(reply);
    json_decref(msg);
    mcp_ctx_clear(&m);
}

static void mcp_serve_tools_call(struct svc_ctx *c, const struct mcp_request *rq,
                                 struct mcp_reply *rp)
{
    struct mcp_ctx m;
    json_t *msg, *result = NULL;
    const json_t *name, *args;
    struct err e = {0};

    if (mcp_serve_auth(c, rq, rp) < 0 || !(msg = mcp_serve_parse(rq, rp)))
        return;
    mcp_serve_ctx(c, rq, rp, &m);
    name = json_object_get(msg, "name");
    args = json_object_get(msg, "arguments");
    if (!json_is_string(name) || (args && !json_is_null(args) && !json_is_object(args))) {
        err_set(&e, ERR_INVALID, "body must be {\"name\": \"<tool>\", \"arguments\": {...}}");
        mcp_serve_error(rp, &e);
        goto out;
    }
    if (!rq->slow_ok && tools_slow(json_string_value(name))) {
        rp->reroute = true;
        goto out;
    }
    tools_call(&m, json_string_value(name), json_is_object(args) ? args : NULL, &result, &e);
    if (!result && m.park_seconds > 0)
        mcp_serve_park(rp, &m, MCP_WRAP_TOOL);
    else
        mcp_serve_json(rp, 200, result);
out:
    json_decref(msg);
    mcp_ctx_clear(&m);
}

/* The seed's POST /heartbeat: its camelCase body, the bare heartbeat result or the error. */
static void mcp_serve_heartbeat(struct svc_ctx *c, const struct mcp_request *rq,
                                struct mcp_reply *rp)
{
    static const char *const copy[][2] = {{"agentId", "agentId"},
                                          {"status", "status"},
                                          {"taskIds", "task_ids"},
                                          {"task_ids", "task_ids"},
                                          {"usage", "usage"}};
    struct mcp_ctx m;
    json_t *msg, *args = NULL, *result = NULL;
    const json_t *agent, *sc;
    struct err e = {0};

    if (mcp_serve_auth(c, rq, rp) < 0 || !(msg = mcp_serve_parse(rq, rp)))
        return;
    mcp_serve_ctx(c, rq, rp, &m);
    agent = json_object_get(msg, "agentId");
    if (!json_is_object(msg) || (agent && !json_is_string(agent))) {
        err_set(&e, ERR_INVALID, "body must be {\"agentId\", \"status\", ...}");
        mcp_serve_error(rp, &e);
        goto out;
    }
    args = json_object();
    for (size_t i = 0; i < sizeof(copy) / sizeof(copy[0]); i++)
        if (json_object_get(msg, copy[i][0]))
            json_object_set(args, copy[i][1], json_object_get(msg, copy[i][0]));
    tools_call(&m, "heartbeat", args, &result, &e);
    sc = json_object_get(result, "structuredContent");
    if (sc)
        mcp_serve_json(rp, 200, json_incref((json_t *)sc));
    else
        mcp_serve_error(rp, &e); /* the tool's own error, with its class's status */
out:
    json_decref(result);
    json_decref(args);
    json_decref(msg);
    mcp_ctx_clear(&m);
}

int mcp_serve_ws_peek(const struct svc_env *env, const char *token)
{
    struct principal who;

    if (!svc_auth_peek(env, token, &who))
        return 0;
    return who.scope == PRINCIPAL_AGENT || tools_submit_scope(env->cfg, &who) ? 1 : -1;
}

/* A held get_next_task, once more: the task, or keep holding, or {task: null} at the deadline. */
static void mcp_serve_claim(struct svc_ctx *c, const struct mcp_request *rq, struct mcp_reply *rp)
{
    struct mcp_ctx m;
    json_t *result = NULL;

    mcp_serve_ctx(c, rq, rp, &m);
    tools_claim(&m, rq->agent_id, &result);
    mcp_ctx_clear(&m);
    if (!result) {
        if (rq->now_ms < rq->deadline_ms) {
            rp->park_seconds = 1; /* still nothing: keep holding */
            return;
        }
        mcp_serve_json(rp, 200,
                       mcp_reply_held_empty(rq->wrap == MCP_WRAP_TOOL, rq->wrap == MCP_WRAP_MODERN,
                                            rq->jrpc_id));
        return;
    }
    rp->park_seconds = 0;
    if (rq->wrap == MCP_WRAP_MODERN)
        result = mcp_modern_complete(result);
    mcp_serve_json(rp, 200, rq->wrap == MCP_WRAP_TOOL ? result : jrpc_result(rq->jrpc_id, result));
}

static void mcp_serve_delete(struct svc_ctx *c, const struct mcp_request *rq, struct mcp_reply *rp)
{
    struct err err = {0};
    bool deleted = false;

    if (mcp_serve_auth(c, rq, rp) < 0)
        return;
    if (svc_sessions_delete(c, rq->session, rp->who.token_id, &deleted, &err) < 0)
        mcp_serve_json(rp, 503, jrpc_error(NULL, JRPC_SERVER_ERROR, "database unavailable", NULL));
    else if (!deleted)
        mcp_serve_json(rp, 404, jrpc_error(NULL, JRPC_SERVER_ERROR, "Session not found", NULL));
    else
        mcp_serve_json(rp, 200, NULL);
}

void mcp_serve(struct svc_ctx *c, const struct mcp_request *rq, struct mcp_reply *rp)
{
    switch (rq->kind) {
    case MCP_SERVE_HTTP:
        mcp_serve_jrpc(c, rq, rp, true);
        break;
    case MCP_SERVE_RPC:
        mcp_serve_jrpc(c, rq, rp, false);
        break;
    case MCP_SERVE_DELETE:
        mcp_serve_delete(c, rq, rp);
        break;
    case MCP_SERVE_TOOLS_CALL:
        mcp_serve_tools_call(c, rq, rp);
        break;
    case MCP_SERVE_HEARTBEAT:
        mcp_serve_heartbeat(c, rq, rp);
        break;
    case MCP_SERVE_CLAIM:
        mcp_serve_claim(c, rq, rp);
        break;
    case MCP_SERVE_WS_AUTH:
        if (mcp_serve_auth(c, rq, rp) == 0)
            rp->status = 0; /* accepted: nothing to send */
        break;
    }
}
