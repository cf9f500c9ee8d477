/*
 * The tools. Each row of tools_table is one tool: name, title, description, input and output
 * JSON Schemas (as JSON text, parsed once) and its implementation. Worker threads.
 */
#include "mcp/tools.h"
#include "core/counters.h"
#include "mcp/tools_preview.h"
#include "store/budget.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/text.h"
#include "store/branches.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

typedef void (*tools_fn)(struct mcp_ctx *c, const json_t *args, json_t **result);

struct tools_def {
    const char *name, *title, *description, *input, *output;
    tools_fn fn;
};

#define TASK_ID_PROP                                                                               \
    "\"task_id\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"the task id\"}"
#define EPOCH_PROP                                                                                 \
    "\"lease_epoch\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"the lease_epoch "       \
    "get_next_task returned; a stale one is refused\"}"
#define TASK_OUT                                                                                   \
    "{\"type\":\"object\",\"properties\":{\"task\":{\"type\":[\"object\",\"null\"]}},"             \
    "\"required\":[\"task\"]}"

static void tools_get_next_task(struct mcp_ctx *c, const json_t *args, json_t **result);
static void tools_create_branch(struct mcp_ctx *c, const json_t *args, json_t **result);
static void tools_log_activity(struct mcp_ctx *c, const json_t *args, json_t **result);
static void tools_update_task_status(struct mcp_ctx *c, const json_t *args, json_t **result);
static void tools_heartbeat(struct mcp_ctx *c, const json_t *args, json_t **result);
static void tools_ask_user_question(struct mcp_ctx *c, const json_t *args, json_t **result);
static void tools_create_pull_request(struct mcp_ctx *c, const json_t *args, json_t **result);

