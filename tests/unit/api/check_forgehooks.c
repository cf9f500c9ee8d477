/*
 * Forge webhooks through the real router against a real PostgreSQL, with the payloads of
 * tests/fakes/webhooks/ (the forges' documented examples) and each forge's own signature or
 * token: merged -> completed, closed -> cancelled, inline comments and a changes-requested
 * review -> a rework whose context holds the whole thread with file/line, mention and /drover
 * commands, labelled issues -> one task each; bad, missing and stale signatures, unknown
 * projects and missing secrets are 401 and change nothing; replays (same delivery id, or the
 * same body under a new id) change nothing; unknown events are 200 and ignored. GitHub's
 * published HMAC test vector. Review inline comments, which review webhooks do not carry, are
 * read back from the fake forge (tests/fakes/fake_forge.py) on each forge's REST API and reach
 * the next attempt's prompt (runner_prompt_build) as "path:line — comment", grouped per file; a
 * forge that answers 500 there still gets its rework, with a warning on the task's activity.
 */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "api/router.h"
#include "core/http.h"
#include "fakeproc.h"
#include "runner_prompt.h"
#include "store/agents.h"
#include "forge/forge_backend.h"
#include "store/queue.h"
#include "svc/svc_webhooks.h"
#include "fixture.h"
#include "testdb.h"
#include "testsuite.h"

#define SECRET "It's a Secret to Everybody"
#define FORGE_TOKEN "fake-forge-token"

static pid_t fake_pid;
static int fake_port;
static bool fast_worker; /* deliver() as a fast worker (slow_ok false) */

static void fake_post(const char *path, const char *body, long want);

static void setup(void)
{
    fixture_setup();
    setenv("DROVER_WEBHOOK_SECRET_WEB", SECRET, 1);
    unsetenv("DROVER_WEBHOOK_SECRET");
    setenv("DROVER_FORGE_TOKEN_WEB", FORGE_TOKEN, 1);
    fast_worker = false;
    fake_post("/_fake/pages?max=0", "", 200); /* a failed test runs no teardown */
}

static void fake_start(void)
{
    fake_pid = fakeproc_start("tests/fakes/fake_forge.py", FORGE_TOKEN, &fake_port);
}

static void fake_stop(void)
{
    fakeproc_stop(fake_pid);
}

/* POST `body` to the fake forge's control path `path`, expecting `want`. */
static void fake_post(const char *path, const char *body, long want)
{
    struct http h;
    struct http_req rq = {0};
    struct http_resp rs;
    struct err err = {0};
    char url[256];

    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", fake_port, path);
    rq.method = "POST";
    rq.url = url;
    rq.body = body;
    rq.content_type = "application/json";
    ck_assert_int_eq(http_init(&h, &err), 0);
    ck_assert_int_eq(http_request(&h, &rq, &rs, &err), 0);
    ck_assert_msg(rs.status == want, "%ld %s", rs.status, rs.body);
    http_resp_clear(&rs);
    http_clear(&h);
}

/* Register a submitted review (and its inline comments) on the fake forge. */
static void fake_review(const char *spec)
{
    fake_post("/_fake/review", spec, 201);
}

static void teardown(void)
{
    fake_post("/_fake/pages?max=0", "", 200);
    fixture_teardown();
}

