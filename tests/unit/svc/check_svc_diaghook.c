/*
 * The diagnostics check webhook:<project> (svc/svc_diaghook.c) on what forge_backend_hooks
 * reads from the in-repo fake forge (tests/fakes/fake_forge.py) for Gitea, GitHub and GitLab:
 * no hook to Drover (the fix names the URL, the content type, the secret's variable and the
 * events), an active hook with the events (ok), an inactive / disabled one, missing events,
 * form payloads, another host than DROVER_PUBLIC_URL, no secret, and a token that may not list
 * the hooks. No database.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakeproc.h"
#include "core/http.h"
#include "core/mem.h"
#include "forge/forge_backend.h"
#include "svc/svc_diaghook.h"
#include "testsuite.h"

#define TOKEN "diaghook-forge-token"
#define READER "diaghook-reader-token"
#define PUBLIC "https://drover.example"

static pid_t fake_pid;
static int fake_port;

static const char *const flavours[] = {"gitea", "gitlab", "github"};

static void setup_all(void)
{
    setenv("FAKE_FORGE_READER_TOKEN", READER, 1);
    fake_pid = fakeproc_start("tests/fakes/fake_forge.py", TOKEN, &fake_port);
}

static void teardown_all(void)
{
    fakeproc_stop(fake_pid);
}

/* Replace `repo`'s hooks on flavour i of the fake with `hooks` (a JSON array text). */
static void hooks_register(int i, const char *repo, const char *hooks)
{
    char *url = mem_printf("http://127.0.0.1:%d/_fake/hooks", fake_port);
    char *body =
        mem_printf("{\"forge\":\"%s\",\"repo\":\"%s\",\"hooks\":%s}", flavours[i], repo, hooks);
    struct http_req req = {
        .method = "POST", .url = url, .body = body, .content_type = "application/json"};
    struct http_resp r;
    struct err err = {0};

    ck_assert_msg(http_request(NULL, &req, &r, &err) == 0, "%s", err.msg);
    ck_assert_msg(r.status == 200, "registering hooks: HTTP %ld %s", r.status, r.body);
    http_resp_clear(&r);
    free(body);
    free(url);
}

/* Drover's URL for project "widgets" on flavour i under `base`. Owned. */
static char *drover_url(int i, const char *base)
{
    return mem_printf("%s/api/hooks/forge/%s/widgets", base, flavours[i]);
}

/* One hook of flavour i's shape: `url`, all of Drover's events or some, active or not. */
static char *hook_json(int i, const char *url, bool all_events, bool active)
{
    if (i == 0)
        return mem_printf("{\"type\":\"gitea\",\"config\":{\"url\":\"%s\"},\"active\":%s,"
                          "\"events\":%s}",
                          url, active ? "true" : "false",
                          all_events ? "[\"push\",\"pull_request\",\"pull_request_review\","
                                       "\"issue_comment\",\"issue_label\"]"
                                     : "[\"push\",\"pull_request\"]");
    if (i == 1)
        return mem_printf("{\"url\":\"%s\",\"merge_requests_events\":true,\"note_events\":%s,"
                          "\"issues_events\":true%s}",
                          url, all_events ? "true" : "false",
                          active ? "" : ",\"alert_status\":\"disabled\"");
    return mem_printf("{\"config\":{\"url\":\"%s\",\"content_type\":\"json\"},\"active\":%s,"
                      "\"events\":%s}",
                      url, active ? "true" : "false",
                      all_events ? "[\"pull_request\",\"pull_request_review\","
                                   "\"pull_request_review_comment\",\"issue_comment\",\"issues\"]"
                                 : "[\"pull_request\",\"push\"]");
}

static void forge_for(struct forge *f, int i, const char *repo, const char *token)
{
    static const char *const prefix[] = {"/api/v1", "/api/v4", ""};

    memset(f, 0, sizeof(*f));
    ck_assert_int_eq(forge_backend_kind_parse(flavours[i], &f->kind, NULL), 0);
    f->api_url = mem_printf("http://127.0.0.1:%d%s", fake_port, prefix[i]);
    f->repo_path = repo;
    f->token = token;
    f->timeout_s = 10;
}

