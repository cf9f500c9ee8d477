/*
 * The tools. Each row of tools_table is one tool: name, title, description, input and output
 * JSON Schemas (as JSON text, parsed once) and its implementation. Worker threads.
 */
#include "mcp/tools.h"
#include "core/jsonkeys.h"
#include "mcp/seed.h"
#include "core/clock.h"
#include "core/counters.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/model.h"
#include "core/text.h"
#include "mcp/mcp_headers.h"
#include "mcp/tools_submit.h"
#include "svc/svc_autonomy.h"
#include "svc/svc_branch.h"
#include "svc/svc_claim.h"
#include "svc/svc_gitcred.h"
#include "svc/svc_preview.h"
#include "svc/svc_pull.h"
#include "svc/svc_status.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* 0 with *result (NULL only for a held get_next_task), or -1 with err set. */
typedef int (*tools_fn)(struct mcp_ctx *c, const json_t *args, json_t **result, struct err *err);

struct tools_def {
    const char *name, *title, *description, *input, *output;
    tools_fn fn;
    bool slow; /* calls an external service (a forge, a webhook): runs on the slow workers */
};

#define TASK_ID_PROP                                                                               \
    "\"task_id\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"the task id\"}"
#define EPOCH_PROP                                                                                 \
    "\"lease_epoch\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"the lease_epoch "       \
    "get_next_task returned; a stale one is refused\"}"
#define TASK_OUT                                                                                   \
    "{\"type\":\"object\",\"properties\":{\"task\":{\"type\":[\"object\",\"null\"]}},"             \
    "\"required\":[\"task\"]}"

#define APPROVAL_OUT                                                                               \
    "{\"type\":\"object\",\"properties\":{\"decision\":{\"type\":\"string\",\"enum\":[\"allow\","  \
    "\"deny\",\"pending\"]},\"action\":{\"type\":\"string\"},\"rule\":{\"type\":\"string\"},"      \
    "\"message\":{\"type\":\"string\"},\"approval_id\":{\"type\":\"integer\"}},"                   \
    "\"required\":[\"decision\"]}"

#define TOOLS_FN(name)                                                                             \
    static int name(struct mcp_ctx *c, const json_t *args, json_t **result, struct err *err)
TOOLS_FN(tools_get_next_task);
TOOLS_FN(tools_create_branch);
TOOLS_FN(tools_log_activity);
TOOLS_FN(tools_update_task_status);
TOOLS_FN(tools_heartbeat);
TOOLS_FN(tools_ask_user_question);
TOOLS_FN(tools_create_pull_request);
TOOLS_FN(tools_trigger_preview_deploy);
TOOLS_FN(tools_get_git_credential);
TOOLS_FN(tools_request_approval);
TOOLS_FN(tools_get_approval);

