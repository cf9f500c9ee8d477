/*
 * Tiered autonomy against the real PostgreSQL (svc/svc_autonomy.c, store/approvals.c,
 * store/policies.c): policies checked and versioned, each action decided at once or parked,
 * answered once by a person, denied when time runs out or the lease moves on, and every agent
 * call fenced on the lease. The policy matcher itself is tested in check_autonomy.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/agents.h"
#include "store/queue.h"
#include "svc/svc_autonomy.h"
#include "svc/svc_outbox.h"
#include "svc/svc_projects.h"
#include "fixture.h"
#include "testdb.h"

static int64_t add_project(const char *name)
{
    json_t *p = json_pack("{s:s,s:s}", "name", name, "repository", "file:///srv/guarded.git");
    struct err err = {0};
    json_t *out = NULL;
    bool created;
    int64_t id;

    ck_assert_msg(svc_projects_upsert(&fx.svc, p, &out, &created, &err) == 0, "%s", err.msg);
    id = json_integer_value(json_object_get(out, "id"));
    json_decref(p);
    json_decref(out);
    return id;
}

static void put_policy(const char *project, const char *text)
{
    json_t *p = json_loads(text, 0, NULL), *v = NULL;
    struct err err = {0};

    ck_assert_ptr_nonnull(p);
    ck_assert_msg(svc_autonomy_policy_put(&fx.svc, project, p, "admin-ann", &v, &err) == 0, "%s",
                  err.msg);
    json_decref(p);
    json_decref(v);
}

/* Enqueue on `project`, claim it for a new agent: *id and *epoch of the lease. */
static void claim(int64_t project, char agent[37], int64_t *id, int64_t *epoch)
{
    struct model_task_new nt = {.title = "Guarded", .project_id = project};
    json_t *c;

    fixture_enqueue(&nt);
    fixture_agent(agent);
    c = fixture_claim(agent);
    ck_assert_ptr_nonnull(c);
    *id = json_integer_value(json_object_get(c, "id"));
    *epoch = json_integer_value(json_object_get(c, "lease_epoch"));
    /* The claimed task tells the runner a policy is in force, and for how long people have. */
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(c, "autonomy"), "version")),
                     1);
    json_decref(c);
}

/* Ask about a Bash command: the answer (owned). */
static json_t *ask(const char *agent, int64_t id, int64_t epoch, const char *command)
{
    json_t *in = json_pack("{s:s}", "command", command), *a = NULL;
    struct err err = {0};

    ck_assert_msg(
        svc_autonomy_request(&fx.svc, agent, id, epoch, "Bash", in, "/work/repo", &a, &err) == 0,
        "%s", err.msg);
    json_decref(in);
    return a;
}

static const char *decision(const json_t *a)
{
    return json_string_value(json_object_get(a, "decision"));
}

#define POLICY                                                                                     \
    "{\"allow\": [\"Bash(make test:*)\"], \"ask\": [\"Bash(kubectl apply:*)\"],"                   \
    " \"deny\": [\"Bash(git push --force:*)\"], \"approval_timeout_seconds\": 60}"

START_TEST(policies_are_checked_and_versioned)
{
    struct err err = {0};
    json_t *bad = json_pack("{s:[s]}", "deny", "Bash(ls"), *v = NULL, *list = NULL;

    add_project("guarded");
    /* No policy yet: 404, and its agents run without one. */
    ck_assert_int_eq(svc_autonomy_policy_get(&fx.svc, "guarded", &v, &err), -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
    /* A bad rule is refused and nothing is stored. */
    ck_assert_int_eq(svc_autonomy_policy_put(&fx.svc, "guarded", bad, "admin-ann", &v, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "deny[0]"));
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM project_policies"), 0);
    json_decref(bad);
    /* An unknown project is 404. */
    bad = json_object();
    ck_assert_int_eq(svc_autonomy_policy_put(&fx.svc, "nope", bad, "admin-ann", &v, &err), -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
    json_decref(bad);
    put_policy("guarded", POLICY);
    put_policy("guarded", "{\"enabled\": false}");
    ck_assert_int_eq(svc_autonomy_policy_get(&fx.svc, "guarded", &v, &err), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(v, "version")), 2);
    ck_assert(json_is_false(json_object_get(v, "enabled")));
    /* The safe side is filled in: unmatched actions ask, writes outside the repository deny. */
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(v, "policy"), "default")),
                     "ask");
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(v, "policy"), "outside_repo")), "deny");
    ck_assert_str_eq(json_string_value(json_object_get(v, "created_by")), "admin-ann");
    json_decref(v);
    ck_assert_int_eq(svc_autonomy_policy_versions(&fx.svc, "guarded", &list, &err), 0);
    ck_assert_int_eq(json_array_size(list), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(list, 0), "version")), 2);
    json_decref(list);
}
END_TEST

