/* The seed's argument and result shapes. Worker threads. */
#include "mcp/seed.h"
#include "mcp/tools.h"
#include "svc/svc_seed.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* camelCase -> the tools' names, for every tool; the tool refuses what it does not take. */
static const char *const seed_alias[][2] = {
    {"taskId", "task_id"},
    {"leaseEpoch", "lease_epoch"},
    {"taskIds", "task_ids"},
    {"waitSeconds", "wait_seconds"},
};

/* The tools whose calls are fenced on a lease (task_id + lease_epoch). */
static const char *const seed_leased[] = {"create_branch",          "update_task_status",
                                          "ask_user_question",      "create_pull_request",
                                          "trigger_preview_deploy", NULL};

static bool seed_in(const char *name, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(name, list[i]) == 0)
            return true;
    return false;
}

/* A task id as the seed sends it: a positive integer, or a string of one. */
static int seed_id(const json_t *v, const char *key, int64_t *id, struct err *err)
{
    char *end;

    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *id = json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < 20) {
        *id = strtoll(json_string_value(v), &end, 10);
        if (!*end && *id > 0)
            return 0;
    }
    return err_set(err, ERR_INVALID, "%s must be a positive integer (or a string of one)", key);
}

/* taskIds: the seed sends strings as often as numbers; the tool takes numbers. */
static int seed_task_ids(json_t *a, struct err *err)
{
    json_t *ids = json_object_get(a, "task_ids"), *v;
    size_t i;
    int64_t id;

    if (!json_is_array(ids))
        return 0;
    json_array_foreach(ids, i, v)
    {
        if (!json_is_string(v))
            continue;
        if (seed_id(v, "taskIds", &id, err) < 0)
            return -1;
        json_array_set_new(ids, i, json_integer(id));
    }
    return 0;
}

/*
 * update_task_status's {metadata: {reason, ...}}: the reason is the failure's error or the
 * question (by status), the rest the task's result.
 */
static int seed_metadata(json_t *a, struct err *err)
{
    json_t *md = json_object_get(a, "metadata"), *reason, *rest;
    const char *status = json_string_value(json_object_get(a, "status"));

    if (!md)
        return 0;
    if (!json_is_object(md) && !json_is_null(md))
        return err_set(err, ERR_INVALID, "metadata must be an object");
    json_incref(md);
    json_object_del(a, "metadata");
    reason = json_object_get(md, "reason");
    if (reason && !json_is_string(reason) && !json_is_null(reason)) {
        json_decref(md);
        return err_set(err, ERR_INVALID, "metadata.reason must be a string");
    }
    if (json_is_string(reason) && status) {
        const char *key = strcmp(status, "needs_input") == 0 ? "question" : "error";
        if (strcmp(status, "completed") != 0 && !json_object_get(a, key))
            json_object_set(a, key, reason);
    }
    rest = json_is_object(md) ? json_copy(md) : NULL;
    if (rest && json_object_size(rest) > 0 && !json_object_get(a, "result"))
        json_object_set(a, "result", rest);
    json_decref(rest);
    json_decref(md);
    return 0;
}

int seed_args(struct mcp_ctx *c, const char *name, const json_t *args, json_t **out,
              struct err *err)
{
    json_t *a = json_copy((json_t *)args);
    int64_t id = 0, epoch = 0;
    const char *agent = tools_agent(c);
    const json_t *tid;

    *out = NULL;
    if (!a)
        return err_set(err, ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < sizeof(seed_alias) / sizeof(seed_alias[0]); i++) {
        json_t *v = json_object_get(a, seed_alias[i][0]);
        if (!v)
            continue;
        if (json_object_get(a, seed_alias[i][1])) {
            err_set(err, ERR_INVALID, "both %s and %s given: send one", seed_alias[i][0],
                    seed_alias[i][1]);
            goto fail;
        }
        json_object_set(a, seed_alias[i][1], v);
        json_object_del(a, seed_alias[i][0]);
    }
    if (strcmp(name, "create_branch") == 0 && json_object_get(a, "branchName") &&
        !json_object_get(a, "name")) {
        json_object_set(a, "name", json_object_get(a, "branchName"));
        json_object_del(a, "branchName");
    }
    if (seed_task_ids(a, err) < 0)
        goto fail;
    if (strcmp(name, "update_task_status") == 0 && seed_metadata(a, err) < 0)
        goto fail;
    tid = json_object_get(a, "task_id");
    /* Without a task id, log_activity logs to the task the caller works on now. */
    if (strcmp(name, "log_activity") == 0 && (!tid || json_is_null(tid)) && agent[0]) {
        if (svc_seed_current(c->svc, agent, &id, &epoch, err) < 0)
            goto fail;
        json_object_set_new(a, "task_id", json_integer(id));
    }
    /* Without an epoch, the caller's live lease on the task is the fence. */
    if (seed_in(name, seed_leased) && tid && !json_object_get(a, "lease_epoch") && agent[0]) {
        if (seed_id(tid, "task_id", &id, err) < 0 ||
            svc_seed_epoch(c->svc, agent, id, &epoch, err) < 0)
            goto fail;
        json_object_set_new(a, "lease_epoch", json_integer(epoch));
    }
    *out = a;
    return 0;
fail:
    json_decref(a);
    return -1;
}

void seed_result(const char *name, json_t *result)
{
    json_t *sc = json_object_get(result, "structuredContent"), *content, *text;
    char *s;

    if (!json_is_object(sc) || json_is_true(json_object_get(result, "isError")))
        return;
    if (strcmp(name, "create_branch") != 0 || !json_object_get(sc, "branch"))
        return;
    json_object_set(sc, "branchName", json_object_get(sc, "branch"));
    content = json_array_get(json_object_get(result, "content"), 0);
    s = json_dumps(sc, JSON_COMPACT);
    text = s ? json_string(s) : NULL;
    if (text)
        json_object_set_new(content, "text", text);
    free(s);
}
