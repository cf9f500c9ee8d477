/*
 * MCP 2026-07-28 dispatch: per-request metadata, header validation, server/discover, tools.
 * Worker threads.
 */
#include "mcp/mcp_modern.h"
#include "mcp/jrpc.h"
#include "mcp/mcp_listen.h"
#include "mcp/mcp_tasks.h"
#include "mcp/tools.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A method's outcome: a result (owned) or an error (code, message, data owned) with a status. */
struct mcp_modern_out {
    json_t *result;
    int code;
    char msg[300];
    json_t *data;
    int status;
};

__attribute__((format(printf, 5, 6))) static void
mcp_modern_fail(struct mcp_modern_out *o, int status, int code, json_t *data, const char *fmt, ...)
{
    va_list ap;

    o->status = status;
    o->code = code;
    json_decref(o->data);
    o->data = data;
    va_start(ap, fmt);
    vsnprintf(o->msg, sizeof(o->msg), fmt, ap);
    va_end(ap);
}

json_t *mcp_modern_versions(void)
{
    return json_pack("[s,s,s,s]", MCP_VERSION_MODERN, "2025-11-25", "2025-06-18", "2025-03-26");
}

json_t *mcp_modern_complete(json_t *result)
{
    if (result && !json_object_get(result, "resultType")) /* "task" stays (mcp_tasks.h) */
        json_object_set_new(result, "resultType", json_string("complete"));
    return result;
}

static const json_t *mcp_modern_meta(const json_t *msg)
{
    return json_object_get(json_object_get(msg, "params"), "_meta");
}

bool mcp_modern_is(const json_t *msg, const char *hdr_version)
{
    if (json_object_get(mcp_modern_meta(msg), MCP_META_VERSION))
        return true;
    return hdr_version && !mcp_version_supported(hdr_version);
}

bool mcp_modern_has_extension(const struct mcp_ctx *c, const char *ext)
{
    return json_is_object(json_object_get(json_object_get(c->client_caps, "extensions"), ext));
}

/* Cacheable results (server/utilities/caching): everything Drover lists is the same for every
 * caller of a given scope, so "private" keeps shared caches from mixing scopes. */
static json_t *mcp_modern_cacheable(json_t *r, const char *scope)
{
    json_object_set_new(r, "ttlMs", json_integer(MCP_MODERN_TTL_MS));
    json_object_set_new(r, "cacheScope", json_string(scope));
    return r;
}

static void mcp_modern_discover(struct mcp_ctx *c, struct mcp_modern_out *o)
{
    (void)c;
    o->result = mcp_modern_cacheable(
        json_pack("{s:o, s:{s:{}, s:{s:{}}}, s:{s:{s:s, s:s, s:s}}, s:s}", "supportedVersions",
                  mcp_modern_versions(), "capabilities", "tools", "extensions", MCP_TASKS_EXT,
                  "_meta", MCP_META_SERVER, "name", "drover", "title", "Drover", "version",
                  MCP_SERVER_VERSION, "instructions", mcp_instructions()),
        "public");
}

static void mcp_modern_tools_list(struct mcp_ctx *c, const json_t *params, struct mcp_modern_out *o)
{
    (void)c;
    if (json_object_get(params, "cursor")) { /* one page: we never hand out cursors */
        mcp_modern_fail(o, 200, JRPC_INVALID_PARAMS, NULL, "invalid cursor");
        return;
    }
    /* The list depends on the caller's scope (agent or submitter): not for shared caches. */
    o->result = mcp_modern_cacheable(json_pack("{s:o}", "tools", tools_list_for(c)), "private");
}

static void mcp_modern_tools_call(struct mcp_ctx *c, const json_t *id, const json_t *params,
                                  struct mcp_modern_out *o)
{
    const json_t *name = json_object_get(params, "name");
    const json_t *args = json_object_get(params, "arguments");
    struct err err = {0};

