/*
 * The submitter tools. Each is the protocol side of one use case of svc/svc_tasks.h and
 * svc/svc_actions.h, as REST's /api/tasks is. Worker threads.
 */
#include "mcp/tools_submit.h"
#include "core/log.h"
#include "core/model.h"
#include "mcp/tools.h"
#include "svc/svc_actions.h"
#include "svc/svc_handles.h"
#include "svc/svc_tasks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*submit_fn)(struct mcp_ctx *c, const json_t *args, json_t **out, struct err *err);

struct submit_def {
    const char *name, *title, *description, *input;
    submit_fn fn;
};

#define ID_PROP "\"task_id\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"the task id\"}"

static int submit_task(struct mcp_ctx *c, const json_t *args, json_t **out, struct err *err);
static int submit_list(struct mcp_ctx *c, const json_t *args, json_t **out, struct err *err);
static int submit_status(struct mcp_ctx *c, const json_t *args, json_t **out, struct err *err);
static int submit_answer(struct mcp_ctx *c, const json_t *args, json_t **out, struct err *err);
static int submit_cancel(struct mcp_ctx *c, const json_t *args, json_t **out, struct err *err);

static const struct submit_def submit_table[] = {
    {"submit_task", "Submit a task to the agent pool",
     "Hand a coding task to Drover's pool of agents: name a project (or a repository URL) and "
     "say what to do in prompt. An agent works on its own branch and opens a pull request. "
     "Returns the task and its handle; follow it with task_status (or, with the MCP tasks "
     "extension, tasks/get). fan_out > 1 lets that many agents try it independently.",
     "{\"type\":\"object\",\"properties\":{"
     "\"project\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200,\"x-mcp-header\":"
     "\"Project\",\"description\":\"a Drover project, by name or id\"},"
     "\"repository\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":2000,\"description\":"
     "\"a repository URL, when there is no project\"},"
     "\"prompt\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":100000,\"description\":"
     "\"what to do\"},"
     "\"title\":{\"type\":\"string\",\"maxLength\":500,\"description\":\"a short title (default: "
     "from the prompt)\"},"
     "\"priority\":{\"type\":\"integer\",\"minimum\":-1000,\"maximum\":1000},"
     "\"base_branch\":{\"type\":\"string\",\"maxLength\":255},"
     "\"budget\":{\"type\":\"object\",\"properties\":{\"tokens\":{\"type\":\"integer\","
     "\"minimum\":1},\"usd\":{\"type\":\"number\",\"exclusiveMinimum\":0}},"
     "\"additionalProperties\":false},"
     "\"fan_out\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10,\"description\":\"how many "
     "agents try it independently (default 1)\"}},"
     "\"required\":[\"prompt\"],\"additionalProperties\":false}",
     submit_task},
    {"list_tasks", "List tasks", "The most recent tasks, newest first, with their handles.",
     "{\"type\":\"object\",\"properties\":{\"state\":{\"type\":\"string\",\"enum\":[\"backlog\","
     "\"in_progress\",\"ready_to_test\",\"needs_input\",\"completed\",\"failed\",\"cancelled\"]},"
     "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100}},"
     "\"additionalProperties\":false}",
     submit_list},
    {"task_status", "Task status",
     "One task: its state, the question it waits on, its branch, pull request, result summary "
     "and usage, and its history.",
     "{\"type\":\"object\",\"properties\":{" ID_PROP "},\"required\":[\"task_id\"],"
     "\"additionalProperties\":false}",
     submit_status},
    {"answer_task", "Answer a task's question",
     "Answer the question a task in needs_input asked; it goes back to the queue with the answer "
     "in the agent's next prompt.",
     "{\"type\":\"object\",\"properties\":{" ID_PROP ",\"answer\":{\"type\":\"string\","
     "\"minLength\":1,\"maxLength\":10000}},\"required\":[\"task_id\",\"answer\"],"
     "\"additionalProperties\":false}",
     submit_answer},
    {"cancel_task", "Cancel a task",
     "Cancel a task (a fan-out group with its open children); a working agent stops at its next "
     "heartbeat, so its spend stops.",
     "{\"type\":\"object\",\"properties\":{" ID_PROP ",\"reason\":{\"type\":\"string\","
     "\"maxLength\":2000}},\"required\":[\"task_id\"],\"additionalProperties\":false}",
     submit_cancel},
};
#define SUBMIT_N (sizeof(submit_table) / sizeof(submit_table[0]))

