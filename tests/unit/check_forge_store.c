/*
 * The forge module's database side against the real PostgreSQL: projects (droverd project
 * add), the installed create_branch / create_pull_request hooks on a git project (a real bare
 * repository), budgets enforced on heartbeats, and trigger_preview_deploy's webhook call
 * (against the fake forge's preview endpoint).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/mem.h"
#include "forge/forge.h"
#include "forge/forge_install.h"
#include "store/agents.h"
#include "store/budget.h"
#include "store/forge_projects.h"
#include "store/queue.h"
#include "testdb.h"

static struct db db;
static struct queue_opts qo;
static char gitdir[256];
static pid_t fake_pid;
static int fake_port;

static void setup(void)
{
    testdb_connect(&db);
    testdb_reset(&db);
    queue_opts_default(&qo);
}

static void teardown(void)
{
    db_close(&db);
}

static void fixtures_up(void)
{
    const char *src = getenv("DROVER_SOURCE_DIR");
    char cmd[2048], script[1024], line[64] = "";
    int p[2];
    FILE *f;

    snprintf(gitdir, sizeof(gitdir), "/tmp/drover-check-forge-store-%d", (int)getpid());
    snprintf(cmd, sizeof(cmd),
             "set -e; rm -rf %1$s; mkdir -p %1$s; git init -q --bare -b main %1$s/r.git;"
             "git init -q -b main %1$s/w; cd %1$s/w;"
             "git -c user.name=t -c user.email=t@t commit -q --allow-empty -m init;"
             "git push -q %1$s/r.git main",
             gitdir);
    if (system(cmd) != 0 || pipe(p) != 0) {
        fprintf(stderr, "cannot set up the git fixture in %s\n", gitdir);
        exit(1);
    }
    snprintf(script, sizeof(script), "%s/tests/fakes/fake_forge.py", src ? src : ".");
    fake_pid = fork();
    if (fake_pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        execlp("python3", "python3", script, "--token", "x", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    f = fdopen(p[0], "r");
    if (!fgets(line, sizeof(line), f) || sscanf(line, "PORT=%d", &fake_port) != 1) {
        fprintf(stderr, "fake forge did not start (%s)\n", script);
        exit(1);
    }
    fclose(f);
}

static void fixtures_down(void)
{
    char cmd[512];

    if (fake_pid > 0) {
        kill(fake_pid, SIGTERM);
        waitpid(fake_pid, NULL, 0);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", gitdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", gitdir);
}

static int64_t add_project(const char *name, const char *url, const json_t *settings)
{
    struct forge_projects_new p = {.name = name, .repo_url = url, .settings = settings};
    struct err err = {0};
    json_t *out = NULL;
    int64_t id;

    ck_assert_msg(forge_projects_upsert(&db, &p, &out, &err) == 0, "%s", err.msg);
    id = json_integer_value(json_object_get(out, "id"));
    json_decref(out);
    return id;
}

/* Enqueue on `project` and claim it for a new agent: the claimed task JSON (owned). */
static json_t *claimed_task(int64_t project, const char *budget, char agent[37])
{
    struct model_task_new nt = {
        .title = "Forge test", .project_id = project, .budget_json = budget};
    struct err err = {0};
    json_t *t = NULL, *c = NULL;

    ck_assert_msg(queue_enqueue(&db, &nt, &t, NULL, &err) == 0, "%s", err.msg);
    json_decref(t);
    ck_assert_int_eq(agents_create(&db, "a", "none", agent, &err), 0);
    ck_assert_msg(queue_claim(&db, &qo, agent, &c, &err) == 0 && c, "%s", err.msg);
    return c;
}

