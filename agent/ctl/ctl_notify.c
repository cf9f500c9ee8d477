/* droverctl's notification endpoints and deliveries; see ctl_notify.h. Single-threaded. */
#include "ctl_notify.h"
#include "ctl_args.h"
#include "ctl_out.h"
#include "ctl_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "a,b,c" from a JSON array of strings (into `out`). */
static void ctl_notify_join(const json_t *a, char *out, size_t n)
{
    size_t len = 0, i;
    const json_t *v;

    out[0] = '\0';
    json_array_foreach(a, i, v)
    {
        if (len < n)
            len += (size_t)snprintf(out + len, n - len, "%s%s", i ? "," : "",
                                    json_is_string(v) ? json_string_value(v) : "?");
    }
}

int ctl_notify_list(struct ctl *ctl, int argc, char **argv)
{
    static const char *const cols[] = {"ID", "NAME", "FORMAT", "EVENTS", "PROJECT", "URL", NULL};
    struct ctl_args a;
    struct ctl_table t;
    json_t *out = NULL, *e;
    size_t i;
    int rc = ctl_args_parse(ctl, argc, argv, NULL, &a, 0, 0);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    rc = ctl_out_call(ctl, "GET", "/api/notifications/endpoints", NULL, NULL, &out);
    if (rc == CTL_OK && ctl->json) {
        ctl_out_json(out);
    } else if (rc == CTL_OK) {
        ctl_table_init(&t, cols);
        json_array_foreach(json_object_get(out, "endpoints"), i, e)
        {
            char id[24], proj[24], events[256];
            const char *row[6];

            snprintf(id, sizeof(id), "%lld", ctl_out_int(e, "id"));
            if (json_is_integer(json_object_get(e, "project_id")))
                snprintf(proj, sizeof(proj), "%lld", ctl_out_int(e, "project_id"));
            else
                snprintf(proj, sizeof(proj), "all");
            ctl_notify_join(json_object_get(e, "events"), events, sizeof(events));
            row[0] = id;
            row[1] = ctl_out_str(e, "name");
            row[2] = ctl_out_str(e, "format");
            row[3] = events;
            row[4] = proj;
            row[5] = ctl_out_str(e, "url"); /* droverd shows a secret path as "/..." */
            ctl_table_row(&t, row);
        }
        if (json_array_size(json_object_get(out, "endpoints")) == 0)
            printf("no notification endpoints (droverctl notify add NAME URL)\n");
        else
            ctl_table_print(&t, stdout);
        ctl_table_free(&t);
    }
    json_decref(out);
    return rc;
}

int ctl_notify_add(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_args_spec spec[] = {
        {"format", 0, true}, {"events", 0, true}, {"project", 'p', true}, {NULL, 0, false}};
    struct ctl_args a;
    json_t *body, *out = NULL;
    const char *ev;
    int rc = ctl_args_parse(ctl, argc, argv, spec, &a, 2, 2);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    body = json_pack("{s:s,s:s}", "name", a.pos[0], "url", a.pos[1]);
    if (ctl_args_opt(&a, "format"))
        json_object_set_new(body, "format", json_string(ctl_args_opt(&a, "format")));
    if (ctl_args_opt(&a, "project"))
        json_object_set_new(body, "project", json_string(ctl_args_opt(&a, "project")));
    if ((ev = ctl_args_opt(&a, "events"))) {
        json_t *list = json_array();

        while (*ev) {
            size_t n = strcspn(ev, ",");

            if (n > 0)
                json_array_append_new(list, json_stringn(ev, n));
            ev += n + (ev[n] == ',');
        }
        json_object_set_new(body, "events", list);
    }
    rc = ctl_out_call(ctl, "POST", "/api/notifications/endpoints", body, NULL, &out);
    if (rc == CTL_OK && ctl->json) {
        ctl_out_json(out);
    } else if (rc == CTL_OK) {
        char events[256];

        ctl_notify_join(json_object_get(out, "events"), events, sizeof(events));
        printf("endpoint %lld %s added (%s): %s\n", ctl_out_int(out, "id"),
               ctl_out_str(out, "name"), ctl_out_str(out, "format"), events);
    }
    json_decref(body);
    json_decref(out);
    return rc;
}

int ctl_notify_delete(struct ctl *ctl, int argc, char **argv)
{
    char path[80];
    long long id;
    int rc;

    if (ctl_args_parse_id(ctl, argc, argv, "endpoint id", &id, &rc) < 0)
        return rc;
    snprintf(path, sizeof(path), "/api/notifications/endpoints/%lld", id);
    return ctl_out_delete(ctl, path, "endpoint", id);
}

int ctl_notify_deliveries(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_args_spec spec[] = {{"task", 0, true}, {NULL, 0, false}};
    static const char *const cols[] = {"ID",    "ENDPOINT", "EVENT",       "TASK",
                                       "STATE", "ATTEMPTS", "LAST ANSWER", NULL};
    struct ctl_args a;
    struct ctl_table t;
    json_t *out = NULL, *d;
    char path[96] = "/api/notifications/deliveries?limit=100";
    long long task = 0;
    size_t i;
    int rc = ctl_args_parse(ctl, argc, argv, spec, &a, 0, 0);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    if (ctl_args_opt(&a, "task")) {
        if (ctl_args_id(ctl_args_opt(&a, "task"), "--task", &task) < 0)
            return CTL_USAGE;
        snprintf(path + strlen(path), sizeof(path) - strlen(path), "&task=%lld", task);
    }
    rc = ctl_out_call(ctl, "GET", path, NULL, NULL, &out);
    if (rc == CTL_OK && ctl->json) {
        ctl_out_json(out);
    } else if (rc == CTL_OK) {
        ctl_table_init(&t, cols);
        json_array_foreach(json_object_get(out, "deliveries"), i, d)
        {
            char id[24], tid[24], att[16], last[300];
            const char *row[7];
            const char *e = json_string_value(json_object_get(d, "last_error"));

            snprintf(id, sizeof(id), "%lld", ctl_out_int(d, "id"));
            snprintf(tid, sizeof(tid), "%lld", ctl_out_int(d, "task_id"));
            snprintf(att, sizeof(att), "%lld", ctl_out_int(d, "attempts"));
            if (json_is_integer(json_object_get(d, "last_status")))
                snprintf(last, sizeof(last), "%lld%s%.250s", ctl_out_int(d, "last_status"),
                         e ? " " : "", e ? e : "");
            else
                snprintf(last, sizeof(last), "%.250s", e ? e : "-");
            row[0] = id;
            row[1] = ctl_out_str(d, "endpoint");
            row[2] = ctl_out_str(d, "event");
            row[3] = tid;
            row[4] = ctl_out_str(d, "state");
            row[5] = att;
            row[6] = last;
            ctl_table_row(&t, row);
        }
        if (json_array_size(json_object_get(out, "deliveries")) == 0)
            printf("no deliveries\n");
        else
            ctl_table_print(&t, stdout);
        ctl_table_free(&t);
    }
    json_decref(out);
    return rc;
}
