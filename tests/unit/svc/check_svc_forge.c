/*
 * The forge-facing use cases against the real PostgreSQL: projects as `droverd project add`
 * writes them, create_branch / create_pull_request on a git project (a real bare repository:
 * svc/svc_branch.c, svc/svc_pull.c), budgets enforced on heartbeats, and
 * trigger_preview_deploy's webhook call (against the fake forge's preview endpoint), the
 * repository protocols droverd's git may use, GitHub App installation tokens (the fake's
 * copy of GitHub's access_tokens endpoint), and on each API forge: a fan-out's accept closing
 * the superseded sibling's pull request (with its comment; retried after a forge failure),
 * and a team's labels, reviewers and assignees on the pull requests Drover opens.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/http.h"
#include "core/mem.h"
#include "store/agents.h"
#include "store/budget.h"
#include "store/queue.h"
#include "store/review.h"
#include "svc/svc_branch.h"
#include "svc/svc_outbox.h"
#include "svc/svc_preview.h"
#include "svc/svc_projects.h"
#include "svc/svc_pull.h"
#include "svc/svc_review.h"
#include "svc/svc_tasks.h"
#include "fixture.h"
#include "testdb.h"
#include "testsuite.h"

static char gitdir[256];
static pid_t fake_pid;
static int fake_port;
static char appkey[300];

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
    ck_assert_msg(svc_projects_upsert(&fx.svc, p, &out, &created, &err) == 0, "%s", err.msg);
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
    json_t *c;

    fixture_enqueue(&nt);
    fixture_agent(agent);
    c = fixture_claim(agent);
    ck_assert_ptr_nonnull(c);
    return c;
}

START_TEST(project_upsert)
{
    json_t *p = json_pack("{s:s,s:s}", "name", "demo", "repository", "/srv/demo.git");
    struct err err = {0};
    json_t *a = NULL, *b = NULL;
    bool created = false;

    ck_assert_int_eq(svc_projects_upsert(&fx.svc, p, &a, &created, &err), 0);
    ck_assert(created);
    ck_assert_str_eq(json_string_value(json_object_get(a, "forge_kind")), "git");
    json_object_set_new(p, "repository", json_string("/srv/demo2.git"));
    json_object_set_new(p, "forge_kind", json_string("forgejo"));
    json_object_set_new(p, "forge_api_url", json_string("https://forge.test/api/v1"));
    json_object_set_new(p, "forge_repo_path", json_string("me/demo"));
    ck_assert_int_eq(svc_projects_upsert(&fx.svc, p, &b, &created, &err), 0);
    ck_assert(!created);
    ck_assert(json_equal(json_object_get(a, "id"), json_object_get(b, "id")));
    ck_assert_str_eq(json_string_value(json_object_get(b, "forge_kind")), "gitea");
    ck_assert_str_eq(json_string_value(json_object_get(b, "repository")), "/srv/demo2.git");
    json_decref(a);
    json_decref(b);
    json_object_set_new(p, "name", json_string("bad name!"));
    ck_assert_int_eq(svc_projects_upsert(&fx.svc, p, &a, &created, &err), -1);
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

    ck_assert_msg(svc_branch_create(&fx.svc, agent, id, epoch, "drover/hooked", NULL, &out, &err) ==
                      0,
                  "%s", err.msg);
    ck_assert(json_is_true(json_object_get(out, "created")));
    json_decref(out);
    snprintf(cmd, sizeof(cmd), "git --git-dir=%s rev-parse -q --verify refs/heads/drover/hooked",
             url);
    ck_assert_int_eq(system(cmd), 0);
    /* Idempotent: the branch is recorded now. */
    ck_assert_int_eq(
        svc_branch_create(&fx.svc, agent, id, epoch, "drover/hooked", NULL, &out, &err), 0);
    ck_assert(json_is_false(json_object_get(out, "created")));
    json_decref(out);
    ck_assert_msg(svc_pull_create(&fx.svc, agent, id, epoch, &pr, &out, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(out, "pull_request"), "forge")), "git");
    json_decref(out);
    ck_assert_int_eq(svc_branch_create(&fx.svc, agent, id, epoch, "bad..name", NULL, &out, &err),
                     -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    json_decref(task);
    /* A task without a project has no forge: its branch and pull request are only recorded. */
    task = claimed_task(0, NULL, agent);
    id = json_integer_value(json_object_get(task, "id"));
    epoch = json_integer_value(json_object_get(task, "lease_epoch"));
    ck_assert_msg(svc_branch_create(&fx.svc, agent, id, epoch, "drover/none", NULL, &out, &err) ==
                      0,
                  "%s", err.msg);
    json_decref(out);
    ck_assert_int_eq(svc_pull_create(&fx.svc, agent, id, epoch, &pr, &out, &err), 0);
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

    fx.env.repo_protocols = "https,ssh";
    ck_assert_int_eq(
        svc_branch_create(&fx.svc, agent, id, epoch, "drover/refused", NULL, &out, &err), -1);
    fx.env.repo_protocols = NULL;
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

    ck_assert_msg(svc_projects_upsert(&fx.svc, p, &prj, &created, &err) == 0, "%s", err.msg);
    task = claimed_task(json_integer_value(json_object_get(prj, "id")), NULL, agent);
    id = json_integer_value(json_object_get(task, "id"));
    epoch = json_integer_value(json_object_get(task, "lease_epoch"));
    /* Without an App configured: a clear refusal. */
    ck_assert_int_eq(svc_branch_create(&fx.svc, agent, id, epoch, "drover/app", NULL, &out, &err),
                     -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "DROVER_GITHUB_APP_ID"));
    fx.env.github_app_id = "4242";
    fx.env.github_app_key = appkey;
    /* The project's allow-list names another forge: the JWT is not sent. */
    setenv("DROVER_FORGE_ALLOW_APPHUB", "https://forge.elsewhere.example/", 1);
    ck_assert_int_eq(svc_branch_create(&fx.svc, agent, id, epoch, "drover/app", NULL, &out, &err),
                     -1);
    ck_assert_int_eq(err.code, ERR_FORBIDDEN);
    setenv("DROVER_FORGE_ALLOW_APPHUB", api, 1);
    ck_assert_msg(svc_branch_create(&fx.svc, agent, id, epoch, "drover/app", NULL, &out, &err) == 0,
                  "%s", err.msg);
    unsetenv("DROVER_FORGE_ALLOW_APPHUB");
    ck_assert(json_is_true(json_object_get(out, "created")));
    json_decref(out);
    /* Another App id: GitHub (the fake) refuses the JWT. */
    fx.env.github_app_id = "4243";
    {
        struct svc_pull_req pr = {.title = "T"};

        ck_assert_int_eq(svc_pull_create(&fx.svc, agent, id, epoch, &pr, &out, &err), -1);
        ck_assert_int_eq(err.code, ERR_UNAUTHORIZED);
    }
    fx.env.github_app_id = fx.env.github_app_key = NULL;
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

    ck_assert_int_eq(budget_enforce(&fx.db, agent, NULL, &n, &err), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(budget_enforce(&fx.db, agent, under, &n, &err), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(budget_enforce(&fx.db, agent, over, &n, &err), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(queue_heartbeat(&fx.db, &fx.qo, agent, "busy", ids, over, &hb, &err), 0);
    ck_assert(json_is_true(
        json_object_get(json_array_get(json_object_get(hb, "tasks"), 0), "cancelled")));
    ck_assert_int_eq(queue_get(&fx.db, id, &after, &err), 0);
    ck_assert_str_eq(json_string_value(json_object_get(after, "state")), "needs_input");
    ck_assert_str_eq(json_string_value(json_object_get(after, "reason")), "budget");
    json_decref(hb);
    hb = json_string("not an object");
    ck_assert_int_eq(budget_enforce(&fx.db, agent, hb, &n, &err), -1);
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

    ck_assert_msg(svc_preview_deploy(&fx.svc, agent, id, epoch, &out, &err) == 0, "%s", err.msg);
    snprintf(sql, sizeof(sql), "https://preview.test/task-%lld",
             (long long)json_integer_value(json_object_get(task, "id")));
    ck_assert_str_eq(json_string_value(json_object_get(out, "preview_url")), sql);
    snprintf(sql, sizeof(sql), "SELECT preview_url FROM tasks WHERE id = %lld",
             (long long)json_integer_value(json_object_get(task, "id")));
    r = PQexec(fx.db.conn, sql);
    ck_assert_str_eq(PQgetvalue(r, 0, 0), json_string_value(json_object_get(out, "preview_url")));
    PQclear(r);
    /* A project without a webhook: a clear error, nothing recorded. */
    none = add_project("plain", "/srv/q.git", NULL);
    json_decref(out);
    out = NULL;
    t2 = claimed_task(none, NULL, agent);
    ck_assert_int_eq(
        svc_preview_deploy(&fx.svc, agent, json_integer_value(json_object_get(t2, "id")),
                           json_integer_value(json_object_get(t2, "lease_epoch")), &out, &err),
        -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "preview_webhook"));
    json_decref(settings);
    json_decref(task);
    json_decref(t2);
    free(hook);
}
END_TEST

/* ---- the API forges (the fake's gitea, github, gitlab) --------------------------------- */

static const char *const api_kinds[] = {"gitea", "github", "gitlab"};

/* `method` `path` on the fake as its forge's client would send it; the JSON answer (owned). */
static json_t *fake_call(const char *method, const char *path, const char *body, long *status)
{
    char *url = mem_printf("http://127.0.0.1:%d%s", fake_port, path);
    const char *hl[3] = {"User-Agent: check", NULL, NULL};
    struct http_req req = {.method = method, .url = url, .headers = hl, .body = body};
    struct http_resp resp;
    struct err err = {0};
    json_t *j;

    if (strncmp(path, "/api/v1/", 8) == 0)
        hl[1] = "Authorization: token x";
    else if (strncmp(path, "/api/v4/", 8) == 0)
        hl[1] = "PRIVATE-TOKEN: x";
    else if (strncmp(path, "/repos/", 7) == 0)
        hl[1] = "Authorization: Bearer x";
    if (body)
        req.content_type = "application/json";
    else if (strcmp(method, "GET") != 0)
        req.body = "";
    ck_assert_msg(http_request(NULL, &req, &resp, &err) == 0, "%s", err.msg);
    if (status)
        *status = resp.status;
    j = json_loads(resp.body, 0, NULL);
    http_resp_clear(&resp);
    free(url);
    return j;
}

/* The fake's copy of pull request `n` of acme/widgets on `kind` (owned). */
static json_t *fake_pull(const char *kind, long long n)
{
    char *path = strcmp(kind, "gitlab") == 0
                     ? mem_printf("/api/v4/projects/acme%%2Fwidgets/merge_requests/%lld", n)
                 : strcmp(kind, "gitea") == 0
                     ? mem_printf("/api/v1/repos/acme/widgets/pulls/%lld", n)
                     : mem_printf("/repos/acme/widgets/pulls/%lld", n);
    long st = 0;
    json_t *p = fake_call("GET", path, NULL, &st);

    ck_assert_msg(st == 200, "GET %s: %ld", path, st);
    free(path);
    return p;
}

/* The comments on pull request `n` whose body contains `needle`. */
static int fake_comments(const char *kind, long long n, const char *needle)
{
    char *path = strcmp(kind, "gitlab") == 0
                     ? mem_printf("/api/v4/projects/acme%%2Fwidgets/merge_requests/%lld/notes", n)
                 : strcmp(kind, "gitea") == 0
                     ? mem_printf("/api/v1/repos/acme/widgets/issues/%lld/comments", n)
                     : mem_printf("/repos/acme/widgets/issues/%lld/comments", n);
    json_t *list = fake_call("GET", path, NULL, NULL), *c;
    size_t i;
    int k = 0;

    json_array_foreach(list, i, c)
    {
        const char *b = json_string_value(json_object_get(c, "body"));

        k += b && strstr(b, needle) != NULL;
    }
    json_decref(list);
    free(path);
    return k;
}

static void fake_fail(const char *method, int status)
{
    char *path = mem_printf("/_fake/fail?method=%s&status=%d", method, status);

    json_decref(fake_call("POST", path, NULL, NULL));
    free(path);
}

/* A project on the fake's `kind` forge, its token in DROVER_FORGE_TOKEN_<NAME>. */
static int64_t forge_project(const char *kind, const char *name, const json_t *settings)
{
    char *api = mem_printf("http://127.0.0.1:%d%s", fake_port,
                           strcmp(kind, "gitea") == 0    ? "/api/v1"
                           : strcmp(kind, "gitlab") == 0 ? "/api/v4"
                                                         : "");
    char var[128];
    json_t *p = json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", name, "repository",
                          "https://forge.test/acme/widgets.git", "forge_kind", kind,
                          "forge_api_url", api, "forge_repo_path", "acme/widgets"),
           *out = NULL;
    struct err err = {0};
    bool created;
    int64_t id;

    snprintf(var, sizeof(var), "DROVER_FORGE_TOKEN_");
    for (const char *c = name; *c; c++)
        snprintf(var + strlen(var), 2, "%c",
                 (*c >= 'a' && *c <= 'z') ? *c - 32 : ((*c >= '0' && *c <= '9') ? *c : '_'));
    setenv(var, "x", 1);
    if (settings)
        json_object_set(p, "settings", (json_t *)settings);
    ck_assert_msg(svc_projects_upsert(&fx.svc, p, &out, &created, &err) == 0, "%s", err.msg);
    id = json_integer_value(json_object_get(out, "id"));
    json_decref(out);
    json_decref(p);
    free(api);
    return id;
}