START_TEST(decided_at_once_or_parked_and_answered)
{
    char agent[37], other[37];
    int64_t id, epoch, id2, epoch2, ap;
    struct err err = {0};
    json_t *a, *row = NULL, *list = NULL, *in;
    char sql[512];

    add_project("guarded");
    put_policy("guarded", POLICY);
    claim(fixture_scalar("SELECT id FROM projects WHERE name = 'guarded'"), agent, &id, &epoch);

    /* Allowed and denied at once; only the denial is recorded, with the rule that decided. */
    a = ask(agent, id, epoch, "make test -j2");
    ck_assert_str_eq(decision(a), "allow");
    ck_assert_str_eq(json_string_value(json_object_get(a, "rule")), "allow: Bash(make test:*)");
    json_decref(a);
    a = ask(agent, id, epoch, "git status && git push --force origin main");
    ck_assert_str_eq(decision(a), "deny");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(a, "message")), "policy"));
    json_decref(a);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM approvals WHERE task_id = %lld AND state = 'denied'"
             " AND decided_by = 'policy' AND rule = 'deny: Bash(git push --force:*)'",
             (long long)id);
    ck_assert_int_eq(fixture_scalar(sql), 1);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM approvals"), 1);

    /* Ask-first: pending, on the task for people to see, until someone answers once; an
     * endpoint with the default events hears of it (and Slack's text names the action). */
    fixture_exec("INSERT INTO notify_endpoints (name, url) VALUES ('ops', 'http://127.0.0.1:9/x')");
    a = ask(agent, id, epoch, "kubectl apply -f deploy.yaml");
    ck_assert_str_eq(decision(a), "pending");
    ap = json_integer_value(json_object_get(a, "approval_id"));
    ck_assert_int_gt(ap, 0);
    json_decref(a);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM activity WHERE task_id = %lld"
             " AND message = 'waiting for approval: Bash(kubectl apply -f deploy.yaml)"
             " (ask: Bash(kubectl apply:*))'",
             (long long)id);
    ck_assert_int_eq(fixture_scalar(sql), 1);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM outbox WHERE event = 'approval' AND task_id = %lld"
             " AND payload->>'type' = 'task.approval'"
             " AND (payload->'data'->'approval'->>'id')::bigint = %lld"
             " AND payload->'data'->'approval'->>'action' = 'Bash(kubectl apply -f deploy.yaml)'",
             (long long)id, (long long)ap);
    ck_assert_int_eq(fixture_scalar(sql), 1);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM outbox"), 1); /* not for the denial */
    {
        PGresult *r = PQexec(fx.db.conn, "SELECT payload::text FROM outbox");
        json_t *payload = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
        json_t *slack = svc_outbox_slack(payload);

        ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(slack, "text")),
                                     "Waiting for approval: Bash(kubectl apply -f deploy.yaml)"));
        json_decref(slack);
        json_decref(payload);
        PQclear(r);
    }
    ck_assert_int_eq(svc_autonomy_poll(&fx.svc, agent, id, epoch, ap, &a, &err), 0);
    ck_assert_str_eq(decision(a), "pending");
    json_decref(a);
    ck_assert_int_eq(svc_autonomy_list(&fx.svc, "pending", 0, 100, &list, &err), 0);
    ck_assert_int_eq(json_array_size(list), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "task_title")),
                     "Guarded");
    json_decref(list);
    ck_assert_int_eq(svc_autonomy_list(&fx.svc, "maybe", 0, 100, &list, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);

    /* The fence: another agent, a stale epoch, another task's approval. */
    ck_assert_int_eq(agents_create(&fx.db, "b", "none", other, &err), 0);
    in = json_pack("{s:s}", "command", "ls");
    ck_assert_int_eq(svc_autonomy_request(&fx.svc, other, id, epoch, "Bash", in, NULL, &a, &err),
                     -1);
    ck_assert_int_eq(err.code, ERR_FORBIDDEN);
    ck_assert_int_eq(
        svc_autonomy_request(&fx.svc, agent, id, epoch + 1, "Bash", in, NULL, &a, &err), -1);
    ck_assert_int_eq(err.code, ERR_STALE_EPOCH);
    ck_assert_int_eq(svc_autonomy_request(&fx.svc, agent, id, epoch, "", in, NULL, &a, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_int_eq(svc_autonomy_poll(&fx.svc, other, id, epoch, ap, &a, &err), -1);
    ck_assert_int_eq(err.code, ERR_FORBIDDEN);
    json_decref(in);

    /* Answered once: approve; again is a conflict; the agent now reads allow. */
    ck_assert_int_eq(svc_autonomy_decide(&fx.svc, ap, true, "dev-dana", NULL, &row, &err), 0);
    ck_assert_str_eq(json_string_value(json_object_get(row, "state")), "approved");
    ck_assert_str_eq(json_string_value(json_object_get(row, "decided_by")), "dev-dana");
    json_decref(row);
    ck_assert_int_eq(svc_autonomy_decide(&fx.svc, ap, false, "dev-eve", "no", &row, &err), -1);
    ck_assert_int_eq(err.code, ERR_CONFLICT);
    ck_assert_ptr_nonnull(strstr(err.msg, "approved already"));
    ck_assert_int_eq(svc_autonomy_decide(&fx.svc, 999999, true, "dev-eve", NULL, &row, &err), -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
    ck_assert_int_eq(svc_autonomy_poll(&fx.svc, agent, id, epoch, ap, &a, &err), 0);
    ck_assert_str_eq(decision(a), "allow");
    json_decref(a);

    /* Denied by a person: the model is told who and why. */
    a = ask(agent, id, epoch, "kubectl apply -f prod.yaml");
    ap = json_integer_value(json_object_get(a, "approval_id"));
    json_decref(a);
    ck_assert_int_eq(svc_autonomy_decide(&fx.svc, ap, false, "dev-dana", "not prod", &row, &err),
                     0);
    json_decref(row);
    ck_assert_int_eq(svc_autonomy_poll(&fx.svc, agent, id, epoch, ap, &a, &err), 0);
    ck_assert_str_eq(decision(a), "deny");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(a, "message")), "dev-dana"));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(a, "message")), "not prod"));
    json_decref(a);

    /* Time runs out: the poll itself denies it, and a late answer is refused. */
    a = ask(agent, id, epoch, "kubectl apply -f late.yaml");
    ap = json_integer_value(json_object_get(a, "approval_id"));
    json_decref(a);
    snprintf(sql, sizeof(sql),
             "UPDATE approvals SET expires_at = now() - interval '1 second' WHERE id = %lld",
             (long long)ap);
    fixture_exec(sql);
    ck_assert_int_eq(svc_autonomy_decide(&fx.svc, ap, true, "dev-dana", NULL, &row, &err), -1);
    ck_assert_int_eq(err.code, ERR_CONFLICT);
    ck_assert_ptr_nonnull(strstr(err.msg, "timed out"));
    ck_assert_int_eq(svc_autonomy_poll(&fx.svc, agent, id, epoch, ap, &a, &err), 0);
    ck_assert_str_eq(decision(a), "deny");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(a, "message")), "in time"));
    json_decref(a);

    /* The lease moves on while a person has not answered: the sweep denies it, and the new
     * lease cannot read the old lease's approvals. */
    a = ask(agent, id, epoch, "kubectl apply -f moved.yaml");
    ap = json_integer_value(json_object_get(a, "approval_id"));
    json_decref(a);
    /* The task shows what it waits on, as every reader sees it (store/taskjson.h). */
    ck_assert_int_eq(queue_get(&fx.db, id, &row, &err), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(row, "approval"), "id")),
                     ap);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(row, "approval"), "action")),
                     "Bash(kubectl apply -f moved.yaml)");
    json_decref(row);
    snprintf(sql, sizeof(sql),
             "UPDATE tasks SET state = 'backlog', agent_id = NULL, lease_epoch = lease_epoch + 1"
             " WHERE id = %lld",
             (long long)id);
    fixture_exec(sql);
    {
        int n = 0;

        ck_assert_int_eq(svc_autonomy_sweep(&fx.svc, &n, &err), 0);
        ck_assert_int_eq(n, 1);
    }
    ck_assert_int_eq(svc_autonomy_get(&fx.svc, ap, &row, &err), 0);
    ck_assert_str_eq(json_string_value(json_object_get(row, "state")), "expired");
    ck_assert_str_eq(json_string_value(json_object_get(row, "decided_by")), "lease");
    json_decref(row);
    ck_assert_msg(queue_claim(&fx.db, &fx.qo, agent, &a, &err) == 0 && a, "%s", err.msg);
    id2 = json_integer_value(json_object_get(a, "id"));
    epoch2 = json_integer_value(json_object_get(a, "lease_epoch"));
    json_decref(a);
    ck_assert_int_eq(id2, id);
    ck_assert_int_eq(svc_autonomy_poll(&fx.svc, agent, id, epoch2, ap, &a, &err), -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);

    /* The policy turned off: the task no longer says so and every action is allowed. */
    put_policy("guarded", "{\"enabled\": false}");
    a = ask(agent, id, epoch2, "kubectl apply -f after.yaml");
    ck_assert_str_eq(decision(a), "allow");
    ck_assert_str_eq(json_string_value(json_object_get(a, "rule")), "no policy");
    json_decref(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("svc_autonomy");
    TCase *tc = tcase_create("autonomy");

    testdb_setup();
    tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, policies_are_checked_and_versioned);
    tcase_add_test(tc, decided_at_once_or_parked_and_answered);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
