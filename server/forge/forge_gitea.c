/*
 * Gitea and Forgejo (/api/v1): POST /repos/{owner}/{repo}/branches (CreateBranchRepoOption)
 * answers 409 for an existing branch; POST /repos/{owner}/{repo}/pulls answers 409 when an open
 * pull request already joins the same head and base. Both conflicts are resolved by reading the
 * existing object back. Worker threads only.
 */
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <stdlib.h>
#include <string.h>

static json_t *forge_gitea_branch(const json_t *b, bool created)
{
    const json_t *c = json_object_get(b, "commit");

    return forge_backend_branch_record(json_string_value(json_object_get(b, "name")),
                                       json_string_value(json_object_get(c, "id")), NULL, created);
}

int forge_gitea_create_branch(const struct forge *f, const char *name, const char *base,
                              json_t **out, struct err *err)
{
    char *path = mem_printf("/repos/%s/branches", f->repo_path), *one = NULL;
    json_t *body = json_pack("{s:s, s:s}", "new_branch_name", name, "old_ref_name", base);
    struct forge_http_resp r, g = {0};
    int rc = -1;

    if (forge_http_request(f, "POST", path, body, &r, err) < 0)
        goto out;
    if (r.status == 201 && json_is_object(r.json)) {
        *out = forge_gitea_branch(r.json, true);
        rc = 0;
    } else if (r.status == 409) {
        one = mem_printf("/repos/%s/branches/%s", f->repo_path, name);
        if (forge_http_request(f, "GET", one, NULL, &g, err) < 0)
            goto out;
        if (g.status != 200 || !json_is_object(g.json)) {
            forge_http_fail(&g, "reading the existing branch", err);
            goto out;
        }
        *out = forge_gitea_branch(g.json, false);
        rc = 0;
    } else {
        forge_http_fail(&r, "creating the branch", err);
    }
out:
    forge_http_resp_clear(&r);
    forge_http_resp_clear(&g);
    json_decref(body);
    free(path);
    free(one);
    return rc;
}

static json_t *forge_gitea_pr(const json_t *p, const struct forge_pr_req *req, bool created)
{
    return forge_backend_pr_record(FORGE_GITEA, json_integer_value(json_object_get(p, "number")),
                                   json_string_value(json_object_get(p, "html_url")),
                                   json_string_value(json_object_get(p, "state")), req, created);
}

/* The open pull request from head into base, paging through the list (50 per page). */
static int forge_gitea_find_pr(const struct forge *f, const struct forge_pr_req *req, json_t **out,
                               struct err *err)
{
    for (int page = 1; page <= 20; page++) {
        char *path = mem_printf("/repos/%s/pulls?state=open&limit=50&page=%d", f->repo_path, page);
        struct forge_http_resp r;
        size_t i, n;
        json_t *p;

        if (forge_http_request(f, "GET", path, NULL, &r, err) < 0) {
            free(path);
            return -1;
        }
        free(path);
        if (r.status != 200 || !json_is_array(r.json)) {
            forge_http_fail(&r, "listing pull requests", err);
            forge_http_resp_clear(&r);
            return -1;
        }
        n = json_array_size(r.json);
        json_array_foreach(r.json, i, p)
        {
            const char *h = json_string_value(json_object_get(json_object_get(p, "head"), "ref"));
            const char *b = json_string_value(json_object_get(json_object_get(p, "base"), "ref"));
            if (h && b && strcmp(h, req->head) == 0 && strcmp(b, req->base) == 0) {
                *out = forge_gitea_pr(p, req, false);
                forge_http_resp_clear(&r);
                return 0;
            }
        }
        forge_http_resp_clear(&r);
        if (n < 50)
            break;
    }
    return err_set(err, ERR_CONFLICT,
                   "the forge reports a pull request for %s -> %s but none "
                   "is open",
                   req->head, req->base);
}

int forge_gitea_create_pull_request(const struct forge *f, const struct forge_pr_req *req,
                                    json_t **out, struct err *err)
{
    char *path = mem_printf("/repos/%s/pulls", f->repo_path);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "head", req->head, "base", req->base, "title",
                             req->title, "body", req->body ? req->body : "");
    struct forge_http_resp r;
    int rc = -1;

    if (forge_http_request(f, "POST", path, body, &r, err) < 0)
        goto out;
    if (r.status == 201 && json_is_object(r.json)) {
        *out = forge_gitea_pr(r.json, req, true);
        rc = 0;
    } else if (r.status == 409) {
        rc = forge_gitea_find_pr(f, req, out, err);
    } else {
        forge_http_fail(&r, "creating the pull request", err);
    }
    forge_http_resp_clear(&r);
out:
    json_decref(body);
    free(path);
    return rc;
}
