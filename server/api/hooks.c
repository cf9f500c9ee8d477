/* The Alertmanager webhook. Worker threads. */
#include "api/hooks.h"
#include "api/reply.h"
#include "core/buf.h"
#include "core/mem.h"
#include "store/alerts.h"
#include "store/projects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOOKS_PROMPT_MAX 100000

static const char *hooks_label(const json_t *payload, const char *set, const char *name)
{
    return json_string_value(json_object_get(json_object_get(payload, set), name));
}

static const char *hooks_alertname(const json_t *payload)
{
    const char *n = hooks_label(payload, "commonLabels", "alertname");

    if (!n)
        n = hooks_label(payload, "groupLabels", "alertname");
    if (!n)
        n = json_string_value(json_object_get(
            json_object_get(json_array_get(json_object_get(payload, "alerts"), 0), "labels"),
            "alertname"));
    return n ? n : "an alert";
}

static void hooks_alert_lines(struct buf *b, const json_t *payload)
{
    json_t *alerts = json_object_get(payload, "alerts"), *a;
    size_t i;

    json_array_foreach(alerts, i, a)
    {
        json_t *labels = json_object_get(a, "labels"), *ann = json_object_get(a, "annotations");
        const char *summary = json_string_value(json_object_get(ann, "summary"));
        const char *desc = json_string_value(json_object_get(ann, "description"));
        const char *k;
        json_t *v;
        bool first = true;

        if (i >= 50) {
            buf_appendf(b, "- ... and %zu more\n", json_array_size(alerts) - i);
            break;
        }
        buf_appendf(b, "- [%s] %s",
                    json_string_value(json_object_get(a, "status"))
                        ? json_string_value(json_object_get(a, "status"))
                        : "?",
                    json_string_value(json_object_get(labels, "alertname"))
                        ? json_string_value(json_object_get(labels, "alertname"))
                        : "alert");
        if (summary)
            buf_appendf(b, ": %s", summary);
        if (desc)
            buf_appendf(b, " (%s)", desc);
        buf_appendf(b, " {");
        json_object_foreach(labels, k, v)
        {
            if (json_is_string(v)) {
                buf_appendf(b, "%s%s=\"%s\"", first ? "" : ", ", k, json_string_value(v));
                first = false;
            }
        }
        buf_appendf(b, "}");
        if (json_string_value(json_object_get(a, "startsAt")))
            buf_appendf(b, " since %s", json_string_value(json_object_get(a, "startsAt")));
        buf_appendf(b, "\n");
    }
}

char *hooks_render(const char *tmpl, const json_t *payload)
{
    struct buf b;
    const char *p = tmpl;

    buf_init(&b, HOOKS_PROMPT_MAX);
    while (*p) {
        const char *open = strstr(p, "{{"), *close;
        char name[128];
        size_t n;

        if (!open || !(close = strstr(open + 2, "}}"))) {
            buf_append(&b, p, strlen(p));
            break;
        }
        buf_append(&b, p, (size_t)(open - p));
        n = (size_t)(close - open - 2);
        p = close + 2;
        if (n >= sizeof(name))
            continue;
        memcpy(name, open + 2, n);
        name[n] = '\0';
        /* Allow "{{ status }}" like Go templates. */
        char *s = name;
        while (*s == ' ')
            s++;
        for (char *e = s + strlen(s); e > s && e[-1] == ' ';)
            *--e = '\0';
        if (strcmp(s, "alerts") == 0) {
            hooks_alert_lines(&b, payload);
        } else if (strcmp(s, "alertname") == 0) {
            buf_appendf(&b, "%s", hooks_alertname(payload));
        } else if (strncmp(s, "commonLabels.", 13) == 0 ||
                   strncmp(s, "commonAnnotations.", 18) == 0 ||
                   strncmp(s, "groupLabels.", 12) == 0) {
            char set[32];
            const char *dot = strchr(s, '.');
            const char *v;

            snprintf(set, sizeof(set), "%.*s", (int)(dot - s), s);
            v = hooks_label(payload, set, dot + 1);
            if (v)
                buf_appendf(&b, "%s", v);
        } else {
            const char *v = json_string_value(json_object_get(payload, s));

            if (v && (strcmp(s, "status") == 0 || strcmp(s, "groupKey") == 0 ||
                      strcmp(s, "receiver") == 0 || strcmp(s, "externalURL") == 0))
                buf_appendf(&b, "%s", v);
        }
    }
    if (!b.data)
        buf_append(&b, "", 0);
    return buf_take(&b, NULL);
}

