/*
 * The tasks extension over the submitter use cases. Worker threads.
 */
#include "mcp/mcp_tasks.h"
#include "mcp/jrpc.h"
#include "mcp/mcp_modern.h"
#include "mcp/tools.h"
#include "mcp/tools_submit.h"
#include "svc/svc_actions.h"
#include "svc/svc_handles.h"
#include "svc/svc_review.h"
#include "svc/svc_tasks.h"

#include <stdio.h>
#include <string.h>

bool mcp_tasks_method(const char *method)
{
    return strcmp(method, "tasks/get") == 0 || strcmp(method, "tasks/update") == 0 ||
           strcmp(method, "tasks/cancel") == 0;
}

static void mcp_tasks_fail(struct mcp_tasks_out *o, int status, int code, const char *msg)
{
    o->status = status;
    o->code = code;
    size_t n = strnlen(msg, sizeof(o->msg) - 1); /* a longer message is cut, on purpose */

    memcpy(o->msg, msg, n);
    o->msg[n] = '\0';
}

/* The inputRequests key of a task's current question: unique over the task's lifetime (the
 * question is asked at updated_at; the next question comes with a later one). */
static void mcp_tasks_key(const json_t *task, char *out, size_t outsz)
{
    const char *u = json_string_value(json_object_get(task, "updated_at"));
    size_t n = 0;

    n += (size_t)snprintf(out, outsz, "question-%lld-",
                          (long long)json_integer_value(json_object_get(task, "attempt")));
    for (; u && *u && n + 1 < outsz; u++)
        if (*u >= '0' && *u <= '9')
            out[n++] = *u;
    out[n] = '\0';
}

/* What a finished task hands back: a CallToolResult (isError for a failed task). */
static json_t *mcp_tasks_final(const json_t *task, bool failed)
{
    json_t *sc = json_pack(
        "{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}", "id", json_object_get(task, "id"), "state",
        json_object_get(task, "state"), "branch", json_object_get(task, "branch"), "pull_request",
        json_object_get(task, "pull_request"), "result", json_object_get(task, "result"), "usage",
        json_object_get(task, "usage"), "last_error", json_object_get(task, "last_error"));
    json_t *r = tools_result(sc);

    json_object_set_new(r, "isError", json_boolean(failed));
    return r;
}

/* A Drover task as a DetailedTask (tasks/get, notifications/tasks) or CreateTaskResult seed. */
json_t *mcp_tasks_detailed(const json_t *task, const char *handle)
{
    const char *state = json_string_value(json_object_get(task, "state"));
    const char *status = "working", *smsg = "queued: waiting for an agent";
    json_t *t;

    if (!state)
        state = "";
    if (strcmp(state, "in_progress") == 0)
        smsg = "an agent is working on it";
    else if (strcmp(state, "needs_input") == 0)
        status = "input_required", smsg = "the agent asked a question";
    else if (strcmp(state, "ready_to_test") == 0)
        status = "completed", smsg = "done: ready to test (a pull request awaits review)";
    else if (strcmp(state, "completed") == 0)
        status = "completed", smsg = "completed";
    else if (strcmp(state, "failed") == 0)
        status = "completed", smsg = "the task failed (see the result)";
    else if (strcmp(state, "cancelled") == 0)
        status = "cancelled", smsg = "cancelled";
    t = json_pack("{s:s, s:s, s:s, s:O?, s:O?, s:n, s:i}", "taskId", handle, "status", status,
                  "statusMessage", smsg, "createdAt", json_object_get(task, "created_at"),
                  "lastUpdatedAt", json_object_get(task, "updated_at"), "ttlMs", "pollIntervalMs",
                  MCP_TASKS_POLL_MS);
    if (strcmp(status, "input_required") == 0) {
        char key[80];
        const char *q = json_string_value(json_object_get(task, "question"));
        mcp_tasks_key(task, key, sizeof(key));
        json_object_set_new(t, "inputRequests",
                            json_pack("{s:{s:s, s:{s:s, s:s, s:{s:s, s:{s:{s:s, s:s}}, s:[s]}}}}",
                                      key, "method", "elicitation/create", "params", "mode", "form",
                                      "message", q ? q : "The agent needs an answer to continue.",
                                      "requestedSchema", "type", "object", "properties", "answer",
                                      "type", "string", "description",
                                      "your answer to the agent's question", "required", "answer"));
    } else if (strcmp(status, "completed") == 0)
        json_object_set_new(t, "result", mcp_tasks_final(task, strcmp(state, "failed") == 0));
    return t;
}

json_t *mcp_tasks_maybe_task(struct mcp_ctx *c, const char *name, json_t *result)
{
    const json_t *sc, *task;
    const char *h;
    json_t *t;

    if (strcmp(name, "submit_task") != 0) /* the one tool that starts a task: the others quickly */
        return result;
    sc = json_object_get(result, "structuredContent");
    task = json_object_get(sc, "task");
    h = json_string_value(json_object_get(sc, "task_handle"));
    if (!mcp_modern_has_extension(c, MCP_TASKS_EXT) ||
        json_is_true(json_object_get(result, "isError")) || !task || !h)
        return result;
    t = mcp_tasks_detailed(task, h);
    json_object_set_new(t, "resultType", json_string("task"));
    json_decref(result);
    return t;
}

/* The Drover task a params.taskId names: 0, or -1 with `o` set (-32602 for a bad handle). */
static int mcp_tasks_resolve(struct mcp_ctx *c, const json_t *params, int64_t *id,
                             struct mcp_tasks_out *o)
{
    const json_t *h = json_object_get(params, "taskId");
    struct err err = {0};