static const struct tools_def tools_table[] = {
    {"get_next_task", "Get the next task",
     "Claim the most urgent runnable task for this agent. Returns {task: {...}} with the "
     "lease_epoch every later call about the task must carry, or {task: null} when nothing is "
     "runnable. wait_seconds > 0 holds the call until a task arrives or the time is up.",
     "{\"type\":\"object\",\"properties\":{\"wait_seconds\":{\"type\":\"integer\",\"minimum\":0,"
     "\"description\":\"long-poll up to this many seconds (bounded by the server)\"}},"
     "\"additionalProperties\":false}",
     TASK_OUT, tools_get_next_task, false},
    {"create_branch", "Create the task's branch",
     "Create (or return the already recorded) working branch of a task you hold. The name "
     "defaults to drover/<task id>-<slug of the title>.",
     "{\"type\":\"object\",\"properties\":{" TASK_ID_PROP "," EPOCH_PROP
     ",\"name\":{\"type\":\"string\",\"maxLength\":255,\"description\":\"branch name "
     "(optional)\"},\"base\":{\"type\":\"string\",\"maxLength\":255,\"description\":\"the "
     "branch to start from when neither the task nor its project names one (the repository's "
     "default branch)\"}},"
     "\"required\":[\"task_id\",\"lease_epoch\"],\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"task_id\":{\"type\":\"integer\"},\"branch\":{\"type\":"
     "\"string\"},\"created\":{\"type\":\"boolean\"}},\"required\":[\"task_id\",\"branch\"]}",
     tools_create_branch, true},
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
     tools_log_activity, false},
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
     TASK_OUT, tools_update_task_status, false},
    {"heartbeat", "Heartbeat",
     "Report that this agent is alive: extends the leases of its tasks and returns, per task, "
     "whether it was cancelled (stop working on it when cancelled is true). Status unusable "
     "(with a reason) says the agent has no usable coding command and takes no task.",
     "{\"type\":\"object\",\"properties\":{\"status\":{\"type\":\"string\",\"enum\":[\"idle\","
     "\"busy\",\"offline\",\"unusable\"]},\"reason\":{\"type\":\"string\",\"maxLength\":1000},"
     "\"task_ids\":{\"type\":\"array\",\"maxItems\":100,\"items\":{\"type\":"
     "\"integer\"}},\"usage\":{\"type\":\"object\"}},\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"agent\":{\"type\":\"object\"},\"tasks\":{\"type\":"
     "\"array\"},\"heartbeat_interval\":{\"type\":\"integer\"}},\"required\":[\"tasks\"]}",
     tools_heartbeat, false},
    {"ask_user_question", "Ask the user a question",
     "Park a task you hold in needs_input with a question for a human; it comes back to the "
     "queue with the answer.",
     "{\"type\":\"object\",\"properties\":{" TASK_ID_PROP "," EPOCH_PROP
     ",\"question\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":10000}},\"required\":["
     "\"task_id\",\"lease_epoch\",\"question\"],\"additionalProperties\":false}",
     TASK_OUT, tools_ask_user_question, false},
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
     tools_create_pull_request, true},
    {"trigger_preview_deploy", "Deploy a preview",
     "Ask the project's preview webhook (settings.preview_webhook) to deploy the branch of a "
     "task you hold; records and returns the preview URL it answers.",
     "{\"type\":\"object\",\"properties\":{" TASK_ID_PROP "," EPOCH_PROP
     "},\"required\":[\"task_id\",\"lease_epoch\"],\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"task_id\":{\"type\":\"integer\"},\"preview_url\":"
     "{\"type\":\"string\"}},\"required\":[\"task_id\",\"preview_url\"]}",
     tools_trigger_preview_deploy, true},
    {"get_git_credential", "Get the task's git credential",
     "The git credential of the project of a task you hold, for its repository URL only: "
     "{url, username, token, expires_at} (token null when the project has none for agents; "
     "expires_at for short-lived tokens). Never log it.",
     "{\"type\":\"object\",\"properties\":{" TASK_ID_PROP "," EPOCH_PROP
     "},\"required\":[\"task_id\",\"lease_epoch\"],\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"task_id\":{\"type\":\"integer\"},\"url\":"
     "{\"type\":[\"string\",\"null\"]},\"username\":{\"type\":[\"string\",\"null\"]},"
     "\"token\":{\"type\":[\"string\",\"null\"]},\"expires_at\":{\"type\":[\"string\","
     "\"null\"]}},\"required\":[\"task_id\",\"token\"]}",
     tools_get_git_credential, true},
    {"request_approval", "Ask whether the coding command may take an action",
     "For a task whose project has an autonomy policy (the task's autonomy field): ask about one "
     "tool call of the coding command (tool_name and input as Claude Code's permission prompt "
     "sends them; cwd the repository's working tree). decision allow or deny is final; pending "
     "waits for a person: poll get_approval with approval_id (heartbeats keep the lease).",
     "{\"type\":\"object\",\"properties\":{" TASK_ID_PROP "," EPOCH_PROP
     ",\"tool_name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},\"input\":"
     "{\"type\":\"object\"},\"cwd\":{\"type\":\"string\",\"maxLength\":4096},\"tool_use_id\":"
     "{\"type\":\"string\",\"maxLength\":200}},\"required\":[\"task_id\",\"lease_epoch\","
     "\"tool_name\",\"input\"],\"additionalProperties\":false}",
     APPROVAL_OUT, tools_request_approval, false},
    {"get_approval", "Read the answer to a pending approval",
     "The decision on an approval request_approval left pending: pending (ask again in a "
     "second or two), allow, or deny with the message to hand the model. Unanswered ones deny "
     "when the project's approval timeout runs out.",
     "{\"type\":\"object\",\"properties\":{" TASK_ID_PROP "," EPOCH_PROP
     ",\"approval_id\":{\"type\":\"integer\",\"minimum\":1}},\"required\":[\"task_id\","
     "\"lease_epoch\",\"approval_id\"],\"additionalProperties\":false}",
     APPROVAL_OUT, tools_get_approval, false},
};

