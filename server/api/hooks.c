/* The Alertmanager webhook. Worker threads. */
#include "api/hooks.h"
#include "api/reply.h"
#include "svc/svc_alerts.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *hooks_label(const json_t *payload, const char *set, const char *name)
{
    return json_string_value(json_object_get(json_object_get(payload, set), name));
}

/* True when `name` is one of the comma-separated names in `list`. */
static bool hooks_listed(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);

        if (l == n && strncmp(p, name, n) == 0)
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

static int hooks_alertmanager(const struct api_request *req, const char *const *params, size_t np,
                              struct api_response *resp)
{
    json_t *body = NULL, *task = NULL, *alerts, *v;
    const char *status, *key, *ver, *pname;
    char projbuf[128], allowbuf[1024], optbuf[16];
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
    if (got < 0) {
        reply_error(resp, ERR_INVALID, "project_required", "?project= is too long");
        goto out;
    }
    pname = got > 0 ? projbuf : NULL;
    if (!pname) {
        /* Label values can come from scraped targets, so a drover_project label picks the
         * project only where the receiver's URL says it may: ?projects=a,b (those only) or
         * ?project_label=any. */
        const char *label = hooks_label(body, "commonLabels", "drover_project");
        int ga = reply_query(req->query, "projects", allowbuf, sizeof(allowbuf));
        int gl = reply_query(req->query, "project_label", optbuf, sizeof(optbuf));

        if (label && ga > 0 && hooks_listed(allowbuf, label))
            pname = label;
        else if (label && ga <= 0 && gl > 0 && strcmp(optbuf, "any") == 0)
            pname = label;
        else if (label) {
            reply_error(resp, ERR_FORBIDDEN, "project_label_not_allowed",
                        "this webhook does not let the drover_project label choose project '%.64s'"
                        ": name it with ?project=NAME, or allow it with ?projects=a,b (or "
                        "?project_label=any)",
                        label);
            goto out;
        }
    }
    if (!pname) {
        reply_error(resp, ERR_INVALID, "project_required",
                    "say which project the alerts are for: ?project=NAME on the webhook URL (or "
                    "a drover_project label the URL allows: ?projects=a,b)");
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
