/*
 * GitLab (/api/v4): POST /projects/:id/repository/branches?branch=&ref= answers 400 for every
 * failure, "Branch already exists" included, so a 400 is followed by reading the branch back;
 * POST /projects/:id/merge_requests answers 409 when an open merge request joins the same
 * branches. :id is the URL-encoded path ("group%2Fproject"). A merge request's reviewers and
 * assignees are user ids: usernames are looked up first (GET /users?username=), per request,
 * and one GitLab does not know is a warning, not a failure. Worker threads only.
 */
#include "core/http.h"
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static json_t *forge_gitlab_branch(const void *one, const json_t *b, bool created)
{
    (void)one;
    return forge_backend_branch_record(
        json_string_value(json_object_get(b, "name")),
        json_string_value(json_object_get(json_object_get(b, "commit"), "id")),
        json_string_value(json_object_get(b, "web_url")), created);
}

/*
 * 400: "Branch already exists" or a bad ref, and only reading the branch (ctx: its API path)
 * tells which. When it is absent the 400 was the real answer.
 */
static int forge_gitlab_existing_branch(const struct forge *f, const struct forge_http_create *op,
                                        const void *one, const struct forge_http_resp *conflict,
                                        json_t **found, struct err *err)
{
    int r = forge_http_get_json(f, one, JSON_OBJECT, "reading the branch", found, err);

    if (r == 1) {
        forge_http_fail(conflict, op->what, err);
        if (err && strstr(forge_http_message(conflict), "nvalid reference"))
            err->code = ERR_NOT_FOUND; /* the base ref does not exist */
    }
    return r == 0 ? 0 : -1;
}

static const struct forge_http_create forge_gitlab_branch_op = {
    "creating the branch", 400, forge_gitlab_existing_branch, forge_gitlab_branch};

int forge_gitlab_create_branch(const struct forge *f, const char *name, const char *base,
                               json_t **out, struct err *err)
{
    char *id = http_escape(f->repo_path), *en = http_escape(name);
    char *eb = http_escape(base);
    char *path = mem_printf("/projects/%s/repository/branches?branch=%s&ref=%s", id, en, eb);
    char *one = mem_printf("/projects/%s/repository/branches/%s", id, en);
    int rc = forge_http_create(f, &forge_gitlab_branch_op, path, NULL, one, out, err);

    free(id);
    free(en);
    free(eb);
    free(path);
    free(one);
    return rc;
}

static json_t *forge_gitlab_mr(const void *req, const json_t *m, bool created)
{
    return forge_backend_pr_record(FORGE_GITLAB, json_integer_value(json_object_get(m, "iid")),
                                   json_string_value(json_object_get(m, "web_url")),
                                   json_string_value(json_object_get(m, "state")), req, created);
}

/* 409: the open merge request between the same branches (ctx: the request). */
static int forge_gitlab_existing_mr(const struct forge *f, const struct forge_http_create *op,
                                    const void *ctx, const struct forge_http_resp *conflict,
                                    json_t **found, struct err *err)
{
    const struct forge_pr_req *req = ctx;
    char *id = http_escape(f->repo_path), *eh = http_escape(req->head);
    char *eb = http_escape(req->base);
    char *path = mem_printf("/projects/%s/merge_requests?source_branch=%s&target_branch=%s"
                            "&state=opened",
                            id, eh, eb);
    json_t *list = NULL;
    int rc = -1;

    (void)op;
    (void)conflict;
    if (forge_http_get_json(f, path, JSON_ARRAY, "listing merge requests", &list, err) != 0)
        goto out;
    if (json_array_size(list) == 0) {
        err_set(err, ERR_CONFLICT,
                "the forge reports a merge request for %s -> %s but none "
                "is open",
                req->head, req->base);
        goto out;
    }
    *found = json_incref(json_array_get(list, 0));
    rc = 0;
out:
    json_decref(list);
    free(id);
    free(eh);
    free(eb);
    free(path);
    return rc;
}

static const struct forge_http_create forge_gitlab_mr_op = {
    "creating the merge request", 409, forge_gitlab_existing_mr, forge_gitlab_mr};

/* Append user id `uid` (> 0) to `ids` unless it is there already. */
static void forge_gitlab_add_id(json_t *ids, json_int_t uid)
{
    size_t i;
    json_t *v;

    if (uid <= 0)
        return;
    json_array_foreach(ids, i, v)
    {
        if (json_integer_value(v) == uid)
            return;
    }
    json_array_append_new(ids, json_integer(uid));
}