/* The check for `repo` on flavour i as svc_diag makes it: list, then judge. Owned. */
static json_t *run_check(int i, const char *repo, const char *token, const char *public_url,
                         bool secret_set)
{
    struct forge f;
    struct svc_diaghook_in in = {.project = "widgets",
                                 .repo_path = repo,
                                 .public_url = public_url,
                                 .secret_set = secret_set};
    struct err err = {0};
    json_t *hooks = NULL, *r;

    forge_for(&f, i, repo, token);
    in.kind = f.kind;
    if (forge_backend_hooks(&f, &hooks, &err) < 0)
        r = svc_diaghook_unlisted(&in, &err);
    else
        r = svc_diaghook_check(&in, hooks);
    json_decref(hooks);
    free((char *)f.api_url);
    ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "webhook:widgets");
    return r;
}

static const char *field(const json_t *r, const char *k)
{
    const char *s = json_string_value(json_object_get(r, k));
    return s ? s : "";
}

/* status, and that `detail` and `fix` contain the given texts (NULL: no fix expected). */
static void expect(const json_t *r, const char *status, const char *detail, const char *fix)
{
    char *dump = json_dumps(r, JSON_COMPACT);

    ck_assert_msg(strcmp(field(r, "status"), status) == 0, "want %s: %s", status, dump);
    ck_assert_msg(strstr(field(r, "detail"), detail), "detail lacks '%s': %s", detail, dump);
    if (fix)
        ck_assert_msg(strstr(field(r, "fix"), fix), "fix lacks '%s': %s", fix, dump);
    else
        ck_assert_msg(!json_is_string(json_object_get(r, "fix")), "an ok check has no fix: %s",
                      dump);
    free(dump);
}

START_TEST(no_hook_names_the_fix)
{
    static const char *const events[] = {"Issue label", "Merge request events",
                                         "Pull request review comments"};
    char *other = hook_json(_i, "https://ci.example/hook", true, true);
    char *list = mem_printf("[%s]", other), *want = drover_url(_i, PUBLIC);
    json_t *r;

    hooks_register(_i, "acme/none", list);
    r = run_check(_i, "acme/none", TOKEN, PUBLIC, true);
    expect(r, "warn", "no webhook to Drover: reviews on the forge will not reach it", want);
    expect(r, "warn", "1 other webhook", "DROVER_WEBHOOK_SECRET_WIDGETS");
    expect(r, "warn", "acme/none", events[_i]);
    if (_i != 1)
        expect(r, "warn", "no webhook", "content type application/json");
    json_decref(r);
    /* Without DROVER_PUBLIC_URL the fix still names the path to add. */
    r = run_check(_i, "acme/none", TOKEN, NULL, true);
    expect(r, "warn", "no webhook to Drover", "/api/hooks/forge/");
    json_decref(r);
    free(other);
    free(list);
    free(want);
}
END_TEST

START_TEST(active_hook_is_ok)
{
    char *url = drover_url(_i, PUBLIC), *h = hook_json(_i, url, true, true);
    char *other = hook_json(_i, "https://ci.example/hook", false, true);
    char *list = mem_printf("[%s,%s]", other, h), *want = mem_printf("webhook %s active", url);
    json_t *r;

    hooks_register(_i, "acme/good", list);
    r = run_check(_i, "acme/good", TOKEN, PUBLIC, true);
    expect(r, "ok", want, NULL);
    json_decref(r);
    /* The same hook with no secret for droverd to verify it: every delivery would be refused. */
    r = run_check(_i, "acme/good", TOKEN, PUBLIC, false);
    expect(r, "warn", "no secret", "DROVER_WEBHOOK_SECRET_WIDGETS");
    json_decref(r);
    free(url);
    free(h);
    free(other);
    free(list);
    free(want);
}
END_TEST

