/* REST handlers for tasks. Worker threads. */
#include "api/tasks.h"
#include "api/reply.h"
#include "core/mem.h"
#include "core/model.h"
#include "core/text.h"
#include "svc/svc_actions.h"
#include "svc/svc_review.h"
#include "svc/svc_tasks.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tasks_fields[] = {
    "prompt",   "task",  "title",        "description",     "project", "repository",  "branch",
    "priority", "model", "max_attempts", "timeout_seconds", "budget",  "agent_count", NULL};

static const char tasks_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url of "v1:<id>": opaque to clients, versioned for us. */
void tasks_cursor_encode(long long id, char out[32])
{
    char plain[24];
    size_t n = (size_t)snprintf(plain, sizeof(plain), "v1:%lld", id), o = 0;

    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)plain[i] << 16;

        if (i + 1 < n)
            v |= (unsigned char)plain[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)plain[i + 2];
        out[o++] = tasks_b64[(v >> 18) & 63];
        out[o++] = tasks_b64[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = tasks_b64[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = tasks_b64[v & 63];
    }
    out[o] = '\0';
}

int tasks_cursor_decode(const char *s, long long *id)
{
    char plain[32], *end;
    size_t len = strlen(s), o = 0;
    unsigned v = 0;
    int bits = 0;

    if (len == 0 || len > 40)
        return -1;
    for (size_t i = 0; i < len; i++) {
        const char *p = strchr(tasks_b64, s[i]);

        if (!p || !s[i])
            return -1;
        v = (v << 6) | (unsigned)(p - tasks_b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= sizeof(plain))
                return -1;
            plain[o++] = (char)((v >> bits) & 0xff);
        }
    }
    plain[o] = '\0';
    if (strncmp(plain, "v1:", 3) != 0)
        return -1;
    *id = strtoll(plain + 3, &end, 10);
    return end != plain + 3 && !*end && *id > 0 ? 0 : -1;
}

/* A title from the prompt's first line, at most 80 characters (cut on a character boundary). */
static char *tasks_title_from(const char *prompt)
{
    size_t len = strcspn(prompt, "\r\n"), chars = 0, i = 0;

    while (i < len && chars < 80) {
        i++;
        while (i < len && ((unsigned char)prompt[i] & 0xC0) == 0x80)
            i++;
        chars++;
    }
    if (i == 0)
        return mem_strdup("task");
    return mem_strndup(prompt, i);
}

/* {"tokens": N} and/or {"usd": X}, positive, nothing else. */
static int tasks_check_budget(json_t *b, struct api_response *resp)
{
    const char *k;
    json_t *v;

    if (!json_is_object(b) || json_object_size(b) == 0)
        goto bad;
    json_object_foreach(b, k, v)
    {
        if (strcmp(k, "tokens") == 0 && json_is_integer(v) && json_integer_value(v) > 0)
            continue;
        if (strcmp(k, "usd") == 0 && json_is_number(v) && json_number_value(v) > 0)
            continue;
        goto bad;
    }
    return 0;
bad:
    reply_error(resp, ERR_INVALID, "invalid_budget",
                "budget must be an object with a positive integer \"tokens\" and/or a positive "
                "number \"usd\"");
    return -1;
}

static int tasks_unknown_field(json_t *body, struct api_response *resp)
{
    const char *k;
    json_t *v;

    json_object_foreach(body, k, v)
    {
        bool known = false;

        for (int i = 0; tasks_fields[i] && !known; i++)
            known = strcmp(k, tasks_fields[i]) == 0;
        if (!known) {
            reply_error(resp, ERR_INVALID, "unknown_field",
                        "unknown field '%.60s'; see GET /api/openapi.json for the task fields", k);
            return -1;
        }
    }
    return 0;
}

/* --default-project, or NULL when none is set. */
static const char *tasks_default_project(const struct api_request *req)
{
    const struct opscfg *o = req->svc->env->ops;

    return o && o->default_project[0] ? o->default_project : NULL;
}

static int tasks_create(const struct api_request *req, const char *const *params, size_t np,
                        struct api_response *resp)
{
    const char *prompt = NULL, *alt = NULL, *title = NULL, *desc = NULL, *repo = NULL;
    const char *branch = NULL, *model = NULL;
    long long prio = 0, maxa = 0, tmo = 0, count = 1;
    struct model_task_new t = {0};
    json_t *body = NULL, *task = NULL, *proj, *budget;
    char *title_owned = NULL, *budget_s = NULL, projbuf[128];
    bool created = false;
    struct err err = {0};
    int64_t project_id = 0;

