/* The task-scoped MCP tools; see runner_mcptools.h. */
#include "runner_mcptools.h"
#include "core/jsonkeys.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNNER_MCPTOOLS_TEXT_MAX 65536

const char *const runner_mcptools_names[] = {"log_activity",        "ask_user_question",
                                             "create_pull_request", "trigger_preview_deploy",
                                             "update_task_status",  NULL};

/* name, description, input schema (JSON text). */
static const char *const runner_mcptools_defs[][3] = {
    {"log_activity",
     "Record a progress note on your task's activity log, which people follow live on the "
     "dashboard: what you found, what you decided, what you are about to do.",
     "{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\",\"minLength\":1,"
     "\"maxLength\":65536},\"level\":{\"type\":\"string\",\"enum\":[\"debug\",\"info\","
     "\"notice\",\"warning\",\"error\"]}},\"required\":[\"message\"],"
     "\"additionalProperties\":false}"},
    {"ask_user_question",
     "Ask a person a question you cannot answer from the repository (a missing decision, an "
     "ambiguous requirement). Your task is parked until they answer; the question and the "
     "answer come back in the next attempt's prompt. After asking, stop working and end your "
     "session: the work so far is committed and pushed for the next attempt.",
     "{\"type\":\"object\",\"properties\":{\"question\":{\"type\":\"string\",\"minLength\":1,"
     "\"maxLength\":10000}},\"required\":[\"question\"],\"additionalProperties\":false}"},
    {"create_pull_request",
     "Open the pull request for your work, with your title and a summary of what you changed "
     "and why as its body. It is opened after you finish, once your changes are committed and "
     "pushed to the task's branch; call it once.",
     "{\"type\":\"object\",\"properties\":{\"title\":{\"type\":\"string\",\"minLength\":1,"
     "\"maxLength\":500},\"body\":{\"type\":\"string\",\"maxLength\":65536}},\"required\":["
     "\"title\"],\"additionalProperties\":false}"},
    {"trigger_preview_deploy",
     "Ask for a preview deployment of the task's branch (the project's preview webhook), "
     "after the pull request is opened.",
     "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}"},
    {"update_task_status",
     "Say how your task ends when you finish: ready_to_test (changes for a person to test; the "
     "default when you changed something) or completed (nothing needs testing or review), with "
     "an optional summary.",
     "{\"type\":\"object\",\"properties\":{\"status\":{\"type\":\"string\",\"enum\":["
     "\"ready_to_test\",\"completed\"]},\"summary\":{\"type\":\"string\",\"maxLength\":65536}},"
     "\"required\":[\"status\"],\"additionalProperties\":false}"},
};

#define RUNNER_MCPTOOLS_N (sizeof(runner_mcptools_defs) / sizeof(runner_mcptools_defs[0]))

/* Named in --permission-prompt-tool as mcp__drover__approve_action (runner_cfg.c). */
static const char *const runner_mcptools_approve_def[3] = {
    "approve_action",
    "Claude Code's permission prompt for this task (--permission-prompt-tool): decides each "
    "action from the project's autonomy policy, or waits for a person. Not for the model.",
    "{\"type\":\"object\",\"properties\":{\"tool_name\":{\"type\":\"string\"},\"input\":"
    "{\"type\":\"object\"},\"tool_use_id\":{\"type\":\"string\"}},\"required\":[\"tool_name\","
    "\"input\"]}"};

static const char *const runner_mcptools_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                       "2024-11-05"};

void runner_intent_clear(struct runner_intent *i)
{
    free(i->question);
    free(i->pr_title);
    free(i->pr_body);
    free(i->status);
    free(i->summary);
    memset(i, 0, sizeof(*i));
}

static json_t *runner_mcptools_reply(const json_t *id, json_t *result)
{
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result);
}

static json_t *runner_mcptools_error(const json_t *id, int code, const char *msg)
{
    return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                     "error", "code", code, "message", msg);
}

static json_t *runner_mcptools_text(const char *text, bool is_error)
{
    if (is_error)
        return json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text", text,
                         "isError", 1);
    return json_pack("{s:[{s:s, s:s}], s:{s:b, s:s}, s:b}", "content", "type", "text", "text", text,
                     "structuredContent", "ok", 1, "message", text, "isError", 0);
}

