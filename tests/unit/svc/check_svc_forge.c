/*
 * The forge-facing use cases against the real PostgreSQL: projects as `droverd project add`
 * writes them, create_branch / create_pull_request on a git project (a real bare repository:
 * svc/svc_branch.c, svc/svc_pull.c), budgets enforced on heartbeats, and
 * trigger_preview_deploy's webhook call (against the fake forge's preview endpoint), the
 * repository protocols droverd's git may use, and GitHub App installation tokens (the fake's
 * copy of GitHub's access_tokens endpoint).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/mem.h"
#include "store/agents.h"
#include "store/budget.h"
#include "store/queue.h"
#include "svc/svc_branch.h"
#include "svc/svc_preview.h"
#include "svc/svc_projects.h"
#include "svc/svc_pull.h"
#include "testdb.h"

static struct db db;
static struct svc_env env;
static struct svc_ctx svc;
static struct queue_opts qo;
static char gitdir[256];
static pid_t fake_pid;
static int fake_port;
static char appkey[300];

static void setup(void)
{
    testdb_svc(&db, &env, &svc);
    testdb_reset(&db);
    queue_opts_default(&qo);
}

static void teardown(void)
{
    testdb_svc_close(&db, &env);
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
    /* A GitHub App the fake knows (its public key) and droverd signs for (the private one). */
    snprintf(cmd, sizeof(cmd),
             "set -e; cd %1$s; openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
             "-out app.pem 2>/dev/null; openssl pkey -in app.pem -pubout -out app.pub",
             gitdir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot make the GitHub App key\n");
        exit(1);
    }
    snprintf(appkey, sizeof(appkey), "%s/app.pem", gitdir);
    snprintf(script, sizeof(script), "%s/app.pub", gitdir);
    setenv("FAKE_FORGE_APP_ID", "4242", 1);
    setenv("FAKE_FORGE_APP_PUBKEY", script, 1);
    setenv("FAKE_FORGE_APP_INSTALLATION", "77", 1);
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
    json_t *p = json_pack("{s:s,s:s}", "name", name, "repository", url);
    struct err err = {0};
    json_t *out = NULL;
    bool created;
    int64_t id;

    if (settings)
        json_object_set(p, "settings", (json_t *)settings);
    ck_assert_msg(svc_projects_upsert(&svc, p, &out, &created, &err) == 0, "%s", err.msg);
    json_decref(p);
    id = json_integer_value(json_object_get(out, "id"));
    json_decref(out);
    return id;
}

