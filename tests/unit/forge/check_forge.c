/*
 * The forge backends against the in-repo fake of the Gitea/Forgejo, GitLab and GitHub APIs
 * (tests/fakes/fake_forge.py, a real HTTP server on loopback), and the git backend against a
 * real bare repository. Covers creation, idempotency (the conflict answers 409/400/422 resolved
 * by reading the existing object back), auth failures and missing refs.
 */
#include <check.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakeproc.h"
#include "core/http.h"
#include "core/mem.h"
#include "core/model.h"
#include "forge/forge_backend.h"
#include "forge/forge_ghapp.h"
#include "testsuite.h"

#define TOKEN "fake-forge-secret"
/* sha1("main"): the fake's main branch commit. */
#define MAIN_SHA "b28b7af69320201d1cf206ebf28373980add1451"

static pid_t fake_pid;
static int fake_port;
static char gitdir[256];
static char main_sha[41];

static char appdir[256];

/* A GitHub App for the fake: an RSA key pair, the public half given to the fake. */
static void app_setup(void)
{
    char cmd[1024], pub[300];

    snprintf(appdir, sizeof(appdir), "/tmp/drover-check-forge-app-%d", (int)getpid());
    snprintf(
        cmd, sizeof(cmd),
        "set -e; rm -rf %1$s; mkdir -p %1$s; cd %1$s;"
        "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pem 2>/dev/null;"
        "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.pem 2>/dev/null;"
        "openssl pkey -in key.pem -pubout -out pub.pem",
        appdir);
    if (system(cmd) != 0)
        exit(1);
    snprintf(pub, sizeof(pub), "%s/pub.pem", appdir);
    setenv("FAKE_FORGE_APP_ID", "4242", 1);
    setenv("FAKE_FORGE_APP_PUBKEY", pub, 1);
    setenv("FAKE_FORGE_APP_INSTALLATION", "77", 1);
}

static void fake_start(void)
{
    app_setup();
    fake_pid = fakeproc_start("tests/fakes/fake_forge.py", TOKEN, &fake_port);
}

static void fake_stop(void)
{
    fakeproc_stop(fake_pid);
}

static void git_setup(void)
{
    char cmd[2048];
    FILE *p;

    snprintf(gitdir, sizeof(gitdir), "/tmp/drover-check-forge-%d", (int)getpid());
    snprintf(cmd, sizeof(cmd),
             "set -e; rm -rf %1$s; mkdir -p %1$s; git init -q --bare -b main %1$s/remote.git;"
             "git init -q -b main %1$s/work; cd %1$s/work;"
             "git -c user.name=t -c user.email=t@t commit -q --allow-empty -m init;"
             "git push -q %1$s/remote.git main",
             gitdir);
    if (system(cmd) != 0)
        exit(1);
    snprintf(cmd, sizeof(cmd), "git --git-dir=%s/remote.git rev-parse main", gitdir);
    p = popen(cmd, "r");
    if (!p || !fgets(main_sha, sizeof(main_sha), p))
        exit(1);
    pclose(p);
}

static void setup_all(void)
{
    fake_start();
    git_setup();
}

