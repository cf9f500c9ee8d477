/*
 * MCP method dispatch: worker threads. The mcp_reply_* bodies: any thread (the transports'
 * service thread sends them).
 */
#include "mcp/mcp.h"
#include "core/log.h"
#include "mcp/jrpc.h"
#include "mcp/mcp_modern.h"
#include "mcp/tools.h"

#include <stdio.h>
#include <string.h>

static const char *const mcp_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", NULL};

static const char *const mcp_levels[] = {"debug",    "info",  "notice",    "warning", "error",
                                         "critical", "alert", "emergency", NULL};

#define MCP_INSTRUCTIONS                                                                           \
    "Drover is a task queue for coding agents. Loop: get_next_task (wait_seconds to long-poll) "   \
    "-> create_branch -> work, log_activity as you go, heartbeat every heartbeat_interval "        \
    "seconds (stop when a task comes back cancelled) -> create_pull_request -> "                   \
    "update_task_status (ready_to_test, completed or failed). Pass the task's lease_epoch on "     \
    "every call about it; ask_user_question parks the task until a human answers."

void mcp_ctx_clear(struct mcp_ctx *c)
{
    json_decref(c->park_id);
    json_decref(c->cancel_id);
    c->park_id = c->cancel_id = NULL;
    c->park_seconds = 0;
}

bool mcp_version_supported(const char *v)
{
    for (size_t i = 0; v && mcp_versions[i]; i++)
        if (strcmp(v, mcp_versions[i]) == 0)
            return true;
    return false;
}

const char *mcp_instructions(void)
{
    return MCP_INSTRUCTIONS;
}

json_t *mcp_reply_held_empty(bool tool_call, bool modern, const json_t *id)
{
    json_t *r = tools_result(json_pack("{s:n}", "task"));

    return tool_call ? r : jrpc_result(id, modern ? mcp_modern_complete(r) : r);
}

json_t *mcp_reply_transport_error(int code, const char *msg)
{
    return jrpc_error(NULL, code, msg, NULL);
}

json_t *mcp_reply_version_unsupported(const char *v)
{
    char msg[160];

    snprintf(msg, sizeof(msg), "Bad Request: Unsupported protocol version: %.60s",
             v ? v : "(too long)");
    return jrpc_error(NULL, JRPC_UNSUPPORTED_VERSION, msg,
                      json_pack("{s:o}", "supported", mcp_modern_versions()));
}

static json_t *mcp_initialize(struct mcp_ctx *c, const json_t *params, int *code, const char **msg)
{
    const json_t *pv = json_object_get(params, "protocolVersion");
    const char *version;
    struct err err = {0};
    json_t *r;

    if (!json_is_string(pv)) {
        *code = JRPC_INVALID_PARAMS;
        *msg = "initialize needs params.protocolVersion (a string)";
        return NULL;
    }
    /* Echo a version we speak; otherwise offer our latest and let the client decide. */
    version =
        mcp_version_supported(json_string_value(pv)) ? json_string_value(pv) : MCP_VERSION_LATEST;
    if (c->sessions) {
        long long tok = c->who ? c->who->token_id : 0;
        if (svc_sessions_create(c->svc, tok, version, json_object_get(params, "clientInfo"),
                                c->new_session, &err) < 0) {
            log_warn("mcp", "session not created: %s", err.msg);
            *code = JRPC_INTERNAL_ERROR;
            *msg = "could not create a session (database unavailable?)";
            return NULL;
        }
    }
    r = json_pack("{s:s, s:{s:{s:b}, s:{}}, s:{s:s, s:s, s:s}, s:s}", "protocolVersion", version,
                  "capabilities", "tools", "listChanged", 0, "logging", "serverInfo", "name",
                  "drover", "title", "Drover", "version", MCP_SERVER_VERSION, "instructions",
                  MCP_INSTRUCTIONS);
    return r;
}

