/*
 * forge_http_create and forge_http_get_json, the request/response shape every forge backend
 * shares, against the in-repo fake forge (tests/fakes/fake_forge.py, real HTTP on loopback).
 * The backends' tests (check_forge.c) cover the documented answers; this covers what the helper
 * decides on its own: which status is handed to the backend's "already exists" lookup, what
 * happens when that lookup fails, and answers that are not JSON (a proxy's HTML error page, a
 * 201 without a body); the next page of a list as the forges' headers name it (forge_pages.c)
 * and Gitea's label ids of a repository and of its organisation (forge_propts.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fakeproc.h"
#include "core/http.h"
#include "core/mem.h"
#include "forge/forge_internal.h"
#include "testsuite.h"

#define TOKEN "fake-forge-secret"

static pid_t fake_pid;
static int fake_port;
static char api[64];

static void setup_all(void)
{
    fake_pid = fakeproc_start("tests/fakes/fake_forge.py", TOKEN, &fake_port);
    snprintf(api, sizeof(api), "http://127.0.0.1:%d", fake_port);
}

static void teardown_all(void)
{
    fakeproc_stop(fake_pid);
}

static const struct forge fake = {.kind = FORGE_GITEA,
                                  .api_url = api,
                                  .repo_path = "acme/widgets",
                                  .token = TOKEN,
                                  .timeout_s = 10};

/* The fake's /_fake/answer path that answers `status` with `body` of content type `type`. */
static char *answer_path(int status, const char *type, const char *body)
{
    char *t = http_escape(type), *b = http_escape(body);
    char *p = mem_printf("/_fake/answer?status=%d&type=%s&body=%s", status, t, b);

    free(t);
    free(b);
    return p;
}

/* What the test callbacks saw, and what the lookup should do (ctx of every call). */
struct probe {
    int existing_calls;
    long conflict_status;
    char conflict_message[64];
    bool lookup_fails;
};

static int probe_existing(const struct forge *f, const struct forge_http_create *op,
                          const void *ctx, const struct forge_http_resp *conflict, json_t **found,
                          struct err *err)
{
    struct probe *p = (struct probe *)ctx;

    (void)f;
    p->existing_calls++;
    p->conflict_status = conflict->status;
    snprintf(p->conflict_message, sizeof(p->conflict_message), "%s", forge_http_message(conflict));
    if (p->lookup_fails)
        return forge_http_fail(conflict, op->what, err);
    *found = json_pack("{s:s}", "name", "the-existing-one");
    return 0;
}

static json_t *probe_record(const void *ctx, const json_t *object, bool created)
{
    (void)ctx;
    return json_pack("{s:O, s:b}", "object", (json_t *)object, "created", created);
}

static const struct forge_http_create probe_op = {"creating the thing", 409, probe_existing,
                                                  probe_record};

START_TEST(created_answer_is_recorded)
{
    struct probe p = {0};
    struct err err = {0};
    json_t *body = json_pack("{s:s, s:s}", "new_branch_name", "agent/h-1", "old_ref_name", "main");
    char *gitea = mem_printf("%s/api/v1", api);
    const struct forge f = {.kind = FORGE_GITEA, .api_url = gitea, .token = TOKEN, .timeout_s = 10};
    json_t *out = NULL;

    /* A real create on the fake's Gitea API: 201 with the branch object. */
    ck_assert_msg(
        forge_http_create(&f, &probe_op, "/repos/acme/widgets/branches", body, &p, &out, &err) == 0,
        "%s", err.msg);
    ck_assert(json_is_true(json_object_get(out, "created")));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(out, "object"), "name")),
                     "agent/h-1");
    ck_assert_int_eq(p.existing_calls, 0);
    json_decref(out);
    json_decref(body);
    free(gitea);
}
END_TEST