static void teardown_all(void)
{
    char cmd[1024];

    fake_stop();
    snprintf(cmd, sizeof(cmd), "rm -rf %s %s", gitdir, appdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", gitdir);
}

static const char *const flavours[] = {"gitea", "gitlab", "github"};

/* The API URL of flavour i on the fake. Owned. */
static char *api_url(int i)
{
    static const char *const prefix[] = {"/api/v1", "/api/v4", ""};
    return mem_printf("http://127.0.0.1:%d%s", fake_port, prefix[i]);
}

static void forge_for(struct forge *f, int i, const char *token)
{
    memset(f, 0, sizeof(*f));
    ck_assert_int_eq(forge_backend_kind_parse(flavours[i], &f->kind, NULL), 0);
    f->api_url = api_url(i);
    f->repo_path = "acme/widgets";
    f->token = token;
    f->timeout_s = 10;
}

START_TEST(api_branch_idempotent)
{
    struct forge f;
    struct err err = {0};
    json_t *a = NULL, *b = NULL;

    forge_for(&f, _i, TOKEN);
    ck_assert_msg(forge_backend_create_branch(&f, "agent/task-1", "main", &a, &err) == 0, "%s",
                  err.msg);
    ck_assert(json_is_true(json_object_get(a, "created")));
    ck_assert_str_eq(json_string_value(json_object_get(a, "name")), "agent/task-1");
    ck_assert_str_eq(json_string_value(json_object_get(a, "sha")), MAIN_SHA);
    /* The second call hits the conflict answer and adopts the branch. */
    ck_assert_msg(forge_backend_create_branch(&f, "agent/task-1", "main", &b, &err) == 0, "%s",
                  err.msg);
    ck_assert(json_is_false(json_object_get(b, "created")));
    ck_assert_str_eq(json_string_value(json_object_get(b, "sha")), MAIN_SHA);
    json_decref(a);
    json_decref(b);
    free((char *)f.api_url);
}
END_TEST

START_TEST(api_pull_request_idempotent)
{
    struct forge f;
    struct err err = {0};
    struct forge_pr_req req = {
        .head = "agent/task-2", .base = "main", .title = "Task 2", .body = "done"};
    json_t *br = NULL, *a = NULL, *b = NULL;

    forge_for(&f, _i, TOKEN);
    ck_assert_int_eq(forge_backend_create_branch(&f, "agent/task-2", "main", &br, &err), 0);
    ck_assert_msg(forge_backend_create_pull_request(&f, &req, &a, &err) == 0, "%s", err.msg);
    ck_assert(json_is_true(json_object_get(a, "created")));
    ck_assert_str_eq(json_string_value(json_object_get(a, "forge")), flavours[_i]);
    ck_assert_int_eq(json_integer_value(json_object_get(a, "number")), 1);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(a, "url")), "/1"));
    ck_assert_msg(forge_backend_create_pull_request(&f, &req, &b, &err) == 0, "%s", err.msg);
    ck_assert(json_is_false(json_object_get(b, "created")));
    ck_assert_int_eq(json_integer_value(json_object_get(b, "number")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(b, "url")),
                     json_string_value(json_object_get(a, "url")));
    json_decref(br);
    json_decref(a);
    json_decref(b);
    free((char *)f.api_url);
}
END_TEST

