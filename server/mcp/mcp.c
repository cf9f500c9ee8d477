/*
 * MCP method dispatch: worker threads. The mcp_reply_* bodies: any thread (the transports'
 * service thread sends them).
 */
#include "mcp/mcp.h"
#include "core/log.h"
#include "mcp/jrpc.h"
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

json_t *mcp_reply_held_empty(bool tool_call, const json_t *id)
{
    json_t *r = tools_result(json_pack("{s:n}", "task"));

    return tool_call ? r : jrpc_result(id, r);
}

json_t *mcp_reply_transport_error(int code, const char *msg)
{
    return jrpc_error(NULL, code, msg, NULL);
}

json_t *mcp_reply_version_unsupported(const char *v)
{
    char list[128], msg[256];
    size_t used = 0;

    list[0] = '\0';
    for (size_t i = 0; mcp_versions[i] && used < sizeof(list); i++)
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
                                 mcp_versions[i]);
    snprintf(msg, sizeof(msg),
             "Bad Request: Unsupported protocol version: %.60s (supported versions: %s)",
             v ? v : "(too long)", list);
    return jrpc_error(NULL, JRPC_SERVER_ERROR, msg, NULL);
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
        if (sessions_create(c->db, tok, version, json_object_get(params, "clientInfo"),
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

/* One request or notification. *reply stays NULL for notifications. */
static void mcp_one(struct mcp_ctx *c, const json_t *msg, json_t **reply)
{
    const char *why, *method, *emsg = NULL;
    const json_t *id, *params;
    enum jrpc_kind kind = jrpc_classify(msg, &why);
    json_t *result = NULL;
    int code = 0;
    char buf[200];

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
        if (strcmp(method, "notifications/cancelled") == 0) {
            const json_t *rid = json_object_get(params, "requestId");
            if (rid && (json_is_string(rid) || json_is_integer(rid))) {
                json_decref(c->cancel_id);
                c->cancel_id = json_incref((json_t *)rid);
            }
        }
        return; /* initialized, cancelled, anything else: never answered */
    } else if (strcmp(method, "initialize") == 0) {
        result = mcp_initialize(c, params, &code, &emsg);
    } else if (strcmp(method, "ping") == 0) {
        result = json_object();
    } else if (strcmp(method, "tools/list") == 0) {
        if (json_object_get(params, "cursor")) { /* we never hand out cursors: one page */
            code = JRPC_INVALID_PARAMS;
            emsg = "invalid cursor";
        } else {
            result = json_pack("{s:o}", "tools", tools_list());
        }
    } else if (strcmp(method, "tools/call") == 0) {
        const json_t *name = json_object_get(params, "name");
        const json_t *args = json_object_get(params, "arguments");
        if (!json_is_string(name)) {
            code = JRPC_INVALID_PARAMS;
            emsg = "tools/call needs params.name (a string)";
        } else if (args && !json_is_null(args) && !json_is_object(args)) {
            code = JRPC_INVALID_PARAMS;
            emsg = "tools/call params.arguments must be an object";
        } else if (!tools_known(json_string_value(name))) {
            snprintf(buf, sizeof(buf), "Unknown tool: %.100s", json_string_value(name));
            code = JRPC_INVALID_PARAMS;
            emsg = buf;
        } else {
            tools_call(c, json_string_value(name), json_is_object(args) ? args : NULL, &result);
            if (!result && c->park_seconds > 0) {
                c->park_id = json_incref((json_t *)id);
                return;
            }
        }
    } else if (strcmp(method, "logging/setLevel") == 0) {
        const json_t *lvl = json_object_get(params, "level");
        bool ok = false;
        for (size_t i = 0; json_is_string(lvl) && mcp_levels[i]; i++)
            ok = ok || strcmp(json_string_value(lvl), mcp_levels[i]) == 0;
        if (!ok) {
            code = JRPC_INVALID_PARAMS;
            emsg = "level must be one of debug, info, notice, warning, error, critical, alert, "
                   "emergency";
        } else {
            struct err err = {0};
            if (sessions_set_level(c->db, c->session_id, json_string_value(lvl), &err) < 0)
                log_warn("mcp", "log level not stored: %s", err.msg);
            result = json_object();
        }
    } else {
        snprintf(buf, sizeof(buf), "Method not found: %.100s", method);
        code = JRPC_METHOD_NOT_FOUND;
        emsg = buf;
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
