/*
 * drover-agent's runner, the parts that decide what the coding model may do and what it is
 * told: the model credentials it recognises (every way Claude Code authenticates), the
 * task-scoped MCP tools (only the task's tools listed, task_id and lease_epoch implied and
 * refused when given, get_next_task and heartbeat unknown, finishing calls recorded), the
 * endpoint over HTTP as an attacker meets it (no secret, a wrong one, an Origin, a huge body),
 * the prompt (question and answer of an earlier attempt, what the tools are for) and the
 * remote's default branch from `git ls-remote --symref`.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "mcpc.h"
#include "runner_creds.h"
#include "runner_git.h"
#include "runner_mcpd.h"
#include "runner_checks.h"
#include "runner_mcptools.h"
#include "runner_project.h"
#include "runner_prompt.h"
#include "runner_transcript.h"
#include "runner_usage.h"
#include "testsuite.h"

/* ---- credentials ------------------------------------------------------------------------ */

static const char *const *creds_env;

static const char *creds_get(const char *name)
{
    for (size_t i = 0; creds_env[i]; i += 2)
        if (strcmp(creds_env[i], name) == 0)
            return creds_env[i + 1];
    return NULL;
}

static bool creds(const char *const *env, const char *home, char *how)
{
    creds_env = env;
    return runner_creds_find(creds_get, home, how, 512);
}

START_TEST(creds_every_way)
{
    static const char *const none[] = {NULL};
    static const char *const key[] = {"ANTHROPIC_API_KEY", "sk-x", NULL};
    static const char *const empty_key[] = {"ANTHROPIC_API_KEY", "", NULL};
    static const char *const oauth[] = {"CLAUDE_CODE_OAUTH_TOKEN", "t", NULL};
    static const char *const gw[] = {"ANTHROPIC_AUTH_TOKEN", "t", "ANTHROPIC_BASE_URL",
                                     "https://llm.internal", NULL};
    static const char *const bedrock[] = {
        "CLAUDE_CODE_USE_BEDROCK",     "1",  "AWS_REGION", "eu-west-1",
        "AWS_WEB_IDENTITY_TOKEN_FILE", "/x", NULL};
    static const char *const bedrock_noregion[] = {"CLAUDE_CODE_USE_BEDROCK", "1", NULL};
    static const char *const vertex[] = {"CLAUDE_CODE_USE_VERTEX",
                                         "true",
                                         "CLOUD_ML_REGION",
                                         "us-east5",
                                         "ANTHROPIC_VERTEX_PROJECT_ID",
                                         "p1",
                                         NULL};
    static const char *const vertex_noproject[] = {"CLAUDE_CODE_USE_VERTEX", "1", "CLOUD_ML_REGION",
                                                   "us-east5", NULL};
    char how[512], home[] = "/tmp/check-runner-XXXXXX", p[600];
    FILE *f;

    ck_assert(!creds(none, "/nonexistent", how));
    ck_assert_msg(strstr(how, "ANTHROPIC_API_KEY") && strstr(how, "CLAUDE_CODE_OAUTH_TOKEN") &&
                      strstr(how, "Bedrock") == NULL,
                  "%s", how);
    ck_assert(!creds(empty_key, NULL, how));
    ck_assert(creds(key, NULL, how));
    ck_assert_str_eq(how, "ANTHROPIC_API_KEY");
    ck_assert(creds(oauth, NULL, how));
    ck_assert_str_eq(how, "CLAUDE_CODE_OAUTH_TOKEN");
    ck_assert(creds(gw, NULL, how));
    ck_assert_msg(strstr(how, "gateway"), "%s", how);
    ck_assert(creds(bedrock, NULL, how));
    ck_assert_msg(strstr(how, "eu-west-1") && strstr(how, "IRSA"), "%s", how);
    ck_assert(!creds(bedrock_noregion, NULL, how));
    ck_assert_msg(strstr(how, "AWS_REGION"), "%s", how);
    ck_assert(creds(vertex, NULL, how));
    ck_assert_msg(strstr(how, "us-east5") && strstr(how, "p1"), "%s", how);
    ck_assert(!creds(vertex_noproject, NULL, how));
    ck_assert_msg(strstr(how, "ANTHROPIC_VERTEX_PROJECT_ID"), "%s", how);
    /* The stored login of `claude login`. */
    ck_assert_ptr_nonnull(mkdtemp(home));
    snprintf(p, sizeof(p), "%s/.claude", home);
    ck_assert_int_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/.claude/.credentials.json", home);
    f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{}", f);
    fclose(f);
    ck_assert(creds(none, home, how));
    ck_assert_str_eq(how, "~/.claude/.credentials.json");
    unlink(p);
    snprintf(p, sizeof(p), "%s/.claude", home);
    rmdir(p);
    rmdir(home);
}
END_TEST

