/*
 * After the pull request, through the real router against a real PostgreSQL: accept, rework
 * (same branch, instructions + earlier result + review comments in the context, attempts not
 * spent) and reject, each recorded with who; refusals that change nothing; the developer
 * scope (submit, answer, review its own tasks or a project's, never pool/tokens/projects) and
 * the scope -> capability table.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/router.h"
#include "core/principal.h"
#include "store/agents.h"
#include "store/queue.h"
#include "store/review.h"
#include "fixture.h"
#include "testdb.h"

struct call {
    int status;
    json_t *body;
};

static struct call request_as(enum principal_scope scope, long long token_id, const char *name,
                              const char *method, const char *path, const char *body)
{
    struct principal who = {.scope = scope, .token_id = token_id};
    struct api_request req = {0};
    struct api_response resp = {0};
    struct call c;

    snprintf(who.name, sizeof(who.name), "%s", name);
    req.method = method;
    req.path = path;
    req.query = "";
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.who = scope == PRINCIPAL_NONE ? NULL : &who;
    req.svc = &fx.svc;
    router_dispatch(&req, &resp);
    free(resp.raw);
    c.status = resp.status;
    c.body = resp.body;
    return c;
}

static struct call admin(const char *method, const char *path, const char *body)
{
    return request_as(PRINCIPAL_ADMIN, 1, "alice", method, path, body);
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

static void expect(struct call c, int status, const char *code)
{
    ck_assert_msg(c.status == status, "status %d, want %d", c.status, status);
    if (code)
        ck_assert_msg(err_code(&c) && strcmp(err_code(&c), code) == 0, "code %s, want %s",
                      err_code(&c) ? err_code(&c) : "(none)", code);
    json_decref(c.body);
}

static char *snapshot(void)
{
    PGresult *r =
        PQexec(fx.db.conn, "SELECT (SELECT coalesce(jsonb_agg(t ORDER BY id), '[]')"
                           " FROM tasks t)::text || (SELECT count(*) FROM activity)::text");
    char *s;

    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    s = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return s;
}

/* Submit as `scope`/`token`, claim, set a branch, and report ready_to_test with a result. */
static json_int_t ready_task(enum principal_scope scope, long long token, char agent[37])
{
    struct call c = request_as(scope, token, "dev", "POST", "/api/tasks",
                               "{\"prompt\":\"fix the bug\",\"repository\":\"file:///r.git\"}");
    struct model_outcome oc = {0};
    struct err err = {0};
    json_t *t = NULL, *out = NULL, *res = json_pack("{s:s}", "summary", "fixed it in parse.c");
    json_int_t id;
    char q[200];

    ck_assert_int_eq(c.status, 202);
    id = jint(c.body, "id");
    json_decref(c.body);
    ck_assert_int_eq(agents_create(&fx.db, "a", "none", agent, &err), 0);
    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, agent, &t, &err), 0);
    ck_assert_int_eq(jint(t, "id"), id);
    snprintf(q, sizeof(q), "UPDATE tasks SET branch = 'drover/%lld-fix' WHERE id = %lld",
             (long long)id, (long long)id);
    fixture_exec(q);
    oc.result = res;
    ck_assert_msg(queue_update_status(&fx.db, &fx.qo, agent, id, jint(t, "lease_epoch"),
                                      "ready_to_test", &oc, &out, &err) == 0,
                  "%s", err.msg);
    json_decref(out);
    json_decref(t);
    json_decref(res);
    return id;
}

