/*
 * The ops REST handlers against a real PostgreSQL, called the way the router calls them (a
 * struct api_request in, status + JSON out): tasks (seed-style and full creation, fan-out,
 * idempotency, cursor pages, detail, cancel / answer / retry, logs), agents, projects,
 * schedules (fired once per slot by two replicas), tokens, events (order and resume), the
 * Alertmanager hook with Alertmanager's documented example, /metrics, and the OpenAPI
 * document against the route tables.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/agents.h"
#include "api/openapi.h"
#include "api/router.h"
#include "api/tasks.h"
#include "core/buf.h"
#include "core/counters.h"
#include "core/cron.h"
#include "pool/agentpool.h"
#include "store/agents.h"
#include "store/tokens.h"
#include "store/events.h"
#include "store/queue.h"
#include "store/schedules.h"
#include "svc/svc_hbmem.h"
#include "fixture.h"
#include "testdb.h"

struct call {
    int status;
    json_t *body; /* owned */
    char *raw;    /* owned */
    struct api_stream stream;
};

static void call_clear(struct call *c)
{
    json_decref(c->body);
    free(c->raw);
    memset(c, 0, sizeof(*c));
}

/* Dispatch through the real router (scope checks included), as a worker does. */
static struct call request(enum principal_scope scope, const char *method, const char *target,
                           const char *body, const char *idem, const char *last_event_id)
{
    struct principal who = {.scope = scope, .token_id = 999};
    char path[512];
    const char *query = strchr(target, '?');
    struct api_request req = {0};
    struct api_response resp = {0};
    struct call c = {0};

    snprintf(path, sizeof(path), "%.*s", query ? (int)(query - target) : (int)strlen(target),
             target);
    snprintf(who.name, sizeof(who.name), "tester");
    req.method = method;
    req.path = path;
    req.query = query ? query + 1 : "";
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.idempotency_key = idem;
    req.last_event_id = last_event_id;
    req.who = scope == PRINCIPAL_NONE ? NULL : &who;
    req.svc = &fx.svc;
    router_dispatch(&req, &resp);
    c.status = resp.status;
    c.body = resp.body;
    c.raw = resp.raw;
    c.stream = resp.stream;
    return c;
}

/* The status of a request whose body does not matter. */
static int status_of(enum principal_scope scope, const char *method, const char *target)
{
    struct call c = request(scope, method, target, NULL, NULL, NULL);
    int st = c.status;

    call_clear(&c);
    return st;
}

static struct call admin(const char *method, const char *target, const char *body)
{
    return request(PRINCIPAL_ADMIN, method, target, body, NULL, NULL);
}

static json_int_t jint(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static const char *err_code(const struct call *c)
{
    return json_string_value(json_object_get(json_object_get(c->body, "error"), "code"));
}

static void expect_error(const char *method, const char *target, const char *body, int status,
                         const char *code)
{
    struct call c = admin(method, target, body);
    const char *msg =
        json_string_value(json_object_get(json_object_get(c.body, "error"), "message"));

    ck_assert_msg(c.status == status, "%s %s %s: status %d, want %d", method, target,
                  body ? body : "", c.status, status);
    ck_assert_msg(err_code(&c) && strcmp(err_code(&c), code) == 0, "%s %s: code %s, want %s",
                  method, target, err_code(&c) ? err_code(&c) : "(none)", code);
    ck_assert_msg(msg && strlen(msg) > 10, "%s %s: no useful message", method, target);
    call_clear(&c);
}

static json_int_t make_project(const char *name)
{
    char body[256];
    struct call c;
    json_int_t id;

    snprintf(body, sizeof(body),
             "{\"name\":\"%s\",\"repository\":\"file:///srv/%s.git\",\"default_branch\":\"main\"}",
             name, name);
    c = admin("POST", "/api/projects", body);
    ck_assert_int_eq(c.status, 201);
    id = jint(c.body, "id");
    call_clear(&c);
    return id;
}

START_TEST(seed_style_submission)
{
    struct call c = admin("POST", "/api/tasks",
                          "{\"task\":\"Add a /health endpoint\",\"repository\":\"file:///r.git\","
                          "\"branch\":\"dev\",\"title\":\"health\"}");

    ck_assert_int_eq(c.status, 202);
    ck_assert_int_gt(jint(c.body, "id"), 0);
    ck_assert_str_eq(jstr(c.body, "state"), "backlog");
    ck_assert_str_eq(jstr(c.body, "title"), "health");
    ck_assert_str_eq(jstr(c.body, "description"), "Add a /health endpoint");
    ck_assert_str_eq(jstr(c.body, "base_branch"), "dev");
    call_clear(&c);
    /* prompt without a title: the title comes from the prompt's first line */
    c = admin("POST", "/api/tasks",
              "{\"prompt\":\"Fix the flaky test\\nDetails\",\"repository\":\"r\"}");
    ck_assert_int_eq(c.status, 202);
    ck_assert_str_eq(jstr(c.body, "title"), "Fix the flaky test");
    call_clear(&c);
    expect_error("POST", "/api/tasks", "{\"repository\":\"file:///r.git\"}", 400,
                 "prompt_required");
    expect_error("POST", "/api/tasks", "{\"prompt\":\"\",\"repository\":\"file:///r.git\"}", 400,
                 "prompt_required");
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks"), 2);
}
END_TEST

START_TEST(create_rejects_bad_input_and_changes_nothing)
{
    static const struct {
        const char *body;
        int status;
        const char *code;
    } bad[] = {
        {NULL, 400, "body_required"},
        {"not json", 400, "invalid_json"},
        {"[1]", 400, "body_not_object"},
        {"{\"prompt\":\"x\"}", 400, "repository_required"},
        {"{\"prompt\":\"x\",\"repository\":\"r\",\"priority\":5000}", 400, "invalid_field"},
        {"{\"prompt\":\"x\",\"repository\":\"r\",\"priority\":\"high\"}", 400, "invalid_field"},
        {"{\"prompt\":\"x\",\"repository\":\"r\",\"agent_count\":11}", 400, "invalid_field"},
        {"{\"prompt\":\"x\",\"repository\":\"r\",\"agent_count\":0}", 400, "invalid_field"},
        {"{\"prompt\":\"x\",\"repository\":\"r\",\"max_attempts\":0}", 400, "invalid_field"},
        {"{\"prompt\":\"x\",\"repository\":\"r\",\"timeout_seconds\":0}", 400, "invalid_field"},
        {"{\"prompt\":\"x\",\"repository\":\"r\",\"budget\":{\"tokens\":-1}}", 400,
         "invalid_budget"},
        {"{\"prompt\":\"x\",\"repository\":\"r\",\"budget\":{\"eur\":1}}", 400, "invalid_budget"},
        {"{\"prompt\":\"x\",\"repository\":\"r\",\"colour\":\"red\"}", 400, "unknown_field"},
        {"{\"prompt\":\"x\",\"project\":\"nope\"}", 404, "not_found"},
        {"{\"prompt\":\"x\",\"project\":[1]}", 400, "invalid_field"},
        {"{\"prompt\":7,\"repository\":\"r\"}", 400, "invalid_field"},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_error("POST", "/api/tasks", bad[i].body, bad[i].status, bad[i].code);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks"), 0);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM activity"), 0);
}
END_TEST