/* ---- task-scoped tools ------------------------------------------------------------------ */

static json_t *forwarded;

static int fwd(void *ud, const char *tool, const json_t *args, json_t **result, struct err *err)
{
    (void)ud;
    (void)err;
    json_decref(forwarded);
    forwarded = json_pack("{s:s, s:O}", "tool", tool, "args", args);
    *result = json_pack("{s:i}", "logged", 1);
    return 0;
}

static json_t *call(struct runner_mcptools *t, const char *tool, json_t *args)
{
    json_t *msg = json_pack("{s:s, s:i, s:s, s:{s:s, s:o}}", "jsonrpc", "2.0", "id", 7, "method",
                            "tools/call", "params", "name", tool, "arguments", args);
    json_t *out = runner_mcptools_handle(t, msg);

    json_decref(msg);
    return out;
}

static bool is_error_result(const json_t *r)
{
    return json_is_true(json_object_get(json_object_get(r, "result"), "isError"));
}

START_TEST(tools_are_task_scoped)
{
    struct runner_mcptools t = {.task_id = 42, .epoch = 3, .forward = fwd};
    json_t *msg = json_pack("{s:s, s:i, s:s}", "jsonrpc", "2.0", "id", 1, "method", "tools/list");
    json_t *out = runner_mcptools_handle(&t, msg), *tool, *r;
    size_t i;
    int n = 0;

    json_array_foreach(json_object_get(json_object_get(out, "result"), "tools"), i, tool)
    {
        const char *name = json_string_value(json_object_get(tool, "name"));
        json_t *props = json_object_get(json_object_get(tool, "inputSchema"), "properties");

        ck_assert_msg(strcmp(name, "get_next_task") && strcmp(name, "heartbeat") &&
                          strcmp(name, "create_branch"),
                      "%s is offered to the model", name);
        ck_assert_msg(!json_object_get(props, "task_id") && !json_object_get(props, "lease_epoch"),
                      "%s asks for task_id/lease_epoch", name);
        n++;
    }
    ck_assert_int_eq(n, 5);
    json_decref(out);
    json_decref(msg);

    /* The agent-only tools do not exist here. */
    r = call(&t, "get_next_task", json_object());
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                     -32602);
    json_decref(r);
    r = call(&t, "heartbeat", json_object());
    ck_assert_ptr_nonnull(json_object_get(r, "error"));
    json_decref(r);

    /* log_activity reaches droverd with the task implied, marked as the model's. */
    r = call(&t, "log_activity", json_pack("{s:s}", "message", "looking at the README"));
    ck_assert(!is_error_result(r));
    ck_assert_str_eq(json_string_value(json_object_get(forwarded, "tool")), "log_activity");
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(forwarded, "args"), "task_id")), 42);
    ck_assert_str_eq(
        json_string_value(json_object_get(
            json_object_get(json_object_get(forwarded, "args"), "metadata"), "source")),
        "model");
    ck_assert_int_eq(t.intent.logged, 1);
    json_decref(r);

    /* Another task's id cannot be smuggled in. */
    json_decref(forwarded);
    forwarded = NULL;
    r = call(&t, "log_activity", json_pack("{s:s, s:i}", "message", "x", "task_id", 41));
    ck_assert(is_error_result(r));
    ck_assert_ptr_null(forwarded);
    json_decref(r);
    r = call(&t, "ask_user_question", json_pack("{s:s, s:i}", "question", "q", "lease_epoch", 9));
    ck_assert(is_error_result(r));
    ck_assert_ptr_null(t.intent.question);
    json_decref(r);

    /* Finishing calls are recorded for the runner. */
    r = call(&t, "ask_user_question", json_pack("{s:s}", "question", "Which greeting?"));
    ck_assert(!is_error_result(r));
    ck_assert_str_eq(t.intent.question, "Which greeting?");
    json_decref(r);
    r = call(&t, "create_pull_request", json_pack("{s:s, s:s}", "title", "Greet", "body", "Why"));
    ck_assert(!is_error_result(r));
    ck_assert_str_eq(t.intent.pr_title, "Greet");
    ck_assert_str_eq(t.intent.pr_body, "Why");
    json_decref(r);
    r = call(&t, "update_task_status", json_pack("{s:s}", "status", "failed"));
    ck_assert(is_error_result(r));
    ck_assert_ptr_null(t.intent.status);
    json_decref(r);
    r = call(&t, "update_task_status",
             json_pack("{s:s, s:s}", "status", "completed", "summary", "done"));
    ck_assert(!is_error_result(r));
    ck_assert_str_eq(t.intent.status, "completed");
    json_decref(r);
    r = call(&t, "trigger_preview_deploy", json_object());
    ck_assert(t.intent.preview);
    json_decref(r);
    r = call(&t, "ask_user_question", json_pack("{s:s}", "question", ""));
    ck_assert(is_error_result(r));
    json_decref(r);

    /* Notifications get no answer; unknown methods an error. */
    msg = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", "notifications/initialized");
    ck_assert_ptr_null(runner_mcptools_handle(&t, msg));
    json_decref(msg);
    msg = json_pack("{s:s, s:i, s:s}", "jsonrpc", "2.0", "id", 2, "method", "resources/list");
    out = runner_mcptools_handle(&t, msg);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(out, "error"), "code")),
                     -32601);
    json_decref(out);
    json_decref(msg);
    json_decref(forwarded);
    forwarded = NULL;
    runner_intent_clear(&t.intent);
}
END_TEST