START_TEST(conflict_goes_to_the_lookup)
{
    struct probe p = {0};
    struct err err = {0};
    char *path = answer_path(409, "application/json", "{\"message\": \"already there\"}");
    json_t *out = NULL;

    ck_assert_msg(forge_http_create(&fake, &probe_op, path, NULL, &p, &out, &err) == 0, "%s",
                  err.msg);
    ck_assert_int_eq(p.existing_calls, 1);
    ck_assert_int_eq(p.conflict_status, 409);
    ck_assert_str_eq(p.conflict_message, "already there");
    ck_assert(json_is_false(json_object_get(out, "created")));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(out, "object"), "name")),
                     "the-existing-one");
    json_decref(out);
    free(path);
}
END_TEST

START_TEST(failed_lookup_fails_the_call)
{
    struct probe p = {.lookup_fails = true};
    struct err err = {0};
    char *path = answer_path(409, "application/json", "{\"message\": \"locked\"}");
    json_t *out = NULL;

    ck_assert_int_eq(forge_http_create(&fake, &probe_op, path, NULL, &p, &out, &err), -1);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(p.existing_calls, 1);
    ck_assert_int_eq(err.code, ERR_CONFLICT);
    ck_assert_str_eq(err.msg, "creating the thing: forge answered HTTP 409: locked");
    free(path);
}
END_TEST

/* Only exists_status reaches the lookup: GitHub's 409 is not its "already exists". */
START_TEST(other_status_is_mapped_not_looked_up)
{
    static const struct forge_http_create op422 = {"creating the thing", 422, probe_existing,
                                                   probe_record};
    struct probe p = {0};
    struct err err = {0};
    char *path = answer_path(409, "application/json", "{\"message\": [\"first\", \"second\"]}");
    json_t *out = NULL;

    ck_assert_int_eq(forge_http_create(&fake, &op422, path, NULL, &p, &out, &err), -1);
    ck_assert_int_eq(p.existing_calls, 0);
    ck_assert_int_eq(err.code, ERR_CONFLICT);
    /* GitLab's list-of-messages form is quoted by its first entry. */
    ck_assert_str_eq(err.msg, "creating the thing: forge answered HTTP 409: first");
    ck_assert_ptr_null(out);
    free(path);
}
END_TEST

START_TEST(non_json_error_body)
{
    static const struct {
        int status;
        enum err_code code;
    } cases[] = {{502, ERR_UNAVAILABLE}, {400, ERR_INVALID}, {403, ERR_FORBIDDEN}};
    struct probe p = {0};
    struct err err = {0};
    char *path = answer_path(cases[_i].status, "text/html",
                             "<html><body><h1>Bad Gateway</h1> nginx</body></html>");
    json_t *out = NULL;
    char want[128];

    ck_assert_int_eq(forge_http_create(&fake, &probe_op, path, NULL, &p, &out, &err), -1);
    ck_assert_int_eq(err.code, cases[_i].code);
    /* The status is reported; the HTML page is not quoted into the message. */
    snprintf(want, sizeof(want), "creating the thing: forge answered HTTP %d", cases[_i].status);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(p.existing_calls, 0);
    ck_assert_ptr_null(out);
    free(path);
}
END_TEST

/* An exists_status whose body is not JSON still reaches the lookup (it reads the object back). */
START_TEST(non_json_conflict_body)
{
    struct probe p = {0};
    struct err err = {0};
    char *path = answer_path(409, "text/plain", "Conflict");
    json_t *out = NULL;

    ck_assert_msg(forge_http_create(&fake, &probe_op, path, NULL, &p, &out, &err) == 0, "%s",
                  err.msg);
    ck_assert_int_eq(p.existing_calls, 1);
    ck_assert_str_eq(p.conflict_message, "");
    ck_assert(json_is_false(json_object_get(out, "created")));
    json_decref(out);
    free(path);
}
END_TEST