static char *scalar_s(const char *q)
{
    PGresult *r = PQexec(fx.db.conn, q);
    char *s;

    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", q, PQerrorMessage(fx.db.conn));
    s = strdup(PQntuples(r) && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return s;
}

static char *snapshot(void)
{
    return scalar_s("SELECT (SELECT coalesce(jsonb_agg(t ORDER BY id), '[]') FROM tasks t)::text"
                    " || (SELECT count(*) FROM activity)::text"
                    " || (SELECT count(*) FROM review_comments)::text"
                    " || (SELECT count(*) FROM forge_deliveries)::text");
}

/* tests/fakes/webhooks/<name>.json with @NUMBER@ and @BRANCH@ filled in. */
static char *payload(const char *name, int number, const char *branch)
{
    char path[1024], num[16], *raw, *out;
    const char *src = getenv("DROVER_SOURCE_DIR");
    FILE *f;
    long n;
    size_t o = 0;

    snprintf(path, sizeof(path), "%s/tests/fakes/webhooks/%s.json", src ? src : ".", name);
    f = fopen(path, "rb");
    ck_assert_msg(f, "%s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    raw = calloc(1, (size_t)n + 1);
    ck_assert_int_eq(fread(raw, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    snprintf(num, sizeof(num), "%d", number);
    out = calloc(1, (size_t)n * 2 + 4096);
    for (const char *p = raw; *p;) {
        if (strncmp(p, "@NUMBER@", 8) == 0) {
            o += (size_t)sprintf(out + o, "%s", num);
            p += 8;
        } else if (strncmp(p, "@BRANCH@", 8) == 0) {
            o += (size_t)sprintf(out + o, "%s", branch);
            p += 8;
        } else {
            out[o++] = *p++;
        }
    }
    while (o && (out[o - 1] == '\n'))
        out[--o] = '\0';
    free(raw);
    return out;
}

struct call {
    int status;
    json_t *body;
};

static struct call deliver(const char *forge, const char *project, const char *headers,
                           const char *idem, const char *body)
{
    struct api_request req = {0};
    struct api_response resp = {0};
    char path[256];
    struct call c;

    snprintf(path, sizeof(path), "/api/hooks/forge/%s/%s", forge, project);
    req.method = "POST";
    req.path = path;
    req.query = "";
    req.body = body;
    req.body_len = strlen(body);
    req.hook_headers = headers;
    req.idempotency_key = idem;
    req.svc = &fx.svc;
    req.slow_ok = !fast_worker;
    router_dispatch(&req, &resp);
    free(resp.raw);
    c.status = resp.reroute ? -1 : resp.status; /* -1: handed to the slow workers */
    c.body = resp.body;
    return c;
}

static char *hex_sig(const char *secret, const char *body)
{
    char *hex = malloc(65);

    svc_webhooks_hmac_hex(secret, strlen(secret), body, strlen(body), hex);
    return hex;
}

static struct call github(const char *event, const char *delivery, const char *body)
{
    char *sig = hex_sig(SECRET, body), hdr[1024];
    struct call c;

    snprintf(hdr, sizeof(hdr),
             "x-github-event: %s\nx-github-delivery: %s\nx-hub-signature-256: sha256=%s\n", event,
             delivery, sig);
    c = deliver("github", "web", hdr, NULL, body);
    free(sig);
    return c;
}

static struct call gitea(const char *event, const char *type, const char *delivery,
                         const char *body)
{
    char *sig = hex_sig(SECRET, body), hdr[1024];
    struct call c;

    snprintf(hdr, sizeof(hdr),
             "x-gitea-event: %s\nx-gitea-event-type: %s\nx-gitea-delivery: %s\n"
             "x-gitea-signature: %s\n",
             event, type, delivery, sig);
    c = deliver("gitea", "web", hdr, NULL, body);
    free(sig);
    return c;
}

static struct call gitlab(const char *event, const char *idem, const char *body)
{
    char hdr[512];

    snprintf(hdr, sizeof(hdr), "x-gitlab-event: %s\nx-gitlab-token: %s\n", event, SECRET);
    return deliver("gitlab", "web", hdr, idem, body);
}

static const char *result_of(const struct call *c)
{
    return json_string_value(json_object_get(c->body, "result"));
}

static void expect(struct call c, int status, const char *result)
{
    if (c.status != status) {
        char *d = json_dumps(c.body, 0);

        fprintf(stderr, "unexpected reply: %d %s\n", c.status, d ? d : "");
        free(d);
    }
    ck_assert_msg(c.status == status, "status %d, want %d (%s)", c.status, status,
                  result_of(&c) ? result_of(&c) : "");
    if (result)
        ck_assert_msg(result_of(&c) && strcmp(result_of(&c), result) == 0, "result %s, want %s",
                      result_of(&c) ? result_of(&c) : "(none)", result);
    json_decref(c.body);
}

static json_int_t project_id;

static void make_project(const char *forge)
{
    char q[512], *id;

    snprintf(q, sizeof(q),
             "INSERT INTO projects (name, repo_url, forge_kind, forge_repo_path, forge_api_url)"
             " VALUES ('web', 'file:///srv/web.git', '%s', 'acme/widgets',"
             " 'http://127.0.0.1:%d%s') RETURNING id",
             forge, fake_port,
             strcmp(forge, "gitea") == 0    ? "/api/v1"
             : strcmp(forge, "gitlab") == 0 ? "/api/v4"
                                            : "");
    id = scalar_s(q);
    project_id = strtoll(id, NULL, 10);
    free(id);
}

/* A task of the project in ready_to_test with pull request `number` on branch `branch`. */
static json_int_t ready_task(int number, const char *branch, char agent[37])
{
    struct model_task_new t = {.title = "fix", .description = "fix it"};
    struct model_outcome oc = {0};
    struct err err = {0};
    json_t *task = NULL, *out = NULL, *res = json_pack("{s:s}", "summary", "fixed");
    json_int_t id;
    char q[512];

    t.project_id = project_id;
    ck_assert_int_eq(queue_enqueue(&fx.db, &t, &task, NULL, &err), 0);
    id = json_integer_value(json_object_get(task, "id"));
    json_decref(task);
    ck_assert_int_eq(agents_create(&fx.db, "a", "none", agent, &err), 0);
    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, agent, &task, &err), 0);
    snprintf(q, sizeof(q),
             "UPDATE tasks SET branch = '%s', pull_request = '{\"forge\":\"github\",\"number\":%d,"
             "\"url\":\"https://forge/pr/%d\",\"state\":\"open\"}' WHERE id = %lld",
             branch, number, number, (long long)id);
    fixture_exec(q);
    oc.result = res;
    ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, agent, id,
                                         json_integer_value(json_object_get(task, "lease_epoch")),
                                         "ready_to_test", &oc, &out, &err),
                     0);
    json_decref(out);
    json_decref(task);
    json_decref(res);
    return id;
}

static char *task_state(json_int_t id)
{
    char q[128];

    snprintf(q, sizeof(q), "SELECT state FROM tasks WHERE id = %lld", (long long)id);
    return scalar_s(q);
}

/* The step nearly every test repeats after a delivery: where did it leave the task? */
static void expect_state(json_int_t id, const char *want)
{
    char *s = task_state(id);

    ck_assert_str_eq(s, want);
    free(s);
}

/* One column expression `expr` of the task, as text. */
static void expect_task_field(json_int_t id, const char *expr, const char *want)
{
    char q[256], *s;

    snprintf(q, sizeof(q), "SELECT %s FROM tasks WHERE id = %lld", expr, (long long)id);
    s = scalar_s(q);
    ck_assert_str_eq(s, want);
    free(s);
}

/* Nothing changed since `before` (a snapshot(), freed here): what replays and refusals promise. */
static void expect_unchanged(char *before)
{
    char *after = snapshot();

    ck_assert_str_eq(before, after);
    free(before);
    free(after);
}