START_TEST(full_creation_with_project_budget_and_idempotency)
{
    struct call a, b;

    make_project("web");
    a = request(PRINCIPAL_ADMIN, "POST", "/api/tasks",
                "{\"prompt\":\"p\",\"project\":\"web\",\"priority\":7,\"model\":\"m1\","
                "\"max_attempts\":2,\"timeout_seconds\":60,\"budget\":{\"tokens\":1000,\"usd\":"
                "2.5}}",
                "key-1", NULL);
    ck_assert_int_eq(a.status, 202);
    ck_assert(json_is_true(json_object_get(a.body, "created")));
    ck_assert_int_eq(jint(a.body, "priority"), 7);
    ck_assert_int_eq(jint(a.body, "max_attempts"), 2);
    ck_assert_int_eq(jint(a.body, "timeout_seconds"), 60);
    ck_assert_str_eq(jstr(json_object_get(a.body, "project"), "name"), "web");
    ck_assert_int_eq(jint(json_object_get(a.body, "budget"), "tokens"), 1000);
    /* The same key with another body is a 409, never the first task. */
    b = request(PRINCIPAL_ADMIN, "POST", "/api/tasks", "{\"prompt\":\"p\",\"project\":\"web\"}",
                "key-1", NULL);
    ck_assert_int_eq(b.status, 409);
    call_clear(&b);
    b = request(PRINCIPAL_ADMIN, "POST", "/api/tasks",
                "{\"prompt\":\"p\",\"project\":\"web\",\"priority\":7,\"model\":\"m1\","
                "\"max_attempts\":2,\"timeout_seconds\":60,\"budget\":{\"tokens\":1000,\"usd\":"
                "2.5}}",
                "key-1", NULL);
    ck_assert_int_eq(b.status, 202);
    ck_assert(json_is_false(json_object_get(b.body, "created")));
    ck_assert_int_eq(jint(a.body, "id"), jint(b.body, "id"));
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks"), 1);
    call_clear(&a);
    call_clear(&b);
}
END_TEST

START_TEST(fanout_creates_group_and_children_never_claims_the_group)
{
    struct call a, b;
    json_t *kids;
    char agent[37];
    json_int_t seen[3] = {0};

    a = request(PRINCIPAL_ADMIN, "POST", "/api/tasks",
                "{\"prompt\":\"Try three designs\",\"repository\":\"file:///r.git\","
                "\"agent_count\":3}",
                "fan-1", NULL);
    ck_assert_int_eq(a.status, 202);
    ck_assert(json_is_true(json_object_get(a.body, "is_group")));
    kids = json_object_get(a.body, "children");
    ck_assert_int_eq(json_array_size(kids), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *k = json_array_get(kids, i);

        ck_assert_int_eq(jint(k, "parent_id"), jint(a.body, "id"));
        ck_assert_str_eq(jstr(k, "state"), "backlog");
        ck_assert_str_eq(jstr(k, "description"), "Try three designs");
    }
    ck_assert_int_eq(
        fixture_scalar("SELECT count(DISTINCT id) FROM tasks WHERE parent_id IS NOT NULL"), 3);
    /* The same key again: the same group and children, nothing new. */
    b = request(PRINCIPAL_ADMIN, "POST", "/api/tasks",
                "{\"prompt\":\"Try three designs\",\"repository\":\"file:///r.git\","
                "\"agent_count\":3}",
                "fan-1", NULL);
    ck_assert_int_eq(b.status, 202);
    ck_assert_int_eq(jint(b.body, "id"), jint(a.body, "id"));
    ck_assert_int_eq(json_array_size(json_object_get(b.body, "children")), 3);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks"), 4);
    /* Agents claim the three children (each its own task and so its own branch), never the group.
     */
    for (int i = 0; i < 4; i++) {
        struct err err = {0};
        json_t *t = NULL;

        ck_assert_int_eq(agents_create(&fx.db, "a", "none", agent, &err), 0);
        ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, agent, &t, &err), 0);
        if (i == 3) {
            ck_assert_ptr_null(t);
            break;
        }
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(jint(t, "parent_id"), jint(a.body, "id"));
        seen[i] = jint(t, "id");
        json_decref(t);
    }
    ck_assert(seen[0] != seen[1] && seen[1] != seen[2] && seen[0] != seen[2]);
    call_clear(&a);
    call_clear(&b);
    /* Cancelling the group cancels its open children. */
    char path[64];
    snprintf(path, sizeof(path), "/api/tasks/%lld/cancel",
             (long long)fixture_scalar("SELECT id FROM tasks WHERE is_group"));
    a = admin("POST", path, NULL);
    ck_assert_int_eq(a.status, 200);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'cancelled'"), 4);
    call_clear(&a);
}
END_TEST

START_TEST(list_pages_with_cursor_and_filters)
{
    char target[256], cursor[64] = "";
    json_int_t ids[7];
    int pages = 0, total = 0;
    struct call c;

    make_project("p1");
    for (int i = 0; i < 7; i++) {
        c = admin("POST", "/api/tasks",
                  i % 2 ? "{\"prompt\":\"x\",\"project\":\"p1\"}"
                        : "{\"prompt\":\"x\",\"repository\":\"r\"}");
        ck_assert_int_eq(c.status, 202);
        ids[i] = jint(c.body, "id");
        call_clear(&c);
    }
    for (;;) {
        snprintf(target, sizeof(target), "/api/tasks?limit=3%s%s", cursor[0] ? "&cursor=" : "",
                 cursor);
        c = admin("GET", target, NULL);
        ck_assert_int_eq(c.status, 200);
        json_t *tasks = json_object_get(c.body, "tasks");
        for (size_t i = 0; i < json_array_size(tasks); i++)
            ck_assert_int_eq(jint(json_array_get(tasks, i), "id"), ids[6 - total - (int)i]);
        total += (int)json_array_size(tasks);
        pages++;
        json_t *next = json_object_get(c.body, "next_cursor");
        if (json_is_null(next)) {
            call_clear(&c);
            break;
        }
        snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
        call_clear(&c);
        ck_assert_int_lt(pages, 5);
    }
    ck_assert_int_eq(total, 7);
    ck_assert_int_eq(pages, 3);
    c = admin("GET", "/api/tasks?project=p1", NULL);
    ck_assert_int_eq(json_array_size(json_object_get(c.body, "tasks")), 3);
    call_clear(&c);
    c = admin("GET", "/api/tasks?state=backlog&limit=200", NULL);
    ck_assert_int_eq(json_array_size(json_object_get(c.body, "tasks")), 7);
    call_clear(&c);
    c = admin("GET", "/api/tasks?state=completed", NULL);
    ck_assert_int_eq(json_array_size(json_object_get(c.body, "tasks")), 0);
    call_clear(&c);
    expect_error("GET", "/api/tasks?state=done", NULL, 400, "invalid_state");
    expect_error("GET", "/api/tasks?limit=0", NULL, 400, "invalid_parameter");
    expect_error("GET", "/api/tasks?limit=abc", NULL, 400, "invalid_parameter");
    expect_error("GET", "/api/tasks?cursor=garbage!", NULL, 400, "invalid_cursor");
    expect_error("GET", "/api/tasks?agent=bob", NULL, 400, "invalid_parameter");
    expect_error("GET", "/api/tasks?project=nope", NULL, 404, "not_found");
}
END_TEST

START_TEST(cursor_roundtrip)
{
    char c[32];
    long long id;

    tasks_cursor_encode(1, c);
    ck_assert_int_eq(tasks_cursor_decode(c, &id), 0);
    ck_assert_int_eq(id, 1);
    tasks_cursor_encode(9007199254740993LL, c);
    ck_assert_int_eq(tasks_cursor_decode(c, &id), 0);
    ck_assert_int_eq(id, 9007199254740993LL);
    ck_assert_int_eq(tasks_cursor_decode("", &id), -1);
    ck_assert_int_eq(tasks_cursor_decode("MTIz", &id), -1);   /* "123", no version */
    ck_assert_int_eq(tasks_cursor_decode("djE6MA", &id), -1); /* "v1:0" */
}
END_TEST

