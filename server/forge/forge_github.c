/*
 * GitHub (api.github.com, or GHES's /api/v3): a branch is a ref made from the base's commit
 * (GET git/ref/heads/{base}, then POST git/refs), 422 "Reference already exists" when it is
 * there; POST pulls answers 422 "A pull request already exists for owner:branch", resolved by
 * listing open pulls with head=owner:branch. A new pull request's labels, reviewers and
 * assignees are set afterwards (forge_propts.c). Worker threads only.
 */
#include "core/http.h"
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <stdlib.h>
#include <string.h>

/* GET git/ref/heads/<name>: 0 with sha filled, 1 when absent (404), -1 on other failures. */
static int forge_github_ref(const struct forge *f, const char *name, char sha[41], struct err *err)
{
    char *path = mem_printf("/repos/%s/git/ref/heads/%s", f->repo_path, name);
    struct err e = {0};
    json_t *ref = NULL;
    int r = forge_http_get_json(f, path, JSON_OBJECT, "reading a branch", &ref, &e);
    const char *s = json_string_value(json_object_get(json_object_get(ref, "object"), "sha"));

    if (r == 0 && !s)
        r = err_set(&e, ERR_INTERNAL, "reading a branch: the forge's answer names no commit");
    if (r == 0)
        snprintf(sha, 41, "%.40s", s);
    else if (r == 1 && e.code != ERR_NOT_FOUND)
        r = -1;
    if (r < 0 && err)
        *err = e;
    json_decref(ref);
    free(path);
    return r;
}

/* What a branch call hands its callbacks (ctx): the name and the commit it is made from. */
struct forge_github_branch_ctx {
    const char *name;
    const char *base_sha;
};

static json_t *forge_github_branch(const void *ctx, const json_t *ref, bool created)
{
    const struct forge_github_branch_ctx *b = ctx;

    /* A new branch points at the base's commit; an existing one wherever the lookup read. */
    return forge_backend_branch_record(
        b->name, created ? b->base_sha : json_string_value(json_object_get(ref, "sha")), NULL,
        created);
}

/* 422: "Reference already exists" or a real validation failure; reading the ref tells which. */
static int forge_github_existing_branch(const struct forge *f, const struct forge_http_create *op,
                                        const void *ctx, const struct forge_http_resp *conflict,
                                        json_t **found, struct err *err)
{
    const struct forge_github_branch_ctx *b = ctx;
    char sha[41];
    int r = forge_github_ref(f, b->name, sha, err);

    if (r == 0)
        *found = json_pack("{s:s}", "sha", sha);
    else if (r == 1)
        forge_http_fail(conflict, op->what, err);
    return r == 0 ? 0 : -1;
}

static const struct forge_http_create forge_github_branch_op = {
    "creating the branch", 422, forge_github_existing_branch, forge_github_branch};

int forge_github_create_branch(const struct forge *f, const char *name, const char *base,
                               json_t **out, struct err *err)
{
    char base_sha[41], *path = mem_printf("/repos/%s/git/refs", f->repo_path);
    char *ref = mem_printf("refs/heads/%s", name);
    const struct forge_github_branch_ctx b = {.name = name, .base_sha = base_sha};
    json_t *body = NULL;
    int rc = -1, found;

    found = forge_github_ref(f, base, base_sha, err);
    if (found < 0)
        goto out;
    if (found == 1) {
        err_set(err, ERR_NOT_FOUND, "base branch '%s' not found in %s", base, f->repo_path);
        goto out;
    }
    body = json_pack("{s:s, s:s}", "ref", ref, "sha", base_sha);
    rc = forge_http_create(f, &forge_github_branch_op, path, body, &b, out, err);
out:
    json_decref(body);
    free(path);
    free(ref);
    return rc;
}

static json_t *forge_github_pr(const void *req, const json_t *p, bool created)
{
    return forge_backend_pr_record(FORGE_GITHUB, json_integer_value(json_object_get(p, "number")),
                                   json_string_value(json_object_get(p, "html_url")),
                                   json_string_value(json_object_get(p, "state")), req, created);
}

/*
 * 422: either "already exists" or a real validation failure; the open pulls with
 * head=owner:branch (ctx: the request) tell which.
 */
static int forge_github_existing_pr(const struct forge *f, const struct forge_http_create *op,
                                    const void *ctx, const struct forge_http_resp *conflict,
                                    json_t **found, struct err *err)
{
    const struct forge_pr_req *req = ctx;
    size_t olen = strcspn(f->repo_path, "/");
    char *eh = http_escape(req->head), *eb = http_escape(req->base);
    char *path = mem_printf("/repos/%s/pulls?head=%.*s:%s&base=%s&state=open", f->repo_path,
                            (int)olen, f->repo_path, eh, eb);
    json_t *list = NULL;
    int r = forge_http_get_json(f, path, JSON_ARRAY, "listing pull requests", &list, err);

    if (r == 0 && json_array_size(list) > 0)
        *found = json_incref(json_array_get(list, 0));
    else if (r >= 0)
        r = forge_http_fail(conflict, op->what, err);
    json_decref(list);
    free(eh);
    free(eb);
    free(path);
    return r == 0 ? 0 : -1;
}

static const struct forge_http_create forge_github_pr_op = {
    "creating the pull request", 422, forge_github_existing_pr, forge_github_pr};

int forge_github_create_pull_request(const struct forge *f, const struct forge_pr_req *req,
                                     json_t **out, struct err *err)
{
    char *path = mem_printf("/repos/%s/pulls", f->repo_path);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "title", req->title, "head", req->head, "base",
                             req->base, "body", req->body ? req->body : "");
    int rc;

    if (req->draft)
        json_object_set_new(body, "draft", json_true());
    rc = forge_http_create(f, &forge_github_pr_op, path, body, req, out, err);
    /* A new pull request's labels, reviewers and assignees: three calls of their own. */
    if (rc == 0 && json_is_true(json_object_get(*out, "created")))
        forge_propts_github(f, json_integer_value(json_object_get(*out, "number")), req, *out);

    json_decref(body);
    free(path);
    return rc;
}