    if (!json_is_string(name)) {
        mcp_modern_fail(o, 200, JRPC_INVALID_PARAMS, NULL,
                        "tools/call needs params.name (a string)");
        return;
    }
    if (args && !json_is_null(args) && !json_is_object(args)) {
        mcp_modern_fail(o, 200, JRPC_INVALID_PARAMS, NULL,
                        "tools/call params.arguments must be an object");
        return;
    }
    if (!tools_known(json_string_value(name))) {
        mcp_modern_fail(o, 200, JRPC_INVALID_PARAMS, NULL, "Unknown tool: %.100s",
                        json_string_value(name));
        return;
    }
    tools_call(c, json_string_value(name), json_is_object(args) ? args : NULL, &o->result, &err);
    if (!o->result && c->park_seconds > 0)
        c->park_id = json_incref((json_t *)id);
    else if (o->result)
        o->result = mcp_tasks_maybe_task(c, json_string_value(name), o->result);
}

static void mcp_modern_tasks(struct mcp_ctx *c, const char *method, const json_t *params,
                             struct mcp_modern_out *o)
{
    struct mcp_tasks_out t = {0};

    mcp_tasks_handle(c, method, params, &t);
    if (t.result) {
        o->result = t.result;
        return;
    }
    mcp_modern_fail(o, t.status, t.code, t.data, "%s", t.msg);
}

static void mcp_modern_listen(struct mcp_ctx *c, const json_t *id, const json_t *params,
                              struct mcp_modern_out *o)
{
    struct mcp_listen_out l = {0};

    mcp_listen_open(c, id, params, &l);
    if (l.code)
        mcp_modern_fail(o, l.status, l.code, l.data, "%s", l.msg);
}

/*
 * The request's version against the header, then the version itself: 0 to go on, -1 with `o`
 * set. HeaderMismatch first (a gateway may have routed on the header), then
 * UnsupportedProtocolVersion with the versions we speak and the one requested.
 */
static int mcp_modern_version(const json_t *meta, const struct mcp_headers *h,
                              struct mcp_modern_out *o)
{
    const json_t *mv = json_object_get(meta, MCP_META_VERSION);
    const char *v;

    if (mv && !json_is_string(mv)) {
        mcp_modern_fail(o, 400, JRPC_INVALID_PARAMS, NULL,
                        "Invalid params: _meta." MCP_META_VERSION " must be a string");
        return -1;
    }
    if (h && h->too_long) {
        mcp_modern_fail(o, 400, JRPC_HEADER_MISMATCH, NULL,
                        "Header mismatch: a request metadata header is too long");
        return -1;
    }
    if (h && !h->version) {
        mcp_modern_fail(o, 400, JRPC_HEADER_MISMATCH, NULL,
                        "Header mismatch: MCP-Protocol-Version header is required");
        return -1;
    }
    if (h && mv && strcmp(h->version, json_string_value(mv)) != 0) {
        mcp_modern_fail(o, 400, JRPC_HEADER_MISMATCH, NULL,
                        "Header mismatch: MCP-Protocol-Version header value '%.64s' does not "
                        "match _meta." MCP_META_VERSION,
                        h->version);
        return -1;
    }
    if (!mv && !h) { /* /ws: the version can only come from _meta */
        mcp_modern_fail(o, 400, JRPC_INVALID_PARAMS, NULL,
                        "Invalid params: _meta." MCP_META_VERSION " is required");
        return -1;
    }
    v = mv ? json_string_value(mv) : h->version;
    if (strcmp(v, MCP_VERSION_MODERN) != 0) {
        mcp_modern_fail(o, 400, JRPC_UNSUPPORTED_VERSION,
                        json_pack("{s:o, s:s}", "supported", mcp_modern_versions(), "requested", v),
                        "Unsupported protocol version: %.64s", v);
        return -1;
    }
    return 0;
}

/* The required _meta fields (basic/index) of a message's params and params._meta: 0, or -1
 * with `o` set (-32602, HTTP 400). */
static int mcp_modern_meta_ok(struct mcp_ctx *c, const json_t *params, const json_t *meta,
                              struct mcp_modern_out *o)
{
    const json_t *caps = json_object_get(meta, MCP_META_CAPS);
    const json_t *info = json_object_get(meta, MCP_META_CLIENT);