/* ---- approve_action: Claude Code's permission prompt through droverd ------------------------ */

/* droverd as the approval tools see it: answers from a script, one per call. */
static const char *const *approval_script;
static int approval_calls;
static json_t *approval_seen;

static int approval_fwd(void *ud, const char *tool, const json_t *args, json_t **result,
                        struct err *err)
{
    const char *next = approval_script[approval_calls];

    (void)ud;
    if (!approval_seen)
        approval_seen = json_array();
    json_array_append_new(approval_seen, json_pack("{s:s, s:O}", "tool", tool, "args", args));
    approval_calls++;
    if (!next || strcmp(next, "fail") == 0)
        return err_set(err, ERR_UNAVAILABLE, "droverd is unreachable");
    *result = json_loads(next, 0, NULL);
    return 0;
}

/* The behavior Claude Code reads from the result's only text content. */
static json_t *behavior(const json_t *r)
{
    const json_t *res = json_object_get(r, "result");
    const char *text = json_string_value(
        json_object_get(json_array_get(json_object_get(res, "content"), 0), "text"));

    ck_assert_ptr_null(json_object_get(res, "structuredContent")); /* it breaks "allow" */
    ck_assert_ptr_nonnull(text);
    return json_loads(text, 0, NULL);
}

static json_t *approve(struct runner_mcptools *t, const char *const *script)
{
    json_t *r, *b;

    approval_script = script;
    approval_calls = 0;
    json_decref(approval_seen);
    approval_seen = NULL;
    r = call(t, "approve_action",
             json_pack("{s:s, s:{s:s}, s:s}", "tool_name", "Bash", "input", "command",
                       "kubectl apply -f x.yaml", "tool_use_id", "toolu_1"));
    b = behavior(r);
    json_decref(r);
    return b;
}