START_TEST(inactive_hook_warns)
{
    char *url = drover_url(_i, PUBLIC), *h = hook_json(_i, url, true, false);
    char *list = mem_printf("[%s]", h);
    json_t *r;

    hooks_register(_i, "acme/off", list);
    r = run_check(_i, "acme/off", TOKEN, PUBLIC, true);
    expect(r, "warn", _i == 1 ? "is disabled by the forge (alert_status disabled)" : "is inactive",
           _i == 1 ? "enable the hook again" : "make the webhook active");
    json_decref(r);
    free(url);
    free(h);
    free(list);
}
END_TEST

START_TEST(missing_events_warn)
{
    static const char *const missing[] = {"pull_request_review, issue_comment, issue_label",
                                          "note_events",
                                          ("pull_request_review, pull_request_review_comment, "
                                           "issue_comment, issues")};
    char *url = drover_url(_i, PUBLIC), *h = hook_json(_i, url, false, true);
    char *list = mem_printf("[%s]", h), *want = mem_printf("missing events %s", missing[_i]);
    json_t *r;

    hooks_register(_i, "acme/partial", list);
    r = run_check(_i, "acme/partial", TOKEN, PUBLIC, true);
    expect(r, "warn", want, "subscribe the webhook to");
    json_decref(r);
    free(url);
    free(h);
    free(list);
    free(want);
}
END_TEST

START_TEST(reader_token_warns)
{
    static const char *const perm[] = {"administrator of the repository", "Maintainer role",
                                       "\"Webhooks: read\""};
    char *url = drover_url(_i, PUBLIC), *h = hook_json(_i, url, true, true);
    char *list = mem_printf("[%s]", h);
    struct forge f;
    struct err err = {0};
    json_t *hooks = NULL, *r;

    hooks_register(_i, "acme/reader", list);
    forge_for(&f, _i, "acme/reader", READER);
    ck_assert_int_eq(forge_backend_hooks(&f, &hooks, &err), -1);
    ck_assert_msg(err.code == ERR_FORBIDDEN, "%s", err.msg);
    ck_assert_ptr_null(hooks);
    ck_assert_ptr_null(strstr(err.msg, READER));
    free((char *)f.api_url);
    r = run_check(_i, "acme/reader", READER, PUBLIC, true);
    expect(r, "warn", "the project's token may not list acme/reader's webhooks", perm[_i]);
    expect(r, "warn", "HTTP 403", url); /* and how to check by hand */
    json_decref(r);
    free(url);
    free(h);
    free(list);
}
END_TEST

/* The URL rules: another host than DROVER_PUBLIC_URL, the path alone without it, another
 * project's or forge's path, and GitHub's "*" / Gitea's form payloads. */