START_TEST(api_auth_failures)
{
    struct forge f;
    struct err err = {0};
    struct forge_pr_req req = {.head = "agent/task-3", .base = "main", .title = "T"};
    json_t *o = NULL;

    forge_for(&f, _i, "wrong-token");
    ck_assert_int_eq(forge_backend_create_branch(&f, "agent/task-3", "main", &o, &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAUTHORIZED);
    ck_assert_ptr_null(o);
    ck_assert_ptr_null(strstr(err.msg, "wrong-token")); /* secrets never in messages */
    ck_assert_int_eq(forge_backend_create_pull_request(&f, &req, &o, &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAUTHORIZED);
    f.token = NULL;
    ck_assert_int_eq(forge_backend_create_branch(&f, "agent/task-3", "main", &o, &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAUTHORIZED);
    free((char *)f.api_url);
}
END_TEST

START_TEST(api_missing_things)
{
    struct forge f;
    struct err err = {0};
    struct forge_pr_req req = {.head = "agent/never-made", .base = "main", .title = "T"};
    json_t *o = NULL;

    forge_for(&f, _i, TOKEN);
    ck_assert_int_eq(forge_backend_create_branch(&f, "agent/task-4", "no-such-base", &o, &err), -1);
    ck_assert_msg(err.code == ERR_NOT_FOUND, "%s", err.msg);
    /* The failed attempt created nothing: the branch is still absent. */
    ck_assert_int_eq(
        forge_backend_create_pull_request(
            &f, &(struct forge_pr_req){.head = "agent/task-4", .base = "main", .title = "T"}, &o,
            &err),
        -1);
    ck_assert_int_ne(err.code, ERR_OK);
    ck_assert_int_eq(forge_backend_create_pull_request(&f, &req, &o, &err), -1);
    f.repo_path = "acme/nope";
    ck_assert_int_eq(forge_backend_create_branch(&f, "agent/task-4", "main", &o, &err), -1);
    ck_assert_msg(err.code == ERR_NOT_FOUND, "%s", err.msg);
    f.repo_path = "not a path";
    ck_assert_int_eq(forge_backend_create_branch(&f, "agent/task-4", "main", &o, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_ptr_null(o);
    free((char *)f.api_url);
}
END_TEST

/* forge_backend_hooks: each forge's hook list in the one shape (the fake's hooks, registered
 * with POST /_fake/hooks in the forge's own shape). */
START_TEST(api_hooks_listed)
{
    static const char *const hook[] = {
        "{\"type\":\"forgejo\",\"active\":false,\"config\":{\"url\":\"https://d.test/h\","
        "\"content_type\":\"form\"},\"events\":[\"pull_request\",\"issue_comment\"]}",
        "{\"url\":\"https://d.test/h\",\"note_events\":true,\"merge_requests_events\":true,"
        "\"push_events\":false,\"alert_status\":\"temporarily_disabled\"}",
        "{\"active\":false,\"config\":{\"url\":\"https://d.test/h\",\"content_type\":\"form\"},"
        "\"events\":[\"pull_request\",\"issue_comment\"]}"};
    char *url = mem_printf("http://127.0.0.1:%d/_fake/hooks", fake_port);
    char *body = mem_printf("{\"forge\":\"%s\",\"repo\":\"acme/widgets\",\"hooks\":[%s]}",
                            flavours[_i], hook[_i]);
    struct http_req req = {
        .method = "POST", .url = url, .body = body, .content_type = "application/json"};
    struct http_resp hr;
    struct forge f;
    struct err err = {0};
    json_t *hooks = NULL, *h, *ev;
    char *evs;

    ck_assert_msg(http_request(NULL, &req, &hr, &err) == 0 && hr.status == 200, "%s", err.msg);
    http_resp_clear(&hr);
    forge_for(&f, _i, TOKEN);
    ck_assert_msg(forge_backend_hooks(&f, &hooks, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(json_array_size(hooks), 1);
    h = json_array_get(hooks, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(h, "id")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(h, "url")), "https://d.test/h");
    ck_assert(json_is_false(json_object_get(h, "active")));
    ck_assert_str_eq(json_string_value(json_object_get(h, "content_type")),
                     _i == 1 ? "json" : "form");
    ev = json_object_get(h, "events");
    evs = json_dumps(ev, JSON_COMPACT);
    ck_assert_str_eq(evs, _i == 1 ? "[\"note_events\",\"merge_requests_events\"]"
                                  : "[\"pull_request\",\"issue_comment\"]");
    if (_i == 1)
        ck_assert_str_eq(json_string_value(json_object_get(h, "state")), "temporarily_disabled");
    if (_i == 0)
        ck_assert_str_eq(json_string_value(json_object_get(h, "type")), "forgejo");
    free(evs);
    json_decref(hooks);
    /* A refused token is the forge's 401, and the token is in no message. */
    f.token = "wrong-token";
    ck_assert_int_eq(forge_backend_hooks(&f, &hooks, &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAUTHORIZED);
    ck_assert_ptr_null(strstr(err.msg, "wrong-token"));
    ck_assert_ptr_null(hooks);
    f.repo_path = "acme/nope";
    f.token = TOKEN;
    ck_assert_int_eq(forge_backend_hooks(&f, &hooks, &err), -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
    free((char *)f.api_url);
    free(body);
    free(url);
}
END_TEST

START_TEST(api_unreachable)
{
    struct forge f = {.kind = FORGE_GITEA,
                      .api_url = "http://127.0.0.1:1/api/v1",
                      .repo_path = "acme/widgets",
                      .token = TOKEN,
                      .timeout_s = 5};
    struct err err = {0};
    json_t *o = NULL;

    ck_assert_int_eq(forge_backend_create_branch(&f, "agent/x", "main", &o, &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAVAILABLE);
}
END_TEST

START_TEST(git_branch_and_record)
{
    char *url = mem_printf("%s/remote.git", gitdir), cmd[1024], sha[64] = "";
    struct forge f = {.kind = FORGE_GIT, .repo_url = url, .timeout_s = 30};
    struct forge_pr_req req = {.head = "agent/task-9", .base = "main", .title = "Nine"};
    struct err err = {0};
    json_t *a = NULL, *b = NULL, *pr = NULL;
    FILE *p;

    ck_assert_msg(forge_backend_create_branch(&f, "agent/task-9", "main", &a, &err) == 0, "%s",
                  err.msg);
    ck_assert(json_is_true(json_object_get(a, "created")));
    ck_assert_str_eq(json_string_value(json_object_get(a, "sha")), main_sha);
    snprintf(cmd, sizeof(cmd), "git --git-dir=%s rev-parse refs/heads/agent/task-9", url);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(fgets(sha, sizeof(sha), p));
    pclose(p);
    ck_assert_int_eq(strncmp(sha, main_sha, 40), 0);
    ck_assert_int_eq(forge_backend_create_branch(&f, "agent/task-9", "main", &b, &err), 0);
    ck_assert(json_is_false(json_object_get(b, "created")));
    ck_assert_msg(forge_backend_create_pull_request(&f, &req, &pr, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(json_string_value(json_object_get(pr, "forge")), "git");
    ck_assert(json_is_null(json_object_get(pr, "url")));
    json_decref(a);
    json_decref(b);
    json_decref(pr);
    free(url);
}
END_TEST

/* droverd's git refuses protocols that are not enabled before running anything. */
START_TEST(git_protocols_refused)
{
    char *url = mem_printf("%s/remote.git", gitdir), cmd[1024];
    struct forge f = {
        .kind = FORGE_GIT, .repo_url = url, .timeout_s = 30, .protocols = "https,ssh"};
    struct err err = {0};
    json_t *a = NULL;

    ck_assert_int_eq(forge_backend_create_branch(&f, "agent/refused", "main", &a, &err), -1);
    ck_assert_int_eq(err.code, ERR_FORBIDDEN);
    ck_assert_ptr_nonnull(strstr(err.msg, "file protocol is not enabled"));
    ck_assert_ptr_null(a);
    snprintf(cmd, sizeof(cmd), "git --git-dir=%s rev-parse -q --verify refs/heads/agent/refused",
             url);
    ck_assert_int_ne(system(cmd), 0); /* nothing was pushed */
    f.protocols = "https,ssh,file";
    ck_assert_msg(forge_backend_create_branch(&f, "agent/refused", "main", &a, &err) == 0, "%s",
                  err.msg);
    json_decref(a);
    free(url);
}
END_TEST

/* GitHub App installation tokens against the fake's copy of GitHub's published API. */
START_TEST(ghapp_installation_token)
{
    char key[300], other[300], expires[32], *tok = NULL, *api = api_url(2), *jwt, *dot, *pl;
    struct forge_ghapp app = {.app_id = "4242",
                              .key_file = key,
                              .installation_id = "77",
                              .repository = "widgets",
                              .api_url = api,
                              .timeout_s = 10};
    struct forge f;
    struct err err = {0};
    json_t *out = NULL, *claims;
    unsigned char raw[512];
    int n;

    snprintf(key, sizeof(key), "%s/key.pem", appdir);
    snprintf(other, sizeof(other), "%s/other.pem", appdir);
    /* The JWT: RS256, iss the App, a lifetime within GitHub's 10 minutes. */
    jwt = forge_ghapp_jwt(&app, 1000000, &err);
    ck_assert_ptr_nonnull(jwt);
    dot = strchr(jwt, '.');
    pl = mem_printf("%.*s", (int)strcspn(dot + 1, "."), dot + 1);
    for (char *p = pl; *p; p++)
        *p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
    while (strlen(pl) % 4) {
        char *q = mem_printf("%s=", pl);
        free(pl);
        pl = q;
    }
    n = EVP_DecodeBlock(raw, (const unsigned char *)pl, (int)strlen(pl));
    ck_assert_int_gt(n, 0);
    raw[n] = '\0';
    claims = json_loads((const char *)raw, JSON_DISABLE_EOF_CHECK, NULL);
    ck_assert_ptr_nonnull(claims);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "iss")), "4242");
    ck_assert_int_eq(json_integer_value(json_object_get(claims, "iat")), 1000000 - 60);
    ck_assert_int_eq(json_integer_value(json_object_get(claims, "exp")), 1000000 + 540);
    json_decref(claims);
    free(pl);
    free(jwt);

    ck_assert_msg(forge_ghapp_token(&app, &tok, expires, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(strncmp(tok, "ghs_", 4), 0);
    ck_assert_int_eq(strlen(expires), 20);
    /* The short-lived token works where the static one would. */
    forge_for(&f, 2, tok);
    ck_assert_msg(forge_backend_create_branch(&f, "agent/app-token", "main", &out, &err) == 0, "%s",
                  err.msg);
    json_decref(out);
    free((char *)f.api_url);
    free(tok);
    tok = NULL;
    /* Refusals: another installation, another key, another App, a URL off the allow-list. */
    app.installation_id = "78";
    ck_assert_int_eq(forge_ghapp_token(&app, &tok, expires, &err), -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
    app.installation_id = "77";
    app.key_file = other;
    ck_assert_int_eq(forge_ghapp_token(&app, &tok, expires, &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAUTHORIZED);
    app.key_file = key;
    app.app_id = "4243";
    ck_assert_int_eq(forge_ghapp_token(&app, &tok, expires, &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAUTHORIZED);
    app.app_id = "4242/../x";
    ck_assert_int_eq(forge_ghapp_token(&app, &tok, expires, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    app.app_id = "4242";
    app.allow = "https://api.github.com/";
    ck_assert_int_eq(forge_ghapp_token(&app, &tok, expires, &err), -1);
    ck_assert_int_eq(err.code, ERR_FORBIDDEN);
    app.allow = NULL;
    app.key_file = "/nonexistent/key.pem";
    ck_assert_int_eq(forge_ghapp_token(&app, &tok, expires, &err), -1);
    ck_assert_ptr_null(tok);
    free(api);
}
END_TEST

START_TEST(git_failures)
{
    char *url = mem_printf("%s/remote.git", gitdir), *missing = mem_printf("%s/nope.git", gitdir);
    struct forge f = {.kind = FORGE_GIT, .repo_url = url, .timeout_s = 30};
    struct forge_pr_req req = {.head = "agent/unpushed", .base = "main", .title = "T"};
    struct err err = {0};
    json_t *o = NULL;

    ck_assert_int_eq(forge_backend_create_branch(&f, "agent/t", "no-such-base", &o, &err), -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "no-such-base"));
    ck_assert_int_eq(forge_backend_create_pull_request(&f, &req, &o, &err), -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
    ck_assert_int_eq(forge_backend_create_branch(&f, "bad..name", "main", &o, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    f.repo_url = missing;
    ck_assert_int_eq(forge_backend_create_branch(&f, "agent/t", "main", &o, &err), -1);
    ck_assert_msg(err.code == ERR_NOT_FOUND, "%d %s", err.code, err.msg);
    f.repo_url = "git://127.0.0.1:1/none.git";
    ck_assert_int_eq(forge_backend_create_branch(&f, "agent/t", "main", &o, &err), -1);
    ck_assert_msg(err.code == ERR_UNAVAILABLE, "%d %s", err.code, err.msg);
    /* Credentials embedded in a URL are redacted from the message. */
    f.repo_url = "http://user:hunter2@127.0.0.1:1/none.git";
    ck_assert_int_eq(forge_backend_create_branch(&f, "agent/t", "main", &o, &err), -1);
    ck_assert_ptr_null(strstr(err.msg, "hunter2"));
    ck_assert_ptr_null(o);
    free(url);
    free(missing);
}
END_TEST

static const struct {
    const char *name;
    bool ok;
} names[] = {{"agent/task-1", true}, {"feature/a.b_c", true}, {"main", true},    {"", false},
             {"-x", false},          {"a..b", false},         {"a/", false},     {"/a", false},
             {"a//b", false},        {"a/.b", false},         {"a.lock", false}, {"a b", false},
             {"a~1", false},         {"a:b", false},          {"HEAD", false},   {"a\nb", false},
             {"x.", false}};

START_TEST(branch_names)
{
    ck_assert_msg(model_branch_name_valid(names[_i].name) == names[_i].ok, "%s", names[_i].name);
}
END_TEST

START_TEST(cred_rules)
{
    struct forge gh = {.kind = FORGE_GITHUB, .token = "t"};
    struct forge gl = {.kind = FORGE_GITLAB, .api_url = "https://gl.corp/api/v4", .token = "t"};
    struct forge listed = {.kind = FORGE_GITEA,
                           .api_url = "https://evil.example/api/v1",
                           .allow = "https://git.corp/, https://api.git.corp",
                           .token = "t"};
    struct forge proto = {.kind = FORGE_GIT, .repo_url = "/srv/r.git", .protocols = "https,ssh"};
    struct err err = {0};
    char b[32];

    ck_assert_str_eq(forge_cred_scheme("https://h/r", b, sizeof(b)), "https");
    ck_assert_str_eq(forge_cred_scheme("HTTP://h/r", b, sizeof(b)), "http");
    ck_assert_str_eq(forge_cred_scheme("git@h:o/r.git", b, sizeof(b)), "ssh");
    ck_assert_str_eq(forge_cred_scheme("git+ssh://h/r", b, sizeof(b)), "ssh");
    ck_assert_str_eq(forge_cred_scheme("/srv/r.git", b, sizeof(b)), "file");
    ck_assert_str_eq(forge_cred_scheme("./a:b/r.git", b, sizeof(b)), "file");
    ck_assert_str_eq(forge_cred_scheme("file:///srv/r.git", b, sizeof(b)), "file");
    /* The default: the forge's own origin (and, for api.X, X). */
    ck_assert_int_eq(forge_cred_check(&gh, "https://api.github.com/repos/o/r", true, &err), 0);
    ck_assert_int_eq(forge_cred_check(&gh, "https://github.com/o/r.git", true, &err), 0);
    ck_assert_int_eq(forge_cred_check(&gh, "https://x:y@github.com/o/r.git", true, &err), 0);
    ck_assert_int_eq(forge_cred_check(&gh, "https://github.com.evil/o/r.git", true, &err), -1);
    ck_assert_int_eq(err.code, ERR_FORBIDDEN);
    ck_assert_int_eq(forge_cred_check(&gh, "https://evil.example/o/r.git", true, &err), -1);
    ck_assert_int_eq(forge_cred_check(&gh, "https://evil.example/o/r.git", false, &err), 0);
    ck_assert_int_eq(forge_cred_check(&gl, "https://gl.corp/api/v4/projects", true, &err), 0);
    ck_assert_int_eq(forge_cred_check(&gl, "https://gl.corp:8443/api/v4/projects", true, &err), -1);
    ck_assert_int_eq(forge_cred_check(&gl, "http://gl.corp/api/v4/projects", true, &err), -1);
    /* An explicit list wins over the project's own (here hostile) API URL. */
    ck_assert_int_eq(forge_cred_check(&listed, "https://evil.example/api/v1/repos", true, &err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "bound to https://git.corp/"));
    ck_assert_int_eq(forge_cred_check(&listed, "https://git.corp/o/r.git", true, &err), 0);
    ck_assert_int_eq(forge_cred_check(&listed, "https://api.git.corp/v1", true, &err), 0);
    ck_assert_int_eq(forge_cred_check(&listed, "https://api.git.corpse/v1", true, &err), -1);
    ck_assert_int_eq(forge_cred_check(&listed, "https://git.corp.evil/o/r.git", true, &err), -1);
    /* Protocols. */
    ck_assert_int_eq(forge_cred_check(&proto, "/srv/r.git", false, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "file protocol is not enabled"));
    ck_assert_int_eq(forge_cred_check(&proto, "file:///srv/r.git", false, &err), -1);
    ck_assert_int_eq(forge_cred_check(&proto, "http://h/r.git", false, &err), -1);
    ck_assert_int_eq(forge_cred_check(&proto, "git://h/r.git", false, &err), -1);
    ck_assert_int_eq(forge_cred_check(&proto, "ext::sh -c evil", false, &err), -1);
    ck_assert_int_eq(forge_cred_check(&proto, "https://h/r.git", false, &err), 0);
    ck_assert_int_eq(forge_cred_check(&proto, "git@h:r.git", false, &err), 0);
}
END_TEST

START_TEST(token_lookup)
{
    char path[] = "/tmp/drover-forge-secrets-XXXXXX", *t = NULL;
    int fd = mkstemp(path);
    struct err err = {0};
    const char body[] = "# forge tokens\nother tok-other\ndemo-app = tok-file\n";

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, body, strlen(body)), (ssize_t)strlen(body));
    close(fd);
    unsetenv("DROVER_FORGE_TOKEN");
    ck_assert_int_eq(forge_backend_token_lookup("demo-app", path, &t, &err), 0);
    ck_assert_str_eq(t, "tok-file");
    free(t);
    setenv("DROVER_FORGE_TOKEN_DEMO_APP", "tok-env", 1);
    ck_assert_int_eq(forge_backend_token_lookup("demo-app", path, &t, &err), 0);
    ck_assert_str_eq(t, "tok-env");
    free(t);
    unsetenv("DROVER_FORGE_TOKEN_DEMO_APP");
    ck_assert_int_eq(forge_backend_token_lookup("unknown", path, &t, &err), 0);
    ck_assert_ptr_null(t);
    setenv("DROVER_FORGE_TOKEN", "tok-default", 1);
    ck_assert_int_eq(forge_backend_token_lookup("unknown", path, &t, &err), 0);
    ck_assert_str_eq(t, "tok-default");
    free(t);
    unsetenv("DROVER_FORGE_TOKEN");
    ck_assert_int_eq(forge_backend_token_lookup("x", "/nonexistent/secrets", &t, &err), -1);
    unlink(path);
}
END_TEST

START_TEST(kind_parse)
{
    enum forge_kind k;
    struct err err = {0};

    ck_assert_int_eq(forge_backend_kind_parse("forgejo", &k, &err), 0);
    ck_assert_int_eq(k, FORGE_GITEA);
    ck_assert_int_eq(forge_backend_kind_parse("github", &k, &err), 0);
    ck_assert_int_eq(k, FORGE_GITHUB);
    ck_assert_int_eq(forge_backend_kind_parse("svn", &k, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("forge");
    TCase *api = tcase_create("api"), *pure = tcase_create("pure");
    int failed;

    tcase_add_unchecked_fixture(api, setup_all, teardown_all);
    tcase_set_timeout(api, 60);
    tcase_add_loop_test(api, api_branch_idempotent, 0, 3);
    tcase_add_loop_test(api, api_pull_request_idempotent, 0, 3);
    tcase_add_loop_test(api, api_auth_failures, 0, 3);
    tcase_add_loop_test(api, api_missing_things, 0, 3);
    tcase_add_loop_test(api, api_hooks_listed, 0, 3);
    tcase_add_test(api, api_unreachable);
    tcase_add_test(api, git_branch_and_record);
    tcase_add_test(api, git_failures);
    tcase_add_test(api, git_protocols_refused);
    tcase_add_test(api, ghapp_installation_token);
    tcase_add_test(pure, cred_rules);
    tcase_add_loop_test(pure, branch_names, 0, sizeof(names) / sizeof(names[0]));
    tcase_add_test(pure, token_lookup);
    tcase_add_test(pure, kind_parse);
    suite_add_tcase(s, api);
    suite_add_tcase(s, pure);
    failed = testsuite_run(s) != EXIT_SUCCESS;
    return failed ? 1 : 0;
}