/* 201 without a JSON object is not success: there is nothing to record. */
START_TEST(created_without_json)
{
    static const char *const bodies[] = {"Created", "[1, 2]", ""};
    struct probe p = {0};
    struct err err = {0};
    char *path = answer_path(201, _i == 1 ? "application/json" : "text/plain", bodies[_i]);
    json_t *out = NULL;

    ck_assert_int_eq(forge_http_create(&fake, &probe_op, path, NULL, &p, &out, &err), -1);
    ck_assert_int_eq(err.code, ERR_INTERNAL);
    ck_assert_str_eq(err.msg, "creating the thing: forge answered HTTP 201");
    ck_assert_int_eq(p.existing_calls, 0);
    ck_assert_ptr_null(out);
    free(path);
}
END_TEST

START_TEST(unreachable)
{
    const struct forge gone = {
        .kind = FORGE_GITEA, .api_url = "http://127.0.0.1:1", .timeout_s = 5};
    struct probe p = {0};
    struct err err = {0};
    json_t *out = NULL;

    ck_assert_int_eq(forge_http_create(&gone, &probe_op, "/x", NULL, &p, &out, &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAVAILABLE);
    ck_assert_int_eq(p.existing_calls, 0);
    ck_assert_int_eq(forge_http_get_json(&gone, "/x", JSON_OBJECT, "reading", &out, &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAVAILABLE);
    ck_assert_ptr_null(out);
}
END_TEST

START_TEST(get_json_wants_200_and_the_type)
{
    struct err err = {0};
    char *arr = answer_path(200, "application/json", "[{\"n\": 1}]");
    char *html = answer_path(200, "text/html", "<html></html>");
    char *missing = answer_path(404, "application/json", "{\"message\": \"Not Found\"}");
    json_t *j = NULL;

    ck_assert_int_eq(forge_http_get_json(&fake, arr, JSON_ARRAY, "listing", &j, &err), 0);
    ck_assert_int_eq(json_array_size(j), 1);
    json_decref(j);
    ck_assert_int_eq(forge_http_get_json(&fake, arr, JSON_OBJECT, "reading", &j, &err), 1);
    ck_assert_ptr_null(j);
    ck_assert_int_eq(err.code, ERR_INTERNAL);
    ck_assert_int_eq(forge_http_get_json(&fake, html, JSON_OBJECT, "reading", &j, &err), 1);
    ck_assert_ptr_null(j);
    ck_assert_int_eq(forge_http_get_json(&fake, missing, JSON_OBJECT, "reading", &j, &err), 1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
    ck_assert_str_eq(err.msg, "reading: forge answered HTTP 404: Not Found");
    free(arr);
    free(html);
    free(missing);
}
END_TEST

/* The next page as each forge's headers name it, asked of droverd's own API URL only. */
START_TEST(next_page_from_the_headers)
{
    static const struct {
        const char *api, *next_page, *link, *path, *want;
        bool elsewhere;
    } cases[] = {
        /* GitLab's X-Next-Page replaces "page" (not "per_page"); empty on the last page. */
        {"https://gl.example/api/v4/", "3", NULL, "/projects/a%2Fb/x?per_page=100&page=2&id=1",
         "/projects/a%2Fb/x?per_page=100&id=1&page=3", false},
        {"https://gl.example/api/v4/", "", NULL, "/p?per_page=100", NULL, false},
        /* A Link under the API path, whatever host the forge calls itself by. */
        {"https://gl.example/api/v4/", "",
         "<https://gitlab.internal/api/v4/p?page=2&per_page=100>; rel=\"next\", "
         "<https://gitlab.internal/api/v4/p?page=9>; rel=\"last\"",
         "/p?per_page=100", "/p?page=2&per_page=100", false},
        /* rel lists several types; GitHub's API URL (NULL: api.github.com) has no path. */
        {NULL, NULL,
         "<https://api.github.com/repositories/7/pulls/1/reviews/2/comments?per_page=100&page=1>;"
         " rel=\"prev first\", <https://api.github.com/repositories/7/pulls/1/reviews/2/"
         "comments?per_page=100&page=3>; rel=\"last next\"",
         "/x", "/repositories/7/pulls/1/reviews/2/comments?per_page=100&page=3", false},
        /* A next page outside the API path is not followed. */
        {"https://gl.example/api/v4", NULL, "<https://gl.example/elsewhere/p?page=2>; rel=\"next\"",
         "/p", NULL, true},
        /* No next: the last page. */
        {"https://gl.example/api/v4", NULL, "<https://gl.example/api/v4/p?page=1>; rel=\"first\"",
         "/p", NULL, false},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct forge f = {.kind = FORGE_GITLAB, .api_url = cases[i].api};
        struct forge_http_resp r = {0};
        bool elsewhere = !cases[i].elsewhere;
        char *n;

        r.next_page = cases[i].next_page ? mem_strdup(cases[i].next_page) : NULL;
        r.link = cases[i].link ? mem_strdup(cases[i].link) : NULL;
        n = forge_pages_next(&f, cases[i].path, &r, &elsewhere);
        if (cases[i].want)
            ck_assert_msg(n && strcmp(n, cases[i].want) == 0, "case %zu: %s", i, n ? n : "NULL");
        else
            ck_assert_msg(!n, "case %zu: %s", i, n);
        ck_assert_msg(elsewhere == cases[i].elsewhere, "case %zu", i);
        free(n);
        forge_http_resp_clear(&r);
    }
}
END_TEST

/* Gitea's label ids: the repository's, its organisation's for the rest; a repository of a
 * user (whose orgs/{name}/labels is 404) has only its own. */
START_TEST(gitea_label_ids_of_the_repository_and_its_organisation)
{
    char api1[80], url[80];
    const char *repos[] = {"acme/widgets", "bob/tools"};
    const char *want_ids[] = {"[1,101]", "[1]"},
               *want_missing[] = {"[\"nope\"]", "[\"org-wide\",\"nope\"]"};
    struct http_req req = {.method = "POST",
                           .url = url,
                           .body = "{\"forge\":\"gitea\",\"repo\":\"bob/tools\",\"hooks\":[]}",
                           .content_type = "application/json"};
    struct http_resp hr;
    struct err err = {0};

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/_fake/hooks", fake_port);
    ck_assert_int_eq(http_request(NULL, &req, &hr, &err), 0); /* makes bob/tools */
    http_resp_clear(&hr);
    snprintf(api1, sizeof(api1), "http://127.0.0.1:%d/api/v1", fake_port);
    for (int i = 0; i < 2; i++) {
        struct forge f = {.kind = FORGE_GITEA,
                          .api_url = api1,
                          .repo_path = repos[i],
                          .token = TOKEN,
                          .timeout_s = 10};
        json_t *ids = NULL, *missing = json_array();
        char *a, *b;

        ck_assert_msg(
            forge_propts_gitea_label_ids(&f, "drover,org-wide,nope", &ids, missing, &err) == 0,
            "%s", err.msg);
        a = json_dumps(ids, JSON_COMPACT);
        b = json_dumps(missing, JSON_COMPACT);
        ck_assert_str_eq(a, want_ids[i]);
        ck_assert_str_eq(b, want_missing[i]);
        free(a);
        free(b);
        json_decref(ids);
        json_decref(missing);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("forge_http");
    TCase *tc = tcase_create("fake");

    tcase_add_unchecked_fixture(tc, setup_all, teardown_all);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, created_answer_is_recorded);
    tcase_add_test(tc, conflict_goes_to_the_lookup);
    tcase_add_test(tc, failed_lookup_fails_the_call);
    tcase_add_test(tc, other_status_is_mapped_not_looked_up);
    tcase_add_loop_test(tc, non_json_error_body, 0, 3);
    tcase_add_test(tc, non_json_conflict_body);
    tcase_add_loop_test(tc, created_without_json, 0, 3);
    tcase_add_test(tc, unreachable);
    tcase_add_test(tc, get_json_wants_200_and_the_type);
    tcase_add_test(tc, next_page_from_the_headers);
    tcase_add_test(tc, gitea_label_ids_of_the_repository_and_its_organisation);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