#define TOOLS_N (sizeof(tools_table) / sizeof(tools_table[0]))

static pthread_once_t tools_once = PTHREAD_ONCE_INIT;
static json_t *tools_cached;
/* Whether tool i's inputSchema declares an x-mcp-header (2026-07-28 checks those headers). */
static bool tools_hdr_any[TOOLS_N];

static void tools_build(void)
{
    tools_cached = json_array();
    for (size_t i = 0; i < TOOLS_N; i++) {
        json_error_t je;
        json_t *in = json_loads(tools_table[i].input, 0, &je);
        json_t *out = json_loads(tools_table[i].output, 0, &je);

        const char *hdrs[MCP_HEADERS_PARAMS_MAX];
        size_t nh = 0;

        if (!in || !out) { /* a typo in the table above: fail loudly in every test */
            log_error("tools", "schema of %s does not parse: %s", tools_table[i].name, je.text);
            abort();
        }
        mcp_headers_schema_names(in, hdrs, &nh, MCP_HEADERS_PARAMS_MAX);
        tools_hdr_any[i] = nh > 0;
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

json_t *tools_list_for(const struct mcp_ctx *c)
{
    const struct cfg *cfg = c->svc ? c->svc->env->cfg : NULL;
    bool agent = (cfg && !cfg->auth) || !c->who || c->who->scope == PRINCIPAL_AGENT ||
                 c->who->scope == PRINCIPAL_NONE;
    json_t *list = agent ? tools_list() : json_array();

    if (tools_submit_allowed(c)) {
        json_t *sub = tools_submit_list();
        json_array_extend(list, sub);
        json_decref(sub);
    }
    return list;
}

const json_t *tools_header_schema(const char *name)
{
    if (tools_submit_known(name))
        return tools_submit_schema(name);
    pthread_once(&tools_once, tools_build);
    for (size_t i = 0; name && i < TOOLS_N; i++)
        if (strcmp(tools_table[i].name, name) == 0)
            return tools_hdr_any[i]
                       ? json_object_get(json_array_get(tools_cached, i), "inputSchema")
                       : NULL;
    return NULL;
}

/* The x-mcp-header names of every tool, computed once: the transport asks on every POST. */
static pthread_once_t tools_hdr_once = PTHREAD_ONCE_INIT;
static const char *tools_hdr_names[MCP_HEADERS_PARAMS_MAX];
static size_t tools_hdr_n;

static void tools_hdr_build(void)
{
    size_t i;
    const json_t *t;

    pthread_once(&tools_once, tools_build);
    json_array_foreach(tools_cached, i, t)
    {
        mcp_headers_schema_names(json_object_get(t, "inputSchema"), tools_hdr_names, &tools_hdr_n,
                                 MCP_HEADERS_PARAMS_MAX);
    }
    json_t *sub = tools_submit_list();
    json_array_foreach(sub, i, t)
    {
        /* the static schemas, not the copy: the names must outlive `sub` */
        mcp_headers_schema_names(tools_submit_schema(json_string_value(json_object_get(t, "name"))),
                                 tools_hdr_names, &tools_hdr_n, MCP_HEADERS_PARAMS_MAX);
    }
    json_decref(sub);
}

size_t tools_header_names(const char **names, size_t max)
{
    size_t n;

    pthread_once(&tools_hdr_once, tools_hdr_build);
    n = tools_hdr_n < max ? tools_hdr_n : max;
    memcpy(names, tools_hdr_names, n * sizeof(*names));
    return n;
}

bool tools_slow(const char *name)
{
    for (size_t i = 0; name && i < TOOLS_N; i++)
        if (strcmp(tools_table[i].name, name) == 0)
            return tools_table[i].slow;
    return false;
}

bool tools_known(const char *name)
{
    if (tools_submit_known(name))
        return true;
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

json_t *tools_error(const struct err *err)
{
    json_t *e = json_pack("{s:{s:s,s:s}}", "error", "code", err_name(err), "message",
                          err->msg[0] ? err->msg : "the tool failed");
    char *text = json_dumps(e, JSON_COMPACT);
    json_t *r =
        json_pack("{s:[{s:s,s:s}],s:b}", "content", "type", "text", "text", text, "isError", 1);

    free(text);
    json_decref(e);
    return r;
}

const char *tools_agent(const struct mcp_ctx *c)
{
    if (c->who && c->who->agent_id[0])
        return c->who->agent_id;
    return c->agent_hint ? c->agent_hint : "";
}

static const struct cfg *tools_cfg(const struct mcp_ctx *c)
{
    return c->svc ? c->svc->env->cfg : NULL;
}

/* ---- argument helpers: each returns 0 (1: absent), or -1 with err set ---- */

static int tools_need_agent(struct mcp_ctx *c, struct err *err)
{
    const struct cfg *cfg = tools_cfg(c);

    if (!text_is_uuid(tools_agent(c)))
        return err_set(err, ERR_UNAUTHORIZED, "no agent: call with an agent token%s",
                       cfg && !cfg->auth ? " (or an X-Agent-ID header)" : "");
    return 0;
}

static int tools_int(const json_t *args, const char *key, bool required, long long lo, long long hi,
                     long long *out, struct err *err)
{
    const json_t *v = json_object_get(args, key);
    char *end;

    if (!v || json_is_null(v)) {
        if (required)
            return err_set(err, ERR_INVALID, "%s is required", key);
        return 1;
    }
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
    } else if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < 20) {
        *out = strtoll(json_string_value(v), &end, 10); /* shell agents send "12" */
        if (*end)
            return err_set(err, ERR_INVALID, "%s must be an integer", key);
    } else {
        return err_set(err, ERR_INVALID, "%s must be an integer", key);
    }
    if (*out < lo || *out > hi)
        return err_set(err, ERR_INVALID, "%s must be from %lld to %lld", key, lo, hi);
    return 0;
}

static int tools_str(const json_t *args, const char *key, bool required, const char **out,
                     struct err *err)
{
    const json_t *v = json_object_get(args, key);

    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return err_set(err, ERR_INVALID, "%s is required", key);
        return 0;
    }
    if (!json_is_string(v))
        return err_set(err, ERR_INVALID, "%s must be a string", key);
    *out = json_string_value(v);
    return 0;
}