START_TEST(approve_action_asks_droverd_and_fails_closed)
{
    static const char *const allow[] = {"{\"decision\":\"allow\"}", NULL};
    static const char *const wait[] = {"{\"decision\":\"pending\",\"approval_id\":5}",
                                       "{\"decision\":\"pending\",\"approval_id\":5}",
                                       "{\"decision\":\"allow\"}", NULL};
    static const char *const refused[] = {"{\"decision\":\"pending\",\"approval_id\":6}",
                                          "{\"decision\":\"deny\",\"message\":\"not prod\"}", NULL};
    static const char *const lost[] = {"{\"decision\":\"pending\",\"approval_id\":7}", "fail",
                                       NULL};
    atomic_bool stop;
    struct runner_mcptools t = {.task_id = 42,
                                .epoch = 3,
                                .forward = approval_fwd,
                                .autonomy = true,
                                .cwd = "/ws/repo",
                                .stop = &stop,
                                .poll_ms = 1};
    struct runner_mcptools off = {.task_id = 42, .epoch = 3, .forward = approval_fwd};
    json_t *b, *first, *r;

    atomic_init(&stop, false);
    /* Offered only under a policy. */
    r = call(&off, "approve_action", json_pack("{s:s, s:{}}", "tool_name", "Bash", "input"));
    ck_assert_ptr_nonnull(json_object_get(r, "error"));
    json_decref(r);

    /* Allowed at once: Claude Code gets the input back unchanged; droverd got the lease. */
    b = approve(&t, allow);
    ck_assert_str_eq(json_string_value(json_object_get(b, "behavior")), "allow");
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(b, "updatedInput"), "command")),
        "kubectl apply -f x.yaml");
    json_decref(b);
    first = json_object_get(json_array_get(approval_seen, 0), "args");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(approval_seen, 0), "tool")),
                     "request_approval");
    ck_assert_int_eq(json_integer_value(json_object_get(first, "task_id")), 42);
    ck_assert_int_eq(json_integer_value(json_object_get(first, "lease_epoch")), 3);
    ck_assert_str_eq(json_string_value(json_object_get(first, "cwd")), "/ws/repo");

    /* Pending: polled until a person says yes. */
    b = approve(&t, wait);
    ck_assert_str_eq(json_string_value(json_object_get(b, "behavior")), "allow");
    ck_assert_int_eq(approval_calls, 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(approval_seen, 1), "tool")),
                     "get_approval");
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_object_get(json_array_get(approval_seen, 1), "args"), "approval_id")),
                     5);
    json_decref(b);

    /* A person says no: the model reads their message. */
    b = approve(&t, refused);
    ck_assert_str_eq(json_string_value(json_object_get(b, "behavior")), "deny");
    ck_assert_str_eq(json_string_value(json_object_get(b, "message")), "not prod");
    json_decref(b);

    /* droverd unreachable mid-wait, or the runner stopping: denied, never allowed. */
    b = approve(&t, lost);
    ck_assert_str_eq(json_string_value(json_object_get(b, "behavior")), "deny");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(b, "message")), "unreachable"));
    json_decref(b);
    atomic_store(&stop, true);
    b = approve(&t, wait);
    ck_assert_str_eq(json_string_value(json_object_get(b, "behavior")), "deny");
    ck_assert_int_eq(approval_calls, 1);
    json_decref(b);
    ck_assert_int_eq(t.intent.approvals, 5);
    ck_assert_int_eq(t.intent.denials, 3);
    json_decref(approval_seen);
    approval_seen = NULL;
    runner_intent_clear(&t.intent);
}
END_TEST

/* ---- "Checks run" in the pull request ---------------------------------------------------- */

static void checks_feed(struct runner_checks *c, const char *use, const char *cmd, int is_error)
{
    char line[1024];
    json_t *a;

    snprintf(line, sizeof(line),
             "{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"tool_use\",\"id\":"
             "\"%s\",\"name\":\"Bash\",\"input\":{\"command\":\"%s\"}}]}}",
             use, cmd);
    a = runner_transcript_entries(line);
    ck_assert_ptr_nonnull(a);
    runner_checks_note(c, a);
    json_decref(a);
    if (is_error < 0)
        return; /* no result yet */
    snprintf(line, sizeof(line),
             "{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":[{\"tool_use_id\":"
             "\"%s\",\"type\":\"tool_result\",\"content\":\"out\",\"is_error\":%s}]}}",
             use, is_error ? "true" : "false");
    a = runner_transcript_entries(line);
    ck_assert_ptr_nonnull(a);
    runner_checks_note(c, a);
    json_decref(a);
}

START_TEST(checks_run_from_the_transcript)
{
    struct runner_checks c;
    struct buf b;
    char *md;

    runner_checks_init(&c);
    buf_init(&b, 4096);
    runner_checks_markdown(&c, &b);
    md = buf_take(&b, NULL);
    ck_assert_msg(strstr(md, "Checks run: none"), "%s", md);
    free(md);
    checks_feed(&c, "t1", "ls -la && cat test.txt", 0);          /* not a check */
    checks_feed(&c, "t2", "make test", 0);                       /* passed */
    checks_feed(&c, "t3", "cd web && npm run lint", 1);          /* failed */
    checks_feed(&c, "t4", "./node_modules/.bin/eslint src", -1); /* no result */
    checks_feed(&c, "t5", "git status", 0);
    buf_init(&b, 4096);
    runner_checks_markdown(&c, &b);
    md = buf_take(&b, NULL);
    ck_assert_msg(strstr(md, "Checks run (3):\n"), "%s", md);
    ck_assert_msg(strstr(md, "- `make test` — passed\n"), "%s", md);
    ck_assert_msg(strstr(md, "- `cd web && npm run lint` — failed\n"), "%s", md);
    ck_assert_msg(strstr(md, "- `./node_modules/.bin/eslint src` — no result\n"), "%s", md);
    ck_assert_msg(!strstr(md, "ls -la") && !strstr(md, "git status"), "%s", md);
    free(md);
    for (int i = 0; i < RUNNER_CHECKS_MAX + 3; i++) {
        char use[16];

        snprintf(use, sizeof(use), "m%d", i);
        checks_feed(&c, use, "pytest -q", 0);
    }
    buf_init(&b, 8192);
    runner_checks_markdown(&c, &b);
    md = buf_take(&b, NULL);
    ck_assert_msg(strstr(md, "Checks run (26):\n") && strstr(md, "- and 6 more\n"), "%s", md);
    free(md);
    runner_checks_clear(&c);
}
END_TEST

/* ---- the endpoint over HTTP ------------------------------------------------------------- */

static long raw_post(const char *url, const char *auth, const char *origin, const char *body,
                     long body_len)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    long code = 0;

    if (auth)
        h = curl_slist_append(h, auth);
    if (origin)
        h = curl_slist_append(h, origin);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, body_len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fwrite);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, stderr);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return code;
}

