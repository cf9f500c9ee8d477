/* get_git_credential (see svc_gitcred.h). Worker threads. */
#include "svc/svc_gitcred.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/text.h"
#include "forge/forge_backend.h"
#include "forge/forge_ghapp.h"
#include "store/branches.h"
#include "store/gitcred.h"
#include "store/projects.h"
#include "svc/svc_forge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DROVER_GIT_TOKEN_<NAME> (NAME as forge_backend_token_lookup spells it). Owned or NULL. */
static char *svc_gitcred_static(struct svc_ctx *c, const char *project)
{
    char var[160], *tok = NULL;
    const char *v;
    struct err ignored = {0};

    text_env_name("DROVER_GIT_TOKEN_", project, var, sizeof(var));
    if ((v = getenv(var)) && *v)
        return mem_strdup(v);
    if (c->env->git_secrets && *c->env->git_secrets &&
        forge_backend_token_lookup_file(project, c->env->git_secrets, &tok, &ignored) == 0)
        return tok;
    return NULL;
}

int svc_gitcred_get(struct svc_ctx *c, const char *agent_id, int64_t task_id, int64_t epoch,
                    json_t **out, struct err *err)
{
    struct branches_lease l;
    json_t *p = NULL, *settings, *inst;
    bool first;
    const char *url, *name, *kind;
    char *tok = NULL, expires[32] = "";
    int rc = -1;

    *out = NULL;
    if (branches_fence(c->db, agent_id, task_id, epoch, &l, err) < 0)
        return -1;
    /* Once per lease: the agent asks before any repository code runs; anything asking later
     * (a coding command holding the agent's token) is refused. */
    if (gitcred_take(c->db, agent_id, task_id, epoch, &first, err) < 0)
        goto out;
    if (!first) {
        err_set(err, ERR_CONFLICT,
                "the git credential of task %lld was already handed out for this lease",
                (long long)task_id);
        goto out;
    }
    url = json_string_value(json_object_get(json_object_get(l.task, "project"), "repoUrl"));
    if (!url || !*url || l.project_id <= 0) {
        *out = json_pack("{s:I,s:n,s:n,s:n,s:n}", "task_id", (json_int_t)task_id, "url", "username",
                         "token", "expires_at");
        rc = 0;
        goto out;
    }
    if (projects_get_id(c->db, l.project_id, &p, err) < 0)
        goto out;
    name = json_string_value(json_object_get(p, "name"));
    kind = json_string_value(json_object_get(p, "forge_kind"));
    settings = json_object_get(p, "settings");
    inst = json_object_get(settings, "github_app_installation_id");
    {
        /* The credential goes with this URL only: the same binding as droverd's own. */
        struct forge f = {.kind = FORGE_GIT, .repo_url = url, .allow = svc_forge_allow(c, name)};
        const char *api = json_string_value(json_object_get(p, "forge_api_url"));

        if (kind && strcmp(kind, "github") == 0) {
            f.kind = FORGE_GITHUB;
            f.api_url = api;
        }
        if (inst && f.kind == FORGE_GITHUB && c->env->github_app_id && c->env->github_app_key) {
            const char *path = json_string_value(json_object_get(p, "forge_repo_path"));
            const char *slash = path ? strrchr(path, '/') : NULL;
            char id[32];
            struct forge_ghapp app = {.app_id = c->env->github_app_id,
                                      .key_file = c->env->github_app_key,
                                      .installation_id = id,
                                      .repository = slash ? slash + 1 : NULL,
                                      .api_url = api,
                                      .allow = svc_forge_allow(c, name),
                                      .contents_only = true,
                                      .timeout_s = 30};

            if (json_is_integer(inst))
                snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(inst));
            else
                snprintf(id, sizeof(id), "%s",
                         json_string_value(inst) ? json_string_value(inst) : "");
            if (forge_ghapp_token(&app, &tok, expires, err) < 0)
                goto out;
        } else {
            tok = svc_gitcred_static(c, name);
        }
        if (tok && forge_cred_check(&f, url, true, err) < 0)
            goto out;
    }
    *out = json_pack("{s:I,s:s,s:s,s:o,s:o}", "task_id", (json_int_t)task_id, "url", url,
                     "username", "x-access-token", "token", tok ? json_string(tok) : json_null(),
                     "expires_at", expires[0] ? json_string(expires) : json_null());
    log_info("forge", "task=%lld git credential handed to its holder (%s)", (long long)task_id,
             tok ? (expires[0] ? "installation token" : "project token") : "none");
    rc = 0;
out:
    if (tok) {
        memset(tok, 0, strlen(tok));
        free(tok);
    }
    json_decref(p);
    branches_lease_clear(&l);
    return rc;
}
