/*
 * A review's inline comments, read back from the forge's REST API (review webhooks carry only
 * the review's body). One record shape for all three forges; every page of each list
 * (forge_pages.c), bounded. Blocking; worker threads only.
 */
#include "core/http.h"
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Gitea's page size (its API's default maximum); GitHub's and GitLab's largest is 100. */
#define FORGE_REVIEW_GITEA_LIMIT 50

/* The comments read so far and whether any were left out. */
struct forge_review_acc {
    json_t *out;
    size_t bytes;
    bool cut;
};

/* Keep `c` (a record, reference stolen) unless the bounds are reached. */
static void forge_review_keep(struct forge_review_acc *a, json_t *c)
{
    size_t n = strlen(json_string_value(json_object_get(c, "body")));

    if (json_array_size(a->out) >= FORGE_REVIEW_MAX_COMMENTS ||
        a->bytes + n > FORGE_REVIEW_MAX_BYTES) {
        a->cut = true;
        json_decref(c);
        return;
    }
    a->bytes += n;
    json_array_append_new(a->out, c);
}

static const char *forge_review_s(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));

    return v && *v ? v : NULL;
}

static long long forge_review_i(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* One normalized comment; NULL fields are left out. Owned. */
static json_t *forge_review_record(long long id, const char *path, long long line,
                                   long long position, const char *hunk, const char *body,
                                   const char *author, const char *url)
{
    json_t *c = json_object();
    char ids[32];

    snprintf(ids, sizeof(ids), "%lld", id);
    json_object_set_new(c, "id", json_string(ids));
    json_object_set_new(c, "path", json_string(path ? path : ""));
    json_object_set_new(c, "body", json_string(body ? body : ""));
    if (line > 0)
        json_object_set_new(c, "line", json_integer(line));
    if (position > 0)
        json_object_set_new(c, "position", json_integer(position));
    if (hunk)
        json_object_set_new(c, "diff_hunk", json_string(hunk));
    if (author)
        json_object_set_new(c, "author", json_string(author));
    if (url)
        json_object_set_new(c, "url", json_string(url));
    return c;
}

/* Gitea/Forgejo: position is the new file's line, original_position the old file's. */
static json_t *forge_review_gitea_one(const json_t *c)
{
    long long pos = forge_review_i(c, "position");

    return forge_review_record(forge_review_i(c, "id"), forge_review_s(c, "path"),
                               pos > 0 ? pos : forge_review_i(c, "original_position"), pos,
                               forge_review_s(c, "diff_hunk"), forge_review_s(c, "body"),
                               forge_review_s(json_object_get(c, "user"), "login"),
                               forge_review_s(c, "html_url"));
}

/* GitHub: line (else original_line, when the diff moved on) is the file's line; position is
 * the line's offset in the diff. */
static json_t *forge_review_github_one(const json_t *c)
{
    long long line = forge_review_i(c, "line");

    return forge_review_record(
        forge_review_i(c, "id"), forge_review_s(c, "path"),
        line > 0 ? line : forge_review_i(c, "original_line"), forge_review_i(c, "position"),
        forge_review_s(c, "diff_hunk"), forge_review_s(c, "body"),
        forge_review_s(json_object_get(c, "user"), "login"), forge_review_s(c, "html_url"));
}

/* The id of the latest review by `author` in `state` (else the latest in `state`), or 0. */
static long long forge_review_gitea_pick(const json_t *reviews, const struct forge_review_ref *ref)
{
    long long any = 0, mine = 0;
    size_t i;
    json_t *r;

    json_array_foreach(reviews, i, r)
    {
        const char *st = forge_review_s(r, "state");
        const char *who = forge_review_s(json_object_get(r, "user"), "login");

        if (ref->state && (!st || strcasecmp(st, ref->state) != 0))
            continue;
        any = forge_review_i(r, "id");
        if (ref->author && who && strcmp(who, ref->author) == 0)
            mine = any;
    }
    return mine ? mine : any;
}

/*
 * Gitea/Forgejo: the review (the latest of its kind by its author, every page of the list, in
 * the forge's ascending order), then its comments, which that API returns whole (no pages).
 */
static int forge_review_gitea(const struct forge *f, const struct forge_review_ref *ref,
                              struct forge_review_acc *a, struct err *err)
{
    const char *repo = f->repo_path ? f->repo_path : "";
    char *path = mem_printf("/repos/%s/pulls/%lld/reviews?limit=%d", repo, ref->number,
                            FORGE_REVIEW_GITEA_LIMIT);
    json_t *reviews = NULL, *list = NULL, *c;
    long long id = ref->review_id;
    size_t i;
    bool cut = false;
    int rc = -1;

    if (!id) {
        if (forge_pages_get(f, path, "listing the pull request's reviews",
                            FORGE_REVIEW_MAX_COMMENTS, &reviews, &cut, err) != 0)
            goto out;
        a->cut = a->cut || cut; /* the latest review may lie past the bound */
        id = forge_review_gitea_pick(reviews, ref);
        if (!id) {
            err_set(err, ERR_NOT_FOUND, "the pull request has no %s review%s%s",
                    ref->state ? ref->state : "", ref->author ? " by " : "",
                    ref->author ? ref->author : "");
            goto out;
        }
    }
    free(path);
    path = mem_printf("/repos/%s/pulls/%lld/reviews/%lld/comments", repo, ref->number, id);
    if (forge_http_get_json(f, path, JSON_ARRAY, "listing the review's comments", &list, err) != 0)
        goto out;
    json_array_foreach(list, i, c) forge_review_keep(a, forge_review_gitea_one(c));
    rc = 0;
out:
    json_decref(reviews);
    json_decref(list);
    free(path);
    return rc;
}

static int forge_review_github(const struct forge *f, const struct forge_review_ref *ref,
                               struct forge_review_acc *a, struct err *err)
{
    char *path = mem_printf("/repos/%s/pulls/%lld/reviews/%lld/comments?per_page=100",
                            f->repo_path ? f->repo_path : "", ref->number, ref->review_id);
    json_t *list = NULL, *c;
    size_t i;
    int rc = -1;

    if (ref->review_id <= 0) {
        err_set(err, ERR_INVALID, "the review has no id to read its comments by");
        goto out;
    }
    if (forge_pages_get(f, path, "listing the review's comments", FORGE_REVIEW_MAX_COMMENTS, &list,
                        &a->cut, err) != 0)
        goto out;
    json_array_foreach(list, i, c) forge_review_keep(a, forge_review_github_one(c));
    rc = 0;
out:
    json_decref(list);
    free(path);
    return rc;
}

/* GitLab: every unresolved diff note of the merge request's discussions (every page). */
static int forge_review_gitlab(const struct forge *f, const struct forge_review_ref *ref,
                               struct forge_review_acc *a, struct err *err)
{
    char *id = http_escape(f->repo_path ? f->repo_path : "");
    char *path =
        mem_printf("/projects/%s/merge_requests/%lld/discussions?per_page=100", id, ref->number);
    json_t *list = NULL, *d, *n;
    size_t i, j;
    int rc = -1;

    if (forge_pages_get(f, path, "listing the merge request's discussions",
                        FORGE_REVIEW_MAX_COMMENTS, &list, &a->cut, err) != 0)
        goto out;
    json_array_foreach(list, i, d)
    {
        json_array_foreach(json_object_get(d, "notes"), j, n)
        {
            const json_t *pos = json_object_get(n, "position");
            const char *p = forge_review_s(pos, "new_path");
            long long line = forge_review_i(pos, "new_line");

            if (!json_is_object(pos) || json_is_true(json_object_get(n, "system")) ||
                !json_is_true(json_object_get(n, "resolvable")) ||
                json_is_true(json_object_get(n, "resolved")))
                continue;
            forge_review_keep(a,
                              forge_review_record(
                                  forge_review_i(n, "id"), p ? p : forge_review_s(pos, "old_path"),
                                  line > 0 ? line : forge_review_i(pos, "old_line"), 0, NULL,
                                  forge_review_s(n, "body"),
                                  forge_review_s(json_object_get(n, "author"), "username"), NULL));
        }
    }
    rc = 0;
out:
    json_decref(list);
    free(path);
    free(id);
    return rc;
}

int forge_backend_review_comments(const struct forge *f, const struct forge_review_ref *ref,
                                  json_t **out, bool *cut, struct err *err)
{
    struct forge_review_acc a = {0};
    int rc;

    *out = NULL;
    *cut = false;
    if (ref->number <= 0)
        return err_set(err, ERR_INVALID, "a review's comments need the pull request's number");
    if (f->kind == FORGE_GIT)
        return err_set(err, ERR_INVALID, "a plain git repository has no review comments to read");
    a.out = json_array();
    rc = f->kind == FORGE_GITEA    ? forge_review_gitea(f, ref, &a, err)
         : f->kind == FORGE_GITHUB ? forge_review_github(f, ref, &a, err)
                                   : forge_review_gitlab(f, ref, &a, err);
    if (rc < 0) {
        json_decref(a.out);
        return -1;
    }
    *out = a.out;
    *cut = a.cut;
    return 0;
}