/* The project "web" on `forge` and one task of it in ready_to_test: how every test starts. */
static json_int_t project_task(const char *forge, int number, const char *branch, char agent[37])
{
    make_project(forge);
    return ready_task(number, branch, agent);
}

/* Claim the task again and hand it back in ready_to_test. */
static void redo(json_int_t id, const char *agent)
{
    struct err err = {0};
    json_t *task = NULL, *out = NULL;

    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, agent, &task, &err), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(task, "id")), id);
    ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, agent, id,
                                         json_integer_value(json_object_get(task, "lease_epoch")),
                                         "ready_to_test", NULL, &out, &err),
                     0);
    json_decref(out);
    json_decref(task);
}

START_TEST(github_hmac_test_vector)
{
    char hex[65];

    svc_webhooks_hmac_hex(SECRET, strlen(SECRET), "Hello, World!", 13, hex);
    ck_assert_str_eq(hex, "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}
END_TEST

START_TEST(github_review_thread_rework_then_merge)
{
    char agent[37], *s, *before;
    json_int_t id;
    char *inline_c, *review, *merged, q[256];

    id = project_task("github", 7, "drover/1-fix", agent);
    inline_c = payload("github_pull_request_review_comment", 7, "drover/1-fix");
    review = payload("github_pull_request_review", 7, "drover/1-fix");
    merged = payload("github_pull_request_closed", 7, "drover/1-fix");
    {
        char *ping = payload("github_ping", 0, "");

        expect(github("ping", "d-0", ping), 200, "pong");
        free(ping);
    }
    /* An inline comment is kept; the changes-requested review sends the task back with both. */
    expect(github("pull_request_review_comment", "d-1", inline_c), 200, "comment_kept");
    expect_state(id, "ready_to_test");
    expect(github("pull_request_review", "d-2", review), 200, "rework");
    expect_state(id, "backlog");
    snprintf(q, sizeof(q), "SELECT context->-1->'review' FROM tasks WHERE id = %lld",
             (long long)id);
    s = scalar_s(q);
    ck_assert_msg(strstr(s, "\"path\": \"README.md\"") && strstr(s, "\"line\": 1") &&
                      strstr(s, "Maybe you should use more emoji") &&
                      strstr(s, "Please handle the empty file too."),
                  "%s", s);
    free(s);
    expect_task_field(id, "context->-1->>'by'", "github:Codertocat");
    /* Replays change nothing: the same delivery id, or the same body under another id. */
    before = snapshot();
    expect(github("pull_request_review", "d-2", review), 200, "duplicate");
    expect(github("pull_request_review", "d-2-redelivered", review), 200, "duplicate");
    expect_unchanged(before);
    /* The agent pushes again (same branch, same PR); the merge completes the task. */
    redo(id, agent);
    expect(github("pull_request", "d-3", merged), 200, "completed");
    expect_state(id, "completed");
    expect_task_field(id, "pull_request->>'state'", "merged");
    s = scalar_s("SELECT string_agg(outcome, ',' ORDER BY id) FROM forge_deliveries");
    ck_assert_str_eq(s, "pong,comment_kept,rework,completed");
    free(s);
    free(inline_c);
    free(review);
    free(merged);
}
END_TEST

/*
 * The webhook secret from a mounted file ($DROVER_WEBHOOK_SECRET_<P>_FILE): deliveries signed
 * with it are accepted; a file that cannot be read is droverd's problem (503, the forge
 * retries), never a reason to skip the check, and it changes nothing.
 */
START_TEST(webhook_secret_from_a_file)
{
    char agent[37], path[128], *before, *after, *body, *s;
    json_int_t id;
    FILE *f;

    snprintf(path, sizeof(path), "/tmp/drover-check-hooksecret-%d", (int)getpid());
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(SECRET "\n", f);
    fclose(f);
    unsetenv("DROVER_WEBHOOK_SECRET_WEB");
    setenv("DROVER_WEBHOOK_SECRET_WEB_FILE", "/", 1); /* a directory: unreadable as a file */
    make_project("github");
    id = ready_task(7, "drover/1-fix", agent);
    body = payload("github_pull_request_closed", 7, "drover/1-fix");
    before = snapshot();
    expect(github("pull_request", "f-1", body), 503, NULL);
    after = snapshot();
    ck_assert_str_eq(before, after);
    setenv("DROVER_WEBHOOK_SECRET_WEB_FILE", path, 1);
    expect(github("pull_request", "f-2", body), 200, "completed"); /* the fixture: merged */
    s = task_state(id);
    ck_assert_str_eq(s, "completed");
    free(s);
    unsetenv("DROVER_WEBHOOK_SECRET_WEB_FILE");
    unlink(path);
    free(before);
    free(after);
    free(body);
}
END_TEST

START_TEST(bad_signatures_are_401_and_change_nothing)
{
    char agent[37], hdr[512], *before, *body;
    json_int_t id;
    struct call c;

    id = project_task("github", 7, "drover/1-fix", agent);
    (void)id;
    body = payload("github_pull_request_closed", 7, "drover/1-fix");
    before = snapshot();
    /* Wrong secret, no signature, a tampered body, the SHA-1 header alone. */
    {
        char *bad = hex_sig("not the secret", body);

        snprintf(hdr, sizeof(hdr),
                 "x-github-event: pull_request\nx-github-delivery: x1\n"
                 "x-hub-signature-256: sha256=%s\n",
                 bad);
        free(bad);
    }
    c = deliver("github", "web", hdr, NULL, body);
    ck_assert_int_eq(c.status, 401);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(c.body, "error"), "code")),
                     "bad_signature");
    json_decref(c.body);
    expect(deliver("github", "web", "x-github-event: pull_request\nx-github-delivery: x2\n", NULL,
                   body),
           401, NULL);
    {
        char *good = hex_sig(SECRET, body), *tampered = strdup(body);

        tampered[strlen(tampered) - 2] = ' ';
        snprintf(hdr, sizeof(hdr),
                 "x-github-event: pull_request\nx-github-delivery: x3\n"
                 "x-hub-signature-256: sha256=%s\n",
                 good);
        expect(deliver("github", "web", hdr, NULL, tampered), 401, NULL);
        /* The right signature for a project that does not exist, or has no secret. */
        expect(deliver("github", "nosuch", hdr, NULL, body), 401, NULL);
        fixture_exec("INSERT INTO projects (name, repo_url) VALUES ('other', 'file:///o.git')");
        expect(deliver("github", "other", hdr, NULL, body), 401, NULL);
        /* A Gitea signature on the GitHub endpoint is not GitHub's. */
        snprintf(hdr, sizeof(hdr), "x-github-event: pull_request\nx-gitea-signature: %s\n", good);
        expect(deliver("github", "web", hdr, NULL, body), 401, NULL);
        free(good);
        free(tampered);
    }
    /* GitLab: a wrong token, none. */
    expect(deliver("gitlab", "web", "x-gitlab-event: Merge Request Hook\nx-gitlab-token: nope\n",
                   "k1", body),
           401, NULL);
    expect(deliver("gitlab", "web", "x-gitlab-event: Merge Request Hook\n", "k1", body), 401, NULL);
    expect_unchanged(before);
    free(body);
}
END_TEST