/* Claim the next task, open its branch and pull request on the forge, report ready_to_test. */
static int64_t child_with_pr(long long *number, char **url)
{
    char agent[37], branch[64];
    struct svc_pull_req pr = {.title = "Candidate"};
    struct err err = {0};
    json_t *t = NULL, *out = NULL;
    const json_t *rec;
    int64_t id, epoch;

    ck_assert_int_eq(agents_create(&fx.db, "a", "none", agent, &err), 0);
    ck_assert_msg(queue_claim(&fx.db, &fx.qo, agent, &t, &err) == 0 && t, "%s", err.msg);
    id = json_integer_value(json_object_get(t, "id"));
    epoch = json_integer_value(json_object_get(t, "lease_epoch"));
    snprintf(branch, sizeof(branch), "drover/fo-%lld-%d", (long long)id, (int)getpid());
    ck_assert_msg(svc_branch_create(&fx.svc, agent, id, epoch, branch, NULL, &out, &err) == 0, "%s",
                  err.msg);
    json_decref(out);
    ck_assert_msg(svc_pull_create(&fx.svc, agent, id, epoch, &pr, &out, &err) == 0, "%s", err.msg);
    rec = json_object_get(out, "pull_request");
    *number = json_integer_value(json_object_get(rec, "number"));
    *url = json_is_string(json_object_get(rec, "url"))
               ? mem_strdup(json_string_value(json_object_get(rec, "url")))
               : NULL;
    json_decref(out);
    ck_assert_msg(queue_update_status(&fx.db, &fx.qo, agent, id, epoch, "ready_to_test", NULL, &out,
                                      &err) == 0,
                  "%s", err.msg);
    json_decref(out);
    json_decref(t);
    return id;
}

