/* Job execution on worker threads: the job <-> protocol-layer adapter. */
#include "net/work.h"
#include "api/ops.h"
#include "api/router.h"
#include "core/clock.h"
#include "core/mem.h"
#include "mcp/jrpc.h"
#include "mcp/mcp_serve.h"
#include "mcp/tools.h"

#include <stdlib.h>
#include <string.h>

/* Take the reply body out of `rp` into the job. */
static void work_take(struct job *j, int status, char **out, size_t len)
{
    free(j->out);
    j->out = *out;
    j->out_len = len;
    j->status = status;
    *out = NULL;
}

static void work_mcp(struct svc_ctx *svc, struct job *j, enum mcp_serve_kind kind)
{
    struct mcp_request rq = {
        .kind = kind,
        .ws = j->ws,
        .body = j->body,
        .body_len = j->body_len,
        .token = j->token,
        .session = j->session,
        .version = j->version,
        .agent_hdr = j->agent_hdr,
        .slow_ok = j->slow,
        .agent_id = j->agent_id,
        .jrpc_id = j->jrpc_id,
        .wrap = j->wrap == JOB_WRAP_TOOL     ? MCP_WRAP_TOOL
                : j->wrap == JOB_WRAP_MODERN ? MCP_WRAP_MODERN
                                             : MCP_WRAP_JRPC,
        .deadline_ms = j->deadline_ms,
        .now_ms = clock_ms(),
    };
    struct mcp_reply rp = {0};
    struct mcp_headers h = {.version = j->version,
                            .method = j->mcp_method,
                            .name = j->mcp_name,
                            .too_long = j->mcp_hdr_long};
    const char *pnames[MCP_HEADERS_PARAMS_MAX];
    size_t np = tools_header_names(pnames, MCP_HEADERS_PARAMS_MAX);

    for (size_t i = 0; i < np; i++)
        if (j->mcp_params[i])
            h.params[h.nparams++] = (struct mcp_header_param){pnames[i], j->mcp_params[i]};
    rq.hdrs = j->mcp_hdrs ? &h : NULL;
    mcp_serve(svc, &rq, &rp);
    j->reroute = rp.reroute;
    if (rp.stream_fetch) { /* subscriptions/listen: the connection becomes an event stream */
        _Static_assert(sizeof(j->stream.arg) >= sizeof(rp.stream_arg), "stream state fits");
        _Static_assert(API_STREAM_CURSOR_MAX == 128, "the cursor mcp_listen.h keeps");
        j->is_stream = true;
        j->stream.fetch = rp.stream_fetch;
        memcpy(j->stream.arg, rp.stream_arg, sizeof(rp.stream_arg));
        j->stream.cursor[0] = '\0';
        j->status = 200;
        j->who = rp.who;
        mcp_reply_clear(&rp);
        return;
    }
    work_take(j, rp.status, &rp.out, rp.out_len);
    j->www_auth = rp.www_auth;
    j->close_ws = rp.close_ws;
    j->who = rp.who;
    if (rp.new_session[0])
        j->new_session = mem_strdup(rp.new_session);
    if (rp.cancel_id)
        j->cancel_id = json_incref(rp.cancel_id);
    j->park_seconds = rp.park_seconds;
    if (rp.park_seconds > 0 && kind != MCP_SERVE_CLAIM) {
        j->wrap = rp.wrap == MCP_WRAP_TOOL     ? JOB_WRAP_TOOL
                  : rp.wrap == MCP_WRAP_MODERN ? JOB_WRAP_MODERN
                                               : JOB_WRAP_JRPC;
        json_decref(j->jrpc_id);
        j->jrpc_id = rp.park_id ? json_incref(rp.park_id) : NULL;
        memcpy(j->agent_id, rp.agent_id, sizeof(j->agent_id));
    }
    mcp_reply_clear(&rp);
}

