/* subscriptions/listen for task status notifications (see mcp_listen.h). Worker threads. */
#include "mcp/mcp_listen.h"
#include "mcp/jrpc.h"
#include "mcp/mcp_modern.h"
#include "mcp/mcp_tasks.h"
#include "mcp/tools_submit.h"
#include "svc/svc_handles.h"
#include "svc/svc_review.h"
#include "svc/svc_tasks.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest subscription id kept: the JSON-RPC id, echoed in every message's _meta. */
#define MCP_LISTEN_ID_MAX 200

bool mcp_listen_method(const char *method)
{
    return strcmp(method, "subscriptions/listen") == 0;
}

static void mcp_listen_fail(struct mcp_listen_out *o, int status, int code, const char *msg)
{
    o->status = status;
    o->code = code;
    snprintf(o->msg, sizeof(o->msg), "%s", msg);
}

/* May the caller follow task `id`? The rule of tasks/get (mcp_tasks.c). */
static bool mcp_listen_may(struct mcp_ctx *c, int64_t id)
{
    struct err err = {0};

    if (!tools_submit_allowed(c))
        return false;
    return !(c->who && c->who->token_id) || svc_review_authorize(c->svc, c->who, id, &err) == 0;
}

void mcp_listen_open(struct mcp_ctx *c, const json_t *id, const json_t *params,
                     struct mcp_listen_out *o)
{
    const json_t *n = json_object_get(params, "notifications");
    const json_t *ids = json_object_get(n, "taskIds"), *h;
    char *sid = json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t len, i;

    o->status = 200;
    if (!c->can_stream) {
        mcp_listen_fail(o, 404, JRPC_METHOD_NOT_FOUND,
                        "Method not found: subscriptions/listen needs POST /mcp (an event "
                        "stream); on this transport poll tasks/get");
        goto out;
    }
    if (!json_is_object(n)) {
        mcp_listen_fail(o, 400, JRPC_INVALID_PARAMS,
                        "Invalid params: notifications (an object) is required");
        goto out;
    }
    if (ids && (!json_is_array(ids) || json_array_size(ids) > MCP_LISTEN_MAX_TASKS)) {
        mcp_listen_fail(o, 400, JRPC_INVALID_PARAMS,
                        "Invalid params: notifications.taskIds must be an array of at most 32 "
                        "task ids");
        goto out;
    }
    if (json_array_size(ids) && !mcp_modern_has_extension(c, MCP_TASKS_EXT)) {
        mcp_listen_fail(o, 400, JRPC_MISSING_CAPABILITY, "Missing required client capability");
        o->data = json_pack("{s:{s:{s:{}}}}", "requiredCapabilities", "extensions", MCP_TASKS_EXT);
        goto out;
    }
    if (!sid || strlen(sid) > MCP_LISTEN_ID_MAX || strchr(sid, '\n')) {
        mcp_listen_fail(o, 400, JRPC_INVALID_REQUEST,
                        "Invalid Request: a subscription's id may be at most 200 characters");
        goto out;
    }
    /* The state: the id, then the task ids the subscription agreed to, comma-separated. */
    len = (size_t)snprintf(c->listen_arg, sizeof(c->listen_arg), "%s\n%s", sid, ids ? "T" : "");
    json_array_foreach(ids, i, h)
    {
        struct err err = {0};
        int64_t tid;

        if (!json_is_string(h) || svc_handles_parse(c->svc, json_string_value(h), &tid, &err) < 0 ||
            !mcp_listen_may(c, tid))
            continue; /* left out of the acknowledgement: unknown, forged or not the caller's */
        if (len + 24 < sizeof(c->listen_arg))
            len += (size_t)snprintf(c->listen_arg + len, sizeof(c->listen_arg) - len, "%s%" PRId64,
                                    c->listen_arg[len - 1] == 'T' ? "" : ",", tid);
    }
    c->listen = true;
out:
    free(sid);
}

/* One status letter per task, for the cursor: what was last sent. */
static char mcp_listen_letter(const json_t *detailed)
{
    const char *s = json_string_value(json_object_get(detailed, "status"));

    if (!s)
        return '?';
    if (strcmp(s, "input_required") == 0)
        return 'i';
    if (strcmp(s, "cancelled") == 0)
        return 'x';
    return s[0]; /* working, completed, failed */
}

static json_t *mcp_listen_note(const char *method, json_t *params, const json_t *sid)
{
    json_t *meta = json_object_get(params, "_meta");

    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(params, "_meta", meta);
    }
    json_object_set(meta, MCP_META_SUBSCRIPTION, (json_t *)sid);
    return json_pack("{s:{s:s, s:s, s:o}}", "data", "jsonrpc", "2.0", "method", method, "params",
                     params);
}

int mcp_listen_fetch(struct svc_ctx *svc, const char *arg, char cursor[MCP_LISTEN_CURSOR_MAX],
                     json_t **events, struct err *err)
{
    const char *nl = strchr(arg, '\n'), *p = NULL;
    bool tasks;
    json_t *sid, *acked = json_array();
    char next[MCP_LISTEN_CURSOR_MAX] = "a";
    bool first = cursor[0] == '\0', keyed = false;
    struct svc_handles_key key;
    size_t k = 1;
    int rc = -1;

    *events = json_array();
    sid = nl ? json_loadb(arg, (size_t)(nl - arg), JSON_DECODE_ANY, NULL) : NULL;
    if (!sid) {
        err_set(err, ERR_INTERNAL, "unreadable subscription state");
        goto out;
    }
    tasks = nl[1] == 'T'; /* asked for task notifications (else the ack agrees to none) */
    /* The handles' key once per fetch, not once per task: it is a database read. */
    if (svc_handles_load(svc, &key, err) < 0)
        goto out;
    keyed = true;
    for (p = nl + 1 + tasks; *p && k + 1 < sizeof(next); k++) {
        char handle[SVC_HANDLE_LEN];
        int64_t id = strtoll(p, NULL, 10);
        json_t *task = NULL, *d;
        struct err e2 = {0};

        p += strcspn(p, ",");
        if (*p == ',')
            p++;
        svc_handles_sign(&key, id, handle);
        if (first)
            json_array_append_new(acked, json_string(handle));
        if (svc_tasks_get(svc, id, &task, &e2) < 0) {
            if (e2.code != ERR_NOT_FOUND) {
                *err = e2;
                goto out;
            }
            next[k] = 'g'; /* gone (deleted): nothing more to say about it */
            continue;
        }
        d = mcp_tasks_detailed(task, handle);
        json_decref(task);
        next[k] = mcp_listen_letter(d);
        if (first || cursor[k] != next[k])
            json_array_append_new(*events, mcp_listen_note("notifications/tasks", d, sid));
        else
            json_decref(d);
    }
    next[k] = '\0';
    if (first) /* the acknowledgement goes before anything else on the stream */
        json_array_insert_new(
            *events, 0,
            mcp_listen_note("notifications/subscriptions/acknowledged",
                            tasks ? json_pack("{s:{s:O}}", "notifications", "taskIds", acked)
                                  : json_pack("{s:{}}", "notifications"),
                            sid));
    memcpy(cursor, next, sizeof(next));
    rc = 0;
out:
    if (keyed)
        svc_handles_wipe(&key);
    json_decref(acked);
    json_decref(sid);
    if (rc < 0) {
        json_decref(*events);
        *events = NULL;
    }
    return rc;
}
