/*
 * A team's pull-request options that GitHub and Gitea/Forgejo take in other shapes than
 * GitLab's create: label names split out of the comma-separated setting, Gitea's label ids
 * (GET repos/{o}/{r}/labels, then GET orgs/{org}/labels for the names the repository lacks),
 * GitHub's three calls after the create, and the warnings a
 * refused option leaves on the result instead of failing the pull request. Worker threads.
 */
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <stdlib.h>
#include <string.h>

#define FORGE_PROPTS_LABELS_MAX 500 /* labels read of a repository, and of its organisation */

json_t *forge_propts_labels(const char *labels)
{
    json_t *a = json_array();
    const char *p = labels;

    while (p && *p) {
        size_t n = strcspn(p, ",");
        const char *s = p, *e = p + n;

        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > s) {
            char *one = mem_printf("%.*s", (int)(e - s), s);

            json_array_append_new(a, json_string(one));
            free(one);
        }
        p += n + (p[n] == ',');
    }
    return a;
}

void forge_propts_warn(json_t *out, const char *what, const struct err *e)
{
    json_t *w = json_object_get(out, "warnings");
    char *msg = mem_printf("%s: %s", what, e && e->msg[0] ? e->msg : "failed");

    if (!json_is_array(w)) {
        w = json_array();
        json_object_set_new(out, "warnings", w);
    }
    json_array_append_new(w, json_string(msg));
    free(msg);
}

/* POST {key: values} to `path`; any 2xx is success. */
static int forge_propts_post(const struct forge *f, const char *path, const char *key,
                             const json_t *values, const char *what, struct err *err)
{
    json_t *b = json_pack("{s:O}", key, values);
    int rc = forge_http_send(f, "POST", path, b, what, err);

    json_decref(b);
    return rc;
}

void forge_propts_github(const struct forge *f, long long number, const struct forge_pr_req *req,
                         json_t *out)
{
    static const struct {
        const char *kind, *tail, *key, *what;
    } calls[] = {
        {"issues", "labels", "labels", "setting the labels"},
        {"pulls", "requested_reviewers", "reviewers", "requesting reviewers"},
        {"issues", "assignees", "assignees", "setting the assignees"},
    };
    json_t *labels = forge_propts_labels(req->labels);
    const json_t *values[3] = {labels, req->reviewers, req->assignees};

    for (size_t i = 0; i < 3; i++) {
        struct err e = {0};
        char *path;

        if (!json_is_array(values[i]) || json_array_size(values[i]) == 0)
            continue;
        path =
            mem_printf("/repos/%s/%s/%lld/%s", f->repo_path, calls[i].kind, number, calls[i].tail);
        /* After the create, outside any transaction: a refusal is a warning, not a failure. */
        if (forge_propts_post(f, path, calls[i].key, values[i], calls[i].what, &e) < 0)
            forge_propts_warn(out, calls[i].what, &e);
        free(path);
    }
    json_decref(labels);
}

/* The labels of the list at `path` (every page) into found ({name: id}). 0, 1, -1 as
 * forge_pages_get. */
static int forge_propts_gitea_list(const struct forge *f, const char *path, json_t *found,
                                   struct err *err)
{
    json_t *list = NULL, *l;
    bool cut = false;
    size_t k;
    int r =
        forge_pages_get(f, path, "listing the labels", FORGE_PROPTS_LABELS_MAX, &list, &cut, err);

    json_array_foreach(list, k, l)
    {
        const char *name = json_string_value(json_object_get(l, "name"));

        /* A repository's label shadows the organisation's of the same name. */
        if (name && json_is_integer(json_object_get(l, "id")) && !json_object_get(found, name))
            json_object_set(found, name, json_object_get(l, "id"));
    }
    json_decref(list);
    return r;
}

/* Does `found` lack any of `names`? */
static bool forge_propts_lacks(const json_t *names, const json_t *found)
{
    size_t i;
    json_t *n;

    json_array_foreach(names, i, n)
    {
        if (!json_object_get(found, json_string_value(n)))
            return true;
    }
    return false;
}

int forge_propts_gitea_label_ids(const struct forge *f, const char *labels, json_t **ids,
                                 json_t *missing, struct err *err)
{
    json_t *names = forge_propts_labels(labels), *found = json_object(), *n;
    size_t owner = strcspn(f->repo_path, "/");
    char *path = mem_printf("/repos/%s/labels?limit=50", f->repo_path);
    struct err oe = {0};
    size_t i;
    int rc = -1, r;

    *ids = json_array();
    if (json_array_size(names) && forge_propts_gitea_list(f, path, found, err) != 0)
        goto out;
    free(path);
    /* Names the repository lacks may be its organisation's labels, which a pull request of the
     * organisation's repository takes too. A 404 is Gitea's answer for an owner that is a user. */
    path = mem_printf("/orgs/%.*s/labels?limit=50", (int)owner, f->repo_path);
    if (forge_propts_lacks(names, found)) {
        r = forge_propts_gitea_list(f, path, found, &oe);
        if (r < 0 || (r == 1 && oe.code != ERR_NOT_FOUND)) {
            if (err)
                *err = oe;
            goto out;
        }
    }
    json_array_foreach(names, i, n)
    {
        const json_t *id = json_object_get(found, json_string_value(n));

        if (id)
            json_array_append(*ids, (json_t *)id);
        else
            json_array_append(missing, n);
    }
    rc = 0;
out:
    if (rc < 0) {
        json_decref(*ids);
        *ids = NULL;
    }
    free(path);
    json_decref(names);
    json_decref(found);
    return rc;
}