/* Unknown argument names are refused, so a typo ("taskId") is not silently ignored. */
static int tools_only(const json_t *args, const char *const *allowed, struct err *err)
{
    const char *k = jsonkeys_unknown(args, allowed);

    return k ? err_set(err, ERR_INVALID, "unknown argument '%.60s'", k) : 0;
}

/* The task a tool acts on and the lease it claims to hold: both required. */
static int tools_lease(const json_t *args, long long *id, long long *epoch, struct err *err)
{
    if (tools_int(args, "task_id", true, 1, INT64_MAX, id, err) < 0 ||
        tools_int(args, "lease_epoch", true, 0, INT64_MAX, epoch, err) < 0)
        return -1;
    return 0;
}

/* ---- the tools ---- */

void tools_claim(struct mcp_ctx *c, const char *agent_id, json_t **result)
{
    struct err err = {0};
    json_t *task = NULL;

    *result = NULL;
    if (svc_claim(c->svc, agent_id, &task, &err) < 0)
        *result = tools_error(&err);
    else if (task)
        *result = tools_result(json_pack("{s:o}", "task", task));
}

TOOLS_FN(tools_get_next_task)
{
    static const char *const ok[] = {"wait_seconds", "agentId", NULL};
    const struct cfg *cfg = tools_cfg(c);
    long long wait = 0;
    int max = cfg ? cfg->long_poll_max : 0;
    json_t *task = NULL;

    if (tools_only(args, ok, err) < 0 || tools_need_agent(c, err) < 0 ||
        tools_int(args, "wait_seconds", false, 0, 3600, &wait, err) < 0)
        return -1;
    if (wait > max)
        wait = max; /* a bound, not an error: the agent simply polls again */
    if (svc_claim(c->svc, tools_agent(c), &task, err) < 0)
        return -1;
    if (task) {
        *result = tools_result(json_pack("{s:o}", "task", task));
        return 0;
    }
    if (wait > 0 && c->allow_park) {
        c->park_seconds = (int)wait;
        return 0;
    }
    *result = tools_result(json_pack("{s:n}", "task"));
    return 0;
}