/* Send `req` as it is over a fresh connection; the response's status code, or 0. */
static int raw_status(const char *url, const char *req)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char buf[256] = "";
    int fd = socket(AF_INET, SOCK_STREAM, 0), code = 0;
    ssize_t n;

    a.sin_port = htons((unsigned short)atoi(url + strlen("http://127.0.0.1:")));
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        goto out;
    if (write(fd, req, strlen(req)) < 0)
        goto out;
    n = read(fd, buf, sizeof(buf) - 1);
    if (n > 0) {
        buf[n] = '\0';
        sscanf(buf, "HTTP/1.1 %d", &code);
    }
out:
    if (fd >= 0)
        close(fd);
    return code;
}

START_TEST(endpoint_over_http)
{
    struct runner_cfg cfg = {.server_url = "http://127.0.0.1:1/mcp", .token = "agent-token"};
    struct runner_mcpd d;
    struct mcpc m;
    struct err err = {0};
    json_t *res = NULL, *args;
    char auth[100], *big;
    const char *init = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";

    ck_assert_msg(runner_mcpd_start(&d, &cfg, 42, 3, false, NULL, &err) == 0, "%s", err.msg);
    ck_assert(strncmp(d.url, "http://127.0.0.1:", 17) == 0);
    /* No secret, a wrong one, the agent's own token: refused. */
    ck_assert_int_eq(raw_post(d.url, NULL, NULL, init, (long)strlen(init)), 401);
    ck_assert_int_eq(
        raw_post(d.url, "Authorization: Bearer agent-token", NULL, init, (long)strlen(init)), 401);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %.63sX", d.secret);
    ck_assert_int_eq(raw_post(d.url, auth, NULL, init, (long)strlen(init)), 401);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", d.secret);
    /* A browser page (DNS rebinding) is refused even with the secret. */
    ck_assert_int_eq(raw_post(d.url, auth, "Origin: http://evil.example", init, (long)strlen(init)),
                     403);
    /* A body past 1 MiB is refused from its Content-Length, before it is read. */
    big =
        mem_printf("POST /mcp HTTP/1.1\r\nHost: x\r\n%s\r\nContent-Length: 5000000\r\n\r\n", auth);
    ck_assert_int_eq(raw_status(d.url, big), 413);
    free(big);
    big = mem_printf("POST /mcp HTTP/1.1\r\nHost: x\r\n%s\r\nTransfer-Encoding: chunked\r\n\r\n",
                     auth);
    ck_assert_int_eq(raw_status(d.url, big), 411);
    free(big);
    ck_assert_int_eq(raw_status(d.url, "GET /other HTTP/1.1\r\n\r\n"), 404);
    ck_assert_int_eq(raw_post(d.url, auth, NULL, "{not json", 9), 400);
    ck_assert_int_eq(raw_post(d.url, auth, NULL, init, (long)strlen(init)), 200);

    /* A real MCP client: initialize, then a recorded question. */
    ck_assert_int_eq(mcpc_init(&m, d.url, d.secret, &err), 0);
    ck_assert_msg(mcpc_initialize(&m, "check", "1", &err) == 0, "%s", err.msg);
    args = json_pack("{s:s}", "question", "Which colour?");
    ck_assert_msg(mcpc_call(&m, "ask_user_question", args, 10, &res, &err) == 0, "%s", err.msg);
    json_decref(args);
    json_decref(res);
    ck_assert_int_eq(mcpc_call(&m, "get_next_task", NULL, 10, &res, &err), -1);
    mcpc_clear(&m);
    runner_mcpd_stop(&d);
    ck_assert_str_eq(d.tools.intent.question, "Which colour?");
    runner_mcpd_clear(&d);
}
END_TEST