/* Claim the task with a fresh agent and move it to needs_input with a question. */
static void ask(json_int_t id, const char *question)
{
    struct model_outcome oc = {.question = question};
    struct err err = {0};
    char agent[37];
    json_t *t = NULL;

    ck_assert_int_eq(agents_create(&fx.db, "a", "none", agent, &err), 0);
    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, agent, &t, &err), 0);
    ck_assert_int_eq(jint(t, "id"), id);
    json_int_t epoch = jint(t, "lease_epoch");
    json_t *line = json_pack("{s:s}", "message", "a log line");
    int n = 0;

    json_decref(t);
    t = NULL;
    ck_assert_msg(queue_log(&fx.db, agent, id, line, &n, &err) == 0, "%s", err.msg);
    json_decref(line);
    ck_assert_int_eq(n, 1);
    ck_assert_msg(
        queue_update_status(&fx.db, &fx.qo, agent, id, epoch, "needs_input", &oc, &t, &err) == 0,
        "%s", err.msg);
    json_decref(t);
}

START_TEST(detail_answer_cancel_retry_and_logs)
{
    struct call c = admin("POST", "/api/tasks", "{\"prompt\":\"q\",\"repository\":\"r\"}");
    json_int_t id = jint(c.body, "id");
    char path[128];

    call_clear(&c);
    ask(id, "Which port?");
    snprintf(path, sizeof(path), "/api/tasks/%lld", (long long)id);
    c = request(PRINCIPAL_OPERATOR, "GET", path, NULL, NULL, NULL);
    ck_assert_int_eq(c.status, 200);
    ck_assert_str_eq(jstr(c.body, "state"), "needs_input");
    ck_assert_str_eq(jstr(c.body, "question"), "Which port?");
    ck_assert_int_eq(json_array_size(json_object_get(c.body, "history")), 3);
    ck_assert(json_is_number(json_object_get(c.body, "duration_seconds")));
    call_clear(&c);
    snprintf(path, sizeof(path), "/api/tasks/%lld/answer", (long long)id);
    expect_error("POST", path, "{}", 400, "answer_required");
    expect_error("POST", path, NULL, 400, "body_required");
    c = request(PRINCIPAL_OPERATOR, "POST", path, "{\"answer\":\"8080\"}", NULL, NULL);
    ck_assert_int_eq(c.status, 403);
    call_clear(&c);
    c = admin("POST", path, "{\"answer\":\"8080\"}");
    ck_assert_int_eq(c.status, 200);
    ck_assert_str_eq(jstr(c.body, "state"), "backlog");
    ck_assert_str_eq(jstr(json_array_get(json_object_get(c.body, "context"), 0), "text"), "8080");
    call_clear(&c);
    expect_error("POST", path, "{\"answer\":\"again\"}", 409, "invalid_transition");
    snprintf(path, sizeof(path), "/api/tasks/%lld/cancel", (long long)id);
    c = admin("POST", path, "{\"reason\":\"not needed\"}");
    ck_assert_int_eq(c.status, 200);
    ck_assert_str_eq(jstr(c.body, "state"), "cancelled");
    call_clear(&c);
    expect_error("POST", path, NULL, 409, "invalid_transition");
    snprintf(path, sizeof(path), "/api/tasks/%lld/retry", (long long)id);
    c = admin("POST", path, NULL);
    ck_assert_int_eq(c.status, 200);
    ck_assert_str_eq(jstr(c.body, "state"), "backlog");
    call_clear(&c);
    /* Logs: every activity row, paged by id. */
    snprintf(path, sizeof(path), "/api/tasks/%lld/logs?limit=2", (long long)id);
    c = admin("GET", path, NULL);
    ck_assert_int_eq(c.status, 200);
    ck_assert_int_eq(json_array_size(json_object_get(c.body, "entries")), 2);
    json_int_t after = jint(c.body, "next_after");
    call_clear(&c);
    snprintf(path, sizeof(path), "/api/tasks/%lld/logs?after=%lld&limit=100", (long long)id,
             (long long)after);
    c = admin("GET", path, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(c.body, "entries")),
                     fixture_scalar("SELECT count(*) FROM activity") - 2);
    ck_assert_int_gt(jint(json_array_get(json_object_get(c.body, "entries"), 0), "id"), after);
    call_clear(&c);
    expect_error("GET", "/api/tasks/999/logs", NULL, 404, "not_found");
    expect_error("GET", "/api/tasks/abc", NULL, 400, "invalid_id");
    expect_error("GET", "/api/tasks/0", NULL, 400, "invalid_id");
    expect_error("GET", "/api/tasks/12345", NULL, 404, "not_found");
    expect_error("POST", "/api/tasks/12345/cancel", NULL, 404, "not_found");
}
END_TEST

START_TEST(scopes_operator_reads_admin_writes_agent_refused)
{
    for (const struct api_route *const *t = routes_tables; *t; t++)
        for (const struct api_route *r = *t; r->method; r++) {
            if (r->min_scope == PRINCIPAL_NONE) {
                /* Public: forge webhooks authenticate by their signature instead. */
                ck_assert_msg(strcmp(r->pattern, "/metrics") == 0 ||
                                  strcmp(r->pattern, "/api/openapi.json") == 0 ||
                                  strncmp(r->pattern, "/api/hooks/forge/", 17) == 0,
                              "%s %s is public", r->method, r->pattern);
                continue;
            }
            /* People's moves of tasks are for developers (and admins): answering what a
             * task's agent asks for approval is one. */
            if (strcmp(r->method, "POST") == 0 &&
                (strncmp(r->pattern, "/api/tasks", 10) == 0 ||
                 strncmp(r->pattern, "/api/approvals", 14) == 0)) {
                ck_assert_msg(r->min_scope == PRINCIPAL_DEVELOPER, "%s %s needs a developer",
                              r->method, r->pattern);
                continue;
            }
            if (strcmp(r->method, "GET") == 0 && strncmp(r->pattern, "/api/tokens", 11) != 0)
                ck_assert_msg(r->min_scope == PRINCIPAL_OPERATOR, "%s %s", r->method, r->pattern);
            else
                ck_assert_msg(r->min_scope == PRINCIPAL_ADMIN, "%s %s must need admin", r->method,
                              r->pattern);
        }
    struct call c = request(PRINCIPAL_OPERATOR, "POST", "/api/tasks",
                            "{\"prompt\":\"x\",\"repository\":\"r\"}", NULL, NULL);
    ck_assert_int_eq(c.status, 403);
    call_clear(&c);
    c = request(PRINCIPAL_AGENT, "GET", "/api/tasks", NULL, NULL, NULL);
    ck_assert_int_eq(c.status, 403);
    call_clear(&c);
    c = request(PRINCIPAL_NONE, "GET", "/api/tasks", NULL, NULL, NULL);
    ck_assert_int_eq(c.status, 401);
    call_clear(&c);
    c = request(PRINCIPAL_OPERATOR, "GET", "/api/tasks", NULL, NULL, NULL);
    ck_assert_int_eq(c.status, 200);
    call_clear(&c);
    c = request(PRINCIPAL_NONE, "GET", "/api/openapi.json", NULL, NULL, NULL);
    ck_assert_int_eq(c.status, 200);
    ck_assert_ptr_nonnull(strstr(c.raw, "\"openapi\""));
    call_clear(&c);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks"), 0);
}
END_TEST

