/* trigger_preview_deploy. Worker threads. */
#include "svc/svc_preview.h"
#include "core/mem.h"
#include "forge/forge_internal.h"
#include "store/branches.h"
#include "store/projects.h"

#include <stdlib.h>
#include <string.h>

static bool svc_preview_is_http(const char *u)
{
    return u && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0);
}

/* Call the webhook of `project` for the task; *url owned. No transaction open. */
static int svc_preview_call(const json_t *project, const json_t *task, char **url, struct err *err)
{
    const char *hook = json_string_value(
        json_object_get(json_object_get(project, "settings"), "preview_webhook"));
    const json_t *branch = json_object_get(task, "branch"), *pr = json_object_get(task, "pull_request");
    struct forge f = {.kind = FORGE_GIT, .timeout_s = 30};
    struct forge_http_resp r = {0};
    const char *u;
    json_t *body;
    int rc = -1;

    *url = NULL;
    if (!svc_preview_is_http(hook))
        return err_set(err, ERR_INVALID,
                       "project '%s' has no preview_webhook (an http(s) URL) in its settings",
                       json_string_value(json_object_get(project, "name")));
    f.api_url = hook;
    body = json_pack("{s:O, s:O, s:O}", "task", json_object_get(task, "id"), "branch",
                     branch ? branch : json_null(), "pull_request", pr ? pr : json_null());
    if (forge_http_request(&f, "POST", "", body, &r, err) < 0)
        goto out;
    if (r.status < 200 || r.status > 299) {
        forge_http_fail(&r, "the preview webhook", err);
        goto out;
    }
    u = json_string_value(json_object_get(r.json, "url"));
    if (!u)
        u = json_string_value(json_object_get(r.json, "preview_url"));
    if (u)
        *url = mem_strdup(u);
    else if (!r.json && r.body)
        *url = mem_strndup(r.body, strcspn(r.body, "\r\n"));
    if (!svc_preview_is_http(*url) || strlen(*url) > 2048) {
        free(*url);
        *url = NULL;
        err_set(err, ERR_INVALID, "the preview webhook answered no http(s) URL");
        goto out;
    }
    rc = 0;
out:
    forge_http_resp_clear(&r);
    json_decref(body);
    return rc;
}

int svc_preview_deploy(struct svc_ctx *c, const char *agent_id, int64_t task_id, int64_t epoch,
                       json_t **out, struct err *err)
{
    struct branches_lease l;
    struct err fence = {0};
    json_t *project = NULL;
    char *url = NULL;
    int rc = -1;

    *out = NULL;
    if (branches_fence(c->db, agent_id, task_id, epoch, &l, err) < 0)
        return -1;
    if (l.project_id <= 0) {
        err_set(err, ERR_INVALID, "the task has no project, so no preview webhook");
        goto out;
    }
    if (projects_get_id(c->db, l.project_id, &project, err) < 0 ||
        svc_preview_call(project, l.task, &url, err) < 0 ||
        branches_record_preview(c->db, agent_id, task_id, epoch, url, &fence, err) < 0)
        goto out;
    if (fence.code != ERR_OK) {
        *err = fence;
        goto out;
    }
    *out = json_pack("{s:I, s:s}", "task_id", (json_int_t)task_id, "preview_url", url);
    rc = 0;
out:
    json_decref(project);
    branches_lease_clear(&l);
    free(url);
    return rc;
}