/* ---- the transcript ---------------------------------------------------------------------- */

static json_t *tx_one(const char *line, size_t want)
{
    json_t *a = runner_transcript_entries(line);

    ck_assert_msg(a != NULL, "not an event: %s", line);
    ck_assert_int_eq((int)json_array_size(a), (int)want);
    return a;
}

static const char *tx_meta(const json_t *e, const char *k)
{
    return json_string_value(json_object_get(json_object_get(e, "metadata"), k));
}

START_TEST(transcript_from_stream_json)
{
    /* Lines as Claude Code 2.1.330 writes them (shortened). */
    json_t *a;
    char *big, *line;

    ck_assert_ptr_null(runner_transcript_entries("demo-coder: wrote it"));
    ck_assert_ptr_null(runner_transcript_entries("{not json"));
    a = tx_one("{\"type\":\"system\",\"subtype\":\"init\",\"model\":\"claude-sonnet-4-5\","
               "\"tools\":[\"Bash\",\"mcp__drover__log_activity\"],\"mcp_servers\":[{\"name\":"
               "\"drover\",\"status\":\"connected\"}]}",
               1);
    ck_assert_str_eq(tx_meta(json_array_get(a, 0), "kind"), "init");
    ck_assert_str_eq(tx_meta(json_array_get(a, 0), "source"), "claude");
    ck_assert_msg(strstr(json_string_value(json_object_get(json_array_get(a, 0), "message")),
                         "drover (connected)"),
                  "init");
    json_decref(a);
    a = tx_one("{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":"
               "\"Let me look.\"},{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"Bash\","
               "\"input\":{\"command\":\"ls -la\",\"description\":\"list\"}},{\"type\":"
               "\"thinking\",\"thinking\":\"private\"}],\"usage\":{\"input_tokens\":5}}}",
               2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(a, 0), "message")),
                     "Let me look.");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(a, 1), "message")),
                     "→ Bash: ls -la");
    ck_assert_str_eq(tx_meta(json_array_get(a, 1), "tool"), "Bash");
    json_decref(a);
    a = tx_one("{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":[{\"tool_use_id\":"
               "\"toolu_2\",\"type\":\"tool_result\",\"content\":\"<tool_use_error>No such tool "
               "available: mcp__drover__get_next_task</tool_use_error>\",\"is_error\":true}]}}",
               1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(a, 0), "level")), "warning");
    ck_assert(json_is_true(
        json_object_get(json_object_get(json_array_get(a, 0), "metadata"), "is_error")));
    json_decref(a);
    /* A tool result is bounded, cut on a character boundary. */
    big = mem_alloc(5001);
    for (int i = 0; i < 5000; i += 2)
        memcpy(big + i, "\xc3\xa9", 2); /* é */
    big[5000] = '\0';
    line = mem_printf("{\"type\":\"user\",\"message\":{\"content\":[{\"type\":\"tool_result\","
                      "\"content\":[{\"type\":\"text\",\"text\":\"%s\"}]}]}}",
                      big);
    a = tx_one(line, 1);
    {
        const char *m = json_string_value(json_object_get(json_array_get(a, 0), "message"));

        ck_assert_ptr_nonnull(m); /* jansson refuses invalid UTF-8: a bad cut would be NULL */
        ck_assert_uint_le(strlen(m), RUNNER_TRANSCRIPT_RESULT_MAX + 16);
    }
    json_decref(a);
    free(line);
    free(big);
    a = tx_one("{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"num_turns\":3,"
               "\"result\":\"All done.\",\"total_cost_usd\":0.0025,\"usage\":{\"input_tokens\":350,"
               "\"output_tokens\":55}}",
               1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(a, 0), "message")),
                     "finished after 3 turns: 350 input, 55 output tokens, $0.0025");
    json_decref(a);
    a = tx_one("{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":true,\"num_turns\":1,"
               "\"result\":\"Invalid API key · Fix external API key\",\"total_cost_usd\":0}",
               1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(a, 0), "level")), "error");
    ck_assert_msg(strstr(json_string_value(json_object_get(json_array_get(a, 0), "message")),
                         "Invalid API key"),
                  "the error text");
    json_decref(a);
    a = tx_one("{\"type\":\"stream_event\",\"event\":{}}", 0);
    json_decref(a);
}
END_TEST