static const struct tools_def tools_table[] = {
    {"get_next_task", "Get the next task",
     "Claim the most urgent runnable task for this agent. Returns {task: {...}} with the "
     "lease_epoch every later call about the task must carry, or {task: null} when nothing is "
     "runnable. wait_seconds > 0 holds the call until a task arrives or the time is up.",
     "{\"type\":\"object\",\"properties\":{\"wait_seconds\":{\"type\":\"integer\",\"minimum\":0,"
     "\"description\":\"long-poll up to this many seconds (bounded by the server)\"}},"
     "\"additionalProperties\":false}",
     TASK_OUT, tools_get_next_task},
    {"create_branch", "Create the task's branch",
     "Create (or return the already recorded) working branch of a task you hold. The name "
     "defaults to drover/<task id>-<slug of the title>.",
     "{\"type\":\"object\",\"properties\":{" TASK_ID_PROP "," EPOCH_PROP
     ",\"name\":{\"type\":\"string\",\"maxLength\":255,\"description\":\"branch name "
     "(optional)\"}},"
     "\"required\":[\"task_id\",\"lease_epoch\"],\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"task_id\":{\"type\":\"integer\"},\"branch\":{\"type\":"
     "\"string\"},\"created\":{\"type\":\"boolean\"}},\"required\":[\"task_id\",\"branch\"]}",
     tools_create_branch},
    {"log_activity", "Log progress",
     "Append one log line (level, message, metadata) or a batch (entries) to a task you hold.",
     "{\"type\":\"object\",\"properties\":{" TASK_ID_PROP
     ",\"level\":{\"type\":\"string\",\"enum\":[\"debug\",\"info\",\"notice\",\"warning\","
     "\"error\"]},"
     "\"message\":{\"type\":\"string\",\"maxLength\":65536},\"metadata\":{\"type\":\"object\"},"
     "\"entries\":{\"type\":\"array\",\"maxItems\":1000,\"items\":{\"type\":\"object\","
     "\"properties\":"
     "{\"level\":{\"type\":\"string\"},\"message\":{\"type\":\"string\"},\"metadata\":{\"type\":"
     "\"object\"}},\"required\":[\"message\"]}}},\"required\":[\"task_id\"],"
     "\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"task_id\":{\"type\":\"integer\"},\"logged\":{\"type\":"
     "\"integer\"}},\"required\":[\"task_id\",\"logged\"]}",
     tools_log_activity},
    {"update_task_status", "Update the task's status",
     "Move a task you hold to ready_to_test, needs_input (with a question), completed or failed "
     "(with an error; retried with back-off unless retry is false). Fenced: a stale lease_epoch "
     "is refused.",
     "{\"type\":\"object\",\"properties\":{" TASK_ID_PROP "," EPOCH_PROP
     ",\"status\":{\"type\":\"string\",\"enum\":[\"ready_to_test\",\"needs_input\",\"completed\","
     "\"failed\"]},\"error\":{\"type\":\"string\"},\"question\":{\"type\":\"string\"},\"reason\":"
     "{\"type\":\"string\",\"enum\":[\"question\",\"timeout\",\"budget\"]},\"result\":{\"type\":"
     "\"object\"},\"retry\":{\"type\":\"boolean\"}},\"required\":[\"task_id\",\"lease_epoch\","
     "\"status\"],\"additionalProperties\":false}",
     TASK_OUT, tools_update_task_status},
    {"heartbeat", "Heartbeat",
     "Report that this agent is alive: extends the leases of its tasks and returns, per task, "
     "whether it was cancelled (stop working on it when cancelled is true).",
     "{\"type\":\"object\",\"properties\":{\"status\":{\"type\":\"string\",\"enum\":[\"idle\","
     "\"busy\",\"offline\"]},\"task_ids\":{\"type\":\"array\",\"maxItems\":100,\"items\":{\"type\":"
     "\"integer\"}},\"usage\":{\"type\":\"object\"}},\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"agent\":{\"type\":\"object\"},\"tasks\":{\"type\":"
     "\"array\"},\"heartbeat_interval\":{\"type\":\"integer\"}},\"required\":[\"tasks\"]}",
     tools_heartbeat},
    {"ask_user_question", "Ask the user a question",
     "Park a task you hold in needs_input with a question for a human; it comes back to the "
     "queue with the answer.",
     "{\"type\":\"object\",\"properties\":{" TASK_ID_PROP "," EPOCH_PROP
     ",\"question\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":10000}},\"required\":["
     "\"task_id\",\"lease_epoch\",\"question\"],\"additionalProperties\":false}",
     TASK_OUT, tools_ask_user_question},
    {"create_pull_request", "Open a pull request",
     "Record (and, with a forge configured, open) the pull request of a task you hold. "
     "Idempotent: a second call returns the recorded one.",
     "{\"type\":\"object\",\"properties\":{" TASK_ID_PROP "," EPOCH_PROP
     ",\"title\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":500},\"body\":{\"type\":"
     "\"string\"},\"head\":{\"type\":\"string\"},\"base\":{\"type\":\"string\"}},\"required\":["
     "\"task_id\",\"lease_epoch\",\"title\"],\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"task_id\":{\"type\":\"integer\"},\"pull_request\":"
     "{\"type\":\"object\"},\"created\":{\"type\":\"boolean\"}},\"required\":[\"task_id\","
     "\"pull_request\"]}",
     tools_create_pull_request},
    {"trigger_preview_deploy", "Deploy a preview",
     "Ask the project's preview webhook (settings.preview_webhook) to deploy the branch of a "
     "task you hold; records and returns the preview URL it answers.",
     "{\"type\":\"object\",\"properties\":{" TASK_ID_PROP "," EPOCH_PROP
     "},\"required\":[\"task_id\",\"lease_epoch\"],\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"task_id\":{\"type\":\"integer\"},\"preview_url\":"
     "{\"type\":\"string\"}},\"required\":[\"task_id\",\"preview_url\"]}",
     tools_preview_deploy},
};

#define TOOLS_N (sizeof(tools_table) / sizeof(tools_table[0]))

static pthread_once_t tools_once = PTHREAD_ONCE_INIT;
static json_t *tools_cached;

