/*
 * The route table: for each path (exact, a prefix, or anything else: the dashboard) the
 * methods it takes (any other gets 405 with Allow), whether each reads a request body, which
 * job it starts on a worker, and the handler. http_request (net/http.c) calls route_dispatch
 * once the checks every path shares passed. Service thread only.
 */
#include "core/mem.h"
#include "mcp/jrpc.h"
#include "mcp/mcp.h"
#include "mcp/mcp_auth.h"
#include "mcp/tools.h"
#include "net/assets.h"
#include "net/hdr.h"
#include "net/server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct route_method;

/* One request being routed. */
struct route_req {
    struct server *s;
    struct lws *wsi;
    struct http_txn *t;
    const char *method, *path;
    const struct route_method *rm; /* the rule it matched */
};

/* Answers the request or starts its job: 0, or -1 to close the connection. */
typedef int (*route_fn)(const struct route_req *rq);

/* One method a route takes. */
struct route_method {
    const char *method; /* NULL: any method */
    route_fn fn;
    bool job; /* starts a job of `kind` on a worker; false: answered right here */
    enum job_kind kind;
    enum http_body body;
};

enum route_match {
    ROUTE_EXACT,
    ROUTE_PREFIX,
    ROUTE_ANY, /* the last row: what no other row takes */
};

struct route {
    const char *path;
    enum route_match match;
    const struct route_method *methods;
    const char *allow; /* the Allow header of a 405; NULL when a rule takes any method */
    bool jrpc_405;     /* the 405 is a JSON-RPC error (an MCP transport), else a REST error */
};

/* Start the matched rule's job; it goes to a worker now unless a body is still to come. */
static int route_job(const struct route_req *rq)
{
    int n = http_job_begin(rq->s, rq->wsi, rq->t, rq->rm->kind, rq->rm->body);

    return n == 1 ? http_job_submit(rq->s, rq->wsi, rq->t) : n;
}

static int route_health(const struct route_req *rq)
{
    http_reply_json(rq->wsi, rq->t, 200, json_pack("{s:s}", "status", "ok"));
    return 0;
}

static int route_ready(const struct route_req *rq)
{
    /* Shutting down (its own agents still handing tasks back): out of the load balancer. */
    if (rq->s->closing) {
        http_reply_json(rq->wsi, rq->t, 503, json_pack("{s:s}", "status", "stopping"));
        return 0;
    }
    return route_job(rq);
}

/*
 * MCP-Protocol-Version into v[vsz]; which versions are spoken is the worker's decision (it reads
 * the body: the era, the request's id). false: too long to repeat, answered 400 here.
 */
static bool route_mcp_version(const struct route_req *rq, char *v, int vsz)
{
    if (hdr_custom(rq->wsi, "mcp-protocol-version:", v, vsz) != -2)
        return true;
    http_reply_json(rq->wsi, rq->t, 400, mcp_reply_version_unsupported(NULL));
    return false;
}

/* One request metadata header (2026-07-28) into *out (owned, NULL when absent). */
static void route_mcp_hdr(struct lws *wsi, const char *name, char **out, bool *too_long)
{
    char b[MCP_HEADERS_VALUE_MAX];
    int n = hdr_custom(wsi, name, b, sizeof(b));

    if (n == -2)
        *too_long = true;
    else if (n >= 0)
        *out = mem_strdup(b);
}