    (void)params;
    (void)np;
    if (reply_body_object(req, resp, &body) < 0)
        return 0;
    if (tasks_unknown_field(body, resp) < 0 ||
        reply_member_string(body, "prompt", resp, &prompt) < 0 ||
        reply_member_string(body, "task", resp, &alt) < 0 ||
        reply_member_string(body, "title", resp, &title) < 0 ||
        reply_member_string(body, "description", resp, &desc) < 0 ||
        reply_member_string(body, "repository", resp, &repo) < 0 ||
        reply_member_string(body, "branch", resp, &branch) < 0 ||
        reply_member_string(body, "model", resp, &model) < 0 ||
        reply_member_int(body, "priority", MODEL_PRIORITY_MIN, MODEL_PRIORITY_MAX, resp, &prio,
                         NULL) < 0 ||
        reply_member_int(body, "max_attempts", MODEL_ATTEMPTS_MIN, MODEL_ATTEMPTS_MAX, resp, &maxa,
                         NULL) < 0 ||
        reply_member_int(body, "timeout_seconds", MODEL_TIMEOUT_MIN, MODEL_TIMEOUT_MAX, resp, &tmo,
                         NULL) < 0 ||
        reply_member_int(body, "agent_count", 1, MODEL_FANOUT_MAX, resp, &count, NULL) < 0)
        goto out;
    if (!prompt || !*prompt)
        prompt = alt;
    if (!prompt || !*prompt)
        prompt = desc;
    if (!prompt || !*prompt) {
        reply_error(resp, ERR_INVALID, "prompt_required",
                    "say what to do: \"prompt\" (or \"task\" / \"description\") must be a "
                    "non-empty string");
        goto out;
    }
    if (!title || !*title)
        title = title_owned = tasks_title_from(prompt);
    budget = json_object_get(body, "budget");
    if (budget && !json_is_null(budget)) {
        if (tasks_check_budget(budget, resp) < 0)
            goto out;
        budget_s = json_dumps(budget, JSON_COMPACT | JSON_SORT_KEYS);
    }
    proj = json_object_get(body, "project");
    if (proj && !json_is_null(proj)) {
        if (json_is_integer(proj))
            snprintf(projbuf, sizeof(projbuf), "%lld", (long long)json_integer_value(proj));
        else if (json_is_string(proj) && json_string_length(proj) < sizeof(projbuf))
            snprintf(projbuf, sizeof(projbuf), "%s", json_string_value(proj));
        else {
            reply_error(resp, ERR_INVALID, "invalid_field", "project must be a project id or name");
            goto out;
        }
        if (svc_tasks_project(req->svc, projbuf, &project_id, &err) < 0) {
            reply_err(resp, &err);
            goto out;
        }
    } else if ((!repo || !*repo) && tasks_default_project(req)) {
        /* The seed's {"task": "..."} names no project: the operator's default one. */
        if (svc_tasks_project(req->svc, tasks_default_project(req), &project_id, &err) < 0) {
            reply_err(resp, &err);
            goto out;
        }
    } else if (!repo || !*repo) {
        reply_error(resp, ERR_INVALID, "repository_required",
                    "\"project\" is required: name a project (id or name) or a \"repository\" "
                    "URL to work on (or start droverd with --default-project)");
        goto out;
    }
    t.title = title;
    t.description = prompt;
    t.priority = (int)prio;
    t.model = model;
    t.project_id = project_id;
    t.repo_url = repo;
    t.base_branch = branch;
    t.max_attempts = (int)maxa;
    t.timeout_seconds = (int)tmo;
    t.idempotency_key = req->idempotency_key;
    t.budget_json = budget_s;
    if (svc_tasks_submit(req->svc, &t, (int)count, &task, &created, &err) < 0) {
        reply_err(resp, &err);
        goto out;
    }
    if (created && svc_review_submitted(req->svc, json_integer_value(json_object_get(task, "id")),
                                        req->who, &err) < 0) {
        reply_err(resp, &err);
        goto out;
    }
    json_object_set_new(task, "created", json_boolean(created));
    reply_json(resp, 202, task);
    task = NULL;
out:
    json_decref(task);
    json_decref(body);
    free(title_owned);
    free(budget_s);
    return 0;
}