START_TEST(project_upsert)
{
    struct forge_projects_new p = {.name = "demo", .repo_url = "/srv/demo.git"};
    struct err err = {0};
    json_t *a = NULL, *b = NULL;

    ck_assert_int_eq(forge_projects_upsert(&db, &p, &a, &err), 0);
    ck_assert(json_is_true(json_object_get(a, "created")));
    ck_assert_str_eq(json_string_value(json_object_get(a, "forge_kind")), "git");
    p.repo_url = "/srv/demo2.git";
    p.forge_kind = "forgejo";
    p.forge_api_url = "https://forge.test/api/v1";
    p.forge_repo_path = "me/demo";
    ck_assert_int_eq(forge_projects_upsert(&db, &p, &b, &err), 0);
    ck_assert(json_is_false(json_object_get(b, "created")));
    ck_assert(json_equal(json_object_get(a, "id"), json_object_get(b, "id")));
    ck_assert_str_eq(json_string_value(json_object_get(b, "forge_kind")), "gitea");
    ck_assert_str_eq(json_string_value(json_object_get(b, "repo_url")), "/srv/demo2.git");
    json_decref(a);
    json_decref(b);
    p.name = "bad name!";
    ck_assert_int_eq(forge_projects_upsert(&db, &p, &a, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_ptr_null(a);
}
END_TEST

START_TEST(hooks_git_backend)
{
    char *url = mem_printf("%s/r.git", gitdir), agent[37], cmd[1024];
    int64_t pid = add_project("hooked", url, NULL);
    json_t *task = claimed_task(pid, NULL, agent);
    json_t *pr =
        json_pack("{s:s, s:s, s:s}", "title", "T", "head", "drover/hooked", "base", "main");
    struct err err = {0};

    forge_install(NULL);
    ck_assert_msg(forge_hooks.create_branch(&db, task, "drover/hooked", &err) == 0, "%s", err.msg);
    snprintf(cmd, sizeof(cmd), "git --git-dir=%s rev-parse -q --verify refs/heads/drover/hooked",
             url);
    ck_assert_int_eq(system(cmd), 0);
    /* Idempotent: the branch exists now. */
    ck_assert_int_eq(forge_hooks.create_branch(&db, task, "drover/hooked", &err), 0);
    ck_assert_msg(forge_hooks.create_pull_request(&db, task, pr, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(json_string_value(json_object_get(pr, "forge")), "git");
    ck_assert_int_eq(forge_hooks.create_branch(&db, task, "bad..name", &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    /* A task without a project has no forge: the hooks leave it to be recorded only. */
    json_object_set_new(task, "project",
                        json_pack("{s:n, s:s}", "id", "repoUrl", "file:///nonexistent/repo.git"));
    ck_assert_int_eq(forge_hooks.create_branch(&db, task, "drover/none", &err), 0);
    ck_assert_int_eq(forge_hooks.create_pull_request(&db, task, pr, &err), 0);
    json_decref(task);
    json_decref(pr);
    free(url);
}
END_TEST

START_TEST(budget_stops_task)
{
    char agent[37];
    int64_t pid = add_project("budgeted", "/srv/x.git", NULL);
    json_t *task = claimed_task(pid, "{\"tokens\": 1000, \"usd\": 2.5}", agent);
    json_int_t id = json_integer_value(json_object_get(task, "id"));
    json_t *under = json_pack("{s:i, s:f}", "tokens", 900, "usd", 1.0);
    json_t *over = json_pack("{s:i, s:f}", "tokens", 900, "usd", 3.0);
    json_t *ids = json_pack("[I]", id), *hb = NULL, *after = NULL;
    struct err err = {0};
    int n = -1;

    ck_assert_int_eq(budget_enforce(&db, agent, NULL, &n, &err), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(budget_enforce(&db, agent, under, &n, &err), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(budget_enforce(&db, agent, over, &n, &err), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(queue_heartbeat(&db, &qo, agent, "busy", ids, over, &hb, &err), 0);
    ck_assert(json_is_true(
        json_object_get(json_array_get(json_object_get(hb, "tasks"), 0), "cancelled")));
    ck_assert_int_eq(queue_get(&db, id, &after, &err), 0);
    ck_assert_str_eq(json_string_value(json_object_get(after, "state")), "needs_input");
    ck_assert_str_eq(json_string_value(json_object_get(after, "reason")), "budget");
    json_decref(hb);
    hb = json_string("not an object");
    ck_assert_int_eq(budget_enforce(&db, agent, hb, &n, &err), -1);
    json_decref(task);
    json_decref(under);
    json_decref(over);
    json_decref(ids);
    json_decref(hb);
    json_decref(after);
}
END_TEST

START_TEST(preview_webhook)
{
    char agent[37], *hook = mem_printf("http://127.0.0.1:%d/_fake/preview", fake_port);
    json_t *settings = json_pack("{s:s}", "preview_webhook", hook);
    int64_t pid = add_project("previewed", "/srv/p.git", settings), none;
    json_t *task = claimed_task(pid, NULL, agent), *out = NULL, *t2 = NULL;
    struct err err = {0};
    char sql[128];
    PGresult *r;

    ck_assert_msg(forge_install_preview(&db, task, &out, &err) == 0, "%s", err.msg);
    snprintf(sql, sizeof(sql), "https://preview.test/task-%lld",
             (long long)json_integer_value(json_object_get(task, "id")));
    ck_assert_str_eq(json_string_value(json_object_get(out, "preview_url")), sql);
    snprintf(sql, sizeof(sql), "SELECT preview_url FROM tasks WHERE id = %lld",
             (long long)json_integer_value(json_object_get(task, "id")));
    r = PQexec(db.conn, sql);
    ck_assert_str_eq(PQgetvalue(r, 0, 0), json_string_value(json_object_get(out, "preview_url")));
    PQclear(r);
    /* A project without a webhook: a clear error, nothing recorded. */
    none = add_project("plain", "/srv/q.git", NULL);
    json_decref(out);
    out = NULL;
    t2 = claimed_task(none, NULL, agent);
    ck_assert_int_eq(forge_install_preview(&db, t2, &out, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "preview_webhook"));
    json_decref(settings);
    json_decref(task);
    json_decref(t2);
    free(hook);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("forge_store");
    TCase *tc = tcase_create("forge_store");
    SRunner *sr;
    int failed;

    testdb_setup();
    fixtures_up();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, project_upsert);
    tcase_add_test(tc, hooks_git_backend);
    tcase_add_test(tc, budget_stops_task);
    tcase_add_test(tc, preview_webhook);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    fixtures_down();
    testdb_teardown();
    return failed ? 1 : 0;
}