START_TEST(rework_then_accept_on_the_same_branch)
{
    char agent[37], path[128], *before, *after;
    json_int_t id = ready_task(PRINCIPAL_ADMIN, 1, agent);
    struct err err = {0};
    json_t *t = NULL, *ctx, *rw;
    struct call c;

    /* Refusals change nothing. */
    before = snapshot();
    snprintf(path, sizeof(path), "/api/tasks/%lld/rework", (long long)id);
    expect(admin("POST", path, "{}"), 400, "instructions_required");
    expect(admin("POST", path, NULL), 400, "body_required");
    expect(admin("POST", path, "{\"instructions\":\"x\",\"extra\":1}"), 400, "unknown_field");
    expect(admin("POST", path, "{\"instructions\":5}"), 400, NULL);
    expect(request_as(PRINCIPAL_OPERATOR, 2, "op", "POST", path, "{\"instructions\":\"x\"}"), 403,
           NULL);
    expect(admin("POST", "/api/tasks/99999/rework", "{\"instructions\":\"x\"}"), 404, NULL);
    after = snapshot();
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    /* A review comment kept from a forge joins the rework's context. */
    {
        struct review_comment rc = {.kind = "inline",
                                    .author = "bob",
                                    .body = "off by one here",
                                    .path = "src/parse.c",
                                    .line = 42,
                                    .forge_id = "9"};

        ck_assert_int_eq(review_add_comment(&fx.db, id, &rc, &err), 0);
        /* The same forge comment again (its webhook, then the review's fetch) is kept once. */
        ck_assert_int_eq(review_add_comment(&fx.db, id, &rc, &err), 0);
    }
    c = admin("POST", path, "{\"instructions\":\"also handle empty input\"}");
    ck_assert_msg(c.status == 200, "%d", c.status);
    ck_assert_str_eq(jstr(c.body, "state"), "backlog");
    ck_assert_int_eq(jint(c.body, "attempt"), 0); /* not a failed attempt */
    ctx = json_object_get(c.body, "context");
    rw = json_array_get(ctx, json_array_size(ctx) - 1);
    ck_assert_str_eq(jstr(rw, "type"), "rework");
    ck_assert_str_eq(jstr(rw, "by"), "alice");
    ck_assert_str_eq(jstr(rw, "instructions"), "also handle empty input");
    ck_assert_str_eq(jstr(json_object_get(rw, "previous_result"), "summary"),
                     "fixed it in parse.c");
    ck_assert_ptr_nonnull(strstr(jstr(rw, "branch"), "-fix"));
    ck_assert_str_eq(jstr(json_array_get(json_object_get(rw, "review"), 0), "path"), "src/parse.c");
    ck_assert_int_eq(jint(json_array_get(json_object_get(rw, "review"), 0), "line"), 42);
    ck_assert_int_eq(json_array_size(json_object_get(rw, "review")), 1);
    {
        json_t *h = json_object_get(c.body, "history");
        json_t *last = json_array_get(h, json_array_size(h) - 1);

        ck_assert_ptr_nonnull(strstr(jstr(last, "message"), "ready_to_test -> backlog"));
        ck_assert_str_eq(jstr(last, "by"), "alice");
    }
    json_decref(c.body);
    /* Claimed again at once, on the same branch; the comment is carried only once. */
    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, agent, &t, &err), 0);
    ck_assert_int_eq(jint(t, "id"), id);
    ck_assert_int_eq(jint(t, "attempt"), 1);
    ck_assert_ptr_nonnull(strstr(jstr(t, "branch"), "-fix"));
    {
        json_t *out = NULL;

        ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, agent, id, jint(t, "lease_epoch"),
                                             "ready_to_test", NULL, &out, &err),
                         0);
        json_decref(out);
    }
    json_decref(t);
    c = admin("POST", path, "{\"instructions\":\"again\"}");
    ctx = json_object_get(c.body, "context");
    ck_assert_ptr_null(json_object_get(json_array_get(ctx, json_array_size(ctx) - 1), "review"));
    json_decref(c.body);
    /* Accept only from ready_to_test. */
    snprintf(path, sizeof(path), "/api/tasks/%lld/accept", (long long)id);
    expect(admin("POST", path, NULL), 409, "invalid_transition");
    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, agent, &t, &err), 0);
    {
        json_t *out = NULL;

        ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, agent, id, jint(t, "lease_epoch"),
                                             "ready_to_test", NULL, &out, &err),
                         0);
        json_decref(out);
    }
    json_decref(t);
    c = admin("POST", path, "{\"comment\":\"ship it\"}");
    ck_assert_int_eq(c.status, 200);
    ck_assert_str_eq(jstr(c.body, "state"), "completed");
    json_decref(c.body);
    expect(admin("POST", path, NULL), 409, "invalid_transition");
}
END_TEST

START_TEST(reject_closes_a_ready_task)
{
    char agent[37], path[128];
    json_int_t id = ready_task(PRINCIPAL_ADMIN, 1, agent);
    struct call c;

    snprintf(path, sizeof(path), "/api/tasks/%lld/reject", (long long)id);
    c = admin("POST", path, "{\"reason\":\"wrong approach\"}");
    ck_assert_int_eq(c.status, 200);
    ck_assert_str_eq(jstr(c.body, "state"), "cancelled");
    ck_assert_ptr_nonnull(strstr(jstr(c.body, "last_error"), "rejected by alice: wrong approach"));
    json_decref(c.body);
    expect(admin("POST", path, NULL), 409, "invalid_transition");
    /* Reject is for a task under review; a backlog task is cancelled instead. */
    c = admin("POST", "/api/tasks", "{\"prompt\":\"p\",\"repository\":\"r\"}");
    snprintf(path, sizeof(path), "/api/tasks/%lld/reject", (long long)jint(c.body, "id"));
    json_decref(c.body);
    expect(admin("POST", path, NULL), 409, "invalid_transition");
}
END_TEST