static pthread_once_t submit_once = PTHREAD_ONCE_INIT;
static json_t *submit_cached;

static void submit_build(void)
{
    submit_cached = json_array();
    for (size_t i = 0; i < SUBMIT_N; i++) {
        json_error_t je;
        json_t *in = json_loads(submit_table[i].input, 0, &je);

        if (!in) {
            log_error("tools", "schema of %s does not parse: %s", submit_table[i].name, je.text);
            abort();
        }
        json_array_append_new(
            submit_cached,
            json_pack("{s:s,s:s,s:s,s:o,s:{s:b,s:b}}", "name", submit_table[i].name, "title",
                      submit_table[i].title, "description", submit_table[i].description,
                      "inputSchema", in, "annotations", "readOnlyHint",
                      submit_table[i].fn == submit_list || submit_table[i].fn == submit_status,
                      "openWorldHint", 0));
    }
}

bool tools_submit_scope(const struct cfg *cfg, const struct principal *who)
{
    if (cfg && !cfg->auth)
        return true; /* loopback-only test mode */
    /* The one place that says who may submit: `developer` joins admin here. */
    return who && who->scope == PRINCIPAL_ADMIN;
}

bool tools_submit_allowed(const struct mcp_ctx *c)
{
    return tools_submit_scope(c->svc ? c->svc->env->cfg : NULL, c->who);
}

json_t *tools_submit_list(void)
{
    pthread_once(&submit_once, submit_build);
    return json_deep_copy(submit_cached);
}

bool tools_submit_known(const char *name)
{
    for (size_t i = 0; name && i < SUBMIT_N; i++)
        if (strcmp(submit_table[i].name, name) == 0)
            return true;
    return false;
}

const json_t *tools_submit_schema(const char *name)
{
    size_t i;
    const json_t *t;

    pthread_once(&submit_once, submit_build);
    json_array_foreach(submit_cached, i, t)
    {
        if (name && strcmp(json_string_value(json_object_get(t, "name")), name) == 0)
            return json_object_get(t, "inputSchema");
    }
    return NULL;
}

static const char *submit_actor(const struct mcp_ctx *c)
{
    return c->who && c->who->name[0] ? c->who->name : "mcp";
}

json_t *tools_submit_view(struct mcp_ctx *c, json_t *task, struct err *err)
{
    char h[SVC_HANDLE_LEN];
    json_int_t id = json_integer_value(json_object_get(task, "id"));

    if (svc_handles_make(c->svc, id, h, err) < 0) {
        json_decref(task);
        return NULL;
    }
    return json_pack("{s:o, s:s}", "task", task, "task_handle", h);
}

/* ---- arguments: each helper 0 (absent is fine), or -1 with err set ---- */

static int submit_only(const json_t *args, const char *name, struct err *err)
{
    const json_t *schema = tools_submit_schema(name),
                 *props = json_object_get(schema, "properties");
    const char *k;
    const json_t *v;

    json_object_foreach((json_t *)args, k, v)
    {
        (void)v;
        if (!json_object_get(props, k))
            return err_set(err, ERR_INVALID, "unknown argument '%.60s'", k);
    }
    return 0;
}

static int submit_str(const json_t *args, const char *key, size_t max, const char **out,
                      struct err *err)
{
    const json_t *v = json_object_get(args, key);

    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max)
        return err_set(err, ERR_INVALID, "%s must be a string of 1 to %zu characters", key, max);
    *out = json_string_value(v);
    return 0;
}