TOOLS_FN(tools_create_branch)
{
    static const char *const ok[] = {"task_id", "lease_epoch", "name", "base", "agentId", NULL};
    long long id, epoch;
    const char *name, *base;
    json_t *out = NULL;

    if (tools_only(args, ok, err) < 0 || tools_need_agent(c, err) < 0 ||
        tools_lease(args, &id, &epoch, err) < 0 || tools_str(args, "name", false, &name, err) < 0 ||
        tools_str(args, "base", false, &base, err) < 0 ||
        svc_branch_create(c->svc, tools_agent(c), id, epoch, name, base, &out, err) < 0)
        return -1;
    *result = tools_result(out);
    return 0;
}

TOOLS_FN(tools_log_activity)
{
    static const char *const ok[] = {"task_id", "level",   "message", "metadata",
                                     "entries", "agentId", NULL};
    const json_t *entries = json_object_get(args, "entries");
    json_t *one = NULL;
    long long id;
    int n = 0, rc = -1;

    if (tools_only(args, ok, err) < 0 || tools_need_agent(c, err) < 0 ||
        tools_int(args, "task_id", true, 1, INT64_MAX, &id, err) < 0)
        return -1;
    if (entries && !json_is_array(entries))
        return err_set(err, ERR_INVALID, "entries must be an array of {level, message, metadata}");
    if (!entries) {
        if (!json_is_string(json_object_get(args, "message")))
            return err_set(err, ERR_INVALID, "message (a string) or entries is required");
        one = json_object();
        json_object_set(one, "message", json_object_get(args, "message"));
        if (json_object_get(args, "level"))
            json_object_set(one, "level", json_object_get(args, "level"));
        if (json_object_get(args, "metadata"))
            json_object_set(one, "metadata", json_object_get(args, "metadata"));
        entries = one;
    }
    if (svc_status_log(c->svc, tools_agent(c), id, entries, &n, err) == 0) {
        *result = tools_result(json_pack("{s:I,s:i}", "task_id", (json_int_t)id, "logged", n));
        rc = 0;
    }
    json_decref(one);
    return rc;
}

static int tools_transition(struct mcp_ctx *c, long long id, long long epoch, const char *to,
                            const struct model_outcome *oc, json_t **result, struct err *err)
{
    json_t *task = NULL;

    if (svc_status_update(c->svc, tools_agent(c), id, epoch, to, oc, &task, err) < 0)
        return -1;
    *result = tools_result(json_pack("{s:o}", "task", task));
    return 0;
}

TOOLS_FN(tools_update_task_status)
{
    static const char *const ok[] = {"task_id", "lease_epoch", "status", "error",   "question",
                                     "reason",  "result",      "retry",  "agentId", NULL};
    struct model_outcome oc = {0};
    const json_t *retry = json_object_get(args, "retry"), *res = json_object_get(args, "result");
    const char *status;
    long long id, epoch;

    if (tools_only(args, ok, err) < 0 || tools_need_agent(c, err) < 0 ||
        tools_lease(args, &id, &epoch, err) < 0 ||
        tools_str(args, "status", true, &status, err) < 0 ||
        tools_str(args, "error", false, &oc.error, err) < 0 ||
        tools_str(args, "question", false, &oc.question, err) < 0 ||
        tools_str(args, "reason", false, &oc.reason, err) < 0)
        return -1;
    if (retry && !json_is_boolean(retry))
        return err_set(err, ERR_INVALID, "retry must be a boolean");
    if (res && !json_is_null(res) && !json_is_object(res))
        return err_set(err, ERR_INVALID, "result must be an object");
    if (strcmp(status, "ready_to_test") != 0 && strcmp(status, "needs_input") != 0 &&
        strcmp(status, "completed") != 0 && strcmp(status, "failed") != 0)
        return err_set(err, ERR_INVALID,
                       "status must be ready_to_test, needs_input, completed or failed");
    oc.no_retry = retry && json_is_false(retry);
    oc.result = res && json_is_object(res) ? res : NULL;
    return tools_transition(c, id, epoch, status, &oc, result, err);
}

