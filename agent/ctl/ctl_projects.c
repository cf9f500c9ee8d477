/* droverctl project add|list (/api/projects). Single-threaded. */
#include "ctl_projects.h"
#include "ctl_args.h"
#include "ctl_out.h"

#include <stdio.h>

int ctl_projects_add(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_args_spec spec[] = {{"branch", 'b', true},
                                                {"forge", 0, true},
                                                {"forge-url", 0, true},
                                                {"forge-repo", 0, true},
                                                {NULL, 0, false}};
    static const struct {
        const char *opt, *field;
    } fields[] = {{"branch", "default_branch"},
                  {"forge", "forge_kind"},
                  {"forge-url", "forge_api_url"},
                  {"forge-repo", "forge_repo_path"}};
    struct ctl_args a;
    json_t *body, *out = NULL;
    int rc = ctl_args_parse(ctl, argc, argv, spec, &a, 2, 2);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    body = json_pack("{s:s,s:s}", "name", a.pos[0], "repository", a.pos[1]);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (ctl_args_opt(&a, fields[i].opt))
            json_object_set_new(body, fields[i].field,
                                json_string(ctl_args_opt(&a, fields[i].opt)));
    rc = ctl_out_call(ctl, "POST", "/api/projects", body, NULL, &out);
    if (rc == CTL_OK && ctl->json)
        ctl_out_json(out);
    else if (rc == CTL_OK)
        printf("project %lld %s created\n", ctl_out_int(out, "id"), ctl_out_str(out, "name"));
    json_decref(body);
    json_decref(out);
    return rc;
}

int ctl_projects_list(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_args a;
    json_t *out = NULL, *p;
    size_t i;
    int rc = ctl_args_parse(ctl, argc, argv, NULL, &a, 0, 0);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    rc = ctl_out_call(ctl, "GET", "/api/projects", NULL, NULL, &out);
    if (rc == CTL_OK && ctl->json) {
        ctl_out_json(out);
    } else if (rc == CTL_OK) {
        printf("%-5s %-20s %-10s %-7s %s\n", "ID", "NAME", "BRANCH", "FORGE", "REPOSITORY");
        json_array_foreach(json_object_get(out, "projects"), i, p)
            printf("%-5lld %-20s %-10s %-7s %s\n", ctl_out_int(p, "id"), ctl_out_str(p, "name"),
                   ctl_out_str(p, "default_branch"), ctl_out_str(p, "forge_kind"),
                   ctl_out_str(p, "repository"));
    }
    json_decref(out);
    return rc;
}