static json_t *runner_mcptools_initialize(const json_t *params)
{
    const char *want = json_string_value(json_object_get(params, "protocolVersion"));
    const char *v = runner_mcptools_versions[1];

    for (size_t i = 0;
         want && i < sizeof(runner_mcptools_versions) / sizeof(runner_mcptools_versions[0]); i++)
        if (strcmp(want, runner_mcptools_versions[i]) == 0)
            v = runner_mcptools_versions[i];
    return json_pack(
        "{s:s, s:{s:{s:b}}, s:{s:s, s:s}, s:s}", "protocolVersion", v, "capabilities", "tools",
        "listChanged", 0, "serverInfo", "name", "drover-task", "version", "0.1.0", "instructions",
        "Drover's tools for the one task you are working on: log_activity for progress notes, "
        "ask_user_question when you need a person's decision (then stop), create_pull_request "
        "with your summary, trigger_preview_deploy, update_task_status when you finish.");
}

static void runner_mcptools_add(json_t *tools, const char *const def[3])
{
    json_t *schema = json_loads(def[2], 0, NULL);

    if (!schema) /* a typo in the tables above: fail loudly in every test */
        abort();
    json_array_append_new(tools, json_pack("{s:s, s:s, s:o}", "name", def[0], "description", def[1],
                                           "inputSchema", schema));
}

static json_t *runner_mcptools_list(const struct runner_mcptools *t)
{
    json_t *tools = json_array();

    for (size_t i = 0; i < RUNNER_MCPTOOLS_N; i++)
        runner_mcptools_add(tools, runner_mcptools_defs[i]);
    if (t->autonomy)
        runner_mcptools_add(tools, runner_mcptools_approve_def);
    return json_pack("{s:o}", "tools", tools);
}