static void work_api(struct svc_ctx *svc, struct job *j)
{
    struct api_request req = {0};
    struct api_response resp = {0};

    req.method = j->method;
    req.path = j->path;
    req.query = j->query ? j->query : "";
    req.body = j->body;
    req.body_len = j->body_len;
    req.idempotency_key = j->idem_key;
    req.last_event_id = j->last_event_id;
    req.slow_ok = j->slow;
    req.hook_headers = j->hook_hdrs;
    router_serve(svc, j->token, &req, &resp, &j->who);
    if (resp.reroute) { /* a handler that calls out: again, on the slow workers */
        j->reroute = true;
        json_decref(resp.body);
        free(resp.raw);
        return;
    }
    j->www_auth = resp.status == 401;
    if (resp.stream.fetch && resp.status < 300) {
        j->is_stream = true;
        j->stream = resp.stream;
        j->status = 200;
        json_decref(resp.body);
        free(resp.raw);
        return;
    }
    if (resp.raw) {
        work_take(j, resp.status, &resp.raw, resp.raw_len);
        j->content_type = resp.content_type ? resp.content_type : "text/plain";
        json_decref(resp.body);
        return;
    }
    job_reply_json(j, resp.status, resp.body);
}

static void work_ops(struct svc_ctx *svc, struct job *j)
{
    struct api_response resp = {0};
    char *text = NULL;
    size_t len = 0;

    switch (j->kind) {
    case JOB_READY:
        ops_ready(svc, &resp);
        job_reply_json(j, resp.status, resp.body);
        break;
    case JOB_SWEEP:
        ops_sweep(svc);
        j->status = 0;
        break;
    case JOB_RECHECK:
        j->nevents = ops_runnable(svc, j->nevents > 0 ? j->nevents : 1);
        break;
    case JOB_SSE_FETCH:
        j->status = 200;
        if (ops_stream_fetch(svc, j->token, &j->stream, &text, &len) < 0)
            j->stream_end = true;
        else
            work_take(j, 200, &text, len);
        break;
    default:
        break;
    }
}

/* A ws message over its token's rate limit: the error, with the request's id; nothing for a
 * notification (JSON-RPC 2.0 answers none); null only when the id cannot be read. */
static void work_limited(struct job *j)
{
    json_t *req = json_loadb(j->body ? j->body : "", j->body_len, 0, NULL), *e;
    const json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;
    char *txt;

    j->status = 0;
    if (json_is_object(req) && !id)
        goto out;
    e = jrpc_error(id, JRPC_SERVER_ERROR, "Too Many Requests: this token's rate limit",
                   json_pack("{s:i}", "retry_after_s", j->limited_s));
    txt = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    if (txt)
        work_take(j, 200, &txt, strlen(txt));
out:
    json_decref(req);
}

void work_exec(struct svc_ctx *svc, struct job *j)
{
    if (j->kind == JOB_RPC && j->limited_s) {
        work_limited(j);
        return;
    }
    ops_refresh(svc);
    switch (j->kind) {
    case JOB_MCP:
        work_mcp(svc, j, MCP_SERVE_HTTP);
        break;
    case JOB_RPC:
        work_mcp(svc, j, MCP_SERVE_RPC);
        break;
    case JOB_MCP_DELETE:
        work_mcp(svc, j, MCP_SERVE_DELETE);
        break;
    case JOB_TOOLS_CALL:
        work_mcp(svc, j, MCP_SERVE_TOOLS_CALL);
        break;
    case JOB_HEARTBEAT:
        work_mcp(svc, j, MCP_SERVE_HEARTBEAT);
        break;
    case JOB_CLAIM:
        work_mcp(svc, j, MCP_SERVE_CLAIM);
        break;
    case JOB_WS_AUTH:
        work_mcp(svc, j, MCP_SERVE_WS_AUTH);
        break;
    case JOB_API:
        work_api(svc, j);
        break;
    default:
        work_ops(svc, j);
        break;
    }
}

void work_run(struct workers_worker *w, struct job *j, void *arg)
{
    (void)arg;
    work_exec(w->ctx, j);
}