static void tools_build(void)
{
    tools_cached = json_array();
    for (size_t i = 0; i < TOOLS_N; i++) {
        json_error_t je;
        json_t *in = json_loads(tools_table[i].input, 0, &je);
        json_t *out = json_loads(tools_table[i].output, 0, &je);

        if (!in || !out) { /* a typo in the table above: fail loudly in every test */
            log_error("tools", "schema of %s does not parse: %s", tools_table[i].name, je.text);
            abort();
        }
        json_array_append_new(
            tools_cached, json_pack("{s:s,s:s,s:s,s:o,s:o}", "name", tools_table[i].name, "title",
                                    tools_table[i].title, "description", tools_table[i].description,
                                    "inputSchema", in, "outputSchema", out));
    }
}

json_t *tools_list(void)
{
    pthread_once(&tools_once, tools_build);
    return json_deep_copy(tools_cached); /* callers may modify; jansson refcounts are not atomic */
}

bool tools_known(const char *name)
{
    for (size_t i = 0; i < TOOLS_N; i++)
        if (strcmp(tools_table[i].name, name) == 0)
            return true;
    return false;
}

json_t *tools_result(json_t *structured)
{
    char *text = json_dumps(structured, JSON_COMPACT);
    json_t *r = json_pack("{s:[{s:s,s:s}],s:o,s:b}", "content", "type", "text", "text", text,
                          "structuredContent", structured, "isError", 0);

    free(text);
    return r;
}

json_t *tools_error(const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    json_t *e, *r;
    char *text;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    e = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    text = json_dumps(e, JSON_COMPACT);
    r = json_pack("{s:[{s:s,s:s}],s:b}", "content", "type", "text", "text", text, "isError", 1);
    free(text);
    json_decref(e);
    return r;
}

static json_t *tools_err(const struct err *err)
{
    return tools_error(err_code_name(err->code), "%s", err->msg);
}

const char *tools_agent(const struct mcp_ctx *c)
{
    if (c->who && c->who->agent_id[0])
        return c->who->agent_id;
    return c->agent_hint ? c->agent_hint : "";
}

/* ---- argument helpers: each returns 0, or -1 with *result set to an isError result ---- */

static int tools_need_agent(struct mcp_ctx *c, json_t **result)
{
    if (!text_is_uuid(tools_agent(c))) {
        *result = tools_error("unauthorized", "no agent: call with an agent token%s",
                              c->cfg && !c->cfg->auth ? " (or an X-Agent-ID header)" : "");
        return -1;
    }
    return 0;
}

static int tools_int(const json_t *args, const char *key, bool required, long long lo, long long hi,
                     long long *out, json_t **result)
{
    const json_t *v = json_object_get(args, key);
    char *end;

    if (!v || json_is_null(v)) {
        if (required) {
            *result = tools_error("invalid_argument", "%s is required", key);
            return -1;
        }
        return 1;
    }
    if (json_is_integer(v))
        *out = json_integer_value(v);
    else if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < 20) {
        *out = strtoll(json_string_value(v), &end, 10); /* shell agents send "12" */
        if (*end) {
            *result = tools_error("invalid_argument", "%s must be an integer", key);
            return -1;
        }
    } else {
        *result = tools_error("invalid_argument", "%s must be an integer", key);
        return -1;
    }
    if (*out < lo || *out > hi) {
        *result = tools_error("invalid_argument", "%s must be from %lld to %lld", key, lo, hi);
        return -1;
    }
    return 0;
}

static int tools_str(const json_t *args, const char *key, bool required, const char **out,
                     json_t **result)
{
    const json_t *v = json_object_get(args, key);

    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required) {
            *result = tools_error("invalid_argument", "%s is required", key);
            return -1;
        }
        return 0;
    }
    if (!json_is_string(v)) {
        *result = tools_error("invalid_argument", "%s must be a string", key);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

/* Unknown argument names are refused, so a typo ("taskId") is not silently ignored. */
static int tools_only(const json_t *args, const char *const *allowed, json_t **result)
{
    const char *k;
    const json_t *v;

    json_object_foreach((json_t *)args, k, v)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++)
            ok = ok || strcmp(k, allowed[i]) == 0;
        if (!ok) {
            *result = tools_error("invalid_argument", "unknown argument '%.60s'", k);
            return -1;
        }
    }
    return 0;
}