static int submit_int(const json_t *args, const char *key, long long lo, long long hi,
                      long long *out, struct err *err)
{
    const json_t *v = json_object_get(args, key);

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return err_set(err, ERR_INVALID, "%s must be an integer from %lld to %lld", key, lo, hi);
    *out = json_integer_value(v);
    return 0;
}

/* {"tokens": N >= 1, "usd": X > 0}, either or both, nothing else. */
static int submit_budget(const json_t *b, char **out, struct err *err)
{
    const char *k;
    const json_t *v;

    *out = NULL;
    if (!b || json_is_null(b))
        return 0;
    if (!json_is_object(b) || json_object_size(b) == 0)
        return err_set(err, ERR_INVALID, "budget must be {\"tokens\": N, \"usd\": X}");
    json_object_foreach((json_t *)b, k, v)
    {
        if (strcmp(k, "tokens") == 0 && json_is_integer(v) && json_integer_value(v) >= 1)
            continue;
        if (strcmp(k, "usd") == 0 && json_is_number(v) && json_number_value(v) > 0 &&
            json_number_value(v) < 1e9)
            continue;
        return err_set(err, ERR_INVALID,
                       "budget.%.40s: budget takes tokens (an integer >= 1) and usd (> 0)", k);
    }
    *out = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    return 0;
}

static int submit_task(struct mcp_ctx *c, const json_t *args, json_t **out, struct err *err)
{
    struct model_task_new t = {0};
    const char *project = NULL, *repo = NULL, *prompt = NULL, *title = NULL, *branch = NULL;
    long long prio = 0, fan = 1;
    char *budget = NULL, *title_owned = NULL;
    int64_t project_id = 0;
    json_t *task = NULL;
    bool created = false;
    int rc = -1;

    if (submit_only(args, "submit_task", err) < 0 ||
        submit_str(args, "project", 200, &project, err) < 0 ||
        submit_str(args, "repository", 2000, &repo, err) < 0 ||
        submit_str(args, "prompt", 100000, &prompt, err) < 0 ||
        submit_str(args, "title", MODEL_TITLE_MAX, &title, err) < 0 ||
        submit_str(args, "base_branch", 255, &branch, err) < 0 ||
        submit_int(args, "priority", MODEL_PRIORITY_MIN, MODEL_PRIORITY_MAX, &prio, err) < 0 ||
        submit_int(args, "fan_out", 1, MODEL_FANOUT_MAX, &fan, err) < 0 ||
        submit_budget(json_object_get(args, "budget"), &budget, err) < 0)
        goto out;
    if (!prompt) {
        err_set(err, ERR_INVALID, "prompt (what to do) is required");
        goto out;
    }
    if (!project && !repo) {
        err_set(err, ERR_INVALID, "name a project (name or id) or a repository URL to work on");
        goto out;
    }
    if (project && svc_tasks_project(c->svc, project, &project_id, err) < 0)
        goto out;
    if (!title) { /* the prompt's first line, shortened */
        size_t n = strcspn(prompt, "\n");
        title = title_owned = strndup(prompt, n > 80 ? 80 : n);
        if (!*title_owned)
            title = "task";
    }
    t.title = title;
    t.description = prompt;
    t.priority = (int)prio;
    t.project_id = project_id;
    t.repo_url = repo;
    t.base_branch = branch;
    t.budget_json = budget;
    if (svc_tasks_submit(c->svc, &t, (int)fan, &task, &created, err) < 0)
        goto out;
    log_info("mcp", "task %lld submitted over MCP by %s",
             (long long)json_integer_value(json_object_get(task, "id")), submit_actor(c));
    *out = tools_submit_view(c, task, err);
    task = NULL;
    rc = *out ? 0 : -1;
out:
    json_decref(task);
    free(budget);
    free(title_owned);
    return rc;
}