/* Enqueue on `project` and claim it for a new agent: the claimed task JSON (owned). */
static json_t *claimed_task(int64_t project, const char *budget, char agent[37])
{
    struct model_task_new nt = {.title = "Forge test",
                                .project_id = project,
                                .repo_url = project ? NULL : "file:///nonexistent/repo.git",
                                .budget_json = budget};
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
    json_t *p = json_pack("{s:s,s:s}", "name", "demo", "repository", "/srv/demo.git");
    struct err err = {0};
    json_t *a = NULL, *b = NULL;
    bool created = false;

    ck_assert_int_eq(svc_projects_upsert(&svc, p, &a, &created, &err), 0);
    ck_assert(created);
    ck_assert_str_eq(json_string_value(json_object_get(a, "forge_kind")), "git");
    json_object_set_new(p, "repository", json_string("/srv/demo2.git"));
    json_object_set_new(p, "forge_kind", json_string("forgejo"));
    json_object_set_new(p, "forge_api_url", json_string("https://forge.test/api/v1"));
    json_object_set_new(p, "forge_repo_path", json_string("me/demo"));
    ck_assert_int_eq(svc_projects_upsert(&svc, p, &b, &created, &err), 0);
    ck_assert(!created);
    ck_assert(json_equal(json_object_get(a, "id"), json_object_get(b, "id")));
    ck_assert_str_eq(json_string_value(json_object_get(b, "forge_kind")), "gitea");
    ck_assert_str_eq(json_string_value(json_object_get(b, "repository")), "/srv/demo2.git");
    json_decref(a);
    json_decref(b);
    json_object_set_new(p, "name", json_string("bad name!"));
    ck_assert_int_eq(svc_projects_upsert(&svc, p, &a, &created, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_ptr_null(a);
    json_decref(p);
}
END_TEST

START_TEST(branch_and_pr_on_git_backend)
{
    char *url = mem_printf("%s/r.git", gitdir), agent[37], cmd[1024];
    int64_t pid = add_project("hooked", url, NULL);
    json_t *task = claimed_task(pid, NULL, agent), *out = NULL;
    int64_t id = json_integer_value(json_object_get(task, "id"));
    int64_t epoch = json_integer_value(json_object_get(task, "lease_epoch"));
    struct svc_pull_req pr = {.title = "T"};
    struct err err = {0};

    ck_assert_msg(svc_branch_create(&svc, agent, id, epoch, "drover/hooked", &out, &err) == 0, "%s",
                  err.msg);
    ck_assert(json_is_true(json_object_get(out, "created")));
    json_decref(out);
    snprintf(cmd, sizeof(cmd), "git --git-dir=%s rev-parse -q --verify refs/heads/drover/hooked",
             url);
    ck_assert_int_eq(system(cmd), 0);
    /* Idempotent: the branch is recorded now. */
    ck_assert_int_eq(svc_branch_create(&svc, agent, id, epoch, "drover/hooked", &out, &err), 0);
    ck_assert(json_is_false(json_object_get(out, "created")));
    json_decref(out);
    ck_assert_msg(svc_pull_create(&svc, agent, id, epoch, &pr, &out, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(out, "pull_request"), "forge")), "git");
    json_decref(out);
    ck_assert_int_eq(svc_branch_create(&svc, agent, id, epoch, "bad..name", &out, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    json_decref(task);
    /* A task without a project has no forge: its branch and pull request are only recorded. */
    task = claimed_task(0, NULL, agent);
    id = json_integer_value(json_object_get(task, "id"));
    epoch = json_integer_value(json_object_get(task, "lease_epoch"));
    ck_assert_msg(svc_branch_create(&svc, agent, id, epoch, "drover/none", &out, &err) == 0, "%s",
                  err.msg);
    json_decref(out);
    ck_assert_int_eq(svc_pull_create(&svc, agent, id, epoch, &pr, &out, &err), 0);
    ck_assert_ptr_null(json_object_get(json_object_get(out, "pull_request"), "forge"));
    json_decref(out);
    json_decref(task);
    free(url);
}
END_TEST

/* droverd's git refuses a protocol that is not enabled, before it runs anything. */
START_TEST(protocols_refused)
{
    char *url = mem_printf("%s/r.git", gitdir), agent[37], cmd[1024];
    int64_t pid = add_project("localpath", url, NULL);
    json_t *task = claimed_task(pid, NULL, agent), *out = NULL;
    int64_t id = json_integer_value(json_object_get(task, "id"));
    int64_t epoch = json_integer_value(json_object_get(task, "lease_epoch"));
    struct err err = {0};

    env.repo_protocols = "https,ssh";
    ck_assert_int_eq(svc_branch_create(&svc, agent, id, epoch, "drover/refused", &out, &err), -1);
    env.repo_protocols = NULL;
    ck_assert_int_eq(err.code, ERR_FORBIDDEN);
    ck_assert_ptr_nonnull(strstr(err.msg, "file protocol is not enabled"));
    snprintf(cmd, sizeof(cmd), "git --git-dir=%s rev-parse -q --verify refs/heads/drover/refused",
             url);
    ck_assert_int_ne(system(cmd), 0);
    json_decref(task);
    free(url);
}
END_TEST

/* A project on GitHub with an App installation: the forge calls use a fresh installation token
 * (there is no static token for it, which the fake would refuse). */
START_TEST(github_app_token)
{
    char agent[37], *api = mem_printf("http://127.0.0.1:%d", fake_port);
    json_t *settings = json_pack("{s:i}", "github_app_installation_id", 77);
    json_t *p = json_pack("{s:s,s:s,s:s,s:s,s:s,s:O}", "name", "apphub", "repository",
                          "https://github.test/acme/widgets.git", "forge_kind", "github",
                          "forge_api_url", api, "forge_repo_path", "acme/widgets", "settings",
                          settings),
           *prj = NULL, *task, *out = NULL;
    struct err err = {0};
    bool created;
    int64_t id, epoch;

    ck_assert_msg(svc_projects_upsert(&svc, p, &prj, &created, &err) == 0, "%s", err.msg);
    task = claimed_task(json_integer_value(json_object_get(prj, "id")), NULL, agent);
    id = json_integer_value(json_object_get(task, "id"));
    epoch = json_integer_value(json_object_get(task, "lease_epoch"));
    /* Without an App configured: a clear refusal. */
    ck_assert_int_eq(svc_branch_create(&svc, agent, id, epoch, "drover/app", &out, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "DROVER_GITHUB_APP_ID"));
    env.github_app_id = "4242";
    env.github_app_key = appkey;
    /* The project's allow-list names another forge: the JWT is not sent. */
    setenv("DROVER_FORGE_ALLOW_APPHUB", "https://forge.elsewhere.example/", 1);
    ck_assert_int_eq(svc_branch_create(&svc, agent, id, epoch, "drover/app", &out, &err), -1);
    ck_assert_int_eq(err.code, ERR_FORBIDDEN);
    setenv("DROVER_FORGE_ALLOW_APPHUB", api, 1);
    ck_assert_msg(svc_branch_create(&svc, agent, id, epoch, "drover/app", &out, &err) == 0, "%s",
                  err.msg);
    unsetenv("DROVER_FORGE_ALLOW_APPHUB");
    ck_assert(json_is_true(json_object_get(out, "created")));
    json_decref(out);
    /* Another App id: GitHub (the fake) refuses the JWT. */
    env.github_app_id = "4243";
    {
        struct svc_pull_req pr = {.title = "T"};

        ck_assert_int_eq(svc_pull_create(&svc, agent, id, epoch, &pr, &out, &err), -1);
        ck_assert_int_eq(err.code, ERR_UNAUTHORIZED);
    }
    env.github_app_id = env.github_app_key = NULL;
    json_decref(task);
    json_decref(prj);
    json_decref(p);
    json_decref(settings);
    free(api);
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
    int64_t id = json_integer_value(json_object_get(task, "id"));
    int64_t epoch = json_integer_value(json_object_get(task, "lease_epoch"));
    struct err err = {0};
    char sql[128];
    PGresult *r;

    ck_assert_msg(svc_preview_deploy(&svc, agent, id, epoch, &out, &err) == 0, "%s", err.msg);
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
    ck_assert_int_eq(svc_preview_deploy(&svc, agent, json_integer_value(json_object_get(t2, "id")),
                                        json_integer_value(json_object_get(t2, "lease_epoch")),
                                        &out, &err),
                     -1);
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
    tcase_add_test(tc, branch_and_pr_on_git_backend);
    tcase_add_test(tc, budget_stops_task);
    tcase_add_test(tc, preview_webhook);
    tcase_add_test(tc, protocols_refused);
    tcase_add_test(tc, github_app_token);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    fixtures_down();
    testdb_teardown();
    return failed ? 1 : 0;
}