START_TEST(agents_list_and_show)
{
    struct err err = {0};
    char a1[37], a2[37], path[128];
    json_t *out = NULL, *t = NULL;
    struct call c;

    c = admin("POST", "/api/tasks", "{\"prompt\":\"x\",\"repository\":\"r\",\"title\":\"T1\"}");
    call_clear(&c);
    ck_assert_int_eq(agents_create(&fx.db, "one", "process", a1, &err), 0);
    ck_assert_int_eq(agents_create(&fx.db, "two", "process", a2, &err), 0);
    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, a1, &t, &err), 0);
    json_decref(t);
    ck_assert_int_eq(queue_heartbeat(&fx.db, &fx.qo, a2, NULL, NULL, NULL, &out, &err), 0);
    json_decref(out);
    c = request(PRINCIPAL_OPERATOR, "GET", "/api/agents", NULL, NULL, NULL);
    ck_assert_int_eq(c.status, 200);
    json_t *list = json_object_get(c.body, "agents");
    ck_assert_int_eq(json_array_size(list), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *a = json_array_get(list, i);

        if (strcmp(jstr(a, "id"), a1) == 0) {
            ck_assert_str_eq(jstr(a, "status"), "busy");
            ck_assert_str_eq(jstr(json_object_get(a, "current_task"), "title"), "T1");
        } else {
            ck_assert_str_eq(jstr(a, "status"), "idle");
            ck_assert(json_is_null(json_object_get(a, "current_task")));
            ck_assert(json_is_number(json_object_get(a, "heartbeat_age_seconds")));
        }
        ck_assert(json_is_number(json_object_get(a, "uptime_seconds")));
    }
    call_clear(&c);
    c = admin("GET", "/api/agents?status=busy", NULL);
    ck_assert_int_eq(json_array_size(json_object_get(c.body, "agents")), 1);
    call_clear(&c);
    snprintf(path, sizeof(path), "/api/agents/%s", a2);
    c = admin("GET", path, NULL);
    ck_assert_int_eq(c.status, 200);
    ck_assert_str_eq(jstr(c.body, "name"), "two");
    call_clear(&c);
    expect_error("GET", "/api/agents?status=sleepy", NULL, 400, "invalid_status");
    expect_error("GET", "/api/agents/not-a-uuid", NULL, 400, "invalid_id");
    expect_error("GET", "/api/agents/00000000-0000-0000-0000-000000000000", NULL, 404, "not_found");
    snprintf(path, sizeof(path), "/api/agents/%s/logs", a2);
    expect_error("GET", path, NULL, 501, "no_pod_backend");
}
END_TEST

/* A real pool on the process backend that may start no agent (max 0): only its logs are read. */
static struct agentpool *logs_pool(const char *dir)
{
    struct agentpool_cfg pc;
    struct agentpool *p = NULL;
    struct err err = {0};