static long long count_sql(const char *q)
{
    PGresult *r = PQexec(fx.db.conn, q);
    long long n;

    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", q, PQerrorMessage(fx.db.conn));
    n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

/* How many warnings on task `id`'s activity have a message LIKE `like`. */
static long long warnings_like(int64_t id, const char *like)
{
    char *q = mem_printf("SELECT count(*) FROM activity WHERE task_id = %lld AND level = 'warning'"
                         " AND message LIKE '%s'",
                         (long long)id, like);
    long long n = count_sql(q);

    free(q);
    return n;
}

static const char *pr_state_of(int64_t id, char buf[32])
{
    json_t *t = NULL;
    struct err err = {0};

    ck_assert_int_eq(queue_get(&fx.db, id, &t, &err), 0);
    snprintf(buf, 32, "%s",
             json_string_value(json_object_get(json_object_get(t, "pull_request"), "state")));
    json_decref(t);
    return buf;
}

/* A fan-out of two with pull requests on `kind`; accept the first; *b = the other. */
static void fanout_of_two(const char *kind, const char *name, int64_t *a, long long *na, char **ua,
                          int64_t *b, long long *nb, char **ub)
{
    struct model_task_new nt = {.title = "Fan out", .project_id = forge_project(kind, name, NULL)};
    struct err err = {0};
    json_t *group = NULL;
    bool created;

    ck_assert_msg(svc_tasks_submit(&fx.svc, &nt, 2, &group, &created, &err) == 0, "%s", err.msg);
    json_decref(group);
    *a = child_with_pr(na, ua);
    *b = child_with_pr(nb, ub);
    ck_assert(*na > 0 && *nb > 0);
}

START_TEST(accept_closes_the_superseded_siblings_pull_request)
{
    const char *kind = api_kinds[_i];
    int64_t a, b;
    long long na, nb;
    char *ua, *ub, name[32], want[300], q[400], st[32];
    struct err err = {0};
    json_t *task = NULL, *p;

    snprintf(name, sizeof(name), "fan-%s", kind);
    fanout_of_two(kind, name, &a, &na, &ua, &b, &nb, &ub);
    ck_assert_msg(svc_review_accept(&fx.svc, a, "alice", NULL, &task, &err) == 0, "%s", err.msg);
    json_decref(task);
    /* On the forge: the sibling's pull request is closed, after the comment that says why. */
    p = fake_pull(kind, nb);
    ck_assert_str_eq(json_string_value(json_object_get(p, "state")), "closed");
    json_decref(p);
    snprintf(want, sizeof(want), "Superseded: fan-out sibling #%lld was accepted (%s)",
             (long long)a, ua);
    ck_assert_int_eq(fake_comments(kind, nb, want), 1);
    /* The accepted one's stays open. */
    p = fake_pull(kind, na);
    ck_assert_str_eq(json_string_value(json_object_get(p, "state")),
                     strcmp(kind, "gitlab") == 0 ? "opened" : "open");
    json_decref(p);
    /* On the task: the state and an activity line. */
    ck_assert_str_eq(pr_state_of(b, st), "closed");
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM activity WHERE task_id = %lld AND message LIKE "
             "'superseded: closed its pull request %%'",
             (long long)b);
    ck_assert_int_eq(count_sql(q), 1);
    ck_assert_int_eq(count_sql("SELECT count(*) FROM forge_comments WHERE kind = 'pr_close'"
                               " AND state <> 'posted'"),
                     0);
    free(ua);
    free(ub);
}
END_TEST