    if (params && !json_is_object(params)) {
        mcp_modern_fail(o, 400, JRPC_INVALID_PARAMS, NULL,
                        "Invalid params: params must be an "
                        "object");
        return -1;
    }
    if (!json_is_object(meta)) {
        mcp_modern_fail(o, 400, JRPC_INVALID_PARAMS, NULL,
                        "Invalid params: params._meta is required (protocol %s)",
                        MCP_VERSION_MODERN);
        return -1;
    }
    if (!json_is_string(json_object_get(meta, MCP_META_VERSION))) {
        mcp_modern_fail(o, 400, JRPC_INVALID_PARAMS, NULL,
                        "Invalid params: _meta." MCP_META_VERSION " is required");
        return -1;
    }
    if (!json_is_object(caps)) {
        mcp_modern_fail(o, 400, JRPC_INVALID_PARAMS, NULL,
                        "Invalid params: _meta." MCP_META_CAPS " (an object) is required");
        return -1;
    }
    if (info && !json_is_object(info)) {
        mcp_modern_fail(o, 400, JRPC_INVALID_PARAMS, NULL,
                        "Invalid params: _meta." MCP_META_CLIENT " must be an object");
        return -1;
    }
    c->modern = true;
    c->client_caps = caps;
    return 0;
}

static void mcp_modern_dispatch(struct mcp_ctx *c, const json_t *id, const char *method,
                                const json_t *params, struct mcp_modern_out *o)
{
    if (strcmp(method, "server/discover") == 0)
        mcp_modern_discover(c, o);
    else if (strcmp(method, "tools/list") == 0)
        mcp_modern_tools_list(c, params, o);
    else if (strcmp(method, "tools/call") == 0)
        mcp_modern_tools_call(c, id, params, o);
    else if (mcp_tasks_method(method))
        mcp_modern_tasks(c, method, params, o);
    else if (mcp_listen_method(method))
        mcp_modern_listen(c, id, params, o);
    else /* unknown, or removed in 2026-07-28 (initialize, ping, logging/setLevel, ...) */
        mcp_modern_fail(o, 404, JRPC_METHOD_NOT_FOUND, NULL, "Method not found: %.100s", method);
}

void mcp_modern_handle(struct mcp_ctx *c, const json_t *msg, const struct mcp_headers *h,
                       json_t **reply, int *status)
{
    struct mcp_modern_out o = {.status = 200};
    const char *why, *method;
    const json_t *id = jrpc_id(msg), *params, *meta;
    enum jrpc_kind kind = jrpc_classify(msg, &why);
    char hwhy[300];

    *reply = NULL;
    *status = 202;
    if (kind == JRPC_KIND_INVALID) {
        *status = 400;
        snprintf(hwhy, sizeof(hwhy), "Invalid Request: %s", why);
        *reply = jrpc_error(id, JRPC_INVALID_REQUEST, hwhy, NULL);
        return;
    }
    if (kind != JRPC_KIND_REQUEST)
        return; /* notifications and stray responses: accepted, nothing to answer */
    method = json_string_value(json_object_get(msg, "method"));
    params = json_object_get(msg, "params");
    meta = json_object_get(params, "_meta");
    if (mcp_modern_version(meta, h, &o) < 0)
        goto out;
    if (h && mcp_headers_check(
                 h, msg,
                 strcmp(method, "tools/call") == 0
                     ? tools_header_schema(json_string_value(json_object_get(params, "name")))
                     : NULL,
                 hwhy, sizeof(hwhy)) < 0) {
        mcp_modern_fail(&o, 400, JRPC_HEADER_MISMATCH, NULL, "%s", hwhy);
        goto out;
    }
    if (mcp_modern_meta_ok(c, params, meta, &o) < 0)
        goto out;
    mcp_modern_dispatch(c, id, method, params, &o);
    if (!o.result && !o.code && (c->park_seconds > 0 || c->listen))
        return; /* held, or a stream: answered later */
out:
    *status = o.status;
    if (o.result)
        *reply = jrpc_result(id, mcp_modern_complete(o.result));
    else {
        *reply = jrpc_error(id, o.code ? o.code : JRPC_INTERNAL_ERROR,
                            o.msg[0] ? o.msg : "Internal error", o.data);
        o.data = NULL;
    }
    json_decref(o.data);
}