/* ---- the tools ---- */

static double tools_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tools_claim(struct mcp_ctx *c, const char *agent_id, json_t **result)
{
    struct err err = {0};
    json_t *task = NULL;
    double t0 = tools_now();

    *result = NULL;
    if (c->claims_closed)
        return; /* droverd is shutting down: no task goes to an agent it may not see finish */
    if (queue_claim(c->db, c->qo, agent_id, &task, &err) < 0) {
        *result = tools_err(&err);
        return;
    }
    counters_claim(tools_now() - t0, task != NULL);
    if (task)
        *result = tools_result(json_pack("{s:o}", "task", task));
}

static void tools_get_next_task(struct mcp_ctx *c, const json_t *args, json_t **result)
{
    static const char *const ok[] = {"wait_seconds", "agentId", NULL};
    long long wait = 0;
    int max = c->cfg ? c->cfg->long_poll_max : 0;

    if (tools_only(args, ok, result) < 0 || tools_need_agent(c, result) < 0 ||
        tools_int(args, "wait_seconds", false, 0, 3600, &wait, result) < 0)
        return;
    if (wait > max)
        wait = max; /* a bound, not an error: the agent simply polls again */
    tools_claim(c, tools_agent(c), result);
    if (*result)
        return;
    if (wait > 0 && c->allow_park) {
        c->park_seconds = (int)wait;
        return;
    }
    *result = tools_result(json_pack("{s:n}", "task"));
}

static void tools_create_branch(struct mcp_ctx *c, const json_t *args, json_t **result)
{
    static const char *const ok[] = {"task_id", "lease_epoch", "name", "agentId", NULL};
    long long id, epoch;
    const char *name;
    struct err err = {0};
    json_t *out = NULL;

    if (tools_only(args, ok, result) < 0 || tools_need_agent(c, result) < 0 ||
        tools_int(args, "task_id", true, 1, INT64_MAX, &id, result) < 0 ||
        tools_int(args, "lease_epoch", true, 0, INT64_MAX, &epoch, result) < 0 ||
        tools_str(args, "name", false, &name, result) < 0)
        return;
    if (branches_create(c->db, tools_agent(c), id, epoch, name, &out, &err) < 0)
        *result = tools_err(&err);
    else
        *result = tools_result(out);
}

static void tools_log_activity(struct mcp_ctx *c, const json_t *args, json_t **result)
{
    static const char *const ok[] = {"task_id", "level",   "message", "metadata",
                                     "entries", "agentId", NULL};
    const json_t *entries = json_object_get(args, "entries");
    json_t *one = NULL;
    long long id;
    int n = 0;
    struct err err = {0};

    if (tools_only(args, ok, result) < 0 || tools_need_agent(c, result) < 0 ||
        tools_int(args, "task_id", true, 1, INT64_MAX, &id, result) < 0)
        return;
    if (entries && !json_is_array(entries)) {
        *result = tools_error("invalid_argument",
                              "entries must be an array of {level, message, metadata}");
        return;
    }
    if (!entries) {
        if (!json_is_string(json_object_get(args, "message"))) {
            *result = tools_error("invalid_argument", "message (a string) or entries is required");
            return;
        }
        one = json_object();
        json_object_set(one, "message", json_object_get(args, "message"));
        if (json_object_get(args, "level"))
            json_object_set(one, "level", json_object_get(args, "level"));
        if (json_object_get(args, "metadata"))
            json_object_set(one, "metadata", json_object_get(args, "metadata"));
        entries = one;
    }
    if (queue_log(c->db, tools_agent(c), id, entries, &n, &err) < 0)
        *result = tools_err(&err);
    else
        *result = tools_result(json_pack("{s:I,s:i}", "task_id", (json_int_t)id, "logged", n));
    json_decref(one);
}