TOOLS_FN(tools_ask_user_question)
{
    static const char *const ok[] = {"task_id", "lease_epoch", "question", "agentId", NULL};
    struct model_outcome oc = {.reason = "question"};
    long long id, epoch;

    if (tools_only(args, ok, err) < 0 || tools_need_agent(c, err) < 0 ||
        tools_lease(args, &id, &epoch, err) < 0 ||
        tools_str(args, "question", true, &oc.question, err) < 0)
        return -1;
    if (!*oc.question)
        return err_set(err, ERR_INVALID, "question must not be empty");
    return tools_transition(c, id, epoch, "needs_input", &oc, result, err);
}

/* task_ids: null or an array of positive integers. */
static int tools_task_ids(const json_t *ids, struct err *err)
{
    size_t i;
    const json_t *v;

    if (!ids || json_is_null(ids))
        return 0;
    if (!json_is_array(ids))
        return err_set(err, ERR_INVALID, "task_ids must be an array of integers");
    json_array_foreach(ids, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return err_set(err, ERR_INVALID, "task_ids must be positive integers");
    }
    return 0;
}

TOOLS_FN(tools_heartbeat)
{
    static const char *const ok[] = {"status",  "task_ids", "usage", "reason",
                                     "agentId", "taskIds",  NULL};
    const json_t *ids = json_object_get(args, "task_ids"), *usage = json_object_get(args, "usage");
    const char *status, *reason;
    json_t *out = NULL;

    if (!ids)
        ids = json_object_get(args, "taskIds");
    if (tools_only(args, ok, err) < 0 || tools_need_agent(c, err) < 0 ||
        tools_str(args, "status", false, &status, err) < 0 ||
        tools_str(args, "reason", false, &reason, err) < 0)
        return -1;
    if (status && strcmp(status, "idle") != 0 && strcmp(status, "busy") != 0 &&
        strcmp(status, "offline") != 0 && strcmp(status, "unusable") != 0)
        return err_set(err, ERR_INVALID, "status must be idle, busy, offline or unusable");
    if (status && strcmp(status, "unusable") == 0 && (!reason || !*reason))
        return err_set(err, ERR_INVALID, "status unusable needs a reason");
    if (tools_task_ids(ids, err) < 0)
        return -1;
    if (usage && !json_is_null(usage) && !json_is_object(usage))
        return err_set(err, ERR_INVALID, "usage must be an object");
    if (svc_status_heartbeat(c->svc, tools_agent(c), status, reason,
                             ids && json_is_array(ids) ? ids : NULL,
                             usage && json_is_object(usage) ? usage : NULL, &out, err) < 0)
        return -1;
    *result = tools_result(out);
    return 0;
}

TOOLS_FN(tools_create_pull_request)
{
    static const char *const ok[] = {"task_id", "lease_epoch", "title",   "body",
                                     "head",    "base",        "agentId", NULL};
    struct svc_pull_req req;
    long long id, epoch;
    json_t *out = NULL;

    if (tools_only(args, ok, err) < 0 || tools_need_agent(c, err) < 0 ||
        tools_lease(args, &id, &epoch, err) < 0 ||
        tools_str(args, "title", true, &req.title, err) < 0 ||
        tools_str(args, "body", false, &req.body, err) < 0 ||
        tools_str(args, "head", false, &req.head, err) < 0 ||
        tools_str(args, "base", false, &req.base, err) < 0 ||
        svc_pull_create(c->svc, tools_agent(c), id, epoch, &req, &out, err) < 0)
        return -1;
    *result = tools_result(out);
    return 0;
}

TOOLS_FN(tools_trigger_preview_deploy)
{
    static const char *const ok[] = {"task_id", "lease_epoch", "agentId", NULL};
    long long id, epoch;
    json_t *out = NULL;

    if (tools_only(args, ok, err) < 0 || tools_need_agent(c, err) < 0 ||
        tools_lease(args, &id, &epoch, err) < 0 ||
        svc_preview_deploy(c->svc, tools_agent(c), id, epoch, &out, err) < 0)
        return -1;
    *result = tools_result(out);
    return 0;
}

TOOLS_FN(tools_get_git_credential)
{
    static const char *const ok[] = {"task_id", "lease_epoch", "agentId", NULL};
    long long id, epoch;
    json_t *out = NULL;

    if (tools_only(args, ok, err) < 0 || tools_need_agent(c, err) < 0 ||
        tools_lease(args, &id, &epoch, err) < 0 ||
        svc_gitcred_get(c->svc, tools_agent(c), id, epoch, &out, err) < 0)
        return -1;
    *result = tools_result(out);
    return 0;
}