static int tasks_list(const struct api_request *req, const char *const *params, size_t np,
                      struct api_response *resp)
{
    struct model_task_filter f = {0};
    char state[32], proj[128], agent[64], cursor[64];
    long long limit, parent;
    json_t *tasks = NULL;
    struct err err = {0};
    int64_t next = 0;
    int got;

    (void)params;
    (void)np;
    if (reply_query_int(req, "limit", 1, 200, 50, resp, &limit) < 0 ||
        reply_query_int(req, "parent", 1, INT64_MAX, 0, resp, &parent) < 0)
        return 0;
    f.limit = (int)limit;
    f.parent_id = parent;
    got = reply_query(req->query, "state", state, sizeof(state));
    if (got < 0 || (got > 0 && !model_state_valid(state)))
        return reply_error(resp, ERR_INVALID, "invalid_state", "state must be one of %s",
                           model_state_list());
    f.state = got > 0 ? state : NULL;
    got = reply_query(req->query, "project", proj, sizeof(proj));
    if (got < 0)
        return reply_error(resp, ERR_INVALID, "invalid_parameter",
                           "project must be an id or a name");
    if (got > 0 && svc_tasks_project(req->svc, proj, &f.project_id, &err) < 0)
        return reply_err(resp, &err);
    got = reply_query(req->query, "agent", agent, sizeof(agent));
    if (got < 0 || (got > 0 && !text_is_uuid(agent)))
        return reply_error(resp, ERR_INVALID, "invalid_parameter",
                           "agent must be an agent id (a UUID)");
    f.agent_id = got > 0 ? agent : NULL;
    got = reply_query(req->query, "cursor", cursor, sizeof(cursor));
    if (got > 0) {
        long long before;

        if (tasks_cursor_decode(cursor, &before) < 0)
            return reply_error(resp, ERR_INVALID, "invalid_cursor",
                               "cursor is not one this server issued; pass next_cursor from the "
                               "previous page unchanged");
        f.before_id = before;
    } else if (got < 0) {
        return reply_error(resp, ERR_INVALID, "invalid_cursor", "cursor is too long");
    }
    if (svc_tasks_list(req->svc, &f, &tasks, &next, &err) < 0)
        return reply_err(resp, &err);
    json_t *out = json_pack("{s:o}", "tasks", tasks);
    if (next) {
        char c[32];

        tasks_cursor_encode(next, c);
        json_object_set_new(out, "next_cursor", json_string(c));
    } else {
        json_object_set_new(out, "next_cursor", json_null());
    }
    return reply_json(resp, 200, out);
}

static int tasks_show(const struct api_request *req, const char *const *params, size_t np,
                      struct api_response *resp)
{
    struct err err = {0};
    json_t *task;
    int64_t id;

    if (np < 1 || reply_path_id(params[0], "task", resp, &id) < 0)
        return 0;
    if (svc_tasks_detail(req->svc, id, &task, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, task);
}

enum tasks_action { TASKS_CANCEL, TASKS_ANSWER, TASKS_RETRY };

static int tasks_act(const struct api_request *req, const char *const *params, size_t np,
                     struct api_response *resp, enum tasks_action act)
{
    const char *text = NULL;
    json_t *body = NULL, *task = NULL;
    struct err err = {0};
    int64_t id;
    int rc;