START_TEST(unknown_events_and_foreign_prs_are_acknowledged)
{
    char agent[37], *before, *after, *body;

    project_task("github", 7, "drover/1-fix", agent);
    body = payload("github_pull_request_closed", 99, "someone-else");
    before = snapshot();
    expect(github("pull_request", "u-1", body), 200, "no_task");
    expect(github("star", "u-2", "{\"action\":\"created\",\"starred_at\":\"2019-05-15\"}"), 200,
           "ignored");
    expect(github("workflow_run", "u-3", "{\"action\":\"completed\"}"), 200, "ignored");
    after = snapshot();
    /* Only the deliveries themselves were recorded. */
    ck_assert_str_ne(before, after);
    free(before);
    free(after);
    after = scalar_s("SELECT count(*) FROM tasks WHERE state = 'ready_to_test'");
    ck_assert_str_eq(after, "1");
    free(after);
    /* A verified body that is not JSON is a 400. */
    expect(github("pull_request", "u-4", "not json"), 400, NULL);
    free(body);
}
END_TEST

START_TEST(gitea_closed_cancels_and_command_reworks)
{
    char agent[37], a2[37], *closed, *review, *comment, hdr[512];
    json_int_t id, id2;

    id = project_task("gitea", 3, "drover/3-a", agent);
    closed = payload("gitea_pull_request_closed", 3, "drover/3-a");
    expect(gitea("pull_request", "pull_request", "g-1", closed), 200, "cancelled");
    expect_state(id, "cancelled");
    /* Gitea's manual redelivery has a new UUID: the same body is still a replay. */
    expect(gitea("pull_request", "pull_request", "g-1-replayed", closed), 200, "duplicate");
    /* Reopened: the recorded state follows; the task stays as it is. */
    {
        char *reopened = payload("gitea_pull_request_closed", 3, "drover/3-a");

        {
            size_t n = strlen(reopened) + 8;
            char *r2 = malloc(n);
            char *at = strstr(reopened, "\"action\":\"closed\"");

            snprintf(r2, n, "%.*s\"action\":\"reopened\"%s", (int)(at - reopened), reopened,
                     at + strlen("\"action\":\"closed\""));
            expect(gitea("pull_request", "pull_request", "g-1-reopened", r2), 200, "pr_state");
            free(r2);
        }
        free(reopened);
        expect_task_field(id, "pull_request->>'state'", "open");
    }
    /* A rejecting review, then a /drover command in the conversation. */
    id2 = ready_task(4, "drover/4-b", a2);
    review = payload("gitea_pull_request_review_rejected", 4, "drover/4-b");
    expect(gitea("pull_request_rejected", "pull_request_review_rejected", "g-2", review), 200,
           "rework");
    expect_state(id2, "backlog");
    redo(id2, a2);
    comment = payload("gitea_issue_comment", 4, "drover/4-b");
    /* Forgejo's own header names. */
    {
        char *sig = hex_sig(SECRET, comment);

        snprintf(hdr, sizeof(hdr),
                 "x-forgejo-event: issue_comment\nx-forgejo-event-type: pull_request_comment\n"
                 "x-forgejo-delivery: g-3\nx-forgejo-signature: %s\n",
                 sig);
        free(sig);
    }
    /* Forgejo's event type for a comment in a PR's conversation is pull_request_comment. */
    expect(deliver("gitea", "web", hdr, NULL, comment), 200, "rework");
    expect_state(id2, "backlog");
    expect_task_field(id2, "context->-1->'review'->0->>'body'",
                      "/drover rename the helper to parse_line");
    free(closed);
    free(review);
    free(comment);
}
END_TEST