TOOLS_FN(tools_request_approval)
{
    static const char *const ok[] = {"task_id", "lease_epoch", "tool_name", "input",
                                     "cwd",     "tool_use_id", "agentId",   NULL};
    long long id, epoch;
    const char *tool, *cwd, *use;
    const json_t *input = json_object_get(args, "input");
    json_t *out = NULL;

    if (tools_only(args, ok, err) < 0 || tools_need_agent(c, err) < 0 ||
        tools_lease(args, &id, &epoch, err) < 0 ||
        tools_str(args, "tool_name", true, &tool, err) < 0 ||
        tools_str(args, "cwd", false, &cwd, err) < 0 ||
        tools_str(args, "tool_use_id", false, &use, err) < 0)
        return -1;
    if (!json_is_object(input))
        return err_set(err, ERR_INVALID, "input must be the tool's arguments (an object)");
    if (cwd && (strlen(cwd) > 4096 || cwd[0] != '/'))
        return err_set(err, ERR_INVALID, "cwd must be an absolute path");
    if (svc_autonomy_request(c->svc, tools_agent(c), id, epoch, tool, input, cwd, &out, err) < 0)
        return -1;
    *result = tools_result(out);
    return 0;
}

TOOLS_FN(tools_get_approval)
{
    static const char *const ok[] = {"task_id", "lease_epoch", "approval_id", "agentId", NULL};
    long long id, epoch, approval;
    json_t *out = NULL;

    if (tools_only(args, ok, err) < 0 || tools_need_agent(c, err) < 0 ||
        tools_lease(args, &id, &epoch, err) < 0 ||
        tools_int(args, "approval_id", true, 1, INT64_MAX, &approval, err) < 0 ||
        svc_autonomy_poll(c->svc, tools_agent(c), id, epoch, approval, &out, err) < 0)
        return -1;
    *result = tools_result(out);
    return 0;
}

void tools_call(struct mcp_ctx *c, const char *name, const json_t *args, json_t **result,
                struct err *err)
{
    json_t *empty = NULL, *seeded = NULL;
    const json_t *agent;
    double t0;

    *result = NULL;
    err_clear(err);
    if (tools_submit_known(name)) { /* a developer's agent handing work to the pool */
        tools_submit_call(c, name, args, result, err);
        return;
    }
    if (c->who && c->who->scope != PRINCIPAL_AGENT && c->who->scope != PRINCIPAL_NONE &&
        tools_known(name)) { /* a submitter's token on /mcp: the agent tools are not theirs */
        err_set(err, ERR_FORBIDDEN, "%s needs an agent token", name);
        *result = tools_error(err);
        return;
    }
    if (!args)
        args = empty = json_object();
    /* An agentId argument (seed scripts send it) must name the caller. */
    agent = json_object_get(args, "agentId");
    if (agent &&
        (!json_is_string(agent) || (c->who && c->who->agent_id[0] &&
                                    strcasecmp(json_string_value(agent), c->who->agent_id) != 0))) {
        err_set(err, ERR_FORBIDDEN, "agentId does not match the agent of this token");
        *result = tools_error(err);
        goto out;
    }
    if (agent && !(c->who && c->who->agent_id[0]) && !c->agent_hint)
        c->agent_hint = json_string_value(agent); /* auth off: the seed names its agent */
    if (c->seed && tools_known(name)) {
        if (seed_args(c, name, args, &seeded, err) < 0) {
            *result = tools_error(err);
            goto out;
        }
        args = seeded;
    }
    for (size_t i = 0; i < TOOLS_N; i++) {
        if (strcmp(tools_table[i].name, name) != 0)
            continue;
        t0 = clock_s();
        if (tools_table[i].fn(c, args, result, err) < 0) {
            json_decref(*result);
            *result = tools_error(err);
        } else if (c->seed && *result) {
            seed_result(name, *result);
        }
        /* A held long-poll (no result yet) is counted when it is answered. */
        if (*result)
            counters_tool_call(name, clock_s() - t0, err->code == ERR_OK);
        goto out;
    }
    err_set(err, ERR_INVALID, "unknown tool '%.100s'", name);
    *result = tools_error(err);
out:
    json_decref(seeded);
    json_decref(empty);
}