/* Claude Code writes a message's usage on each of its content blocks' lines: counted once. */
START_TEST(usage_once_per_message)
{
    struct runner_usage u = {0};

    ck_assert(runner_usage_line(&u, "{\"type\":\"assistant\",\"message\":{\"id\":\"m1\","
                                    "\"usage\":{\"input_tokens\":100,\"output_tokens\":1}}}"));
    ck_assert(runner_usage_line(&u, "{\"type\":\"assistant\",\"message\":{\"id\":\"m1\","
                                    "\"usage\":{\"input_tokens\":100,\"output_tokens\":7}}}"));
    ck_assert_int_eq((int)u.in_tokens, 100);
    ck_assert_int_eq((int)u.out_tokens, 7);
    ck_assert(runner_usage_line(&u, "{\"type\":\"assistant\",\"message\":{\"id\":\"m2\","
                                    "\"usage\":{\"input_tokens\":120,\"output_tokens\":3}}}"));
    ck_assert_int_eq((int)u.in_tokens, 220);
    ck_assert_int_eq((int)u.out_tokens, 10);
    ck_assert(runner_usage_line(&u, "{\"type\":\"result\",\"usage\":{\"input_tokens\":220,"
                                    "\"output_tokens\":12},\"total_cost_usd\":0.5}"));
    ck_assert_int_eq((int)u.out_tokens, 12);
}
END_TEST

/* ---- per-project settings ----------------------------------------------------------------- */

START_TEST(project_settings)
{
    json_t *task = json_pack("{s:n, s:{s:{s:s, s:[s, s], s:[s], s:{s:{s:s}}}}}", "model", "project",
                             "agent", "model", "claude-haiku-4-5", "allowed_tools", "Bash(make:*)",
                             "Write", "tools", "Bash", "mcp_servers", "jira", "type", "http");
    struct runner_project p;

    runner_project_settings(task, false, &p);
    ck_assert_str_eq(p.model, "claude-haiku-4-5"); /* the project's default */
    ck_assert_str_eq(p.allowed, "mcp__drover,Bash(make:*),Write");
    ck_assert_str_eq(p.mode, "dontAsk");
    ck_assert_str_eq(p.tools, "Bash");
    ck_assert_ptr_nonnull(json_object_get(p.mcp_servers, "jira"));
    runner_project_clear(&p);
    json_object_set_new(task, "model", json_string("claude-opus-4-5"));
    json_object_del(json_object_get(json_object_get(task, "project"), "agent"), "allowed_tools");
    runner_project_settings(task, true, &p);
    ck_assert_str_eq(p.model, "claude-opus-4-5");               /* the task's own wins */
    ck_assert_str_eq(p.allowed, "Bash,Edit,Write,mcp__drover"); /* root's default */
    ck_assert_ptr_null(p.mode);
    runner_project_clear(&p);
    runner_project_settings(task, false, &p);
    ck_assert_ptr_null(p.allowed); /* no list: bypassPermissions, the command's default */
    ck_assert_ptr_null(p.prompt_tool);
    runner_project_clear(&p);
    /* Under an autonomy policy the policy decides, even over the project's allow-list, and
     * for root too: only Drover's tools pass without asking. */
    json_object_set_new(json_object_get(json_object_get(task, "project"), "agent"), "allowed_tools",
                        json_pack("[s]", "Bash"));
    json_object_set_new(task, "autonomy",
                        json_pack("{s:i, s:i}", "version", 3, "approval_timeout_seconds", 90));
    runner_project_settings(task, true, &p);
    ck_assert_str_eq(p.allowed, "mcp__drover");
    ck_assert_str_eq(p.mode, "default");
    ck_assert_str_eq(p.prompt_tool, "mcp__drover__approve_action");
    ck_assert_int_eq(p.approval_timeout_s, 90);
    runner_project_clear(&p);
    json_decref(task);
}
END_TEST

/* ---- prompt and default branch ------------------------------------------------------------ */

START_TEST(prompt_carries_question_and_answer)
{
    json_t *task = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s, s:s}]}", "title", "Greet",
                             "description", "Add a greeting.", "context", "type", "answer", "text",
                             "Blue", "by", "alice", "question", "Which colour?");
    char *p = runner_prompt_build(task, "drover/1-greet");

    ck_assert_msg(strstr(p, "Question: Which colour?") && strstr(p, "Answer from alice: Blue"),
                  "%s", p);
    ck_assert_msg(strstr(p, "ask_user_question") && strstr(p, "log_activity") &&
                      strstr(p, "create_pull_request") && !strstr(p, "get_next_task"),
                  "%s", p);
    free(p);
    json_decref(task);
}
END_TEST