    ck_assert_int_eq(
        fixture_scalar("UPDATE pool_settings SET min_agents = 0, max_agents = 0 RETURNING 1"), 1);
    agentpool_cfg_default(&pc);
    snprintf(pc.backend, sizeof(pc.backend), "process");
    snprintf(pc.agent_command, sizeof(pc.agent_command), "true");
    snprintf(pc.agent_log_dir, sizeof(pc.agent_log_dir), "%s", dir);
    ck_assert_msg(agentpool_start(&pc, testdb_dsn(), &p, &err) == 0, "%s", err.msg);
    return p;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(agent_pod_logs_through_the_backend)
{
    char agent[37], path[160], cursor[API_STREAM_CURSOR_MAX], dir[] = "/tmp/drover-logs-XXXXXX";
    char log[256];
    struct err err = {0};
    json_t *ev = NULL;
    struct call c;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(agents_create(&fx.db, "pod", "process", agent, &err), 0);
    fx.env.pool = logs_pool(dir);
    snprintf(log, sizeof(log), "%s/%s.log", dir, agent);
    write_file(log, "line one\nline two\n");
    snprintf(path, sizeof(path), "/api/agents/%s/logs?tail=50", agent);
    c = request(PRINCIPAL_OPERATOR, "GET", path, NULL, NULL, NULL);
    ck_assert_int_eq(c.status, 200);
    ck_assert_str_eq(c.raw, "line one\nline two\n");
    call_clear(&c);
    snprintf(path, sizeof(path), "/api/agents/%s/logs?follow=1", agent);
    c = request(PRINCIPAL_OPERATOR, "GET", path, NULL, NULL, NULL);
    ck_assert_int_eq(c.status, 200);
    ck_assert_ptr_nonnull(c.stream.fetch);
    snprintf(cursor, sizeof(cursor), "%s", c.stream.cursor);
    ck_assert_int_eq(c.stream.fetch(&fx.svc, c.stream.arg, cursor, &ev, &err), 0);
    ck_assert_int_eq(json_array_size(ev), 2);
    ck_assert_str_eq(jstr(json_object_get(json_array_get(ev, 1), "data"), "line"), "line two");
    json_decref(ev);
    write_file(log, "line one\nline two\nline three\n");
    ck_assert_int_eq(c.stream.fetch(&fx.svc, c.stream.arg, cursor, &ev, &err), 0);
    ck_assert_int_eq(json_array_size(ev), 1);
    ck_assert_str_eq(jstr(json_array_get(ev, 0), "id"), "3");
    json_decref(ev);
    write_file(log, "restarted\n"); /* a new container: start over */
    ck_assert_int_eq(c.stream.fetch(&fx.svc, c.stream.arg, cursor, &ev, &err), 0);
    ck_assert_int_eq(json_array_size(ev), 1);
    ck_assert_str_eq(jstr(json_object_get(json_array_get(ev, 0), "data"), "line"), "restarted");
    json_decref(ev);
    /* Past the 10,000-line window the stream keeps going (it used to stall there). */
    {
        struct buf b;
        char *text;
        size_t n;

        buf_init(&b, 1u << 22);
        for (int i = 1; i <= 10005; i++)
            buf_appendf(&b, "big %d\n", i);
        text = buf_take(&b, &n);
        write_file(log, text);
        ck_assert_int_eq(c.stream.fetch(&fx.svc, c.stream.arg, cursor, &ev, &err), 0);
        ck_assert_int_eq(json_array_size(ev), 10000);
        json_decref(ev);
        free(text);
        buf_init(&b, 1u << 22);
        for (int i = 1; i <= 10010; i++)
            buf_appendf(&b, "big %d\n", i);
        text = buf_take(&b, &n);
        write_file(log, text);
        ck_assert_int_eq(c.stream.fetch(&fx.svc, c.stream.arg, cursor, &ev, &err), 0);
        ck_assert_int_eq(json_array_size(ev), 5);
        ck_assert_str_eq(jstr(json_object_get(json_array_get(ev, 0), "data"), "line"), "big 10006");
        json_decref(ev);
        free(text);
        buf_clear(&b);
    }
    call_clear(&c);
    agentpool_stop(fx.env.pool);
    fx.env.pool = NULL;
    fixture_scalar("UPDATE pool_settings SET min_agents = 2, max_agents = 10 RETURNING 1");
    unlink(log);
    rmdir(dir);
    expect_error("GET", path, NULL, 501, "no_pod_backend");
}
END_TEST

START_TEST(projects_crud)
{
    struct call c;
    json_int_t id = make_project("api");

    c = admin("GET", "/api/projects/api", NULL);
    ck_assert_int_eq(c.status, 200);
    ck_assert_int_eq(jint(c.body, "id"), id);
    ck_assert_str_eq(jstr(c.body, "forge_kind"), "git");
    call_clear(&c);
    c = admin("PUT", "/api/projects/api",
              "{\"default_branch\":\"trunk\",\"forge_kind\":\"gitea\",\"settings\":{\"alert_"
              "template\":\"fix {{alertname}}\"}}");
    ck_assert_int_eq(c.status, 200);
    ck_assert_str_eq(jstr(c.body, "default_branch"), "trunk");
    ck_assert_str_eq(jstr(c.body, "forge_kind"), "gitea");
    ck_assert_str_eq(jstr(c.body, "repository"), "file:///srv/api.git");
    call_clear(&c);
    c = admin("GET", "/api/projects", NULL);
    ck_assert_int_eq(json_array_size(json_object_get(c.body, "projects")), 1);
    call_clear(&c);
    expect_error("POST", "/api/projects", "{\"name\":\"api\",\"repository\":\"x\"}", 409,
                 "conflict");
    expect_error("POST", "/api/projects", "{\"name\":\"bad name\",\"repository\":\"x\"}", 400,
                 "invalid_argument");
    expect_error("POST", "/api/projects", "{\"name\":\"123\",\"repository\":\"x\"}", 400,
                 "invalid_argument");
    expect_error("POST", "/api/projects", "{\"name\":\"n\"}", 400, "invalid_argument");
    /* settings.agent (the coding agent's model, MCP servers, tools) is checked up front. */
    expect_error("PUT", "/api/projects/api", "{\"settings\":{\"agent\":{\"modle\":\"x\"}}}", 400,
                 "invalid_argument");
    expect_error("PUT", "/api/projects/api",
                 "{\"settings\":{\"agent\":{\"mcp_servers\":{\"drover\":{\"type\":\"http\"}}}}}",
                 400, "invalid_argument");
    expect_error("PUT", "/api/projects/api",
                 "{\"settings\":{\"agent\":{\"allowed_tools\":[\"Bash\\\"; rm -rf /\"]}}}", 400,
                 "invalid_argument");
    c = admin("PUT", "/api/projects/api",
              "{\"settings\":{\"agent\":{\"model\":\"claude-sonnet-4-5\",\"tools\":[\"Bash\"],"
              "\"allowed_tools\":[\"Bash(make:*)\"],\"mcp_servers\":{\"jira\":{\"type\":\"http\","
              "\"url\":\"https://jira.example/mcp\"}}}}}");
    ck_assert_int_eq(c.status, 200);
    call_clear(&c);
    expect_error("POST", "/api/projects",
                 "{\"name\":\"n\",\"repository\":\"x\",\"forge_kind\":\"svn\"}", 400,
                 "invalid_argument");
    expect_error("POST", "/api/projects", "{\"name\":\"n\",\"repository\":\"x\",\"x\":1}", 400,
                 "invalid_argument");
    expect_error("PUT", "/api/projects/nope", "{}", 404, "not_found");
    c = admin("POST", "/api/tasks", "{\"prompt\":\"x\",\"project\":\"api\"}");
    call_clear(&c);
    expect_error("DELETE", "/api/projects/api", NULL, 409, "conflict");
    make_project("tmp");
    c = admin("DELETE", "/api/projects/tmp", NULL);
    ck_assert_int_eq(c.status, 200);
    call_clear(&c);
    expect_error("GET", "/api/projects/tmp", NULL, 404, "not_found");
    ck_assert_int_eq(status_of(PRINCIPAL_OPERATOR, "DELETE", "/api/projects/api"), 403);
}
END_TEST

/* Alertmanager's documented webhook example (prometheus.io, "webhook_config"), version 4. */
static const char alert_example[] =
    "{\"version\":\"4\",\"groupKey\":\"{}:{alertname=\\\"HighLatency\\\"}\","
    "\"truncatedAlerts\":0,\"status\":\"firing\",\"receiver\":\"drover\","
    "\"groupLabels\":{\"alertname\":\"HighLatency\"},"
    "\"commonLabels\":{\"alertname\":\"HighLatency\",\"service\":\"api\",\"severity\":\"page\"},"
    "\"commonAnnotations\":{\"summary\":\"p99 latency above 1s\"},"
    "\"externalURL\":\"http://alertmanager.example:9093\","
    "\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"HighLatency\",\"service\":"
    "\"api\",\"severity\":\"page\",\"instance\":\"api-1\"},\"annotations\":{\"summary\":\"p99 "
    "latency above 1s\"},\"startsAt\":\"2026-01-01T10:00:00Z\",\"endsAt\":\"0001-01-01T00:00:"
    "00Z\",\"generatorURL\":\"http://prometheus.example/graph\",\"fingerprint\":\"a1b2\"},"
    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"HighLatency\",\"service\":\"api\","
    "\"severity\":\"page\",\"instance\":\"api-2\"},\"annotations\":{\"summary\":\"p99 latency "
    "above 1s\"},\"startsAt\":\"2026-01-01T10:01:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","
    "\"generatorURL\":\"http://prometheus.example/graph\",\"fingerprint\":\"c3d4\"}]}";

START_TEST(alertmanager_hook_dedups_by_group_key)
{
    struct call c, d;
    json_int_t id;

    make_project("api");
    c = admin("PUT", "/api/projects/api",
              "{\"settings\":{\"alert_template\":\"Fix {{alertname}} ({{ status }}) on "
              "{{commonLabels.service}}: {{commonAnnotations.summary}}\\n{{alerts}}\"}}");
    call_clear(&c);
    c = admin("POST", "/api/hooks/alertmanager?project=api", alert_example);
    ck_assert_int_eq(c.status, 202);
    ck_assert_str_eq(jstr(c.body, "result"), "created");
    json_t *task = json_object_get(c.body, "task");
    id = jint(task, "id");
    ck_assert_str_eq(jstr(task, "title"), "Alert: HighLatency (2 firing)");
    const char *prompt = jstr(task, "description");
    ck_assert_msg(strncmp(prompt, "Fix HighLatency (firing) on api: p99 latency above 1s\n", 54) ==
                      0,
                  "%s", prompt);
    ck_assert_ptr_nonnull(strstr(prompt, "instance=\"api-2\""));
    call_clear(&c);
    /* Alertmanager repeats the group: the same task. */
    d = admin("POST", "/api/hooks/alertmanager?project=api", alert_example);
    ck_assert_int_eq(d.status, 200);
    ck_assert_str_eq(jstr(d.body, "result"), "deduplicated");
    ck_assert_int_eq(jint(json_object_get(d.body, "task"), "id"), id);
    call_clear(&d);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks"), 1);
    /* Resolved: noted on the task, no new task. */
    d = admin("POST", "/api/hooks/alertmanager?project=api",
              "{\"version\":\"4\",\"groupKey\":\"{}:{alertname=\\\"HighLatency\\\"}\",\"status\":"
              "\"resolved\",\"alerts\":[{\"status\":\"resolved\",\"labels\":{}}]}");
    ck_assert_int_eq(d.status, 200);
    ck_assert_str_eq(jstr(d.body, "result"), "resolved");
    call_clear(&d);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM activity WHERE kind = 'system'"), 1);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks"), 1);
    /* Once the task is finished, the group firing again opens a new one. */
    char path[64];
    snprintf(path, sizeof(path), "/api/tasks/%lld/cancel", (long long)id);
    c = admin("POST", path, NULL);
    call_clear(&c);
    c = admin("POST", "/api/hooks/alertmanager?project=api", alert_example);
    ck_assert_int_eq(c.status, 202);
    ck_assert_int_ne(jint(json_object_get(c.body, "task"), "id"), id);
    call_clear(&c);
    expect_error("POST", "/api/hooks/alertmanager", alert_example, 400, "project_required");
    expect_error("POST", "/api/hooks/alertmanager?project=api", "{\"version\":\"3\"}", 400,
                 "unsupported_version");
    expect_error("POST", "/api/hooks/alertmanager?project=api",
                 "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[]}", 400, "invalid_payload");
    expect_error("POST", "/api/hooks/alertmanager?project=nope", alert_example, 404, "not_found");
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks"), 2);
}
END_TEST