/*
 * A method: the result (owned), or NULL with *code and *msg set (msg may point into `buf`,
 * MCP_MSG_MAX bytes), or NULL with c->park_seconds set (a held get_next_task).
 */
#define MCP_MSG_MAX 200
typedef json_t *(*mcp_method_fn)(struct mcp_ctx *c, const json_t *id, const json_t *params,
                                 int *code, const char **msg, char *buf);

static json_t *mcp_m_initialize(struct mcp_ctx *c, const json_t *id, const json_t *params,
                                int *code, const char **msg, char *buf)
{
    (void)id;
    (void)buf;
    return mcp_initialize(c, params, code, msg);
}

static json_t *mcp_m_ping(struct mcp_ctx *c, const json_t *id, const json_t *params, int *code,
                          const char **msg, char *buf)
{
    (void)c, (void)id, (void)params, (void)code, (void)msg, (void)buf;
    return json_object();
}

static json_t *mcp_m_tools_list(struct mcp_ctx *c, const json_t *id, const json_t *params,
                                int *code, const char **msg, char *buf)
{
    (void)c, (void)id, (void)buf;
    if (json_object_get(params, "cursor")) { /* we never hand out cursors: one page */
        *code = JRPC_INVALID_PARAMS;
        *msg = "invalid cursor";
        return NULL;
    }
    return json_pack("{s:o}", "tools", tools_list_for(c));
}

static json_t *mcp_m_tools_call(struct mcp_ctx *c, const json_t *id, const json_t *params,
                                int *code, const char **msg, char *buf)
{
    const json_t *name = json_object_get(params, "name");
    const json_t *args = json_object_get(params, "arguments");
    struct err err = {0};
    json_t *result = NULL;

    if (!json_is_string(name)) {
        *code = JRPC_INVALID_PARAMS;
        *msg = "tools/call needs params.name (a string)";
        return NULL;
    }
    if (args && !json_is_null(args) && !json_is_object(args)) {
        *code = JRPC_INVALID_PARAMS;
        *msg = "tools/call params.arguments must be an object";
        return NULL;
    }
    if (!tools_known(json_string_value(name))) {
        snprintf(buf, MCP_MSG_MAX, "Unknown tool: %.100s", json_string_value(name));
        *code = JRPC_INVALID_PARAMS;
        *msg = buf;
        return NULL;
    }
    tools_call(c, json_string_value(name), json_is_object(args) ? args : NULL, &result, &err);
    if (!result && c->park_seconds > 0)
        c->park_id = json_incref((json_t *)id);
    return result;
}

static json_t *mcp_m_set_level(struct mcp_ctx *c, const json_t *id, const json_t *params, int *code,
                               const char **msg, char *buf)
{
    const json_t *lvl = json_object_get(params, "level");
    struct err err = {0};
    bool ok = false;

    (void)id, (void)buf;
    for (size_t i = 0; json_is_string(lvl) && mcp_levels[i]; i++)
        ok = ok || strcmp(json_string_value(lvl), mcp_levels[i]) == 0;
    if (!ok) {
        *code = JRPC_INVALID_PARAMS;
        *msg = "level must be one of debug, info, notice, warning, error, critical, alert, "
               "emergency";
        return NULL;
    }
    if (svc_sessions_set_level(c->svc, c->session_id, json_string_value(lvl), &err) < 0)
        log_warn("mcp", "log level not stored: %s", err.msg);
    return json_object();
}

static const struct {
    const char *name;
    mcp_method_fn fn;
} mcp_methods[] = {
    {"initialize", mcp_m_initialize},      {"ping", mcp_m_ping},
    {"tools/list", mcp_m_tools_list},      {"tools/call", mcp_m_tools_call},
    {"logging/setLevel", mcp_m_set_level},
};

