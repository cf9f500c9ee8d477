/*
 * A team's pull-request options that GitHub and Gitea/Forgejo take in other shapes than
 * GitLab's create: label names split out of the comma-separated setting, Gitea's label ids
 * (GET repos/{o}/{r}/labels), GitHub's three calls after the create, and the warnings a
 * refused option leaves on the result instead of failing the pull request. Worker threads.
 */
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <stdlib.h>
#include <string.h>

#define FORGE_PROPTS_LABEL_PAGES 10 /* of 50: Gitea's list has at most 50 a page */

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

int forge_propts_gitea_label_ids(const struct forge *f, const char *labels, json_t **ids,
                                 json_t *missing, struct err *err)
{
    json_t *names = forge_propts_labels(labels), *found = json_object(), *n;
    size_t i;
    int rc = -1;

    *ids = json_array();
    for (int page = 1; json_array_size(names) > 0 && page <= FORGE_PROPTS_LABEL_PAGES; page++) {
        char *path = mem_printf("/repos/%s/labels?limit=50&page=%d", f->repo_path, page);
        json_t *list = NULL, *l;
        int r = forge_http_get_json(f, path, JSON_ARRAY, "listing the labels", &list, err);
        size_t k;

        free(path);
        if (r != 0)
            goto out;
        json_array_foreach(list, k, l)
        {
            const char *name = json_string_value(json_object_get(l, "name"));

            if (name && json_is_integer(json_object_get(l, "id")))
                json_object_set(found, name, json_object_get(l, "id"));
        }
        k = json_array_size(list);
        json_decref(list);
        if (k < 50)
            break;
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
    json_decref(names);
    json_decref(found);
    return rc;
}
