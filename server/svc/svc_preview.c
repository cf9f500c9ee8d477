/* trigger_preview_deploy. Worker threads. */
#include "svc/svc_preview.h"
#include "core/http.h"
#include "core/mem.h"
#include "store/branches.h"
#include "store/projects.h"

#include <stdlib.h>
#include <string.h>

static bool svc_preview_is_http(const char *u)
{
    return u && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0);
}

/* The webhook answers {"url": ...} / {"preview_url": ...} or the URL as plain text. Owned. */
static char *svc_preview_answer(const struct http_resp *r)
{
    json_t *j = json_loadb(r->body, r->len, 0, NULL);
    const char *u = json_string_value(json_object_get(j, "url"));
    char *url;

    if (!u)
        u = json_string_value(json_object_get(j, "preview_url"));
    if (u)
        url = mem_strdup(u);
    else
        url = j ? NULL : mem_strndup(r->body, strcspn(r->body, "\r\n"));
    json_decref(j);
    return url;
}

/* Call the webhook of `project` for the task; *url owned. No transaction open. */
static int svc_preview_call(const json_t *project, const json_t *task, char **url, struct err *err)
{
    const char *hook =
        json_string_value(json_object_get(json_object_get(project, "settings"), "preview_webhook"));
    const json_t *branch = json_object_get(task, "branch"),
                 *pr = json_object_get(task, "pull_request");
    struct http_req req = {.method = "POST",
                           .content_type = "application/json",
                           .timeout_s = 30,
                           .max_body = 64 * 1024};
    struct http_resp r;
    json_t *body;
    char *text = NULL;
    int rc = -1;

    *url = NULL;
    if (!svc_preview_is_http(hook))
        return err_set(err, ERR_INVALID,
                       "project '%s' has no preview_webhook (an http(s) URL) in its settings",
                       json_string_value(json_object_get(project, "name")));
    body = json_pack("{s:O, s:O, s:O}", "task", json_object_get(task, "id"), "branch",
                     branch ? branch : json_null(), "pull_request", pr ? pr : json_null());
    text = json_dumps(body, JSON_COMPACT);
    req.url = hook;
    req.body = text;
    if (http_request(NULL, &req, &r, err) < 0)
        goto out;
    if (r.status < 200 || r.status > 299) {
        err_set(err, r.status >= 500 ? ERR_UNAVAILABLE : ERR_INVALID,
                "the preview webhook answered HTTP %ld", r.status);
        goto out;
    }
    *url = svc_preview_answer(&r);
    if (!svc_preview_is_http(*url) || strlen(*url) > 2048) {
        free(*url);
        *url = NULL;
        err_set(err, ERR_INVALID, "the preview webhook answered no http(s) URL");
        goto out;
    }
    rc = 0;
out:
    http_resp_clear(&r);
    json_decref(body);
    free(text);
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
