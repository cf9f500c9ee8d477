/* Alertmanager as a trigger. Worker threads (svc_alerts_render: any thread). */
#include "svc/svc_alerts.h"
#include "core/text.h"
#include "core/buf.h"
#include "core/mem.h"
#include "store/alerts.h"
#include "store/projects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SVC_ALERTS_PROMPT_MAX 100000

static const char *svc_alerts_label(const json_t *payload, const char *set, const char *name)
{
    return json_string_value(json_object_get(json_object_get(payload, set), name));
}

const char *svc_alerts_name(const json_t *payload)
{
    const char *n = svc_alerts_label(payload, "commonLabels", "alertname");

    if (!n)
        n = svc_alerts_label(payload, "groupLabels", "alertname");
    if (!n)
        n = json_string_value(json_object_get(
            json_object_get(json_array_get(json_object_get(payload, "alerts"), 0), "labels"),
            "alertname"));
    return n ? n : "an alert";
}

static void svc_alerts_lines(struct buf *b, const json_t *payload)
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

char *svc_alerts_render(const char *tmpl, const json_t *payload)
{
    struct buf b;
    const char *p = tmpl;

    buf_init(&b, SVC_ALERTS_PROMPT_MAX);
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
            svc_alerts_lines(&b, payload);
        } else if (strcmp(s, "alertname") == 0) {
            buf_appendf(&b, "%s", svc_alerts_name(payload));
        } else if (strncmp(s, "commonLabels.", 13) == 0 ||
                   strncmp(s, "commonAnnotations.", 18) == 0 ||
                   strncmp(s, "groupLabels.", 12) == 0) {
            char set[32];
            const char *dot = strchr(s, '.');
            const char *v;

            snprintf(set, sizeof(set), "%.*s", (int)(dot - s), s);
            v = svc_alerts_label(payload, set, dot + 1);
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

int svc_alerts_intake(struct svc_ctx *c, const char *project_ref, const json_t *payload,
                      json_t **task, bool *created, bool *resolved, struct err *err)
{
    const char *status = json_string_value(json_object_get(payload, "status"));
    const char *key = json_string_value(json_object_get(payload, "groupKey"));
    const json_t *alerts = json_object_get(payload, "alerts"), *v;
    json_t *project = NULL;
    struct model_task_new t = {0};
    char title[300], *prompt = NULL;
    const char *tmpl;
    size_t firing = 0, i;
    int rc = -1;

    *task = NULL;
    *created = *resolved = false;
    json_array_foreach(alerts, i, v)
    {
        const char *s = json_string_value(json_object_get(v, "status"));

        firing += s && strcmp(s, "firing") == 0;
    }
    if (projects_get(c->db, project_ref, &project, err) < 0)
        return -1;
    if (strcmp(status, "resolved") == 0 || firing == 0) {
        *resolved = true;
        rc = alerts_resolve(c->db, key, task, err);
        goto out;
    }
    tmpl =
        json_string_value(json_object_get(json_object_get(project, "settings"), "alert_template"));
    prompt = svc_alerts_render(tmpl && *tmpl ? tmpl : SVC_ALERTS_DEFAULT_TEMPLATE, payload);
    {
        /* Cut on a character boundary: a split character made the title invalid UTF-8, the
         * task was refused and Alertmanager retried forever. */
        const char *name = svc_alerts_name(payload);

        snprintf(title, sizeof(title), "Alert: %.*s (%zu firing)", (int)text_utf8_prefix(name, 200),
                 name, firing);
    }
    t.title = title;
    t.description = prompt;
    t.project_id = json_integer_value(json_object_get(project, "id"));
    t.priority = 100; /* a live alert goes ahead of routine work */
    rc = alerts_open(c->db, key, &t, task, created, err);
out:
    free(prompt);
    json_decref(project);
    return rc;
}