/*
 * The id of GitLab user `login` (GET /users?username=, an array of at most one user): 0 with
 * *uid set, 0 with *uid = 0 when GitLab knows no such user, -1 with err when it could not say.
 * `seen` ({login: id}, this one request's) keeps a reviewer who is also the assignee to one call.
 */
static int forge_gitlab_user_id(const struct forge *f, const char *login, json_t *seen,
                                json_int_t *uid, struct err *err)
{
    char *el = http_escape(login), *path = mem_printf("/users?username=%s", el);
    json_t *list = NULL, *u;
    size_t i;
    int rc = -1;

    *uid = 0;
    if (json_is_integer(json_object_get(seen, login))) {
        *uid = json_integer_value(json_object_get(seen, login));
        rc = 0;
        goto out;
    }
    if (forge_http_get_json(f, path, JSON_ARRAY, "looking the user up", &list, err) != 0)
        goto out;
    json_array_foreach(list, i, u)
    {
        const char *name = json_string_value(json_object_get(u, "username"));

        /* GitLab matches usernames without regard to case. */
        if (name && strcasecmp(name, login) == 0 && json_is_integer(json_object_get(u, "id")))
            *uid = json_integer_value(json_object_get(u, "id"));
    }
    json_object_set_new(seen, login, json_integer(*uid));
    rc = 0;
out:
    json_decref(list);
    free(el);
    free(path);
    return rc;
}

/*
 * `ids` (GitLab user ids, may be NULL) plus the ids of the usernames in `names` (may be NULL),
 * each once, as body[key]; a name GitLab does not know, or could not look up, is a warning on
 * `notes` and left out. Nothing is set when the list is empty.
 */
static void forge_gitlab_people(const struct forge *f, const json_t *ids, const json_t *names,
                                const char *key, json_t *seen, json_t *body, json_t *notes)
{
    const char *what =
        strcmp(key, "reviewer_ids") == 0 ? "requesting reviewers" : "setting the assignees";
    json_t *all = json_array(), *v;
    size_t i;

    json_array_foreach(ids, i, v) forge_gitlab_add_id(all, json_integer_value(v));
    json_array_foreach(names, i, v)
    {
        const char *login = json_string_value(v);
        struct err e = {0};
        json_int_t uid = 0;

        if (!login || !*login)
            continue;
        if (forge_gitlab_user_id(f, login, seen, &uid, &e) == 0 && uid == 0)
            err_set(&e, ERR_NOT_FOUND, "GitLab knows no user '%s'", login);
        if (uid > 0)
            forge_gitlab_add_id(all, uid);
        else
            forge_propts_warn(notes, what, &e);
    }
    if (json_array_size(all))
        json_object_set(body, key, all);
    json_decref(all);
}

int forge_gitlab_create_pull_request(const struct forge *f, const struct forge_pr_req *req,
                                     json_t **out, struct err *err)
{
    char *id = http_escape(f->repo_path);
    char *path = mem_printf("/projects/%s/merge_requests", id);
    char *title = mem_printf("%s%s", req->draft ? "Draft: " : "", req->title);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "source_branch", req->head, "target_branch",
                             req->base, "title", title, "description", req->body ? req->body : "");
    json_t *notes = json_object(), *seen = json_object(), *warnings;
    int rc;

    if (req->remove_source_branch)
        json_object_set_new(body, "remove_source_branch", json_true());
    if (req->squash)
        json_object_set_new(body, "squash", json_true());
    if (req->labels && *req->labels)
        json_object_set_new(body, "labels", json_string(req->labels));
    /* The merge request takes user ids: usernames (the submitter's login too) are looked up. */
    forge_gitlab_people(f, req->reviewer_ids, req->reviewers, "reviewer_ids", seen, body, notes);
    forge_gitlab_people(f, req->assignee_ids, req->assignees, "assignee_ids", seen, body, notes);
    rc = forge_http_create(f, &forge_gitlab_mr_op, path, body, req, out, err);
    warnings = json_object_get(notes, "warnings");
    if (rc == 0 && json_array_size(warnings))
        json_object_set(*out, "warnings", warnings);
    free(title);

    json_decref(body);
    json_decref(notes);
    json_decref(seen);
    free(id);
    free(path);
    return rc;
}