/* The context review_rework stores after a forge review with inline comments (store/review.h). */
START_TEST(prompt_lists_inline_comments_per_file)
{
    json_t *task =
        json_pack("{s:s, s:s, s:[{s:s, s:s, s:s, s:{s:s}, s:{s:s}, s:["
                  "{s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:i}, {s:s, s:s, s:s, s:s, s:i},"
                  "{s:s, s:s, s:s, s:s, s:i}, {s:s, s:s, s:s, s:s}]}]}",
                  "title", "Parse", "description", "Parse lines.", "context", "type", "rework",
                  "by", "gitea:reviewer", "branch", "drover/1-parse", "previous_result", "summary",
                  "added parse_line", "pull_request", "url", "http://forge/pulls/1", "review",
                  "kind", "review", "author", "reviewer", "body", "The new function needs a test.",
                  "kind", "inline", "author", "reviewer", "body", "Handle the empty line.", "path",
                  "src/parse.c", "line", 12, "kind", "inline", "author", "reviewer", "body",
                  "Document the flag.", "path", "README.md", "line", 3, "kind", "inline", "author",
                  "reviewer", "body", "Free buf here.", "path", "src/parse.c", "line", 40, "kind",
                  "inline", "author", "reviewer", "body", "Outdated note.", "path", "docs/old.md");
    char *p = runner_prompt_build(task, "drover/1-parse");
    const char *file_c, *file_md, *c12, *c40, *md3;

    ck_assert_msg(strstr(p, "Rework requested by gitea:reviewer") &&
                      strstr(p, "Review from reviewer: The new function needs a test.") &&
                      strstr(p, "Your previous result: added parse_line") &&
                      strstr(p, "http://forge/pulls/1"),
                  "%s", p);
    c12 = strstr(p, "src/parse.c:12 \xe2\x80\x94 Handle the empty line. (reviewer)");
    c40 = strstr(p, "src/parse.c:40 \xe2\x80\x94 Free buf here. (reviewer)");
    md3 = strstr(p, "README.md:3 \xe2\x80\x94 Document the flag. (reviewer)");
    file_c = strstr(p, "\n  src/parse.c:\n");
    file_md = strstr(p, "\n  README.md:\n");
    ck_assert_msg(c12 && c40 && md3 && file_c && file_md, "%s", p);
    /* Grouped per file: both of src/parse.c's comments under its heading, before README.md's. */
    ck_assert_msg(file_c < c12 && c12 < c40 && c40 < file_md && file_md < md3, "%s", p);
    ck_assert_ptr_null(strstr(file_c + 1, "\n  src/parse.c:\n"));
    ck_assert_msg(strstr(p, "docs/old.md \xe2\x80\x94 Outdated note."), "%s", p);
    ck_assert_ptr_null(strstr(p, "\"kind\""));
    free(p);
    json_decref(task);
}
END_TEST

START_TEST(symref_line)
{
    size_t n = 0;
    const char *b = runner_git_symref_branch("ref: refs/heads/master\tHEAD", &n);

    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq((int)n, 6);
    ck_assert(strncmp(b, "master", n) == 0);
    ck_assert_ptr_null(runner_git_symref_branch("0123abc\tHEAD", &n));
    ck_assert_ptr_null(runner_git_symref_branch("ref: refs/heads/\tHEAD", &n));
    ck_assert_ptr_null(runner_git_symref_branch("ref: refs/tags/v1\tHEAD", &n));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("runner");
    TCase *tc = tcase_create("runner");
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, creds_every_way);
    tcase_add_test(tc, tools_are_task_scoped);
    tcase_add_test(tc, approve_action_asks_droverd_and_fails_closed);
    tcase_add_test(tc, endpoint_over_http);
    tcase_add_test(tc, transcript_from_stream_json);
    tcase_add_test(tc, checks_run_from_the_transcript);
    tcase_add_test(tc, project_settings);
    tcase_add_test(tc, usage_once_per_message);
    tcase_add_test(tc, prompt_carries_question_and_answer);
    tcase_add_test(tc, prompt_lists_inline_comments_per_file);
    tcase_add_test(tc, symref_line);
    suite_add_tcase(s, tc);
    failed = testsuite_run(s) != EXIT_SUCCESS;
    curl_global_cleanup();
    return failed ? 1 : 0;
}