START_TEST(schedules_crud_and_validation)
{
    struct call c;

    make_project("web");
    c = admin(
        "POST", "/api/schedules",
        "{\"name\":\"nightly\",\"project\":\"web\",\"cron\":\"0 3 * * *\",\"prompt\":\"Update "
        "dependencies\"}");
    ck_assert_int_eq(c.status, 201);
    json_int_t id = jint(c.body, "id");
    call_clear(&c);
    c = admin("GET", "/api/schedules", NULL);
    ck_assert_int_eq(c.status, 200);
    json_t *s = json_array_get(json_object_get(c.body, "schedules"), 0);
    ck_assert_str_eq(jstr(s, "cron"), "0 3 * * *");
    ck_assert_ptr_nonnull(strstr(jstr(s, "next_run_at"), "T03:00:00Z"));
    call_clear(&c);
    expect_error("POST", "/api/schedules",
                 "{\"name\":\"x\",\"project\":\"web\",\"cron\":\"61 * * * *\",\"prompt\":\"p\"}",
                 400, "invalid_argument");
    expect_error("POST", "/api/schedules",
                 "{\"name\":\"nightly\",\"project\":\"web\",\"cron\":\"* * * * *\",\"prompt\":"
                 "\"p\"}",
                 409, "conflict");
    expect_error("POST", "/api/schedules", "{\"name\":\"x\",\"project\":\"web\"}", 400,
                 "invalid_argument");
    char path[64];
    snprintf(path, sizeof(path), "/api/schedules/%lld", (long long)id);
    c = admin("DELETE", path, NULL);
    ck_assert_int_eq(c.status, 200);
    call_clear(&c);
    expect_error("DELETE", path, NULL, 404, "not_found");
}
END_TEST

struct replica {
    time_t now;
    int fired;
};

static void *replica_fire(void *arg)
{
    struct replica *r = arg;
    struct db own;
    struct err err = {0};

    testdb_connect(&own);
    if (schedules_fire_due(&own, r->now, &r->fired, &err) < 0)
        r->fired = -100;
    db_close(&own);
    return NULL;
}

START_TEST(cron_fires_once_per_slot_with_two_replicas)
{
    struct call c;
    time_t now = time(NULL);
    struct replica r[2];
    pthread_t th[2];

    make_project("web");
    c = admin("POST", "/api/schedules",
              "{\"name\":\"every-minute\",\"project\":\"web\",\"cron\":\"* * * * *\",\"title\":"
              "\"tick\",\"prompt\":\"do it\"}");
    ck_assert_int_eq(c.status, 201);
    call_clear(&c);
    /* Pretend the schedule was made ten minutes ago, so slots are due. */
    PQclear(PQexec(fx.db.conn, "UPDATE schedules SET created_at = now() - interval '10 minutes'"));
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 2; i++) {
            r[i].now = now + round * 60;
            r[i].fired = 0;
            ck_assert_int_eq(pthread_create(&th[i], NULL, replica_fire, &r[i]), 0);
        }
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        ck_assert_int_eq(r[0].fired + r[1].fired, 1);
        ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks"), round + 1);
    }
    /* The same instant again: nothing new. */
    r[0].now = now + 120;
    replica_fire(&r[0]);
    ck_assert_int_eq(r[0].fired, 0);
    ck_assert_int_eq(
        fixture_scalar("SELECT count(*) FROM schedule_fires WHERE task_id IS NOT NULL"), 3);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks WHERE title = 'tick' AND state = "
                                    "'backlog'"),
                     3);
}
END_TEST

START_TEST(cron_does_not_fire_before_its_first_slot)
{
    struct call c;
    int fired = -1;
    struct err err = {0};

    make_project("web");
    c = admin("POST", "/api/schedules",
              "{\"name\":\"yearly\",\"project\":\"web\",\"cron\":\"0 0 1 1 *\",\"prompt\":\"p\"}");
    call_clear(&c);
    ck_assert_int_eq(schedules_fire_due(&fx.db, time(NULL), &fired, &err), 0);
    ck_assert_int_eq(fired, 0);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks"), 0);
}
END_TEST

START_TEST(tokens_create_list_revoke)
{
    struct call c = admin("POST", "/api/tokens", "{\"name\":\"ci\",\"scope\":\"operator\"}");
    struct principal who;
    struct err err = {0};
    char path[64];

    ck_assert_int_eq(c.status, 201);
    ck_assert_int_eq(strncmp(jstr(c.body, "token"), "drv_", 4), 0);
    ck_assert_int_eq(tokens_verify(&fx.db, jstr(c.body, "token"), &who, &err), 0);
    ck_assert_int_eq(who.scope, PRINCIPAL_OPERATOR);
    snprintf(path, sizeof(path), "/api/tokens/%lld", (long long)jint(c.body, "id"));
    struct call l = admin("GET", "/api/tokens", NULL);
    ck_assert_int_eq(json_array_size(json_object_get(l.body, "tokens")), 1);
    char *dump = json_dumps(l.body, 0);
    ck_assert_ptr_null(strstr(dump, "drv_"));
    free(dump);
    call_clear(&l);
    ck_assert_int_eq(status_of(PRINCIPAL_OPERATOR, "DELETE", path), 403);
    l = admin("DELETE", path, NULL);
    ck_assert_int_eq(l.status, 200);
    call_clear(&l);
    ck_assert_int_eq(tokens_verify(&fx.db, jstr(c.body, "token"), &who, &err), -1);
    call_clear(&c);
    expect_error("DELETE", path, NULL, 404, "not_found");
    expect_error("POST", "/api/tokens", "{\"name\":\"x\",\"scope\":\"root\"}", 400,
                 "invalid_scope");
    expect_error("POST", "/api/tokens", "{\"scope\":\"admin\"}", 400, "name_required");
    expect_error("POST", "/api/tokens", "{\"name\":\"x\",\"scope\":\"agent\"}", 400,
                 "invalid_agent");
    expect_error("DELETE", "/api/tokens/999", NULL, 409, "revoking_self");
}
END_TEST