static int submit_list(struct mcp_ctx *c, const json_t *args, json_t **out, struct err *err)
{
    struct model_task_filter f = {0};
    const char *state = NULL;
    long long limit = 20;
    int64_t next = 0;
    json_t *tasks = NULL, *t, *list;
    struct svc_handles_key key;
    size_t i;

    if (submit_only(args, "list_tasks", err) < 0 ||
        submit_str(args, "state", 32, &state, err) < 0 ||
        submit_int(args, "limit", 1, 100, &limit, err) < 0)
        return -1;
    f.state = state;
    f.limit = (int)limit;
    if (svc_tasks_list(c->svc, &f, &tasks, &next, err) < 0)
        return -1;
    if (svc_handles_load(c->svc, &key, err) < 0) { /* once for the whole page */
        json_decref(tasks);
        return -1;
    }
    list = json_array();
    json_array_foreach(tasks, i, t)
    {
        char h[SVC_HANDLE_LEN];
        svc_handles_sign(&key, json_integer_value(json_object_get(t, "id")), h);
        json_array_append_new(list, json_pack("{s:O, s:s}", "task", t, "task_handle", h));
    }
    svc_handles_wipe(&key);
    json_decref(tasks);
    *out = json_pack("{s:o}", "tasks", list);
    return 0;
}

static int submit_id(const json_t *args, const char *tool, int64_t *id, struct err *err)
{
    long long v = 0;

    if (submit_only(args, tool, err) < 0 || submit_int(args, "task_id", 1, INT64_MAX, &v, err) < 0)
        return -1;
    if (!v)
        return err_set(err, ERR_INVALID, "task_id is required");
    *id = v;
    return 0;
}

static int submit_status(struct mcp_ctx *c, const json_t *args, json_t **out, struct err *err)
{
    int64_t id;
    json_t *task = NULL;

    if (submit_id(args, "task_status", &id, err) < 0 ||
        svc_tasks_detail(c->svc, id, &task, err) < 0)
        return -1;
    *out = tools_submit_view(c, task, err);
    return *out ? 0 : -1;
}

static int submit_answer(struct mcp_ctx *c, const json_t *args, json_t **out, struct err *err)
{
    int64_t id;
    const char *answer = NULL;
    json_t *task = NULL;

    if (submit_id(args, "answer_task", &id, err) < 0 ||
        submit_str(args, "answer", 10000, &answer, err) < 0)
        return -1;
    if (!answer)
        return err_set(err, ERR_INVALID, "answer is required");
    if (svc_actions_answer(c->svc, id, submit_actor(c), answer, &task, err) < 0)
        return -1;
    *out = tools_submit_view(c, task, err);
    return *out ? 0 : -1;
}

static int submit_cancel(struct mcp_ctx *c, const json_t *args, json_t **out, struct err *err)
{
    int64_t id;
    const char *why = NULL;
    json_t *task = NULL;

    if (submit_id(args, "cancel_task", &id, err) < 0 ||
        submit_str(args, "reason", 2000, &why, err) < 0)
        return -1;
    if (svc_actions_cancel(c->svc, id, submit_actor(c), why ? why : "cancelled over MCP", &task,
                           err) < 0)
        return -1;
    *out = tools_submit_view(c, task, err);
    return *out ? 0 : -1;
}

void tools_submit_call(struct mcp_ctx *c, const char *name, const json_t *args, json_t **result,
                       struct err *err)
{
    json_t *out = NULL;

    *result = NULL;
    err_clear(err);
    for (size_t i = 0; i < SUBMIT_N; i++) {
        if (strcmp(submit_table[i].name, name) != 0)
            continue;
        if (!tools_submit_allowed(c))
            err_set(err, ERR_FORBIDDEN, "%s needs a developer (or admin) token", name);
        else if (submit_table[i].fn(c, args, &out, err) == 0) {
            *result = tools_result(out);
            return;
        }
        json_decref(out);
        *result = tools_error(err);
        return;
    }
    err_set(err, ERR_INVALID, "unknown tool '%.100s'", name);
    *result = tools_error(err);
}