START_TEST(gitlab_note_rework_merge_and_issue_label)
{
    char agent[37], *s, *note, *merge, *issue, q[256];
    json_int_t id;
    struct call c;

    id = project_task("gitlab", 5, "drover/5-c", agent);
    note = payload("gitlab_note_merge_request", 5, "drover/5-c");
    expect(gitlab("Note Hook", "11111111-1111-4111-8111-111111111111", note), 200, "rework");
    snprintf(q, sizeof(q), "SELECT context->-1->'review'->0 FROM tasks WHERE id = %lld",
             (long long)id);
    s = scalar_s(q);
    ck_assert_msg(strstr(s, "\"path\": \"src/io.c\"") && strstr(s, "\"line\": 12"), "%s", s);
    free(s);
    /* GitLab retries under the same Idempotency-Key. */
    expect(gitlab("Note Hook", "11111111-1111-4111-8111-111111111111", note), 200, "duplicate");
    redo(id, agent);
    merge = payload("gitlab_merge_request_merge", 5, "drover/5-c");
    expect(gitlab("Merge Request Hook", "22222222-2222-4222-8222-222222222222", merge), 200,
           "completed");
    /* A label added on an issue: one task, linked to the issue. */
    issue = payload("gitlab_issue_labeled", 23, "");
    c = gitlab("Issue Hook", "33333333-3333-4333-8333-333333333333", issue);
    ck_assert_int_eq(c.status, 202);
    ck_assert_str_eq(result_of(&c), "task_created");
    snprintf(q, sizeof(q), "SELECT title || ' | ' || description FROM tasks WHERE id = %lld",
             (long long)json_integer_value(json_object_get(c.body, "task_id")));
    json_decref(c.body);
    s = scalar_s(q);
    ck_assert_msg(strstr(s, "issue #23: New API") &&
                      strstr(s, "http://example.com/diaspora/issues/23"),
                  "%s", s);
    free(s);
    /* GitLab names the issue's author by id only (51), and root labelled it: root asked. */
    snprintf(q, sizeof(q),
             "SELECT coalesce(forge_author, '-') || '/' || forge_requester FROM tasks"
             " WHERE title LIKE 'issue #23:%%'");
    s = scalar_s(q);
    ck_assert_str_eq(s, "-/root");
    free(s);
    expect(gitlab("Issue Hook", "44444444-4444-4444-8444-444444444444", issue), 200, "duplicate");
    free(note);
    free(merge);
    free(issue);
}
END_TEST

/* Standard Webhooks signature of `body` with key bytes `key` (the whsec_ secret's). */
static void std_sig(const unsigned char *key, int klen, const char *id, long long ts,
                    const char *body, char out[100])
{
    char *msg = malloc(strlen(body) + 200);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    sprintf(msg, "%s.%lld.%s", id, ts, body);
    HMAC(EVP_sha256(), key, klen, (unsigned char *)msg, strlen(msg), md, &n);
    EVP_EncodeBlock((unsigned char *)out, md, (int)n);
    free(msg);
}

START_TEST(gitlab_signing_token_standard_webhooks)
{
    unsigned char key[32];
    char b64[64], secret[80], sig[100], hdr[700], agent[37];
    long long now = (long long)time(NULL);
    char *merge;

    for (int i = 0; i < 32; i++)
        key[i] = (unsigned char)(i * 7 + 1);
    EVP_EncodeBlock((unsigned char *)b64, key, 32);
    snprintf(secret, sizeof(secret), "whsec_%s", b64);
    setenv("DROVER_WEBHOOK_SECRET_WEB", secret, 1);
    project_task("gitlab", 6, "drover/6-d", agent);
    merge = payload("gitlab_merge_request_merge", 6, "drover/6-d");
    /* Stale timestamp: refused even though the signature matches. */
    std_sig(key, 32, "msg_1", now - 3600, merge, sig);
    snprintf(hdr, sizeof(hdr),
             "x-gitlab-event: Merge Request Hook\nwebhook-id: msg_1\nwebhook-timestamp: %lld\n"
             "webhook-signature: v1,%s\n",
             now - 3600, sig);
    expect(deliver("gitlab", "web", hdr, "msg_1", merge), 401, NULL);
    /* A plain token is not enough once a signing token is configured. */
    snprintf(hdr, sizeof(hdr), "x-gitlab-event: Merge Request Hook\nx-gitlab-token: %s\n", secret);
    expect(deliver("gitlab", "web", hdr, "msg_1", merge), 401, NULL);
    /* Fresh, with a rotated-out key listed first. */
    std_sig(key, 32, "msg_1", now, merge, sig);
    snprintf(hdr, sizeof(hdr),
             "x-gitlab-event: Merge Request Hook\nwebhook-id: msg_1\nwebhook-timestamp: %lld\n"
             "webhook-signature: v1,AAAAbm90IHRoaXMgb25lAAAAAAAAAAAAAAAAAAAAAAA= v1,%s\n",
             now, sig);
    expect(deliver("gitlab", "web", hdr, "msg_1", merge), 200, "completed");
    free(merge);
}
END_TEST

