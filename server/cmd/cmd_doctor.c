/* droverd doctor. Main thread. */
#include "cmd/cmd_doctor.h"
#include "core/cfg.h"
#include "core/opscfg.h"
#include "pool/agentpool.h"
#include "svc/svc.h"
#include "svc/svc_diag.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The report as text: one line per check, its fix indented under it. */
static void cmd_doctor_print(const json_t *report)
{
    const json_t *ck;
    size_t i;

    json_array_foreach(json_object_get(report, "checks"), i, ck)
    {
        const char *st = json_string_value(json_object_get(ck, "status"));
        const char *fix = json_string_value(json_object_get(ck, "fix"));

        printf("%-4s  %-24s %s\n", st, json_string_value(json_object_get(ck, "name")),
               json_string_value(json_object_get(ck, "detail")));
        if (fix && strcmp(st, "ok") != 0)
            printf("      %-24s fix: %s\n", "", fix);
    }
    printf("overall: %s\n", json_string_value(json_object_get(report, "status")));
}

int cmd_doctor(int argc, char **argv)
{
    struct agentpool_cfg pcfg;
    struct opscfg ocfg;
    struct opt_group groups[2];
    struct svc_env env;
    struct svc_ctx *c = NULL;
    struct err err = {0};
    struct cfg cfg;
    json_t *report = NULL;
    bool json = false;
    int r, rc = 1, n = 0;
    char *args[64];

    /* --json is doctor's own; everything else is serve's settings. */
    for (int i = 0; i < argc && n < (int)(sizeof(args) / sizeof(args[0])) - 1; i++) {
        if (i > 0 && strcmp(argv[i], "--json") == 0)
            json = true;
        else
            args[n++] = argv[i];
    }
    args[n] = NULL;
    agentpool_cfg_default(&pcfg);
    opscfg_default(&ocfg);
    groups[0] = agentpool_opt_group(&pcfg);
    groups[1] = opscfg_opt_group(&ocfg);
    r = cfg_parse_with(&cfg, groups, 2, n, args, &err);
    if (r != 0) {
        if (r < 0)
            fprintf(stderr, "droverd doctor: %s\n(takes droverd serve's settings and --json)\n",
                    err.msg);
        cfg_free(&cfg);
        return r < 0 ? 2 : 0;
    }
    if (agentpool_cfg_resolve(&pcfg, &err) < 0)
        snprintf(pcfg.agent_command, sizeof(pcfg.agent_command), "%s", ""); /* reported below */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    svc_env_default(&env);
    env.cfg = &cfg;
    env.ops = &ocfg;
    env.forge_secrets = getenv("DROVER_FORGE_SECRETS");
    env.public_url = getenv("DROVER_PUBLIC_URL"); /* the webhook URL the check expects */
    c = svc_ctx_open(&env, cfg.database_url);
    if (!c) {
        fprintf(stderr, "droverd doctor: out of memory\n");
        goto out;
    }
    svc_diag_run(c, &pcfg, &report, &err);
    if (json) {
        char *s = json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(s ? s : "{}");
        free(s);
    } else {
        cmd_doctor_print(report);
    }
    rc = strcmp(json_string_value(json_object_get(report, "status")), "fail") == 0 ? 1 : 0;
out:
    json_decref(report);
    svc_ctx_close(c);
    svc_env_clear(&env);
    curl_global_cleanup();
    cfg_free(&cfg);
    return rc;
}