START_TEST(a_failed_close_warns_and_is_retried)
{
    const char *kind = api_kinds[_i];
    const char *method = strcmp(kind, "gitlab") == 0 ? "PUT" : "PATCH";
    int64_t a, b;
    long long na, nb;
    char *ua, *ub, name[32], st[32];
    struct err err = {0};
    json_t *task = NULL, *p;
    int n = 0;

    snprintf(name, sizeof(name), "broken-%s", kind);
    fanout_of_two(kind, name, &a, &na, &ua, &b, &nb, &ub);
    fake_fail(method, 500);
    /* The accept succeeds all the same; the sibling is cancelled; the failure is a warning. */
    ck_assert_msg(svc_review_accept(&fx.svc, a, "alice", NULL, &task, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(json_string_value(json_object_get(task, "state")), "completed");
    json_decref(task);
    fake_fail(method, 0);
    p = fake_pull(kind, nb);
    ck_assert_str_ne(json_string_value(json_object_get(p, "state")), "closed");
    json_decref(p);
    ck_assert_str_ne(pr_state_of(b, st), "closed");
    ck_assert_int_eq(warnings_like(b, "superseded: could not close its pull request %retried%"), 1);
    ck_assert_int_eq(fake_comments(kind, nb, "Superseded: fan-out sibling"), 1);
    /* Not due yet (back-off): the outbox pass leaves it. */
    ck_assert_int_eq(svc_outbox_comments_pass(&fx.svc, &n, &err), 0);
    ck_assert_int_eq(n, 0);
    /* Due now, and the forge is back: the outbox closes it, without a second comment. */
    PQclear(PQexec(fx.db.conn, "UPDATE forge_comments SET next_attempt_at = now()"));
    ck_assert_msg(svc_outbox_comments_pass(&fx.svc, &n, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(n, 1);
    p = fake_pull(kind, nb);
    ck_assert_str_eq(json_string_value(json_object_get(p, "state")), "closed");
    json_decref(p);
    ck_assert_int_eq(fake_comments(kind, nb, "Superseded: fan-out sibling"), 1);
    ck_assert_str_eq(pr_state_of(b, st), "closed");
    ck_assert_int_eq(count_sql("SELECT count(*) FROM forge_comments WHERE kind = 'pr_close'"
                               " AND state = 'posted' AND attempts = 2"),
                     1);
    free(ua);
    free(ub);
}
END_TEST

/* A plain git project has no pull request to close: the sibling's activity says so. */
START_TEST(plain_git_siblings_get_a_note)
{
    char *url = mem_printf("%s/r.git", gitdir), *ua, *ub, q[300];
    struct model_task_new nt = {.title = "Fan out", .project_id = add_project("gitfan", url, NULL)};
    struct err err = {0};
    json_t *group = NULL, *task = NULL;
    long long na, nb;
    bool created;
    int64_t a, b;

    ck_assert_msg(svc_tasks_submit(&fx.svc, &nt, 2, &group, &created, &err) == 0, "%s", err.msg);
    json_decref(group);
    a = child_with_pr(&na, &ua);
    b = child_with_pr(&nb, &ub);
    ck_assert(na == 0 && !ua);
    ck_assert_msg(svc_review_accept(&fx.svc, a, "alice", NULL, &task, &err) == 0, "%s", err.msg);
    json_decref(task);
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM activity WHERE task_id = %lld AND message LIKE"
             " 'superseded: no forge pull request to close (a plain git project)%%'",
             (long long)b);
    ck_assert_int_eq(count_sql(q), 1);
    ck_assert_int_eq(count_sql("SELECT count(*) FROM forge_comments"), 0);
    free(url);
}
END_TEST

/* The logins in `list` (objects with "login"/"username", or strings), comma-joined. */
static void names_of(const json_t *list, char *out, size_t sz)
{
    size_t i;
    json_t *v;

    out[0] = '\0';
    json_array_foreach(list, i, v)
    {
        const char *n =
            json_is_string(v)                ? json_string_value(v)
            : json_object_get(v, "login")    ? json_string_value(json_object_get(v, "login"))
            : json_object_get(v, "username") ? json_string_value(json_object_get(v, "username"))
                                             : json_string_value(json_object_get(v, "name"));

        snprintf(out + strlen(out), sz - strlen(out), "%s%s", i ? "," : "", n ? n : "?");
    }
}

/*
 * A task of a new project `name` on the fake's `kind` forge with `settings`, submitted by
 * `submitter` and, when `author` is set, made for a forge issue `author` opened: claimed, its
 * branch made and its pull request opened. The pull request's number; *task_id set.
 */
static long long opened_pr(const char *kind, const char *name, const json_t *settings,
                           const char *submitter, const char *author, int64_t *task_id)
{
    struct model_task_new nt = {.title = name};
    struct svc_pull_req pr = {.title = name};
    char agent[37], branch[96];
    struct err err = {0};
    json_t *t = NULL, *out = NULL;
    int64_t epoch;
    long long n;

    nt.project_id = forge_project(kind, name, settings);
    ck_assert_int_eq(queue_enqueue(&fx.db, &nt, &t, NULL, &err), 0);
    *task_id = json_integer_value(json_object_get(t, "id"));
    json_decref(t);
    if (submitter)
        ck_assert_int_eq(review_set_submitter(&fx.db, *task_id, submitter, 0, &err), 0);
    if (author)
        ck_assert_int_eq(review_issue_link(&fx.db, *task_id, 7, author, "bob", "linked", &err), 0);
    ck_assert_int_eq(agents_create(&fx.db, "a", "none", agent, &err), 0);
    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, agent, &t, &err), 0);
    epoch = json_integer_value(json_object_get(t, "lease_epoch"));
    json_decref(t);
    snprintf(branch, sizeof(branch), "drover/%s-%d", name, (int)getpid());
    ck_assert_msg(svc_branch_create(&fx.svc, agent, *task_id, epoch, branch, NULL, &out, &err) == 0,
                  "%s", err.msg);
    json_decref(out);
    ck_assert_msg(svc_pull_create(&fx.svc, agent, *task_id, epoch, &pr, &out, &err) == 0, "%s",
                  err.msg);
    n = json_integer_value(json_object_get(json_object_get(out, "pull_request"), "number"));
    json_decref(out);
    return n;
}

/* The logins of pull request `p`'s list `key` are `want` (comma-joined). */
static void expect_names(const json_t *p, const char *key, const char *want)
{
    char got[200];

    names_of(json_object_get(p, key), got, sizeof(got));
    ck_assert_msg(strcmp(got, want) == 0, "%s: %s, want %s", key, got, want);
}

/* A task a forge issue created: the issue's author reviews and is assigned, on every forge,
 * with no forge_logins mapping (GitLab: by the id its users API gives the login). */
START_TEST(the_forge_issue_author_reviews_the_pull_request)
{
    const char *kind = api_kinds[_i];
    char name[32], got[200];
    int64_t id;
    long long n;
    json_t *p;

    snprintf(name, sizeof(name), "author-%s", kind);
    n = opened_pr(kind, name, NULL, "someone", "alice", &id);
    p = fake_pull(kind, n);
    names_of(json_object_get(p, strcmp(kind, "gitlab") == 0 ? "reviewers" : "requested_reviewers"),
             got, sizeof(got));
    ck_assert_str_eq(got, "alice");
    expect_names(p, "assignees", "alice");
    json_decref(p);
}
END_TEST

START_TEST(pull_request_carries_labels_reviewers_and_assignees)
{
    const char *kind = api_kinds[_i];
    bool gl = strcmp(kind, "gitlab") == 0;
    json_t *settings =
        json_pack("{s:[s,s],s:[s],s:[s],s:{s:s},s:[i],s:[i]}", "pr_labels", "drover", "bot",
                  "pr_reviewers", "bob", "pr_assignees", "carol", "forge_logins", "dev", "dana",
                  "pr_reviewer_ids", 2, "pr_assignee_ids", 3);
    char name[32];
    json_t *p;
    int64_t id;
    long long n;

    snprintf(name, sizeof(name), "opts-%s", kind);
    n = opened_pr(kind, name, settings, "dev", NULL, &id);
    p = fake_pull(kind, n);
    expect_names(p, "labels", "drover,bot");
    /* The submitter's login (forge_logins) joins the configured people, each once; GitLab
     * takes user ids, so its usernames were looked up (GET /users?username=). */
    expect_names(p, gl ? "reviewers" : "requested_reviewers", "bob,dana");
    expect_names(p, "assignees", "carol,dana");
    json_decref(p);
    ck_assert_int_eq(warnings_like(id, "%"), 0);
    json_decref(settings);
}
END_TEST

/* A submitter's login GitLab does not know: the merge request is opened without it, and the
 * task's activity says whom it could not add. */
START_TEST(a_login_gitlab_does_not_know_is_a_note)
{
    json_t *settings =
        json_pack("{s:{s:s},s:[i]}", "forge_logins", "dev", "zed", "pr_reviewer_ids", 2);
    int64_t id;
    long long n = opened_pr("gitlab", "nologin-gitlab", settings, "dev", NULL, &id);
    json_t *p = fake_pull("gitlab", n);

    ck_assert_str_eq(json_string_value(json_object_get(p, "state")), "opened");
    expect_names(p, "reviewers", "bob");
    expect_names(p, "assignees", "");
    json_decref(p);
    /* As a reviewer and as an assignee. */
    ck_assert_int_eq(warnings_like(id, "%GitLab knows no user ''zed''%"), 2);
    json_decref(settings);
}
END_TEST

/* Gitea: a label the repository lacks but its organisation has is set too; one neither has is
 * left out with a warning. */
START_TEST(gitea_takes_the_organisations_labels)
{
    json_t *settings = json_pack("{s:s}", "pr_labels", "drover, org-wide, nope");
    int64_t id;
    long long n = opened_pr("gitea", "orglabels-gitea", settings, NULL, NULL, &id);
    json_t *p = fake_pull("gitea", n);

    expect_names(p, "labels", "drover,org-wide");
    json_decref(p);
    ck_assert_int_eq(warnings_like(id, "%no label [\"nope\"]%"), 1);
    json_decref(settings);
}
END_TEST

/* A reviewer the forge refuses: the pull request is opened all the same, with a warning. */
START_TEST(a_refused_reviewer_is_a_warning_not_a_failure)
{
    const char *kind = _i ? "github" : "gitea";
    json_t *settings = json_pack("{s:s,s:[s]}", "pr_labels", "drover", "pr_reviewers", "stranger");
    struct model_task_new nt = {.title = "Refused"};
    char name[32], agent[37], got[200], q[300];
    struct svc_pull_req pr = {.title = "Refused reviewer"};
    struct err err = {0};
    json_t *t = NULL, *out = NULL, *p;
    int64_t id, epoch;
    long long n;

    snprintf(name, sizeof(name), "refused-%s", kind);
    nt.project_id = forge_project(kind, name, settings);
    ck_assert_int_eq(agents_create(&fx.db, "a", "none", agent, &err), 0);
    ck_assert_int_eq(queue_enqueue(&fx.db, &nt, &t, NULL, &err), 0);
    json_decref(t);
    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, agent, &t, &err), 0);
    id = json_integer_value(json_object_get(t, "id"));
    epoch = json_integer_value(json_object_get(t, "lease_epoch"));
    snprintf(q, sizeof(q), "drover/refused-%d", (int)getpid());
    ck_assert_msg(svc_branch_create(&fx.svc, agent, id, epoch, q, NULL, &out, &err) == 0, "%s",
                  err.msg);
    json_decref(out);
    ck_assert_msg(svc_pull_create(&fx.svc, agent, id, epoch, &pr, &out, &err) == 0, "%s", err.msg);
    n = json_integer_value(json_object_get(json_object_get(out, "pull_request"), "number"));
    json_decref(out);
    p = fake_pull(kind, n);
    ck_assert_str_eq(json_string_value(json_object_get(p, "state")), "open");
    names_of(json_object_get(p, "labels"), got, sizeof(got));
    /* GitHub sets each option on its own (the label stays); Gitea retried the create bare. */
    ck_assert_str_eq(got, _i ? "drover" : "");
    json_decref(p);
    ck_assert_int_eq(warnings_like(id, "%reviewer%"), 1);
    json_decref(t);
    json_decref(settings);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("forge_store");
    TCase *tc = tcase_create("forge_store");
    int failed;

    testdb_setup();
    fixtures_up();
    tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, project_upsert);
    tcase_add_test(tc, branch_and_pr_on_git_backend);
    tcase_add_test(tc, budget_stops_task);
    tcase_add_test(tc, preview_webhook);
    tcase_add_test(tc, protocols_refused);
    tcase_add_test(tc, github_app_token);
    tcase_add_loop_test(tc, accept_closes_the_superseded_siblings_pull_request, 0, 3);
    tcase_add_loop_test(tc, a_failed_close_warns_and_is_retried, 0, 3);
    tcase_add_test(tc, plain_git_siblings_get_a_note);
    tcase_add_loop_test(tc, pull_request_carries_labels_reviewers_and_assignees, 0, 3);
    tcase_add_loop_test(tc, a_refused_reviewer_is_a_warning_not_a_failure, 0, 2);
    tcase_add_test(tc, a_login_gitlab_does_not_know_is_a_note);
    tcase_add_test(tc, gitea_takes_the_organisations_labels);
    tcase_add_loop_test(tc, the_forge_issue_author_reviews_the_pull_request, 0, 3);
    suite_add_tcase(s, tc);
    failed = testsuite_run(s) != EXIT_SUCCESS;
    fixtures_down();
    testdb_teardown();
    return failed ? 1 : 0;
}