START_TEST(events_in_order_and_resume_from_cursor)
{
    char next[EVENTS_CURSOR_MAX], cursor[EVENTS_CURSOR_MAX], agent[37];
    struct err err = {0};
    json_t *ev = NULL, *out = NULL;
    struct call c;

    PQclear(PQexec(fx.db.conn, "TRUNCATE scale_events")); /* testdb_reset does not know it */
    ck_assert_int_eq(events_poll(&fx.db, NULL, 100, &ev, cursor, &err), 0);
    ck_assert_int_eq(json_array_size(ev), 0);
    json_decref(ev);
    for (int i = 0; i < 3; i++) {
        c = admin("POST", "/api/tasks", "{\"prompt\":\"x\",\"repository\":\"r\"}");
        call_clear(&c);
    }
    ck_assert_int_eq(agents_create(&fx.db, "hb", "none", agent, &err), 0);
    ck_assert_int_eq(queue_heartbeat(&fx.db, &fx.qo, agent, NULL, NULL, NULL, &out, &err), 0);
    json_decref(out);
    ck_assert_int_eq(events_poll(&fx.db, cursor, 2, &ev, next, &err), 0);
    /* Two task events (the limit), then the heartbeat. */
    ck_assert_int_eq(json_array_size(ev), 3);
    ck_assert_str_eq(jstr(json_array_get(ev, 0), "event"), "task");
    ck_assert_str_eq(jstr(json_array_get(ev, 2), "event"), "heartbeat");
    ck_assert_str_eq(jstr(json_object_get(json_array_get(ev, 2), "data"), "agent_id"), agent);
    ck_assert_str_eq(next, jstr(json_array_get(ev, 2), "id"));
    json_int_t first = jint(json_object_get(json_array_get(ev, 0), "data"), "task_id");
    json_decref(ev);
    /* Resume: the third task event, and the heartbeat is not repeated. */
    ck_assert_int_eq(events_poll(&fx.db, next, 100, &ev, cursor, &err), 0);
    ck_assert_int_eq(json_array_size(ev), 1);
    ck_assert_int_eq(jint(json_object_get(json_array_get(ev, 0), "data"), "task_id"), first + 2);
    json_decref(ev);
    ck_assert_int_eq(events_poll(&fx.db, cursor, 100, &ev, next, &err), 0);
    ck_assert_int_eq(json_array_size(ev), 0);
    ck_assert_str_eq(next, cursor);
    json_decref(ev);
    /* An autoscaler decision joins the feed as a "scale" event. */
    PQclear(PQexec(fx.db.conn,
                   "INSERT INTO scale_events (replica, trigger, inputs, raw, target,"
                   " current, reason) VALUES ('r1', 'tick', '{}', 3, 3, 2, 'backlog 3')"));
    ck_assert_int_eq(events_poll(&fx.db, next, 100, &ev, cursor, &err), 0);
    ck_assert_int_eq(json_array_size(ev), 1);
    ck_assert_str_eq(jstr(json_array_get(ev, 0), "event"), "scale");
    ck_assert_str_eq(jstr(json_object_get(json_array_get(ev, 0), "data"), "reason"), "backlog 3");
    json_decref(ev);
    /* A cursor from before scale events were in the feed ("a.h") still parses. */
    ck_assert_int_eq(events_poll(&fx.db, "0.0", 100, &ev, next, &err), 0);
    ck_assert_int_eq(json_array_size(ev), 5);
    json_decref(ev);
    /* The REST page resumes from Last-Event-ID as the stream would. */
    c = request(PRINCIPAL_OPERATOR, "GET", "/api/events", NULL, NULL, "0.0");
    ck_assert_int_eq(c.status, 200);
    ck_assert_int_eq(json_array_size(json_object_get(c.body, "events")), 5);
    call_clear(&c);
    ck_assert_int_eq(events_poll(&fx.db, "12", 10, &ev, next, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    expect_error("GET", "/api/events?after=x.y", NULL, 400, "invalid_argument");
}
END_TEST

/* Every one of want[0..n) appears in the exposition `text`. */
static void expect_lines(const char *text, const char *const *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(strstr(text, want[i]), "missing %s in\n%.3000s", want[i], text);
}

/* promtool (Debian's prometheus package, in DROVER_APT_PACKAGES) lints an exposition. */
static void promtool_check(const char *text)
{
    char file[] = "/tmp/drover-metrics-XXXXXX", cmd[256], out[4096] = "";
    int fd = mkstemp(file), st;
    size_t got;
    FILE *p;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", file);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    got = fread(out, 1, sizeof(out) - 1, p);
    out[got] = '\0';
    st = pclose(p);
    unlink(file);
    ck_assert_msg(st == 0, "promtool check metrics failed (%d): %s", st, out);
}

/* The heartbeat path's own counters: one answer learnt from the database, then two heartbeats
 * answered from memory and still queued, one cached answer dropped by a task change. */
START_TEST(metrics_heartbeats)
{
    const char *a1 = "00000000-0000-4000-a000-000000000001";
    const char *a2 = "00000000-0000-4000-a000-000000000002";
    json_t *ids = json_array(), *limits = json_object(), *out = NULL;
    json_t *answer = json_pack("{s:[],s:{s:s}}", "tasks", "agent", "status", "idle");
    uint64_t gen = 0;
    struct call c;

    fx.env.hbmem = svc_hbmem_new(200, 64);
    svc_hbmem_set_listening(fx.env.hbmem, true);
    ck_assert(!svc_hbmem_answer(fx.env.hbmem, a1, "idle", ids, NULL, &out, &gen));
    svc_hbmem_learn(fx.env.hbmem, a1, gen, ids, answer, limits);
    ck_assert(!svc_hbmem_answer(fx.env.hbmem, a2, "idle", ids, NULL, &out, &gen));
    svc_hbmem_learn(fx.env.hbmem, a2, gen, ids, answer, limits);
    ck_assert(svc_hbmem_answer(fx.env.hbmem, a1, "idle", ids, NULL, &out, &gen));
    json_decref(out);
    ck_assert(svc_hbmem_answer(fx.env.hbmem, a2, "busy", ids, NULL, &out, &gen));
    json_decref(out);
    svc_hbmem_forget(fx.env.hbmem, a2);
    c = request(PRINCIPAL_NONE, "GET", "/metrics", NULL, NULL, NULL);
    ck_assert_int_eq(c.status, 200);
    static const char *const want[] = {
        "# TYPE drover_heartbeats_total counter\n",
        "drover_heartbeats_total{path=\"memory\"} 2\n",
        "drover_heartbeats_total{path=\"synchronous\"} 2\n",
        "drover_heartbeat_queued 2\n",
        "drover_heartbeat_answers_dropped_total 1\n",
        "drover_heartbeat_flushed_total 0\n",
        "drover_heartbeat_flushes_total 0\n",
        "drover_heartbeat_flush_max_seconds 0.000\n",
    };
    expect_lines(c.raw, want, sizeof(want) / sizeof(want[0]));
    promtool_check(c.raw);
    call_clear(&c);
    svc_hbmem_free(fx.env.hbmem);
    fx.env.hbmem = NULL;
    json_decref(ids);
    json_decref(limits);
    json_decref(answer);
}
END_TEST

START_TEST(metrics_exposition)
{
    struct call c;
    char agent[37];
    struct err err = {0};

    counters_reset();
    counters_tool_call("get_next_task", 0.02, true);
    counters_tool_call("log_activity", 0.001, false);
    counters_claim(0.003, true);
    counters_scale_decision("up");
    counters_db_pool(4, 1);
    counters_outbox_delivery("retry");
    counters_outbox_delivery("retry");
    counters_outbox_delivery("delivered");
    counters_outbox_delivery("dead");
    c = admin("POST", "/api/tasks", "{\"prompt\":\"x\",\"repository\":\"r\"}");
    call_clear(&c);
    ck_assert_int_eq(agents_create(&fx.db, "m", "none", agent, &err), 0);
    /* The outbox: one message pending for 5 minutes, one delivered, one dead today and one dead
     * two days ago (outside the gauge's 24 h). */
    PQclear(PQexec(fx.db.conn, "TRUNCATE outbox, notify_endpoints CASCADE"));
    PQclear(
        PQexec(fx.db.conn, "INSERT INTO notify_endpoints (name, url) VALUES ('m', 'http://x')"));
    PQclear(PQexec(fx.db.conn,
                   "INSERT INTO outbox (endpoint_id, event, payload, state, created_at)"
                   " SELECT id, 'failed', '{}', s, now() - a FROM notify_endpoints,"
                   " (VALUES ('pending', interval '5 min'), ('delivered', interval '1 min'),"
                   "  ('dead', interval '1 hour'), ('dead', interval '2 days')) v(s, a)"));
    c = request(PRINCIPAL_NONE, "GET", "/metrics", NULL, NULL, NULL);
    ck_assert_int_eq(c.status, 200);
    ck_assert_ptr_nonnull(c.raw);
    static const char *const want[] = {
        "drover_backlog 1\n",
        "drover_tasks{state=\"backlog\"} 1\n",
        "drover_tasks{state=\"cancelled\"} 0\n",
        "drover_agents{status=\"initializing\"} 1\n",
        "drover_agent_heartbeat_age_seconds_count 0\n",
        "drover_tool_calls_total{tool=\"get_next_task\"} 1\n",
        "drover_tool_call_errors_total{tool=\"log_activity\"} 1\n",
        "drover_tool_call_duration_seconds_bucket{tool=\"get_next_task\",le=\"0.025\"} 1\n",
        "drover_claim_duration_seconds_count 1\n",
        "drover_scale_decisions_total{direction=\"up\"} 1\n",
        "drover_db_pool_connections 4\n",
        "drover_outbox_deliveries_total{result=\"delivered\"} 1\n",
        "drover_outbox_deliveries_total{result=\"retry\"} 2\n",
        "drover_outbox_deliveries_total{result=\"dead\"} 1\n",
        "drover_outbox_messages{state=\"pending\"} 1\n",
        "drover_outbox_messages{state=\"dead\"} 1\n",
        "# TYPE drover_outbox_oldest_pending_seconds gauge\n",
        "drover_pool_min_agents 2\n",
        "# TYPE drover_agent_heartbeat_age_seconds histogram\n",
    };
    expect_lines(c.raw, want, sizeof(want) / sizeof(want[0]));
    {
        const char *o = strstr(c.raw, "\ndrover_outbox_oldest_pending_seconds ");
        double age;

        ck_assert_ptr_nonnull(o);
        age = strtod(o + strlen("\ndrover_outbox_oldest_pending_seconds "), NULL);
        ck_assert_msg(age >= 299 && age < 400, "oldest pending %g", age);
    }
    /* Every sample line is a drover_ metric. */
    for (char *line = c.raw; *line;) {
        char *nl = strchr(line, '\n');

        ck_assert(nl);
        ck_assert_msg(line[0] == '#' || strncmp(line, "drover_", 7) == 0, "%.*s", (int)(nl - line),
                      line);
        line = nl + 1;
    }
    promtool_check(c.raw);
    call_clear(&c);
}
END_TEST

static bool routed_key(const char *method, const char *pattern)
{
    for (const struct api_route *const *t = routes_tables; *t; t++)
        for (const struct api_route *r = *t; r->method; r++)
            if (strcmp(r->method, method) == 0 && strcmp(r->pattern, pattern) == 0)
                return true;
    return false;
}

/* Every route in the tables is in the OpenAPI document and every documented path is a route. */
START_TEST(openapi_document_matches_route_tables)
{
    json_error_t je;
    json_t *doc, *paths, *item;
    const char *path;
    size_t documented = 0, routed = 0, pool_missing = 0;

    doc = json_loadb(openapi_json, openapi_json_len, 0, &je);
    ck_assert_msg(doc, "%s", je.text);
    ck_assert_int_eq(strncmp(jstr(doc, "openapi"), "3.", 2), 0);
    paths = json_object_get(doc, "paths");
    for (const struct api_route *const *t = routes_tables; *t; t++)
        for (const struct api_route *r = *t; r->method; r++) {
            char m[16];
            json_t *op;

            for (size_t k = 0; r->method[k] && k < 15; k++)
                m[k] = (char)(r->method[k] - 'A' + 'a'), m[k + 1] = '\0';
            op = json_object_get(json_object_get(paths, r->pattern), m);
            ck_assert_msg(op, "%s %s is not in openapi.json", r->method, r->pattern);
            const char *scope = jstr(op, "x-drover-scope");
            ck_assert_str_eq(scope, r->min_scope == PRINCIPAL_NONE
                                        ? "public"
                                        : principal_scope_name(r->min_scope));
            routed++;
        }
    /* The pool branch's routes are documented here too; until its tables are merged in they
     * are the only documented operations allowed to have no route. */
    static const char *const pool_owned[] = {"GET /api/pool", "PUT /api/pool",
                                             "POST /api/pool/scale", "POST /api/agents",
                                             "DELETE /api/agents/{id}"};
    json_object_foreach(paths, path, item)
    {
        const char *method;
        json_t *op;

        json_object_foreach(item, method, op)
        {
            char key[160], up[16];
            bool found = false;

            for (size_t k = 0; method[k] && k < 15; k++)
                up[k] = (char)(method[k] - 'a' + 'A'), up[k + 1] = '\0';
            snprintf(key, sizeof(key), "%s %s", up, path);
            for (size_t k = 0; k < sizeof(pool_owned) / sizeof(pool_owned[0]); k++)
                if (strcmp(key, pool_owned[k]) == 0 && !routed_key(up, path)) {
                    found = true;
                    pool_missing++;
                }
            for (const struct api_route *const *t = routes_tables; *t && !found; t++)
                for (const struct api_route *r = *t; r->method && !found; r++)
                    found = strcmp(r->method, up) == 0 && strcmp(r->pattern, path) == 0;
            ck_assert_msg(found, "openapi.json documents %s, which no route table has", key);
            ck_assert_msg(jstr(op, "summary"), "%s has no summary", key);
            documented++;
        }
    }
    ck_assert_int_eq(documented, routed + pool_missing);
    json_decref(doc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");

    testdb_setup();
    tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, seed_style_submission);
    tcase_add_test(tc, create_rejects_bad_input_and_changes_nothing);
    tcase_add_test(tc, full_creation_with_project_budget_and_idempotency);
    tcase_add_test(tc, fanout_creates_group_and_children_never_claims_the_group);
    tcase_add_test(tc, list_pages_with_cursor_and_filters);
    tcase_add_test(tc, cursor_roundtrip);
    tcase_add_test(tc, detail_answer_cancel_retry_and_logs);
    tcase_add_test(tc, scopes_operator_reads_admin_writes_agent_refused);
    tcase_add_test(tc, agents_list_and_show);
    tcase_add_test(tc, agent_pod_logs_through_the_backend);
    tcase_add_test(tc, projects_crud);
    tcase_add_test(tc, alertmanager_hook_dedups_by_group_key);
    tcase_add_test(tc, schedules_crud_and_validation);
    tcase_add_test(tc, cron_fires_once_per_slot_with_two_replicas);
    tcase_add_test(tc, cron_does_not_fire_before_its_first_slot);
    tcase_add_test(tc, tokens_create_list_revoke);
    tcase_add_test(tc, events_in_order_and_resume_from_cursor);
    tcase_add_test(tc, metrics_exposition);
    tcase_add_test(tc, metrics_heartbeats);
    tcase_add_test(tc, openapi_document_matches_route_tables);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