START_TEST(github_issue_label_and_pr_mention)
{
    char agent[37], *issue, *s;
    json_int_t id;
    struct call c;

    id = project_task("github", 8, "drover/8-e", agent);
    issue = payload("github_issues_labeled", 1, "");
    c = github("issues", "i-1", issue);
    ck_assert_int_eq(c.status, 202);
    ck_assert_str_eq(result_of(&c), "task_created");
    /* The issue's author and the labeller, as GitHub names them, are on the task's JSON. */
    {
        struct err err = {0};
        json_t *t = NULL;

        ck_assert_int_eq(
            queue_get(&fx.db, json_integer_value(json_object_get(c.body, "task_id")), &t, &err), 0);
        ck_assert_str_eq(json_string_value(json_object_get(t, "forge_author")), "Codertocat");
        ck_assert_str_eq(json_string_value(json_object_get(t, "forge_requester")), "Codertocat");
        json_decref(t);
    }
    json_decref(c.body);
    /* The same issue labelled again later (a new delivery): still one task. */
    {
        char *again = payload("github_issues_labeled", 1, "");

        again[strlen(again) - 1] = ' ';
        strcat(again, "}");
        expect(github("issues", "i-2", again), 200, "task_exists");
        free(again);
    }
    s = scalar_s("SELECT count(*) FROM tasks WHERE title LIKE 'issue #1:%'");
    ck_assert_str_eq(s, "1");
    free(s);
    /* "@drover ..." in a PR conversation sends the task back. */
    free(issue);
    issue = payload("github_issue_comment", 8, "");
    expect_task_field(id, "coalesce(forge_requester, '-')", "-");
    expect(github("issue_comment", "i-3", issue), 200, "rework");
    expect_state(id, "backlog");
    /* The commenter who asked for the rework. */
    expect_task_field(id, "coalesce(forge_requester, '-')", "Codertocat");
    free(issue);
}
END_TEST

/* The prompt the task's next attempt gets (drover-agent's builder, on the stored context). */
static char *next_prompt(json_int_t id)
{
    struct err err = {0};
    json_t *task = NULL;
    char *p;

    ck_assert_int_eq(queue_get(&fx.db, id, &task, &err), 0);
    p = runner_prompt_build(task, "drover/next");
    json_decref(task);
    return p;
}

static char *inline_warning(json_int_t id)
{
    char q[256];

    snprintf(q, sizeof(q),
             "SELECT string_agg(message, ' | ') FROM activity WHERE task_id = %lld"
             " AND kind = 'system' AND level = 'warning'",
             (long long)id);
    return scalar_s(q);
}

/* The two inline comments every forge's review below carries. */
#define TWO_FILES                                                                                  \
    "[{\"path\":\"src/parse.c\",\"line\":12,\"body\":\"Handle the empty line.\"},"                 \
    "{\"path\":\"README.md\",\"line\":3,\"body\":\"Document the --strict flag.\"}]"

/* The task went back to work with both comments of TWO_FILES in its next prompt (returned). */
static char *reworked_with_two_files(json_int_t id, const char *author)
{
    char *p, want[256], *s;
    const char *a, *b;

    expect_state(id, "backlog");
    p = next_prompt(id);
    snprintf(want, sizeof(want), "src/parse.c:12 \xe2\x80\x94 Handle the empty line. (%s)", author);
    a = strstr(p, want);
    snprintf(want, sizeof(want), "README.md:3 \xe2\x80\x94 Document the --strict flag. (%s)",
             author);
    b = strstr(p, want);
    ck_assert_msg(a && b, "%s", p);
    ck_assert_msg(strstr(p, "\n  src/parse.c:\n") && strstr(p, "\n  README.md:\n"), "%s", p);
    s = inline_warning(id);
    ck_assert_msg(!*s, "unexpected warning: %s", s);
    free(s);
    return p;
}

START_TEST(github_review_inline_comments_reach_the_prompt)
{
    char agent[37], *s, *review, *p;
    json_int_t id;

    id = project_task("github", 8, "drover/8-p", agent);
    /* The fixture's review.id; its webhook names the review but carries none of its comments. */
    fake_review("{\"forge\":\"github\",\"number\":8,\"id\":237895671,\"user\":\"Codertocat\","
                "\"comments\":" TWO_FILES "}");
    review = payload("github_pull_request_review", 8, "drover/8-p");
    expect(github("pull_request_review", "r-1", review), 200, "rework");
    p = reworked_with_two_files(id, "Codertocat");
    ck_assert_msg(strstr(p, "Review from Codertocat: Please handle the empty file too."), "%s", p);
    free(p);
    /* The stored records keep where each comment sits and its link. */
    s = scalar_s("SELECT string_agg(path || ':' || line || ' ' || position || ' '"
                 " || (diff_hunk IS NOT NULL) || ' ' || (url LIKE 'https://github.test/%'), ','"
                 " ORDER BY id) FROM review_comments WHERE kind = 'inline'");
    ck_assert_str_eq(s, "src/parse.c:12 2 true true,README.md:3 2 true true");
    free(s);
    free(review);
}
END_TEST

START_TEST(gitea_review_inline_comments_reach_the_prompt)
{
    char agent[37], *review, *p;
    json_int_t id;

    id = project_task("gitea", 14, "drover/14-p", agent);
    /* Gitea's payload names no review: the sender's latest REQUEST_CHANGES review is read. */
    fake_review("{\"forge\":\"gitea\",\"number\":14,\"user\":\"someone\",\"comments\":"
                "[{\"path\":\"x.c\",\"line\":1,\"body\":\"someone else's review\"}]}");
    fake_review(
        "{\"forge\":\"gitea\",\"number\":14,\"user\":\"reviewer\",\"state\":\"COMMENT\","
        "\"comments\":[{\"path\":\"y.c\",\"line\":1,\"body\":\"an older comment review\"}]}");
    fake_review("{\"forge\":\"gitea\",\"number\":14,\"user\":\"reviewer\","
                "\"body\":\"The new function needs a test.\",\"comments\":" TWO_FILES "}");
    review = payload("gitea_pull_request_review_rejected", 14, "drover/14-p");
    expect(gitea("pull_request_rejected", "pull_request_review_rejected", "gr-1", review), 200,
           "rework");
    p = reworked_with_two_files(id, "reviewer");
    ck_assert_msg(strstr(p, "Review from reviewer: The new function needs a test.") &&
                      !strstr(p, "someone else's review") && !strstr(p, "an older comment"),
                  "%s", p);
    free(p);
    free(review);
}
END_TEST