/* A notification is never answered; notifications/cancelled names the request to drop. */
static void mcp_notification(struct mcp_ctx *c, const char *method, const json_t *params)
{
    const json_t *rid = json_object_get(params, "requestId");

    if (strcmp(method, "notifications/cancelled") == 0 && rid &&
        (json_is_string(rid) || json_is_integer(rid))) {
        json_decref(c->cancel_id);
        c->cancel_id = json_incref((json_t *)rid);
    }
}

/* One request or notification. *reply stays NULL for notifications. */
static void mcp_one(struct mcp_ctx *c, const json_t *msg, json_t **reply)
{
    const char *why, *method, *emsg = NULL;
    const json_t *id, *params;
    enum jrpc_kind kind = jrpc_classify(msg, &why);
    json_t *result = NULL;
    int code = 0;
    char buf[MCP_MSG_MAX];
    size_t i;

    *reply = NULL;
    if (kind == JRPC_KIND_INVALID) {
        snprintf(buf, sizeof(buf), "Invalid Request: %s", why);
        *reply = jrpc_error(jrpc_id(msg), JRPC_INVALID_REQUEST, buf, NULL);
        return;
    }
    if (kind == JRPC_KIND_RESPONSE)
        return; /* we never send requests; a stray response is accepted and ignored */
    method = json_string_value(json_object_get(msg, "method"));
    params = json_object_get(msg, "params");
    id = jrpc_id(msg);
    if (params && !json_is_object(params)) {
        code = JRPC_INVALID_PARAMS;
        emsg = "params must be an object";
    } else if (kind == JRPC_KIND_NOTIFICATION) {
        mcp_notification(c, method, params);
        return;
    } else {
        for (i = 0; i < sizeof(mcp_methods) / sizeof(mcp_methods[0]); i++)
            if (strcmp(method, mcp_methods[i].name) == 0)
                break;
        if (i < sizeof(mcp_methods) / sizeof(mcp_methods[0])) {
            result = mcp_methods[i].fn(c, id, params, &code, &emsg, buf);
            if (!result && c->park_seconds > 0)
                return; /* held: answered later */
        } else {
            snprintf(buf, sizeof(buf), "Method not found: %.100s", method);
            code = JRPC_METHOD_NOT_FOUND;
            emsg = buf;
        }
    }
    if (kind != JRPC_KIND_REQUEST) {
        json_decref(result);
        return;
    }
    if (result)
        *reply = jrpc_result(id, result);
    else
        *reply =
            jrpc_error(id, code ? code : JRPC_INTERNAL_ERROR, emsg ? emsg : "Internal error", NULL);
}

void mcp_handle(struct mcp_ctx *c, const json_t *msg, const char *version, json_t **reply)
{
    size_t i;
    const json_t *m;
    json_t *arr;
    bool park = c->allow_park;

    *reply = NULL;
    if (!json_is_array(msg)) {
        mcp_one(c, msg, reply);
        return;
    }
    if (json_array_size(msg) == 0) {
        *reply = jrpc_error(NULL, JRPC_INVALID_REQUEST, "Invalid Request: empty batch", NULL);
        return;
    }
    if (version && strcmp(version, "2025-03-26") != 0) {
        *reply = jrpc_error(NULL, JRPC_INVALID_REQUEST,
                            "Invalid Request: batches exist only in protocol 2025-03-26", NULL);
        return;
    }
    if (json_array_size(msg) > JRPC_MAX_BATCH) {
        *reply = jrpc_error(NULL, JRPC_INVALID_REQUEST, "Invalid Request: batch too large", NULL);
        return;
    }
    c->allow_park = false; /* a batch is answered as a whole: nothing in it may be held */
    arr = json_array();
    json_array_foreach(msg, i, m)
    {
        json_t *r = NULL;
        mcp_one(c, m, &r);
        if (r)
            json_array_append_new(arr, r);
    }
    c->allow_park = park;
    if (json_array_size(arr) == 0)
        json_decref(arr);
    else
        *reply = arr;
}
