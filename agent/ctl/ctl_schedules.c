/* droverctl schedule list|add|delete (/api/schedules). Single-threaded. */
#include "ctl_schedules.h"
#include "ctl_args.h"
#include "ctl_out.h"
#include "ctl_table.h"

#include <stdio.h>
#include <stdlib.h>

int ctl_schedules_list(struct ctl *ctl, int argc, char **argv)
{
    static const char *const cols[] = {"ID",      "NAME", "PROJECT",  "CRON",
                                       "ENABLED", "NEXT", "LAST RUN", NULL};
    struct ctl_args a;
    struct ctl_table t;
    json_t *out = NULL, *s;
    size_t i;
    int rc = ctl_args_parse(ctl, argc, argv, NULL, &a, 0, 0);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    rc = ctl_out_call(ctl, "GET", "/api/schedules", NULL, NULL, &out);
    if (rc == CTL_OK && ctl->json) {
        ctl_out_json(out);
    } else if (rc == CTL_OK) {
        ctl_table_init(&t, cols);
        json_array_foreach(json_object_get(out, "schedules"), i, s)
        {
            char id[24], proj[24];
            const char *row[7];

            snprintf(id, sizeof(id), "%lld", ctl_out_int(s, "id"));
            snprintf(proj, sizeof(proj), "%lld", ctl_out_int(s, "project_id"));
            row[0] = id;
            row[1] = ctl_out_str(s, "name");
            row[2] = proj;
            row[3] = ctl_out_str(s, "cron");
            row[4] = json_is_false(json_object_get(s, "enabled")) ? "no" : "yes";
            row[5] = ctl_out_str(s, "next_run_at");
            row[6] = ctl_out_str(s, "last_slot");
            ctl_table_row(&t, row);
        }
        if (json_array_size(json_object_get(out, "schedules")) == 0)
            printf(
                "no schedules (droverctl schedule add NAME --project P --cron EXPR PROMPT...)\n");
        else
            ctl_table_print(&t, stdout);
        ctl_table_free(&t);
    }
    json_decref(out);
    return rc;
}

int ctl_schedules_add(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_args_spec spec[] = {{"project", 'p', true}, {"cron", 0, true},
                                                {"title", 0, true},     {"priority", 0, true},
                                                {"disabled", 0, false}, {NULL, 0, false}};
    struct ctl_args a;
    json_t *body, *out = NULL;
    char *prompt;
    long long prio;
    int rc = ctl_args_parse(ctl, argc, argv, spec, &a, 2, CTL_ARGS_MAXPOS);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    if (!ctl_args_opt(&a, "project") || !ctl_args_opt(&a, "cron")) {
        fprintf(stderr, "droverctl schedule add: --project and --cron are required\n");
        return CTL_USAGE;
    }
    prompt = ctl_args_join(&a, 1);
    body = json_pack("{s:s,s:s,s:s,s:s,s:b}", "name", a.pos[0], "project",
                     ctl_args_opt(&a, "project"), "cron", ctl_args_opt(&a, "cron"), "prompt",
                     prompt, "enabled", !ctl_args_opt(&a, "disabled"));
    free(prompt);
    if (ctl_args_opt(&a, "title"))
        json_object_set_new(body, "title", json_string(ctl_args_opt(&a, "title")));
    if (ctl_args_opt(&a, "priority")) {
        if (ctl_args_int(ctl_args_opt(&a, "priority"), "--priority", -1000, 1000, &prio) < 0) {
            json_decref(body);
            return CTL_USAGE;
        }
        json_object_set_new(body, "priority", json_integer(prio));
    }
    rc = ctl_out_call(ctl, "POST", "/api/schedules", body, NULL, &out);
    if (rc == CTL_OK && ctl->json)
        ctl_out_json(out);
    else if (rc == CTL_OK)
        printf("schedule %lld %s created (%s); next run %s\n", ctl_out_int(out, "id"),
               ctl_out_str(out, "name"), ctl_out_str(out, "cron"), ctl_out_str(out, "next_run_at"));
    json_decref(body);
    json_decref(out);
    return rc;
}

int ctl_schedules_delete(struct ctl *ctl, int argc, char **argv)
{
    char path[64];
    long long id;
    int rc;

    if (ctl_args_parse_id(ctl, argc, argv, "schedule id", &id, &rc) < 0)
        return rc;
    snprintf(path, sizeof(path), "/api/schedules/%lld", id);
    return ctl_out_delete(ctl, path, "schedule", id);
}