/* A string argument: 0 (absent: *out NULL), or -1 with `why` filled. */
static int runner_mcptools_str(const json_t *args, const char *key, bool required, size_t max,
                               const char **out, char *why, size_t n)
{
    const json_t *v = json_object_get(args, key);

    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            snprintf(why, n, "%s is required", key);
        return required ? -1 : 0;
    }
    if (!json_is_string(v) || (required && json_string_length(v) == 0) ||
        json_string_length(v) > max) {
        snprintf(why, n, "%s must be a string of at most %zu bytes%s", key, max,
                 required ? ", not empty" : "");
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

/* Unknown argument names are refused (task_id and lease_epoch included: they are implied). */
static int runner_mcptools_only(const json_t *args, const char *const *ok, char *why, size_t n)
{
    const char *k;

    if (args && !json_is_object(args)) {
        snprintf(why, n, "arguments must be an object");
        return -1;
    }
    if ((k = jsonkeys_unknown(args, ok))) {
        snprintf(why, n, "unknown argument '%.60s'%s", k,
                 strcmp(k, "task_id") == 0 || strcmp(k, "lease_epoch") == 0
                     ? " (this endpoint is bound to your task: leave it out)"
                     : "");
        return -1;
    }
    return 0;
}

static void runner_mcptools_set(char **slot, const char *v)
{
    free(*slot);
    *slot = v ? mem_strdup(v) : NULL;
}

static json_t *runner_mcptools_log(struct runner_mcptools *t, const json_t *args, char *why,
                                   size_t n)
{
    static const char *const ok[] = {"message", "level", NULL};
    const char *msg, *level;
    json_t *fwd, *res = NULL;
    struct err err = {0};
    int rc;

    if (runner_mcptools_only(args, ok, why, n) < 0 ||
        runner_mcptools_str(args, "message", true, RUNNER_MCPTOOLS_TEXT_MAX, &msg, why, n) < 0 ||
        runner_mcptools_str(args, "level", false, 16, &level, why, n) < 0)
        return NULL;
    fwd = json_pack("{s:I, s:s, s:s, s:{s:s}}", "task_id", (json_int_t)t->task_id, "level",
                    level ? level : "info", "message", msg, "metadata", "source", "model");
    rc = t->forward ? t->forward(t->ud, "log_activity", fwd, &res, &err)
                    : err_set(&err, ERR_UNAVAILABLE, "no connection to droverd");
    json_decref(fwd);
    json_decref(res);
    if (rc < 0) {
        snprintf(why, n, "log_activity failed: %s", err.msg);
        return NULL;
    }
    t->intent.logged++;
    return runner_mcptools_text("logged", false);
}

static json_t *runner_mcptools_ask(struct runner_mcptools *t, const json_t *args, char *why,
                                   size_t n)
{
    static const char *const ok[] = {"question", NULL};
    const char *q;

    if (runner_mcptools_only(args, ok, why, n) < 0 ||
        runner_mcptools_str(args, "question", true, 10000, &q, why, n) < 0)
        return NULL;
    runner_mcptools_set(&t->intent.question, q);
    return runner_mcptools_text(
        "Your question is recorded. The task will wait for a person's answer, which comes back "
        "with the question in the next attempt's prompt. Stop working now and end your session; "
        "what you changed so far is committed and pushed for that attempt.",
        false);
}

static json_t *runner_mcptools_pr(struct runner_mcptools *t, const json_t *args, char *why,
                                  size_t n)
{
    static const char *const ok[] = {"title", "body", NULL};
    const char *title, *body;

    if (runner_mcptools_only(args, ok, why, n) < 0 ||
        runner_mcptools_str(args, "title", true, 500, &title, why, n) < 0 ||
        runner_mcptools_str(args, "body", false, RUNNER_MCPTOOLS_TEXT_MAX, &body, why, n) < 0)
        return NULL;
    runner_mcptools_set(&t->intent.pr_title, title);
    runner_mcptools_set(&t->intent.pr_body, body);
    return runner_mcptools_text("Recorded: the pull request is opened with this title and body "
                                "once you finish and your changes are pushed.",
                                false);
}

static json_t *runner_mcptools_preview(struct runner_mcptools *t, const json_t *args, char *why,
                                       size_t n)
{
    static const char *const ok[] = {NULL};

    if (runner_mcptools_only(args, ok, why, n) < 0)
        return NULL;
    t->intent.preview = true;
    return runner_mcptools_text("Recorded: a preview of the branch is deployed after the pull "
                                "request is opened.",
                                false);
}

static json_t *runner_mcptools_status(struct runner_mcptools *t, const json_t *args, char *why,
                                      size_t n)
{
    static const char *const ok[] = {"status", "summary", NULL};
    const char *st, *summary;

    if (runner_mcptools_only(args, ok, why, n) < 0 ||
        runner_mcptools_str(args, "status", true, 32, &st, why, n) < 0 ||
        runner_mcptools_str(args, "summary", false, RUNNER_MCPTOOLS_TEXT_MAX, &summary, why, n) < 0)
        return NULL;
    if (strcmp(st, "ready_to_test") != 0 && strcmp(st, "completed") != 0) {
        snprintf(why, n, "status must be ready_to_test or completed");
        return NULL;
    }
    runner_mcptools_set(&t->intent.status, st);
    runner_mcptools_set(&t->intent.summary, summary);
    return runner_mcptools_text("Recorded: the task goes to this status when you finish.", false);
}

/* The permission prompt's answer: an MCP result whose only content is the decision as text. */
static json_t *runner_mcptools_behavior(const json_t *input, const char *deny)
{
    json_t *b = deny ? json_pack("{s:s, s:s}", "behavior", "deny", "message", deny)
                     : json_pack("{s:s, s:O}", "behavior", "allow", "updatedInput", input);
    char *text = json_dumps(b, JSON_COMPACT);
    json_t *r = json_pack("{s:[{s:s, s:s}]}", "content", "type", "text", "text", text);

    free(text);
    json_decref(b);
    return r;
}

static void runner_mcptools_sleep(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Ask droverd; wait for a person when it says pending. Fails closed: no answer is a denial. */
static json_t *runner_mcptools_approve(struct runner_mcptools *t, const json_t *args, char *why,
                                       size_t n)
{
    static const char *const ok[] = {"tool_name", "input", "tool_use_id", NULL};
    const char *tool, *use, *decision, *msg;
    const json_t *input = json_object_get(args, "input");
    json_t *fwd, *res = NULL;
    struct err err = {0};
    char deny[1024] = "";
    json_int_t approval = 0;

    if (runner_mcptools_only(args, ok, why, n) < 0 ||
        runner_mcptools_str(args, "tool_name", true, 200, &tool, why, n) < 0 ||
        runner_mcptools_str(args, "tool_use_id", false, 200, &use, why, n) < 0)
        return NULL;
    if (!json_is_object(input)) {
        snprintf(why, n, "input must be the tool's arguments (an object)");
        return NULL;
    }
    t->intent.approvals++;
    fwd = json_pack("{s:I, s:I, s:s, s:O, s:s?, s:s?}", "task_id", (json_int_t)t->task_id,
                    "lease_epoch", (json_int_t)t->epoch, "tool_name", tool, "input", input, "cwd",
                    t->cwd, "tool_use_id", use);
    for (;;) {
        int rc = t->forward ? t->forward(t->ud, approval ? "get_approval" : "request_approval", fwd,
                                         &res, &err)
                            : err_set(&err, ERR_UNAVAILABLE, "no connection to droverd");

        json_decref(fwd);
        fwd = NULL;
        if (rc < 0) {
            snprintf(deny, sizeof(deny), "Denied: Drover could not decide this action (%s).",
                     err.msg);
            break;
        }
        decision = json_string_value(json_object_get(res, "decision"));
        msg = json_string_value(json_object_get(res, "message"));
        if (decision && strcmp(decision, "allow") == 0)
            break;
        if (!decision || strcmp(decision, "pending") != 0) {
            snprintf(deny, sizeof(deny), "%s", msg ? msg : "Denied by the project's policy.");
            break;
        }
        approval = json_integer_value(json_object_get(res, "approval_id"));
        json_decref(res);
        res = NULL;
        if (approval <= 0 || (t->stop && atomic_load(t->stop))) {
            snprintf(deny, sizeof(deny), "Denied: the task stopped while waiting for approval.");
            break;
        }
        runner_mcptools_sleep(t->poll_ms ? t->poll_ms : 1000);
        fwd = json_pack("{s:I, s:I, s:I}", "task_id", (json_int_t)t->task_id, "lease_epoch",
                        (json_int_t)t->epoch, "approval_id", approval);
    }
    json_decref(res);
    if (deny[0])
        t->intent.denials++;
    return runner_mcptools_behavior(input, deny[0] ? deny : NULL);
}

static json_t *runner_mcptools_call(struct runner_mcptools *t, const json_t *id,
                                    const json_t *params)
{
    const char *name = json_string_value(json_object_get(params, "name"));
    const json_t *args = json_object_get(params, "arguments");
    json_t *(*fn)(struct runner_mcptools *, const json_t *, char *, size_t) = NULL;
    json_t *out;
    char why[512] = "";

    t->intent.calls++;
    if (name && strcmp(name, "log_activity") == 0)
        fn = runner_mcptools_log;
    else if (name && strcmp(name, "ask_user_question") == 0)
        fn = runner_mcptools_ask;
    else if (name && strcmp(name, "create_pull_request") == 0)
        fn = runner_mcptools_pr;
    else if (name && strcmp(name, "trigger_preview_deploy") == 0)
        fn = runner_mcptools_preview;
    else if (name && strcmp(name, "update_task_status") == 0)
        fn = runner_mcptools_status;
    else if (name && t->autonomy && strcmp(name, "approve_action") == 0)
        fn = runner_mcptools_approve;
    if (!fn) {
        snprintf(why, sizeof(why),
                 "unknown tool '%.80s': this task's tools are log_activity, "
                 "ask_user_question, create_pull_request, "
                 "trigger_preview_deploy and update_task_status",
                 name ? name : "");
        return runner_mcptools_error(id, -32602, why);
    }
    out = fn(t, args, why, sizeof(why));
    return runner_mcptools_reply(id, out ? out : runner_mcptools_text(why, true));
}

json_t *runner_mcptools_handle(struct runner_mcptools *t, const json_t *msg)
{
    const char *method = json_string_value(json_object_get(msg, "method"));
    const json_t *id = json_object_get(msg, "id");
    const json_t *params = json_object_get(msg, "params");

    if (!json_is_object(msg) || !method)
        return id ? runner_mcptools_error(id, -32600, "not a JSON-RPC request") : NULL;
    if (!id) /* a notification (notifications/initialized, cancelled): nothing to answer */
        return NULL;
    if (!json_is_integer(id) && !json_is_string(id))
        return runner_mcptools_error(NULL, -32600, "id must be a string or an integer");
    if (strcmp(method, "initialize") == 0)
        return runner_mcptools_reply(id, runner_mcptools_initialize(params));
    if (strcmp(method, "ping") == 0)
        return runner_mcptools_reply(id, json_object());
    if (strcmp(method, "tools/list") == 0)
        return runner_mcptools_reply(id, runner_mcptools_list(t));
    if (strcmp(method, "tools/call") == 0) {
        if (!json_is_object(params))
            return runner_mcptools_error(id, -32602, "params must be an object");
        return runner_mcptools_call(t, id, params);
    }
    return runner_mcptools_error(id, -32601, "method not found");
}