static void tools_transition(struct mcp_ctx *c, long long id, long long epoch, const char *to,
                             const struct queue_outcome *oc, json_t **result)
{
    struct err err = {0};
    json_t *task = NULL;

    if (queue_update_status(c->db, c->qo, tools_agent(c), id, epoch, to, oc, &task, &err) < 0)
        *result = tools_err(&err);
    else
        *result = tools_result(json_pack("{s:o}", "task", task));
}

static void tools_update_task_status(struct mcp_ctx *c, const json_t *args, json_t **result)
{
    static const char *const ok[] = {"task_id", "lease_epoch", "status", "error",   "question",
                                     "reason",  "result",      "retry",  "agentId", NULL};
    struct queue_outcome oc = {0};
    const json_t *retry = json_object_get(args, "retry"), *res = json_object_get(args, "result");
    const char *status;
    long long id, epoch;

    if (tools_only(args, ok, result) < 0 || tools_need_agent(c, result) < 0 ||
        tools_int(args, "task_id", true, 1, INT64_MAX, &id, result) < 0 ||
        tools_int(args, "lease_epoch", true, 0, INT64_MAX, &epoch, result) < 0 ||
        tools_str(args, "status", true, &status, result) < 0 ||
        tools_str(args, "error", false, &oc.error, result) < 0 ||
        tools_str(args, "question", false, &oc.question, result) < 0 ||
        tools_str(args, "reason", false, &oc.reason, result) < 0)
        return;
    if (retry && !json_is_boolean(retry)) {
        *result = tools_error("invalid_argument", "retry must be a boolean");
        return;
    }
    if (res && !json_is_null(res) && !json_is_object(res)) {
        *result = tools_error("invalid_argument", "result must be an object");
        return;
    }
    if (strcmp(status, "ready_to_test") != 0 && strcmp(status, "needs_input") != 0 &&
        strcmp(status, "completed") != 0 && strcmp(status, "failed") != 0) {
        *result = tools_error("invalid_argument",
                              "status must be ready_to_test, needs_input, completed or failed");
        return;
    }
    oc.no_retry = retry && json_is_false(retry);
    oc.result = res && json_is_object(res) ? res : NULL;
    tools_transition(c, id, epoch, status, &oc, result);
}

static void tools_ask_user_question(struct mcp_ctx *c, const json_t *args, json_t **result)
{
    static const char *const ok[] = {"task_id", "lease_epoch", "question", "agentId", NULL};
    struct queue_outcome oc = {.reason = "question"};
    long long id, epoch;

    if (tools_only(args, ok, result) < 0 || tools_need_agent(c, result) < 0 ||
        tools_int(args, "task_id", true, 1, INT64_MAX, &id, result) < 0 ||
        tools_int(args, "lease_epoch", true, 0, INT64_MAX, &epoch, result) < 0 ||
        tools_str(args, "question", true, &oc.question, result) < 0)
        return;
    if (!*oc.question) {
        *result = tools_error("invalid_argument", "question must not be empty");
        return;
    }
    tools_transition(c, id, epoch, "needs_input", &oc, result);
}

