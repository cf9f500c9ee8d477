/*
 * GitLab (/api/v4): POST /projects/:id/repository/branches?branch=&ref= answers 400 for every
 * failure, "Branch already exists" included, so a 400 is followed by reading the branch back;
 * POST /projects/:id/merge_requests answers 409 when an open merge request joins the same
 * branches. :id is the URL-encoded path ("group%2Fproject"). Worker threads only.
 */
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <stdlib.h>
#include <string.h>

static json_t *forge_gitlab_branch(const json_t *b, bool created)
{
    return forge_backend_branch_record(
        json_string_value(json_object_get(b, "name")),
        json_string_value(json_object_get(json_object_get(b, "commit"), "id")),
        json_string_value(json_object_get(b, "web_url")), created);
}

int forge_gitlab_create_branch(const struct forge *f, const char *name, const char *base,
                               json_t **out, struct err *err)
{
    char *id = forge_http_escape(f->repo_path), *en = forge_http_escape(name);
    char *eb = forge_http_escape(base);
    char *path = mem_printf("/projects/%s/repository/branches?branch=%s&ref=%s", id, en, eb);
    char *one = mem_printf("/projects/%s/repository/branches/%s", id, en);
    struct forge_http_resp r, g = {0};
    int rc = -1;

    if (forge_http_request(f, "POST", path, NULL, &r, err) < 0)
        goto out;
    if (r.status == 201 && json_is_object(r.json)) {
        *out = forge_gitlab_branch(r.json, true);
        rc = 0;
    } else if (r.status == 400) {
        /* "Branch already exists" or a bad ref: only reading the branch tells which. */
        if (forge_http_request(f, "GET", one, NULL, &g, err) < 0)
            goto out;
        if (g.status == 200 && json_is_object(g.json)) {
            *out = forge_gitlab_branch(g.json, false);
            rc = 0;
        } else {
            forge_http_fail(&r, "creating the branch", err);
            if (strstr(forge_http_message(&r), "nvalid reference"))
                err->code = ERR_NOT_FOUND; /* the base ref does not exist */
        }
    } else {
        forge_http_fail(&r, "creating the branch", err);
    }
out:
    forge_http_resp_clear(&r);
    forge_http_resp_clear(&g);
    free(id);
    free(en);
    free(eb);
    free(path);
    free(one);
    return rc;
}

static json_t *forge_gitlab_mr(const json_t *m, const struct forge_pr_req *req, bool created)
{
    return forge_backend_pr_record(FORGE_GITLAB, json_integer_value(json_object_get(m, "iid")),
                                   json_string_value(json_object_get(m, "web_url")),
                                   json_string_value(json_object_get(m, "state")), req, created);
}

int forge_gitlab_create_pull_request(const struct forge *f, const struct forge_pr_req *req,
                                     json_t **out, struct err *err)
{
    char *id = forge_http_escape(f->repo_path), *eh = forge_http_escape(req->head);
    char *eb = forge_http_escape(req->base);
    char *path = mem_printf("/projects/%s/merge_requests", id);
    char *list = mem_printf("/projects/%s/merge_requests?source_branch=%s&target_branch=%s"
                            "&state=opened",
                            id, eh, eb);
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:s}", "source_branch", req->head, "target_branch", req->base,
                  "title", req->title, "description", req->body ? req->body : "");
    struct forge_http_resp r, g = {0};
    int rc = -1;

    if (forge_http_request(f, "POST", path, body, &r, err) < 0)
        goto out;
    if (r.status == 201 && json_is_object(r.json)) {
        *out = forge_gitlab_mr(r.json, req, true);
        rc = 0;
    } else if (r.status == 409) {
        if (forge_http_request(f, "GET", list, NULL, &g, err) < 0)
            goto out;
        if (g.status != 200 || !json_is_array(g.json)) {
            forge_http_fail(&g, "listing merge requests", err);
        } else if (json_array_size(g.json) == 0) {
            err_set(err, ERR_CONFLICT,
                    "the forge reports a merge request for %s -> %s but none "
                    "is open",
                    req->head, req->base);
        } else {
            *out = forge_gitlab_mr(json_array_get(g.json, 0), req, false);
            rc = 0;
        }
    } else {
        forge_http_fail(&r, "creating the merge request", err);
    }
out:
    forge_http_resp_clear(&r);
    forge_http_resp_clear(&g);
    json_decref(body);
    free(id);
    free(eh);
    free(eb);
    free(path);
    free(list);
    return rc;
}