START_TEST(developer_acts_on_its_own_tasks_only)
{
    char agent[37], path[128], *before, *after;
    json_int_t id = ready_task(PRINCIPAL_DEVELOPER, 50, agent);
    struct call c;

    /* Another developer may not; the submitter may. */
    snprintf(path, sizeof(path), "/api/tasks/%lld/accept", (long long)id);
    before = snapshot();
    expect(request_as(PRINCIPAL_DEVELOPER, 51, "eve", "POST", path, NULL), 403, NULL);
    snprintf(path, sizeof(path), "/api/tasks/%lld/cancel", (long long)id);
    expect(request_as(PRINCIPAL_DEVELOPER, 51, "eve", "POST", path, NULL), 403, NULL);
    after = snapshot();
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    snprintf(path, sizeof(path), "/api/tasks/%lld/rework", (long long)id);
    c = request_as(PRINCIPAL_DEVELOPER, 50, "dev", "POST", path, "{\"instructions\":\"tests\"}");
    ck_assert_int_eq(c.status, 200);
    json_decref(c.body);
    /* Reading the board is fine; managing is not. */
    expect(request_as(PRINCIPAL_DEVELOPER, 51, "eve", "GET", "/api/tasks", NULL), 200, NULL);
    expect(request_as(PRINCIPAL_DEVELOPER, 51, "eve", "GET", "/api/tokens", NULL), 403, NULL);
    expect(request_as(PRINCIPAL_DEVELOPER, 51, "eve", "POST", "/api/projects",
                      "{\"name\":\"x\",\"repository\":\"file:///x.git\"}"),
           403, NULL);
    expect(request_as(PRINCIPAL_DEVELOPER, 51, "eve", "PUT", "/api/pool", "{\"min\":1}"), 403,
           NULL);
    /* An operator reads but does not submit. */
    expect(request_as(PRINCIPAL_OPERATOR, 3, "op", "POST", "/api/tasks",
                      "{\"prompt\":\"p\",\"repository\":\"r\"}"),
           403, NULL);
}
END_TEST

START_TEST(developer_access_project_lets_any_developer_act)
{
    char path[128];
    struct call c = admin("POST", "/api/projects",
                          "{\"name\":\"web\",\"repository\":\"file:///srv/web.git\","
                          "\"settings\":{\"developer_access\":\"project\"}}");
    json_int_t id;

    ck_assert_msg(c.status == 201 || c.status == 200, "%d", c.status);
    json_decref(c.body);
    c = request_as(PRINCIPAL_DEVELOPER, 60, "dev", "POST", "/api/tasks",
                   "{\"prompt\":\"p\",\"project\":\"web\"}");
    ck_assert_int_eq(c.status, 202);
    id = jint(c.body, "id");
    json_decref(c.body);
    snprintf(path, sizeof(path), "/api/tasks/%lld/cancel", (long long)id);
    c = request_as(PRINCIPAL_DEVELOPER, 61, "other", "POST", path, NULL);
    ck_assert_int_eq(c.status, 200);
    ck_assert_str_eq(jstr(c.body, "state"), "cancelled");
    json_decref(c.body);
}
END_TEST

static const char *state_of(json_int_t id)
{
    static char buf[32];
    char q[128];
    PGresult *r;

    snprintf(q, sizeof(q), "SELECT state FROM tasks WHERE id = %lld", (long long)id);
    r = PQexec(fx.db.conn, q);
    ck_assert_int_eq(PQntuples(r), 1);
    snprintf(buf, sizeof(buf), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return buf;
}

/* Claim one child with a new agent and report it ready_to_test; returns the child's id. */
static json_int_t child_ready(void)
{
    char agent[37];
    struct err err = {0};
    json_t *t = NULL, *out = NULL;
    json_int_t id;

    ck_assert_int_eq(agents_create(&fx.db, "a", "none", agent, &err), 0);
    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, agent, &t, &err), 0);
    ck_assert_ptr_nonnull(t);
    id = jint(t, "id");
    ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, agent, id, jint(t, "lease_epoch"),
                                         "ready_to_test", NULL, &out, &err),
                     0);
    json_decref(out);
    json_decref(t);
    return id;
}

