/*
 * Gitea and Forgejo (/api/v1): POST /repos/{owner}/{repo}/branches (CreateBranchRepoOption)
 * answers 409 for an existing branch; POST /repos/{owner}/{repo}/pulls answers 409 when an open
 * pull request already joins the same head and base. Both conflicts are resolved by reading the
 * existing object back. A team's labels (as label ids, the repository's or its organisation's),
 * assignees and reviewers go into the create; refused, the create is retried without them (a
 * warning).
 * Worker threads only.
 */
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <stdlib.h>
#include <string.h>

static json_t *forge_gitea_branch(const void *name, const json_t *b, bool created)
{
    (void)name;
    return forge_backend_branch_record(
        json_string_value(json_object_get(b, "name")),
        json_string_value(json_object_get(json_object_get(b, "commit"), "id")), NULL, created);
}

/* 409: GET the branch (ctx: its name). */
static int forge_gitea_existing_branch(const struct forge *f, const struct forge_http_create *op,
                                       const void *name, const struct forge_http_resp *conflict,
                                       json_t **found, struct err *err)
{
    char *one = mem_printf("/repos/%s/branches/%s", f->repo_path, (const char *)name);
    int r = forge_http_get_json(f, one, JSON_OBJECT, "reading the existing branch", found, err);

    (void)op;
    (void)conflict;
    free(one);
    return r == 0 ? 0 : -1;
}

static const struct forge_http_create forge_gitea_branch_op = {
    "creating the branch", 409, forge_gitea_existing_branch, forge_gitea_branch};

int forge_gitea_create_branch(const struct forge *f, const char *name, const char *base,
                              json_t **out, struct err *err)
{
    char *path = mem_printf("/repos/%s/branches", f->repo_path);
    json_t *body = json_pack("{s:s, s:s}", "new_branch_name", name, "old_ref_name", base);
    int rc = forge_http_create(f, &forge_gitea_branch_op, path, body, name, out, err);

    json_decref(body);
    free(path);
    return rc;
}

static json_t *forge_gitea_pr(const void *req, const json_t *p, bool created)
{
    return forge_backend_pr_record(FORGE_GITEA, json_integer_value(json_object_get(p, "number")),
                                   json_string_value(json_object_get(p, "html_url")),
                                   json_string_value(json_object_get(p, "state")), req, created);
}

/*
 * 409: the open pull request from head into base (ctx: the request), paging through the list
 * (50 per page) because Gitea's list cannot be filtered by branch.
 */
static int forge_gitea_existing_pr(const struct forge *f, const struct forge_http_create *op,
                                   const void *ctx, const struct forge_http_resp *conflict,
                                   json_t **found, struct err *err)
{
    const struct forge_pr_req *req = ctx;

    (void)op;
    (void)conflict;
    for (int page = 1; page <= 20; page++) {
        char *path = mem_printf("/repos/%s/pulls?state=open&limit=50&page=%d", f->repo_path, page);
        json_t *list = NULL, *p;
        size_t i, n;
        int r = forge_http_get_json(f, path, JSON_ARRAY, "listing pull requests", &list, err);

        free(path);
        if (r != 0)
            return -1;
        n = json_array_size(list);
        json_array_foreach(list, i, p)
        {
            const char *h = json_string_value(json_object_get(json_object_get(p, "head"), "ref"));
            const char *b = json_string_value(json_object_get(json_object_get(p, "base"), "ref"));
            if (h && b && strcmp(h, req->head) == 0 && strcmp(b, req->base) == 0) {
                *found = json_incref(p);
                json_decref(list);
                return 0;
            }
        }
        json_decref(list);
        if (n < 50)
            break;
    }
    return err_set(err, ERR_CONFLICT,
                   "the forge reports a pull request for %s -> %s but none "
                   "is open",
                   req->head, req->base);
}

static const struct forge_http_create forge_gitea_pr_op = {"creating the pull request", 409,
                                                           forge_gitea_existing_pr, forge_gitea_pr};

/* The team's options in CreatePullRequestOption's fields; what cannot be set is a warning. */
static void forge_gitea_pr_options(const struct forge *f, const struct forge_pr_req *req,
                                   json_t *body, json_t *warnings)
{
    if (req->labels && *req->labels) {
        json_t *ids = NULL, *missing = json_array();
        struct err e = {0};

        if (forge_propts_gitea_label_ids(f, req->labels, &ids, missing, &e) < 0) {
            forge_propts_warn(warnings, "setting the labels", &e);
        } else {
            if (json_array_size(ids))
                json_object_set(body, "labels", ids);
            if (json_array_size(missing)) {
                char *names = json_dumps(missing, JSON_COMPACT);

                err_set(&e, ERR_NOT_FOUND, "the repository (or its organisation) has no label %s",
                        names);
                forge_propts_warn(warnings, "setting the labels", &e);
                free(names);
            }
        }
        json_decref(ids);
        json_decref(missing);
    }
    if (json_array_size(req->assignees))
        json_object_set(body, "assignees", (json_t *)req->assignees);
    if (json_array_size(req->reviewers))
        json_object_set(body, "reviewers", (json_t *)req->reviewers);
}

int forge_gitea_create_pull_request(const struct forge *f, const struct forge_pr_req *req,
                                    json_t **out, struct err *err)
{
    char *path = mem_printf("/repos/%s/pulls", f->repo_path);
    char *title = mem_printf("%s%s", req->draft ? "WIP: " : "", req->title);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "head", req->head, "base", req->base, "title",
                             title, "body", req->body ? req->body : "");
    json_t *notes = json_object(), *warnings;
    size_t plain = json_object_size(body);
    struct err first = {0};
    int rc;

    forge_gitea_pr_options(f, req, body, notes);
    rc = forge_http_create(f, &forge_gitea_pr_op, path, body, req, out, &first);
    if (rc < 0 && json_object_size(body) > plain &&
        (first.code == ERR_INVALID || first.code == ERR_NOT_FOUND)) {
        /* An assignee, reviewer or label the forge refused: the pull request without them. */
        json_object_del(body, "labels");
        json_object_del(body, "assignees");
        json_object_del(body, "reviewers");
        rc = forge_http_create(f, &forge_gitea_pr_op, path, body, req, out, err);
        if (rc == 0)
            forge_propts_warn(notes, "setting the labels, assignees and reviewers", &first);
    } else if (rc < 0 && err) {
        *err = first;
    }
    warnings = json_object_get(notes, "warnings");
    if (rc == 0 && json_array_size(warnings))
        json_object_set(*out, "warnings", warnings);
    free(title);

    json_decref(body);
    json_decref(notes);
    free(path);
    return rc;
}
