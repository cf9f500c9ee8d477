/* droverctl health. Single-threaded. */
#include "ctl_health.h"
#include "ctl_args.h"
#include "ctl_out.h"
#include "ctl_table.h"

#include <stdio.h>
#include <string.h>

int ctl_health(struct ctl *ctl, int argc, char **argv)
{
    static const char *const cols[] = {"STATUS", "CHECK", "DETAIL", NULL};
    struct ctl_args a;
    struct ctl_table t;
    json_t *out = NULL, *ck;
    size_t i;
    const char *overall;
    int rc = ctl_args_parse(ctl, argc, argv, NULL, &a, 0, 0);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    rc = ctl_out_call(ctl, "GET", "/api/diagnostics", NULL, NULL, &out);
    if (rc != CTL_OK)
        goto out;
    overall = ctl_out_str(out, "status");
    if (ctl->json) {
        ctl_out_json(out);
    } else {
        ctl_table_init(&t, cols);
        json_array_foreach(json_object_get(out, "checks"), i, ck)
        {
            const char *row[3] = {ctl_out_str(ck, "status"), ctl_out_str(ck, "name"),
                                  ctl_out_str(ck, "detail")};
            ctl_table_row(&t, row);
        }
        ctl_table_print(&t, stdout);
        ctl_table_free(&t);
        json_array_foreach(json_object_get(out, "checks"), i, ck)
        {
            if (strcmp(ctl_out_str(ck, "status"), "ok") != 0 && json_object_get(ck, "fix"))
                printf("fix %s: %s\n", ctl_out_str(ck, "name"), ctl_out_str(ck, "fix"));
        }
        printf("overall: %s\n", overall);
    }
    if (strcmp(overall, "fail") == 0)
        rc = CTL_ERR;
out:
    json_decref(out);
    return rc;
}