static int hooks_alertmanager(const struct api_request *req, const char *const *params, size_t np,
                              struct api_response *resp)
{
    json_t *body = NULL, *project = NULL, *task = NULL, *alerts, *v;
    const char *status, *key, *ver, *tmpl, *pname;
    char projbuf[128], title[300];
    struct queue_new_task t = {0};
    struct err err = {0};
    char *prompt = NULL;
    bool created = false;
    size_t firing = 0, i;
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
        reply_error(resp, 400, "unsupported_version",
                    "expected Alertmanager's webhook payload with \"version\": \"4\"");
        goto out;
    }
    if (!key || !*key || !status || (strcmp(status, "firing") && strcmp(status, "resolved")) ||
        !json_is_array(alerts)) {
        reply_error(resp, 400, "invalid_payload",
                    "the payload needs groupKey, status (firing|resolved) and an alerts array");
        goto out;
    }
    json_array_foreach(alerts, i, v)
    {
        const char *s = json_string_value(json_object_get(v, "status"));

        if (!json_is_object(v)) {
            reply_error(resp, 400, "invalid_payload", "alerts[%zu] is not an object", i);
            goto out;
        }
        firing += s && strcmp(s, "firing") == 0;
    }
    got = reply_query(req->query, "project", projbuf, sizeof(projbuf));
    pname = got > 0 ? projbuf : hooks_label(body, "commonLabels", "drover_project");
    if (got < 0 || !pname) {
        reply_error(resp, 400, "project_required",
                    "say which project the alerts are for: ?project=NAME on the webhook URL or "
                    "a drover_project label");
        goto out;
    }
    if (projects_get(req->db, pname, &project, &err) < 0) {
        reply_err(resp, &err);
        goto out;
    }
    if (strcmp(status, "resolved") == 0 || firing == 0) {
        if (alerts_resolve(req->db, key, &task, &err) < 0) {
            reply_err(resp, &err);
            goto out;
        }
        reply_json(
            resp, 200,
            json_pack("{s:s,s:s,s:O?}", "result", "resolved", "groupKey", key, "task", task));
        goto out;
    }
    tmpl =
        json_string_value(json_object_get(json_object_get(project, "settings"), "alert_template"));
    prompt = hooks_render(tmpl && *tmpl ? tmpl : HOOKS_DEFAULT_TEMPLATE, body);
    snprintf(title, sizeof(title), "Alert: %.200s (%zu firing)", hooks_alertname(body), firing);
    t.title = title;
    t.description = prompt;
    t.project_id = json_integer_value(json_object_get(project, "id"));
    t.priority = 100; /* a live alert goes ahead of routine work */
    if (alerts_open(req->db, key, &t, &task, &created, &err) < 0) {
        reply_err(resp, &err);
        goto out;
    }
    reply_json(resp, created ? 202 : 200,
               json_pack("{s:s,s:s,s:O}", "result", created ? "created" : "deduplicated",
                         "groupKey", key, "task", task));
out:
    free(prompt);
    json_decref(task);
    json_decref(project);
    json_decref(body);
    return 0;
}

const struct api_route hooks_routes[] = {
    {"POST", "/api/hooks/alertmanager", TOKENS_SCOPE_ADMIN, hooks_alertmanager},
    {NULL, NULL, TOKENS_SCOPE_NONE, NULL},
};