START_TEST(url_and_payload_rules)
{
    char *old = drover_url(_i, "https://old.example"), *h = hook_json(_i, old, true, true);
    char *list = mem_printf("[%s]", h), *want = drover_url(_i, PUBLIC);
    char *slash =
        mem_printf("http://10.0.0.5:8080/drover/api/hooks/forge/%s/widgets/?x=1", flavours[_i]);
    char *other = mem_printf("%s/api/hooks/forge/%s/widgets2", PUBLIC, flavours[_i]);
    json_t *r;

    hooks_register(_i, "acme/moved", list);
    r = run_check(_i, "acme/moved", TOKEN, PUBLIC, true);
    expect(r, "warn", "not DROVER_PUBLIC_URL", want);
    json_decref(r);
    r = run_check(_i, "acme/moved", TOKEN, NULL, true); /* the path alone */
    expect(r, "ok", "active", NULL);
    json_decref(r);
    free(h);
    free(list);
    h = hook_json(_i, slash, true, true);
    list = mem_printf("[%s]", h);
    hooks_register(_i, "acme/moved", list);
    r = run_check(_i, "acme/moved", TOKEN, NULL, true);
    expect(r, "ok", "webhook http://10.0.0.5:8080/drover/api/hooks/forge/", NULL);
    ck_assert_ptr_null(strstr(field(r, "detail"), "x=1")); /* the query is not shown */
    json_decref(r);
    free(h);
    free(list);
    h = hook_json(_i, other, true, true);
    list = mem_printf("[%s]", h);
    hooks_register(_i, "acme/moved", list);
    r = run_check(_i, "acme/moved", TOKEN, PUBLIC, true);
    expect(r, "warn", "no webhook to Drover", want);
    json_decref(r);
    free(h);
    free(list);
    if (_i == 2) {
        list = mem_printf("[{\"config\":{\"url\":\"%s\"},\"events\":[\"*\"]}]", want);
        hooks_register(_i, "acme/moved", list);
        r = run_check(_i, "acme/moved", TOKEN, PUBLIC, true);
        expect(r, "ok", "(events *)", NULL);
        json_decref(r);
        free(list);
    }
    if (_i == 0) {
        list = mem_printf("[{\"config\":{\"url\":\"%s\",\"content_type\":\"form\"},\"events\":"
                          "[\"pull_request\",\"pull_request_review_rejected\",\"issue_comment\","
                          "\"issues\"]}]",
                          want);
        hooks_register(_i, "acme/moved", list);
        r = run_check(_i, "acme/moved", TOKEN, PUBLIC, true);
        expect(r, "warn", "sends form payloads", "application/json");
        json_decref(r);
        free(list);
    }
    free(old);
    free(want);
    free(slash);
    free(other);
}
END_TEST

/* Every page of the list is read: Drover's hook is the last of 120 (Gitea pages by 50). */
START_TEST(every_page_is_read)
{
    char *url = drover_url(_i, PUBLIC), *h = hook_json(_i, url, true, true);
    char *filler = hook_json(_i, "https://ci.example/hook", false, true);
    size_t n = 0, cap = 130 * (strlen(filler) + 2) + strlen(h) + 8;
    char *list = malloc(cap);
    struct forge f;
    struct err err = {0};
    json_t *hooks = NULL, *r;

    ck_assert_ptr_nonnull(list);
    list[n++] = '[';
    for (int k = 0; k < 119; k++)
        n += (size_t)snprintf(list + n, cap - n, "%s,", filler);
    snprintf(list + n, cap - n, "%s]", h);
    hooks_register(_i, "acme/many", list);
    forge_for(&f, _i, "acme/many", TOKEN);
    ck_assert_msg(forge_backend_hooks(&f, &hooks, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(json_array_size(hooks), 120);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(hooks, 119), "url")), url);
    json_decref(hooks);
    free((char *)f.api_url);
    r = run_check(_i, "acme/many", TOKEN, PUBLIC, true);
    expect(r, "ok", "active", NULL);
    json_decref(r);
    free(url);
    free(h);
    free(filler);
    free(list);
}
END_TEST

START_TEST(plain_git_has_no_hooks)
{
    struct forge f = {.kind = FORGE_GIT, .repo_url = "file:///nowhere.git"};
    struct err err = {0};
    json_t *hooks = NULL;

    ck_assert_int_eq(forge_backend_hooks(&f, &hooks, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_ptr_null(hooks);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("svc_diaghook");
    TCase *t = tcase_create("webhook check");
    int failed;

    tcase_set_timeout(t, 60);
    tcase_add_unchecked_fixture(t, setup_all, teardown_all);
    tcase_add_loop_test(t, no_hook_names_the_fix, 0, 3);
    tcase_add_loop_test(t, active_hook_is_ok, 0, 3);
    tcase_add_loop_test(t, inactive_hook_warns, 0, 3);
    tcase_add_loop_test(t, missing_events_warn, 0, 3);
    tcase_add_loop_test(t, reader_token_warns, 0, 3);
    tcase_add_loop_test(t, url_and_payload_rules, 0, 3);
    tcase_add_loop_test(t, every_page_is_read, 0, 3);
    tcase_add_test(t, plain_git_has_no_hooks);
    suite_add_tcase(s, t);
    failed = testsuite_run(s) != EXIT_SUCCESS;
    return failed ? 1 : 0;
}
