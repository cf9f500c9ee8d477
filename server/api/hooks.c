/* The Alertmanager webhook. Worker threads. */
#include "api/hooks.h"
#include "api/reply.h"
#include "svc/svc_alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *hooks_label(const json_t *payload, const char *set, const char *name)
{
    return json_string_value(json_object_get(json_object_get(payload, set), name));
}

static int hooks_alertmanager(const struct api_request *req, const char *const *params, size_t np,
                              struct api_response *resp)
{
    json_t *body = NULL, *task = NULL, *alerts, *v;
    const char *status, *key, *ver, *pname;
    char projbuf[128];
    struct err err = {0};
    bool created = false, resolved = false;
    size_t i;
    int got;

    (void)params;
    (void)np;
    if (reply_body_object(req, resp, &body) < 0)
        return 0;
    ver = json_string_value(json_object_get(body, "version"));
    status = json_string_value(json_object_get(body, "status"));
    key = json_string_value(json_object_get(body, "groupKey"));
    alerts = json_object_get(body, "alerts");
    if (!ver || strcmp(ver, "4") != 0) {
        reply_error(resp, ERR_INVALID, "unsupported_version",
                    "expected Alertmanager's webhook payload with \"version\": \"4\"");
        goto out;
    }
    if (!key || !*key || !status || (strcmp(status, "firing") && strcmp(status, "resolved")) ||
        !json_is_array(alerts)) {
        reply_error(resp, ERR_INVALID, "invalid_payload",
                    "the payload needs groupKey, status (firing|resolved) and an alerts array");
        goto out;
    }
    json_array_foreach(alerts, i, v)
    {
        if (!json_is_object(v)) {
            reply_error(resp, ERR_INVALID, "invalid_payload", "alerts[%zu] is not an object", i);
            goto out;
        }
    }
    got = reply_query(req->query, "project", projbuf, sizeof(projbuf));
    pname = got > 0 ? projbuf : hooks_label(body, "commonLabels", "drover_project");
    if (got < 0 || !pname) {
        reply_error(resp, ERR_INVALID, "project_required",
                    "say which project the alerts are for: ?project=NAME on the webhook URL or "
                    "a drover_project label");
        goto out;
    }
    if (svc_alerts_intake(req->svc, pname, body, &task, &created, &resolved, &err) < 0) {
        reply_err(resp, &err);
        goto out;
    }
    if (resolved)
        reply_json(
            resp, 200,
            json_pack("{s:s,s:s,s:O?}", "result", "resolved", "groupKey", key, "task", task));
    else
        reply_json(resp, created ? 202 : 200,
                   json_pack("{s:s,s:s,s:O}", "result", created ? "created" : "deduplicated",
                             "groupKey", key, "task", task));
out:
    json_decref(task);
    json_decref(body);
    return 0;
}

const struct api_route hooks_routes[] = {
    {"POST", "/api/hooks/alertmanager", PRINCIPAL_ADMIN, hooks_alertmanager},
    {NULL, NULL, PRINCIPAL_NONE, NULL},
};
