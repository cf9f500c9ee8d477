/* droverctl agents (GET /api/agents). Single-threaded. */
#include "ctl_agents.h"
#include "ctl_args.h"
#include "ctl_out.h"

#include <stdio.h>

static void ctl_agents_line(const json_t *ag)
{
    char hb[32], up[32], task[32] = "-";
    json_t *ct = json_object_get(ag, "current_task");

    ctl_out_age(json_object_get(ag, "heartbeat_age_seconds"), hb, sizeof(hb));
    ctl_out_age(json_object_get(ag, "uptime_seconds"), up, sizeof(up));
    if (json_is_object(ct))
        snprintf(task, sizeof(task), "%lld", ctl_out_int(ct, "id"));
    printf("%-36s %-12s %-24.24s %-9s %-8s %s\n", ctl_out_str(ag, "id"), ctl_out_str(ag, "status"),
           ctl_out_str(ag, "pod_name"), hb, up, task);
    /* Why it takes no task: the one thing an operator needs to fix it. */
    if (json_is_string(json_object_get(ag, "unusable_reason")))
        printf("  unusable: %s\n", ctl_out_str(ag, "unusable_reason"));
}

int ctl_agents_list(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_args_spec spec[] = {
        {"status", 's', true}, {"all", 0, false}, {NULL, 0, false}};
    struct ctl_args a;
    char path[128];
    json_t *out = NULL, *ag;
    size_t i;
    int rc = ctl_args_parse(ctl, argc, argv, spec, &a, 0, 0);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    snprintf(path, sizeof(path), "/api/agents?%s%s%s", ctl_args_opt(&a, "all") ? "all=1&" : "",
             ctl_args_opt(&a, "status") ? "status=" : "",
             ctl_args_opt(&a, "status") ? ctl_args_opt(&a, "status") : "");
    rc = ctl_out_call(ctl, "GET", path, NULL, NULL, &out);
    if (rc == CTL_OK && ctl->json) {
        ctl_out_json(out);
    } else if (rc == CTL_OK) {
        printf("%-36s %-12s %-24s %-9s %-8s %s\n", "ID", "STATUS", "POD", "HEARTBEAT", "UPTIME",
               "TASK");
        json_array_foreach(json_object_get(out, "agents"), i, ag) ctl_agents_line(ag);
    }
    json_decref(out);
    return rc;
}
