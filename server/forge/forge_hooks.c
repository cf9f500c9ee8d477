/*
 * forge_backend_hooks: a repository's webhooks as each forge's REST API lists them, in one
 * shape, for diagnostics. Gitea/Forgejo GET /repos/{owner}/{repo}/hooks?limit=&page= (Hook:
 * type, active, config.url, config.content_type, events); GitHub GET
 * /repos/{owner}/{repo}/hooks?per_page=&page= (the same fields; needs admin:repo_hook or the
 * "Webhooks" read permission); GitLab GET /projects/:id/hooks?per_page=&page= (url, one
 * boolean per event kind, alert_status), every page by the forge's pagination headers
 * (forge_pages.c). Worker threads only (blocking).
 */
#include "core/http.h"
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <stdlib.h>
#include <string.h>

#define FORGE_HOOKS_MAX_PAGES 10

/* A GitLab hook's subscriptions: every "<kind>_events" field that is true. */
static json_t *forge_hooks_gitlab_events(const json_t *h)
{
    json_t *events = json_array();
    const char *k;
    json_t *v;
    size_t n;

    json_object_foreach((json_t *)h, k, v)
    {
        n = strlen(k);
        if (json_is_true(v) && n > 7 && strcmp(k + n - 7, "_events") == 0)
            json_array_append_new(events, json_string(k));
    }
    return events;
}

/* One hook of the forge's answer in the shape forge_backend_hooks documents (owned). */
static json_t *forge_hooks_record(enum forge_kind k, const json_t *h)
{
    const json_t *cfg = json_object_get(h, "config");
    const json_t *events = json_object_get(h, "events");
    const char *status = json_string_value(json_object_get(h, "alert_status"));
    json_t *r;

    if (k == FORGE_GITLAB) {
        /* GitLab disables a failing hook: alert_status "disabled" or "temporarily_disabled". */
        return json_pack("{s:O?,s:O?,s:b,s:s,s:o,s:s?}", "id", json_object_get(h, "id"), "url",
                         json_object_get(h, "url"), "active",
                         !status || strcmp(status, "executable") == 0, "content_type", "json",
                         "events", forge_hooks_gitlab_events(h), "state", status);
    }
    r = json_pack("{s:O?,s:O?,s:b,s:O?,s:o}", "id", json_object_get(h, "id"), "url",
                  json_object_get(cfg, "url"), "active", json_is_true(json_object_get(h, "active")),
                  "content_type", json_object_get(cfg, "content_type"), "events",
                  json_is_array(events) ? json_incref((json_t *)events) : json_array());
    if (json_is_string(json_object_get(h, "type")))
        json_object_set(r, "type", json_object_get(h, "type"));
    return r;
}

int forge_backend_hooks(const struct forge *f, json_t **out, struct err *err)
{
    const int per_page = f->kind == FORGE_GITEA ? 50 : 100;
    json_t *list = NULL, *h;
    char *esc = NULL, *path;
    bool cut = false;
    size_t i;
    int rc = -1;

    *out = NULL;
    if (f->kind == FORGE_GIT)
        return err_set(err, ERR_INVALID, "a plain git remote has no webhooks");
    if (!f->repo_path || !*f->repo_path)
        return err_set(err, ERR_INVALID, "the project names no forge repository (forge_repo_path)");
    if (f->kind == FORGE_GITLAB) {
        esc = http_escape(f->repo_path);
        path = mem_printf("/projects/%s/hooks?per_page=%d", esc, per_page);
    } else {
        path = mem_printf("/repos/%s/hooks?%s=%d", f->repo_path,
                          f->kind == FORGE_GITEA ? "limit" : "per_page", per_page);
    }
    /* Every page, as the forge's Link (or GitLab's X-Next-Page) header names the next. */
    if (forge_pages_get(f, path, "listing the repository's webhooks",
                        (size_t)(FORGE_HOOKS_MAX_PAGES * per_page), &list, &cut, err) != 0)
        goto out;
    *out = json_array();
    json_array_foreach(list, i, h)
    {
        if (json_is_object(h))
            json_array_append_new(*out, forge_hooks_record(f->kind, h));
    }
    rc = 0;
out:
    json_decref(list);
    free(path);
    free(esc);
    return rc;
}