START_TEST(gitlab_unresolved_diff_notes_reach_the_prompt)
{
    char agent[37], *note, *p;
    json_int_t id;

    id = project_task("gitlab", 6, "drover/6-p", agent);
    /* A merge request has no reviews: its unresolved diff notes are read, resolved ones not. */
    fake_review("{\"forge\":\"gitlab\",\"number\":6,\"user\":\"root\",\"comments\":" TWO_FILES "}");
    fake_review("{\"forge\":\"gitlab\",\"number\":6,\"user\":\"root\",\"comments\":"
                "[{\"path\":\"old.c\",\"line\":2,\"body\":\"already fixed\",\"resolved\":true}]}");
    note = payload("gitlab_note_merge_request", 6, "drover/6-p");
    expect(gitlab("Note Hook", "66666666-6666-4666-8666-666666666666", note), 200, "rework");
    p = reworked_with_two_files(id, "root");
    /* The note that addressed Drover is an inline comment too (its own file and line). */
    ck_assert_msg(strstr(p, "src/io.c:12 \xe2\x80\x94 /drover this should not ignore errors") &&
                      !strstr(p, "already fixed"),
                  "%s", p);
    free(p);
    free(note);
}
END_TEST

/* `s` with its first `from` replaced by `to` (owned). */
static char *replaced(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    char *out;

    ck_assert_ptr_nonnull(at);
    out = malloc(strlen(s) + strlen(to) + 1);
    sprintf(out, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
    return out;
}

/* GitLab's "Request changes": a reviewer's state becoming requested_changes in a merge request
 * update reworks like GitHub's changes_requested review, with the unresolved diff notes; an
 * update in which no reviewer's state changed to it is ignored. */
START_TEST(gitlab_requested_changes_reworks)
{
    char agent[37], *body, *same, *p;
    json_int_t id = project_task("gitlab", 33, "drover/33-rc", agent);

    fake_review("{\"forge\":\"gitlab\",\"number\":33,\"user\":\"reviewer\",\"comments\":" TWO_FILES
                "}");
    body = payload("gitlab_merge_request_review_requested_changes", 33, "drover/33-rc");
    same = replaced(body, "\"review_started\"", "\"requested_changes\"");
    expect(gitlab("Merge Request Hook", "rc-0", same), 200, "ignored");
    expect_state(id, "ready_to_test");
    expect(gitlab("Merge Request Hook", "rc-1", body), 200, "rework");
    p = reworked_with_two_files(id, "reviewer");
    free(p);
    expect_task_field(id, "forge_requester", "reviewer");
    free(same);
    free(body);
}
END_TEST

/* Deliver forge `_i`'s (gitea, github, gitlab) review that asks for changes on PR `number`. */
static void deliver_review(int i, int number, const char *branch, const char *delivery)
{
    char *body;

    if (i == 0) {
        body = payload("gitea_pull_request_review_rejected", number, branch);
        expect(gitea("pull_request_rejected", "pull_request_review_rejected", delivery, body), 200,
               "rework");
    } else if (i == 1) {
        body = payload("github_pull_request_review", number, branch);
        expect(github("pull_request_review", delivery, body), 200, "rework");
    } else {
        char idem[64];

        snprintf(idem, sizeof(idem), "%.28s-0000-4000-8000-000000000000", delivery);
        body = payload("gitlab_note_merge_request", number, branch);
        expect(gitlab("Note Hook", idem, body), 200, "rework");
    }
    free(body);
}

/* A review of `n` inline comments ("note 1" .. "note n") on forge `forge`'s PR `number`. */
static void fake_long_review(const char *forge, int number, int n)
{
    size_t cap = (size_t)n * 64 + 256, o;
    char *spec = malloc(cap);

    o = (size_t)snprintf(spec, cap,
                         "{\"forge\":\"%s\",\"number\":%d,\"id\":237895671,"
                         "\"user\":\"reviewer\",\"comments\":[",
                         forge, number);
    for (int k = 1; k <= n; k++)
        o += (size_t)snprintf(spec + o, cap - o,
                              "%s{\"path\":\"f%d.c\",\"line\":%d,"
                              "\"body\":\"note %d\"}",
                              k > 1 ? "," : "", k, k, k);
    snprintf(spec + o, cap - o, "]}");
    fake_review(spec);
    free(spec);
}

/* _i: gitea, github, gitlab. The comments call answers 500: the rework still happens. */
START_TEST(forge_500_on_comments_still_reworks)
{
    static const char *const forges[] = {"gitea", "github", "gitlab"};
    const char *forge = forges[_i];
    char agent[37], spec[256], *s, *p;
    json_int_t id;

    id = project_task(forge, 9, "drover/9-p", agent);
    snprintf(spec, sizeof(spec),
             "{\"forge\":\"%s\",\"number\":9,\"id\":237895671,\"user\":\"reviewer\","
             "\"fail\":500,\"comments\":" TWO_FILES "}",
             forge);
    fake_review(spec);
    deliver_review(_i, 9, "drover/9-p", "f-1");
    expect_state(id, "backlog");
    p = next_prompt(id);
    ck_assert_msg(!strstr(p, "Handle the empty line."), "%s", p);
    ck_assert_msg(strstr(p, _i == 0   ? "The new function needs a test."
                            : _i == 1 ? "Please handle the empty file too."
                                      : "this should not ignore errors"),
                  "%s", p);
    free(p);
    s = inline_warning(id);
    ck_assert_msg(strstr(s, "inline comments could not be fetched") &&
                      strstr(s, "the rework carries the review's summary only") &&
                      (strstr(s, "500") || strstr(s, "rror")),
                  "%s", s);
    free(s);
}
END_TEST

/* _i: gitea, github, gitlab. A review thread longer than a page: every page is read, as each
 * forge paginates (the fake's pages of 2: Link on Gitea's reviews and GitHub's comments,
 * X-Next-Page on GitLab's discussions; Gitea answers a review's comments whole). */
START_TEST(every_page_of_the_review_thread_reaches_the_prompt)
{
    static const char *const forges[] = {"gitea", "github", "gitlab"};
    char agent[37], want[64], *p, *s;
    json_int_t id;

    /* PR numbers of their own: the fake keeps every review registered by earlier tests. */
    id = project_task(forges[_i], 31, "drover/31-pages", agent);
    /* Gitea names no review: the reviewer's is found on the third page of the reviews list. */
    for (int k = 0; _i == 0 && k < 4; k++)
        fake_review("{\"forge\":\"gitea\",\"number\":31,\"user\":\"someone\","
                    "\"state\":\"COMMENT\",\"comments\":[]}");
    fake_long_review(forges[_i], 31, 7);
    fake_post("/_fake/pages?max=2", "", 200);
    deliver_review(_i, 31, "drover/31-pages", "pages-1");
    expect_state(id, "backlog");
    p = next_prompt(id);
    for (int k = 1; k <= 7; k++) {
        snprintf(want, sizeof(want), "f%d.c:%d \xe2\x80\x94 note %d", k, k, k);
        ck_assert_msg(strstr(p, want), "no %s in %s", want, p);
    }
    free(p);
    s = inline_warning(id);
    ck_assert_msg(!*s, "unexpected warning: %s", s);
    free(s);
}
END_TEST

/* More inline comments than a rework reads: the first 1,000 are kept, and the task says so. */
START_TEST(a_review_thread_past_the_bound_is_cut_with_a_note)
{
    char agent[37], q[200], *s;
    json_int_t id;

    id = project_task("github", 32, "drover/32-cut", agent);
    fake_long_review("github", 32, FORGE_REVIEW_MAX_COMMENTS + 5);
    deliver_review(1, 32, "drover/32-cut", "cut-1");
    expect_state(id, "backlog");
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM review_comments WHERE task_id = %lld AND kind = 'inline'",
             (long long)id);
    s = scalar_s(q);
    ck_assert_int_eq(atoi(s), FORGE_REVIEW_MAX_COMMENTS);
    free(s);
    s = inline_warning(id);
    ck_assert_msg(strstr(s, "more inline comments than a rework reads"), "%s", s);
    free(s);
}
END_TEST