/* Mcp-Method, Mcp-Name and the Mcp-Param-* headers the tools declare, for the worker to check. */
static void route_mcp_hdrs(struct lws *wsi, struct job *j)
{
    const char *names[MCP_HEADERS_PARAMS_MAX];
    size_t n = tools_header_names(names, MCP_HEADERS_PARAMS_MAX);
    char hname[96];

    j->mcp_hdrs = true;
    route_mcp_hdr(wsi, "mcp-method:", &j->mcp_method, &j->mcp_hdr_long);
    route_mcp_hdr(wsi, "mcp-name:", &j->mcp_name, &j->mcp_hdr_long);
    for (size_t i = 0; i < n; i++) {
        snprintf(hname, sizeof(hname), "mcp-param-%.60s:", names[i]);
        for (char *p = hname; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        route_mcp_hdr(wsi, hname, &j->mcp_params[i], &j->mcp_hdr_long);
    }
}

static int route_mcp_post(const struct route_req *rq)
{
    char v[64];
    int n;

    if (!route_mcp_version(rq, v, sizeof(v)))
        return 0;
    if (!hdr_accept_ok(rq->wsi))
        return http_reply_jrpc(
            rq->wsi, rq->t, 406, JRPC_SERVER_ERROR,
            "Not Acceptable: Client must accept both application/json and text/event-stream");
    if (!hdr_ctype_json(rq->wsi))
        return http_reply_jrpc(rq->wsi, rq->t, 415, JRPC_SERVER_ERROR,
                               "Unsupported Media Type: Content-Type must be application/json");
    n = http_job_begin(rq->s, rq->wsi, rq->t, rq->rm->kind, rq->rm->body);
    if (rq->t->job) { /* a missing header means 2025-03-26 (the spec's fallback) */
        rq->t->job->version = v[0] ? mem_strdup(v) : NULL;
        route_mcp_hdrs(rq->wsi, rq->t->job);
    }
    return n == 1 ? http_job_submit(rq->s, rq->wsi, rq->t) : n;
}

static int route_mcp_delete(const struct route_req *rq)
{
    char v[64];

    if (!route_mcp_version(rq, v, sizeof(v)))
        return 0;
    if (lws_hdr_custom_length(rq->wsi, "mcp-session-id:", 15) <= 0)
        return http_reply_jrpc(rq->wsi, rq->t, 400, JRPC_SERVER_ERROR,
                               "Bad Request: Mcp-Session-Id header is required");
    return route_job(rq);
}

/* The seed's plain endpoints: /rpc, /tools/call, /heartbeat. */
static int route_seed(const struct route_req *rq)
{
    if (!hdr_ctype_json(rq->wsi))
        return http_reply_error(rq->wsi, rq->t, ERR_MEDIA_TYPE, NULL,
                                "Content-Type must be application/json");
    return route_job(rq);
}

/* The REST router (api/router.h) decides per path and method, on the worker. */
static int route_api(const struct route_req *rq)
{
    struct http_txn *t = rq->t;
    int n = http_job_begin(rq->s, rq->wsi, t, rq->rm->kind, rq->rm->body);

    if (t->job) {
        t->job->method = mem_strdup(rq->method);
        t->job->path = mem_strdup(rq->path);
        t->job->query = hdr_query(rq->wsi);
        t->job->idem_key = hdr_custom_dup(rq->wsi, "idempotency-key:", 256);
        t->job->last_event_id = hdr_custom_dup(rq->wsi, "last-event-id:", 64);
        if (strncmp(rq->path, "/api/hooks/", 11) == 0)
            t->job->hook_hdrs = hdr_hooks(rq->wsi);
    }
    return n == 1 ? http_job_submit(rq->s, rq->wsi, t) : n;
}

/* RFC 9728 protected-resource metadata: only where auth is on (there is nothing to get). */
static int route_prm(const struct route_req *rq)
{
    char host[260], base[MCP_AUTH_BASE_MAX];

    if (!rq->s->cfg->auth)
        return http_reply_error(rq->wsi, rq->t, ERR_NOT_FOUND, NULL, "authentication is off");
    if (mcp_auth_base(rq->s->cfg,
                      hdr_copy(rq->wsi, WSI_TOKEN_HOST, host, sizeof(host)) > 0 ? host : NULL, base,
                      sizeof(base)) < 0)
        return http_reply_error(rq->wsi, rq->t, ERR_INVALID, NULL,
                                "a Host header is needed (or set --public-url)");
    http_reply_json(rq->wsi, rq->t, 200,
                    mcp_auth_metadata(rq->s->cfg, base, strcmp(rq->path, MCP_AUTH_PRM_PATH) != 0));
    return 0;
}

/* The challenge a 401 of this request will carry: it points to the metadata above. */
static void route_challenge(struct server *s, struct lws *wsi, struct http_txn *t, const char *path)
{
    char host[260], base[MCP_AUTH_BASE_MAX], ch[MCP_AUTH_BASE_MAX + 160];

    if (!s->cfg->auth ||
        mcp_auth_base(s->cfg, hdr_copy(wsi, WSI_TOKEN_HOST, host, sizeof(host)) > 0 ? host : NULL,
                      base, sizeof(base)) < 0)
        return;
    mcp_auth_challenge(base, strncmp(path, "/mcp", 4) == 0 || strcmp(path, "/ws") == 0, ch,
                       sizeof(ch));
    free(t->challenge);
    t->challenge = mem_strdup(ch);
}

/* A plain GET of /ws: the upgrade is handled before routing (net/ws.c). */
static int route_ws(const struct route_req *rq)
{
    return http_reply_error(rq->wsi, rq->t, ERR_UPGRADE, NULL,
                            "/ws is a WebSocket endpoint (subprotocol mcp)");
}

/* The embedded dashboard (net/assets.h). */
static int route_asset(const struct route_req *rq)
{
    const struct assets_file *f = assets_find(rq->path);

    if (!f)
        return http_reply_error(rq->wsi, rq->t, ERR_NOT_FOUND, NULL, "no such page");
    rq->t->is_asset = true;
    http_reply(rq->wsi, rq->t, 200, assets_mime(f->path), f->data, f->len);
    return 0;
}

/* Each route's methods, first match first; {0} ends a list. */
static const struct route_method route_any_health[] = {
    {NULL, route_health, false, 0, HTTP_NO_BODY},
    {0},
};
static const struct route_method route_any_ready[] = {
    {NULL, route_ready, true, JOB_READY, HTTP_NO_BODY},
    {0},
};
static const struct route_method route_mcp_methods[] = {
    {"POST", route_mcp_post, true, JOB_MCP, HTTP_BODY_JRPC},
    {"DELETE", route_mcp_delete, true, JOB_MCP_DELETE, HTTP_NO_BODY},
    {0},
};
static const struct route_method route_rpc_methods[] = {
    {"POST", route_seed, true, JOB_RPC, HTTP_BODY_JRPC},
    {0},
};
static const struct route_method route_tools_call_methods[] = {
    {"POST", route_seed, true, JOB_TOOLS_CALL, HTTP_BODY},
    {0},
};
static const struct route_method route_heartbeat_methods[] = {
    {"POST", route_seed, true, JOB_HEARTBEAT, HTTP_BODY},
    {0},
};
/* Any method: the REST router answers 405 itself. Bodies for the methods that carry one. */
static const struct route_method route_api_methods[] = {
    {"POST", route_api, true, JOB_API, HTTP_BODY},
    {"PUT", route_api, true, JOB_API, HTTP_BODY},
    {"PATCH", route_api, true, JOB_API, HTTP_BODY},
    {NULL, route_api, true, JOB_API, HTTP_NO_BODY},
    {0},
};
static const struct route_method route_any_ws[] = {
    {NULL, route_ws, false, 0, HTTP_NO_BODY},
    {0},
};
static const struct route_method route_get_prm[] = {
    {"GET", route_prm, false, 0, HTTP_NO_BODY},
    {0},
};
static const struct route_method route_get_asset[] = {
    {"GET", route_asset, false, 0, HTTP_NO_BODY},
    {0},
};

static const struct route route_table[] = {
    {"/health", ROUTE_EXACT, route_any_health, NULL, false},
    {"/ready", ROUTE_EXACT, route_any_ready, NULL, false},
    {"/mcp", ROUTE_EXACT, route_mcp_methods, "POST, DELETE", true},
    {"/mcp/", ROUTE_EXACT, route_mcp_methods, "POST, DELETE", true},
    {"/rpc", ROUTE_EXACT, route_rpc_methods, "POST", false},
    {"/tools/call", ROUTE_EXACT, route_tools_call_methods, "POST", false},
    {"/heartbeat", ROUTE_EXACT, route_heartbeat_methods, "POST", false},
    {"/api/", ROUTE_PREFIX, route_api_methods, NULL, false},
    {"/api", ROUTE_EXACT, route_api_methods, NULL, false},
    /* /metrics is a public route of the REST router (api/metrics.c). */
    {"/metrics", ROUTE_EXACT, route_api_methods, NULL, false},
    {"/ws", ROUTE_EXACT, route_any_ws, NULL, false},
    {MCP_AUTH_PRM_PATH, ROUTE_EXACT, route_get_prm, "GET", false},
    {MCP_AUTH_PRM_PATH "/mcp", ROUTE_EXACT, route_get_prm, "GET", false},
    {NULL, ROUTE_ANY, route_get_asset, "GET", false}, /* the dashboard */
};

static const struct route *route_find(const char *path)
{
    for (size_t i = 0;; i++) {
        const struct route *r = &route_table[i];

        if (r->match == ROUTE_ANY || (r->match == ROUTE_EXACT && strcmp(path, r->path) == 0) ||
            (r->match == ROUTE_PREFIX && strncmp(path, r->path, strlen(r->path)) == 0))
            return r;
    }
}

static const struct route_method *route_method_find(const struct route *r, const char *method)
{
    for (size_t i = 0; r->methods[i].fn; i++)
        if (!r->methods[i].method || strcmp(r->methods[i].method, method) == 0)
            return &r->methods[i];
    return NULL;
}

/* 405 with Allow, shaped like the route's other errors. */
static int route_not_allowed(struct lws *wsi, struct http_txn *t, const struct route *r)
{
    char msg[64];

    t->allow = r->allow;
    if (r->jrpc_405)
        return http_reply_jrpc(wsi, t, 405, JRPC_SERVER_ERROR, "Method not allowed.");
    snprintf(msg, sizeof(msg), "use %s", r->allow);
    return http_reply_error(wsi, t, ERR_METHOD, NULL, msg);
}

int route_dispatch(struct server *s, struct lws *wsi, struct http_txn *t, const char *method,
                   const char *path)
{
    const struct route *r = route_find(path);
    struct route_req rq = {s, wsi, t, method, path, route_method_find(r, method)};

    if (!rq.rm)
        return route_not_allowed(wsi, t, r);
    route_challenge(s, wsi, t, path);
    return rq.rm->fn(&rq);
}