START_TEST(fanout_group_state_follows_children_and_accept_supersedes_siblings)
{
    struct call c = admin("POST", "/api/tasks",
                          "{\"prompt\":\"try\",\"repository\":\"file:///r.git\","
                          "\"agent_count\":3}");
    json_int_t group = jint(c.body, "id"), a, b, d;
    char path[128];

    ck_assert_int_eq(c.status, 202);
    json_decref(c.body);
    ck_assert_str_eq(state_of(group), "in_progress");
    a = child_ready();
    b = child_ready();
    ck_assert_str_eq(state_of(group), "in_progress"); /* one child is still waiting */
    d = child_ready();
    ck_assert_str_eq(state_of(group), "ready_to_test");
    /* A rework of one candidate puts the group back to work. */
    snprintf(path, sizeof(path), "/api/tasks/%lld/rework", (long long)b);
    c = admin("POST", path, "{\"instructions\":\"smaller\"}");
    ck_assert_int_eq(c.status, 200);
    json_decref(c.body);
    ck_assert_str_eq(state_of(group), "in_progress");
    /* Accepting one child cancels its open siblings and completes the group. */
    snprintf(path, sizeof(path), "/api/tasks/%lld/accept", (long long)a);
    c = admin("POST", path, NULL);
    ck_assert_int_eq(c.status, 200);
    json_decref(c.body);
    ck_assert_str_eq(state_of(a), "completed");
    ck_assert_str_eq(state_of(b), "cancelled");
    ck_assert_str_eq(state_of(d), "cancelled");
    ck_assert_str_eq(state_of(group), "completed");
    snprintf(path, sizeof(path), "/api/tasks/%lld", (long long)d);
    c = admin("GET", path, NULL);
    ck_assert_ptr_nonnull(strstr(jstr(c.body, "last_error"), "superseded"));
    json_decref(c.body);
    snprintf(path, sizeof(path), "/api/tasks/%lld", (long long)group);
    c = admin("GET", path, NULL);
    {
        json_t *h = json_object_get(c.body, "history");

        ck_assert_ptr_nonnull(strstr(jstr(json_array_get(h, json_array_size(h) - 1), "message"),
                                     "derived from its children"));
    }
    json_decref(c.body);
}
END_TEST

START_TEST(fanout_close_siblings_can_be_turned_off)
{
    struct call c = admin("POST", "/api/projects",
                          "{\"name\":\"keep\",\"repository\":\"file:///k.git\","
                          "\"settings\":{\"fanout_close_siblings\":false}}");
    json_int_t group, a, b;
    char path[128];

    json_decref(c.body);
    c = admin("POST", "/api/tasks", "{\"prompt\":\"try\",\"project\":\"keep\",\"agent_count\":2}");
    group = jint(c.body, "id");
    json_decref(c.body);
    a = child_ready();
    b = child_ready();
    snprintf(path, sizeof(path), "/api/tasks/%lld/accept", (long long)a);
    c = admin("POST", path, NULL);
    ck_assert_int_eq(c.status, 200);
    json_decref(c.body);
    ck_assert_str_eq(state_of(b), "ready_to_test");
    ck_assert_str_eq(state_of(group), "completed");
}
END_TEST

START_TEST(scope_table)
{
    enum principal_scope s;
    struct err err = {0};

    ck_assert(principal_allows(PRINCIPAL_DEVELOPER, PRINCIPAL_OPERATOR));
    ck_assert(principal_allows(PRINCIPAL_DEVELOPER, PRINCIPAL_DEVELOPER));
    ck_assert(!principal_allows(PRINCIPAL_DEVELOPER, PRINCIPAL_ADMIN));
    ck_assert(!principal_allows(PRINCIPAL_OPERATOR, PRINCIPAL_DEVELOPER));
    ck_assert(principal_allows(PRINCIPAL_ADMIN, PRINCIPAL_DEVELOPER));
    ck_assert(!principal_allows(PRINCIPAL_AGENT, PRINCIPAL_OPERATOR));
    ck_assert(!principal_allows(PRINCIPAL_NONE, PRINCIPAL_OPERATOR));
    ck_assert(principal_allows(PRINCIPAL_NONE, PRINCIPAL_NONE));
    ck_assert_int_eq(principal_scope_parse("developer", &s, &err), 0);
    ck_assert_int_eq(s, PRINCIPAL_DEVELOPER);
    ck_assert_str_eq(principal_scope_name(PRINCIPAL_DEVELOPER), "developer");
    ck_assert_int_eq(principal_scope_parse("root", &s, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "developer"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("review");
    TCase *tc = tcase_create("review");

    testdb_setup();
    tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, rework_then_accept_on_the_same_branch);
    tcase_add_test(tc, reject_closes_a_ready_task);
    tcase_add_test(tc, developer_acts_on_its_own_tasks_only);
    tcase_add_test(tc, developer_access_project_lets_any_developer_act);
    tcase_add_test(tc, fanout_group_state_follows_children_and_accept_supersedes_siblings);
    tcase_add_test(tc, fanout_close_siblings_can_be_turned_off);
    tcase_add_test(tc, scope_table);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