/* On a fast worker a review that needs the forge is handed on, recording nothing. */
START_TEST(review_fetch_runs_on_the_slow_workers)
{
    char agent[37], *before, *review;

    project_task("github", 8, "drover/8-p", agent);
    review = payload("github_pull_request_review", 8, "drover/8-p");
    before = snapshot();
    fast_worker = true;
    {
        struct call c = github("pull_request_review", "s-1", review);

        ck_assert_int_eq(c.status, -1);
        json_decref(c.body);
    }
    expect_unchanged(before);
    /* A merge needs no forge call: a fast worker applies it. */
    free(review);
    review = payload("github_pull_request_closed", 8, "drover/8-p");
    expect(github("pull_request", "s-2", review), 200, "completed");
    free(review);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("forgehooks");
    TCase *tc = tcase_create("forgehooks");
    int failed;

    testdb_setup();
    fake_start();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, github_hmac_test_vector);
    tcase_add_test(tc, github_review_thread_rework_then_merge);
    tcase_add_test(tc, bad_signatures_are_401_and_change_nothing);
    tcase_add_test(tc, webhook_secret_from_a_file);
    tcase_add_test(tc, unknown_events_and_foreign_prs_are_acknowledged);
    tcase_add_test(tc, gitea_closed_cancels_and_command_reworks);
    tcase_add_test(tc, gitlab_note_rework_merge_and_issue_label);
    tcase_add_test(tc, gitlab_signing_token_standard_webhooks);
    tcase_add_test(tc, github_issue_label_and_pr_mention);
    tcase_add_test(tc, github_review_inline_comments_reach_the_prompt);
    tcase_add_test(tc, gitea_review_inline_comments_reach_the_prompt);
    tcase_add_test(tc, gitlab_unresolved_diff_notes_reach_the_prompt);
    tcase_add_loop_test(tc, forge_500_on_comments_still_reworks, 0, 3);
    tcase_add_test(tc, review_fetch_runs_on_the_slow_workers);
    tcase_add_loop_test(tc, every_page_of_the_review_thread_reaches_the_prompt, 0, 3);
    tcase_add_test(tc, a_review_thread_past_the_bound_is_cut_with_a_note);
    tcase_add_test(tc, gitlab_requested_changes_reworks);
    suite_add_tcase(s, tc);
    failed = testsuite_run(s) != EXIT_SUCCESS;
    fake_stop();
    testdb_teardown();
    return failed ? 1 : 0;
}
