/*
 * GitHub (api.github.com, or GHES's /api/v3): a branch is a ref made from the base's commit
 * (GET git/ref/heads/{base}, then POST git/refs), 422 "Reference already exists" when it is
 * there; POST pulls answers 422 "A pull request already exists for owner:branch", resolved by
 * listing open pulls with head=owner:branch. Worker threads only.
 */
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <stdlib.h>
#include <string.h>

/* GET git/ref/heads/<name>: 0 with sha filled, 1 when absent, -1 on other failures. */
static int forge_github_ref(const struct forge *f, const char *name, char sha[41], struct err *err)
{
    char *path = mem_printf("/repos/%s/git/ref/heads/%s", f->repo_path, name);
    struct forge_http_resp r;
    const char *s;
    int rc = -1;

    if (forge_http_request(f, "GET", path, NULL, &r, err) < 0)
        goto out;
    s = json_string_value(json_object_get(json_object_get(r.json, "object"), "sha"));
    if (r.status == 200 && s) {
        snprintf(sha, 41, "%.40s", s);
        rc = 0;
    } else if (r.status == 404) {
        rc = 1;
    } else {
        forge_http_fail(&r, "reading a branch", err);
    }
    forge_http_resp_clear(&r);
out:
    free(path);
    return rc;
}

int forge_github_create_branch(const struct forge *f, const char *name, const char *base,
                               json_t **out, struct err *err)
{
    char base_sha[41], sha[41], *path = mem_printf("/repos/%s/git/refs", f->repo_path);
    char *ref = mem_printf("refs/heads/%s", name);
    struct forge_http_resp r = {0};
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
    if (forge_http_request(f, "POST", path, body, &r, err) < 0)
        goto out;
    if (r.status == 201) {
        *out = forge_backend_branch_record(name, base_sha, NULL, true);
        rc = 0;
    } else if (r.status == 422) {
        found = forge_github_ref(f, name, sha, err);
        if (found == 0) {
            *out = forge_backend_branch_record(name, sha, NULL, false);
            rc = 0;
        } else if (found == 1) {
            forge_http_fail(&r, "creating the branch", err);
        }
    } else {
        forge_http_fail(&r, "creating the branch", err);
    }
out:
    forge_http_resp_clear(&r);
    json_decref(body);
    free(path);
    free(ref);
    return rc;
}

static json_t *forge_github_pr(const json_t *p, const struct forge_pr_req *req, bool created)
{
    return forge_backend_pr_record(FORGE_GITHUB, json_integer_value(json_object_get(p, "number")),
                                   json_string_value(json_object_get(p, "html_url")),
                                   json_string_value(json_object_get(p, "state")), req, created);
}

int forge_github_create_pull_request(const struct forge *f, const struct forge_pr_req *req,
                                     json_t **out, struct err *err)
{
    size_t olen = strcspn(f->repo_path, "/");
    char *eh = forge_http_escape(req->head), *eb = forge_http_escape(req->base);
    char *path = mem_printf("/repos/%s/pulls", f->repo_path);
    char *list = mem_printf("/repos/%s/pulls?head=%.*s:%s&base=%s&state=open", f->repo_path,
                            (int)olen, f->repo_path, eh, eb);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "title", req->title, "head", req->head, "base",
                             req->base, "body", req->body ? req->body : "");
    struct forge_http_resp r, g = {0};
    int rc = -1;

    if (forge_http_request(f, "POST", path, body, &r, err) < 0)
        goto out;
    if (r.status == 201 && json_is_object(r.json)) {
        *out = forge_github_pr(r.json, req, true);
        rc = 0;
    } else if (r.status == 422) {
        /* Either "already exists" or a real validation failure: the list tells which. */
        if (forge_http_request(f, "GET", list, NULL, &g, err) < 0)
            goto out;
        if (g.status == 200 && json_array_size(g.json) > 0) {
            *out = forge_github_pr(json_array_get(g.json, 0), req, false);
            rc = 0;
        } else {
            forge_http_fail(&r, "creating the pull request", err);
        }
    } else {
        forge_http_fail(&r, "creating the pull request", err);
    }
out:
    forge_http_resp_clear(&r);
    forge_http_resp_clear(&g);
    json_decref(body);
    free(eh);
    free(eb);
    free(path);
    free(list);
    return rc;
}