    if (np < 1 || reply_path_id(params[0], "task", resp, &id) < 0)
        return 0;
    if (act == TASKS_ANSWER || (req->body && req->body_len)) {
        if (reply_body_object(req, resp, &body) < 0)
            return 0;
        if (reply_member_string(body, act == TASKS_ANSWER ? "answer" : "reason", resp, &text) < 0)
            goto out;
        if (act == TASKS_ANSWER && (!text || !*text)) {
            reply_error(resp, ERR_INVALID, "answer_required",
                        "send {\"answer\": \"...\"} with the reply to the task's question");
            goto out;
        }
    }
    if (svc_review_authorize(req->svc, req->who, id, &err) < 0) {
        reply_err(resp, &err);
        goto out;
    }
    switch (act) {
    case TASKS_CANCEL:
        rc = svc_actions_cancel(req->svc, id, reply_actor(req), text, &task, &err);
        break;
    case TASKS_ANSWER:
        rc = svc_actions_answer(req->svc, id, reply_actor(req), text, &task, &err);
        break;
    default:
        rc = svc_actions_retry(req->svc, id, reply_actor(req), &task, &err);
        break;
    }
    reply_moved(resp, rc, task, &err);
out:
    json_decref(body);
    return 0;
}

static int tasks_cancel(const struct api_request *req, const char *const *params, size_t np,
                        struct api_response *resp)
{
    return tasks_act(req, params, np, resp, TASKS_CANCEL);
}

static int tasks_answer(const struct api_request *req, const char *const *params, size_t np,
                        struct api_response *resp)
{
    return tasks_act(req, params, np, resp, TASKS_ANSWER);
}

static int tasks_retry(const struct api_request *req, const char *const *params, size_t np,
                       struct api_response *resp)
{
    return tasks_act(req, params, np, resp, TASKS_RETRY);
}

/* The SSE fetch for GET /api/tasks/{id}/logs?follow=1: arg = task id, cursor = activity id. */
static int tasks_logs_fetch(struct svc_ctx *svc, const char *arg,
                            char cursor[API_STREAM_CURSOR_MAX], json_t **events, struct err *err)
{
    long long last = strtoll(cursor, NULL, 10);

    if (svc_tasks_logs_events(svc, strtoll(arg, NULL, 10), &last, events, err) < 0)
        return -1;
    snprintf(cursor, API_STREAM_CURSOR_MAX, "%lld", last);
    return 0;
}

static int tasks_logs(const struct api_request *req, const char *const *params, size_t np,
                      struct api_response *resp)
{
    long long after, limit, follow;
    json_t *entries = NULL, *task = NULL;
    struct err err = {0};
    int64_t id;

    if (np < 1 || reply_path_id(params[0], "task", resp, &id) < 0)
        return 0;
    if (reply_query_int(req, "after", 0, INT64_MAX, 0, resp, &after) < 0 ||
        reply_query_int(req, "limit", 1, 1000, 200, resp, &limit) < 0 ||
        reply_query_int(req, "follow", 0, 1, 0, resp, &follow) < 0)
        return 0;
    if (svc_tasks_get(req->svc, id, &task, &err) < 0)
        return reply_err(resp, &err);
    json_decref(task);
    if (follow) {
        const char *lei = req->last_event_id;
        char *end;

        if (lei && *lei) {
            after = strtoll(lei, &end, 10);
            if (*end || after < 0)
                return reply_error(resp, ERR_INVALID, "invalid_cursor",
                                   "Last-Event-ID must be the id of an event this stream sent");
        }
        resp->status = 200;
        resp->stream.fetch = tasks_logs_fetch;
        snprintf(resp->stream.arg, sizeof(resp->stream.arg), "%lld", (long long)id);
        snprintf(resp->stream.cursor, sizeof(resp->stream.cursor), "%lld", after);
        return 0;
    }
    if (svc_tasks_logs(req->svc, id, after, (int)limit, &entries, &err) < 0)
        return reply_err(resp, &err);
    size_t n = json_array_size(entries);
    long long next =
        n ? json_integer_value(json_object_get(json_array_get(entries, n - 1), "id")) : after;
    return reply_json(resp, 200,
                      json_pack("{s:I,s:o,s:I}", "task_id", (json_int_t)id, "entries", entries,
                                "next_after", (json_int_t)next));
}

const struct api_route tasks_routes[] = {
    {"POST", "/api/tasks", PRINCIPAL_DEVELOPER, tasks_create},
    {"GET", "/api/tasks", PRINCIPAL_OPERATOR, tasks_list},
    {"GET", "/api/tasks/{id}", PRINCIPAL_OPERATOR, tasks_show},
    {"POST", "/api/tasks/{id}/cancel", PRINCIPAL_DEVELOPER, tasks_cancel},
    {"POST", "/api/tasks/{id}/answer", PRINCIPAL_DEVELOPER, tasks_answer},
    {"POST", "/api/tasks/{id}/retry", PRINCIPAL_DEVELOPER, tasks_retry},
    {"GET", "/api/tasks/{id}/logs", PRINCIPAL_OPERATOR, tasks_logs},
    {NULL, NULL, PRINCIPAL_NONE, NULL},
};