    if (!json_is_string(h)) {
        mcp_tasks_fail(o, 200, JRPC_INVALID_PARAMS,
                       "Invalid params: taskId (a string) is required");
        return -1;
    }
    if (svc_handles_parse(c->svc, json_string_value(h), id, &err) < 0) {
        if (err.code == ERR_NOT_FOUND)
            mcp_tasks_fail(o, 200, JRPC_INVALID_PARAMS, "Invalid params: unknown taskId");
        else
            mcp_tasks_fail(o, 200, JRPC_INTERNAL_ERROR, "could not check the task handle");
        return -1;
    }
    return 0;
}

static void mcp_tasks_get(struct mcp_ctx *c, int64_t id, const char *h, struct mcp_tasks_out *o)
{
    struct err err = {0};
    json_t *task = NULL;

    if (svc_tasks_get(c->svc, id, &task, &err) < 0) {
        mcp_tasks_fail(o, 200,
                       err.code == ERR_NOT_FOUND ? JRPC_INVALID_PARAMS : JRPC_INTERNAL_ERROR,
                       err.code == ERR_NOT_FOUND ? "Invalid params: unknown taskId"
                                                 : "could not read the task");
        return;
    }
    o->result = mcp_tasks_detailed(task, h);
    json_decref(task);
}

/* The answer among inputResponses for the task's current question; others are ignored. */
static void mcp_tasks_update(struct mcp_ctx *c, int64_t id, const json_t *params,
                             struct mcp_tasks_out *o)
{
    const json_t *resp = json_object_get(params, "inputResponses");
    struct err err = {0};
    json_t *task = NULL, *after = NULL;
    char key[80];
    const json_t *r;
    const char *answer;

    if (!json_is_object(resp)) {
        mcp_tasks_fail(o, 200, JRPC_INVALID_PARAMS,
                       "Invalid params: inputResponses (an object) is required");
        return;
    }
    if (svc_tasks_get(c->svc, id, &task, &err) < 0) {
        mcp_tasks_fail(o, 200, JRPC_INVALID_PARAMS, "Invalid params: unknown taskId");
        return;
    }
    mcp_tasks_key(task, key, sizeof(key));
    r = json_object_get(resp, key);
    answer = json_string_value(json_object_get(json_object_get(r, "content"), "answer"));
    if (json_is_string(json_object_get(task, "state")) &&
        strcmp(json_string_value(json_object_get(task, "state")), "needs_input") == 0 && r &&
        json_is_string(json_object_get(r, "action"))) {
        if (strcmp(json_string_value(json_object_get(r, "action")), "accept") != 0 || !answer ||
            !*answer) {
            mcp_tasks_fail(o, 200, JRPC_INVALID_PARAMS,
                           "Invalid params: answer the question with action \"accept\" and "
                           "content.answer (or cancel the task with tasks/cancel)");
            goto out;
        }
        if (svc_actions_answer(c->svc, id, c->who && c->who->name[0] ? c->who->name : "mcp", answer,
                               &after, &err) < 0 &&
            err.code != ERR_CONFLICT) { /* answered meanwhile: eventually consistent */
            mcp_tasks_fail(o, 200,
                           err.code == ERR_INVALID ? JRPC_INVALID_PARAMS : JRPC_INTERNAL_ERROR,
                           err.msg);
            goto out;
        }
    }
    o->result = json_object(); /* keys not outstanding are ignored (SEP-2663) */
out:
    json_decref(after);
    json_decref(task);
}

static void mcp_tasks_cancel(struct mcp_ctx *c, int64_t id, struct mcp_tasks_out *o)
{
    struct err err = {0};
    json_t *task = NULL;

    if (svc_actions_cancel(c->svc, id, c->who && c->who->name[0] ? c->who->name : "mcp",
                           "cancelled over MCP (tasks/cancel)", &task, &err) < 0 &&
        err.code != ERR_CONFLICT) { /* already finished: the ack still stands */
        mcp_tasks_fail(o, 200,
                       err.code == ERR_NOT_FOUND ? JRPC_INVALID_PARAMS : JRPC_INTERNAL_ERROR,
                       err.code == ERR_NOT_FOUND ? "Invalid params: unknown taskId"
                                                 : "could not cancel the task");
        return;
    }
    json_decref(task);
    o->result = json_object();
}

void mcp_tasks_handle(struct mcp_ctx *c, const char *method, const json_t *params,
                      struct mcp_tasks_out *o)
{
    int64_t id;

    o->status = 200;
    if (!mcp_modern_has_extension(c, MCP_TASKS_EXT)) {
        mcp_tasks_fail(o, 400, JRPC_MISSING_CAPABILITY, "Missing required client capability");
        o->data = json_pack("{s:{s:{s:{}}}}", "requiredCapabilities", "extensions", MCP_TASKS_EXT);
        return;
    }
    if (!tools_submit_allowed(c)) { /* auth binding: only submitters follow tasks */
        mcp_tasks_fail(o, 200, JRPC_INVALID_PARAMS, "Invalid params: unknown taskId");
        return;
    }
    if (mcp_tasks_resolve(c, params, &id, o) < 0)
        return;
    if (c->who && c->who->token_id) { /* a developer: only tasks it may act on */
        struct err err = {0};
        if (svc_review_authorize(c->svc, c->who, id, &err) < 0) {
            mcp_tasks_fail(o, 200, JRPC_INVALID_PARAMS, "Invalid params: unknown taskId");
            return;
        }
    }
    if (strcmp(method, "tasks/get") == 0)
        mcp_tasks_get(c, id, json_string_value(json_object_get(params, "taskId")), o);
    else if (strcmp(method, "tasks/update") == 0)
        mcp_tasks_update(c, id, params, o);
    else
        mcp_tasks_cancel(c, id, o);
}
