/* droverctl token create|revoke (/api/tokens). Single-threaded. */
#include "ctl_tokens.h"
#include "ctl_args.h"
#include "ctl_out.h"

#include <stdio.h>

int ctl_tokens_create(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_args_spec spec[] = {
        {"scope", 's', true}, {"agent", 0, true}, {NULL, 0, false}};
    struct ctl_args a;
    json_t *body, *out = NULL;
    int rc = ctl_args_parse(ctl, argc, argv, spec, &a, 1, 1);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    if (!ctl_args_opt(&a, "scope")) {
        fprintf(stderr, "droverctl token create: --scope is required (operator, admin or agent)\n");
        return CTL_USAGE;
    }
    body = json_pack("{s:s,s:s}", "name", a.pos[0], "scope", ctl_args_opt(&a, "scope"));
    if (ctl_args_opt(&a, "agent"))
        json_object_set_new(body, "agent_id", json_string(ctl_args_opt(&a, "agent")));
    rc = ctl_out_call(ctl, "POST", "/api/tokens", body, NULL, &out);
    if (rc == CTL_OK && ctl->json)
        ctl_out_json(out);
    else if (rc == CTL_OK)
        printf("token %lld (%s): %s\n", ctl_out_int(out, "id"), ctl_out_str(out, "scope"),
               ctl_out_str(out, "token"));
    json_decref(body);
    json_decref(out);
    return rc;
}

int ctl_tokens_revoke(struct ctl *ctl, int argc, char **argv)
{
    char path[256];
    json_t *out = NULL;
    long long id;
    int rc;

    if (ctl_args_parse_id(ctl, argc, argv, "token id", &id, &rc) < 0)
        return rc;
    snprintf(path, sizeof(path), "/api/tokens/%lld", id);
    rc = ctl_out_call(ctl, "DELETE", path, NULL, NULL, &out);
    if (rc == CTL_OK)
        printf("token %lld revoked\n", id);
    json_decref(out);
    return rc;
}