static void tools_heartbeat(struct mcp_ctx *c, const json_t *args, json_t **result)
{
    static const char *const ok[] = {"status", "task_ids", "usage", "agentId", "taskIds", NULL};
    const json_t *ids = json_object_get(args, "task_ids"), *usage = json_object_get(args, "usage");
    const char *status;
    struct err err = {0};
    json_t *out = NULL;
    int over = 0;

    if (!ids)
        ids = json_object_get(args, "taskIds");
    if (tools_only(args, ok, result) < 0 || tools_need_agent(c, result) < 0 ||
        tools_str(args, "status", false, &status, result) < 0)
        return;
    if (status && strcmp(status, "idle") != 0 && strcmp(status, "busy") != 0 &&
        strcmp(status, "offline") != 0) {
        *result = tools_error("invalid_argument", "status must be idle, busy or offline");
        return;
    }
    if (ids && !json_is_null(ids) && !json_is_array(ids)) {
        *result = tools_error("invalid_argument", "task_ids must be an array of integers");
        return;
    }
    if (usage && !json_is_null(usage) && !json_is_object(usage)) {
        *result = tools_error("invalid_argument", "usage must be an object");
        return;
    }
    if (ids && json_is_array(ids)) {
        size_t i;
        const json_t *v;
        json_array_foreach(ids, i, v) if (!json_is_integer(v) || json_integer_value(v) <= 0)
        {
            *result = tools_error("invalid_argument", "task_ids must be positive integers");
            return;
        }
    }
    /* Over-budget tasks stop before the reply is built, so it reports them cancelled. */
    if (budget_enforce(c->db, tools_agent(c), usage && json_is_object(usage) ? usage : NULL, &over,
                       &err) < 0) {
        *result = tools_err(&err);
        return;
    }
    if (queue_heartbeat(c->db, c->qo, tools_agent(c), status,
                        ids && json_is_array(ids) ? ids : NULL,
                        usage && json_is_object(usage) ? usage : NULL, &out, &err) < 0) {
        *result = tools_err(&err);
        return;
    }
    json_object_set_new(out, "heartbeat_interval",
                        json_integer(c->cfg ? c->cfg->heartbeat_interval : 30));
    *result = tools_result(out);
}

static void tools_create_pull_request(struct mcp_ctx *c, const json_t *args, json_t **result)
{
    static const char *const ok[] = {"task_id", "lease_epoch", "title",   "body",
                                     "head",    "base",        "agentId", NULL};
    const char *title, *body, *head, *base;
    long long id, epoch;
    struct err err = {0};
    json_t *out = NULL;

    if (tools_only(args, ok, result) < 0 || tools_need_agent(c, result) < 0 ||
        tools_int(args, "task_id", true, 1, INT64_MAX, &id, result) < 0 ||
        tools_int(args, "lease_epoch", true, 0, INT64_MAX, &epoch, result) < 0 ||
        tools_str(args, "title", true, &title, result) < 0 ||
        tools_str(args, "body", false, &body, result) < 0 ||
        tools_str(args, "head", false, &head, result) < 0 ||
        tools_str(args, "base", false, &base, result) < 0)
        return;
    if (branches_pull_request(c->db, tools_agent(c), id, epoch, title, body, head, base, &out,
                              &err) < 0)
        *result = tools_err(&err);
    else
        *result = tools_result(out);
}

void tools_call(struct mcp_ctx *c, const char *name, const json_t *args, json_t **result)
{
    json_t *empty = NULL;
    const json_t *agent;

    *result = NULL;
    if (!args)
        args = empty = json_object();
    /* An agentId argument (seed scripts send it) must name the caller. */
    agent = json_object_get(args, "agentId");
    if (agent &&
        (!json_is_string(agent) || (c->who && c->who->agent_id[0] &&
                                    strcasecmp(json_string_value(agent), c->who->agent_id) != 0))) {
        *result = tools_error("forbidden", "agentId does not match the agent of this token");
        goto out;
    }
    if (agent && !(c->who && c->who->agent_id[0]) && !c->agent_hint)
        c->agent_hint = json_string_value(agent); /* auth off: the seed names its agent */
    for (size_t i = 0; i < TOOLS_N; i++) {
        if (strcmp(tools_table[i].name, name) == 0) {
            double t0 = tools_now();

            tools_table[i].fn(c, args, result);
            /* A parked long-poll (no result yet) is counted when it is answered. */
            if (*result)
                counters_tool_call(name, tools_now() - t0,
                                   !json_is_true(json_object_get(*result, "isError")));
            goto out;
        }
    }
    *result = tools_error("invalid_argument", "unknown tool '%.100s'", name);
out:
    json_decref(empty);
}
