/* A task's forge: project settings plus token. Worker threads. */
#include "svc/svc_forge.h"
#include "core/model.h"
#include "core/text.h"
#include "forge/forge_ghapp.h"
#include "store/projects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *svc_forge_allow(const struct svc_ctx *c, const char *project)
{
    char var[160];
    const char *v;

    text_env_name("DROVER_FORGE_ALLOW_", project, var, sizeof(var));
    v = getenv(var);
    return v && *v ? v : c->env->forge_allow;
}

/*
 * A project on GitHub with settings.github_app_installation_id, where droverd has an App
 * (DROVER_GITHUB_APP_ID + DROVER_GITHUB_APP_KEY_FILE): a fresh installation token, narrowed to
 * the project's repository, replaces any static one. 0 (also: nothing to do) or -1.
 */
static int svc_forge_app_token(struct svc_ctx *c, const json_t *p, struct svc_forge *sf,
                               struct err *err)
{
    const json_t *inst =
        json_object_get(json_object_get(p, "settings"), "github_app_installation_id");
    char id[32], expires[32], *tok = NULL;
    const char *slash = sf->f.repo_path ? strrchr(sf->f.repo_path, '/') : NULL;
    struct forge_ghapp app = {.app_id = c->env->github_app_id,
                              .key_file = c->env->github_app_key,
                              .installation_id = id,
                              .repository = slash ? slash + 1 : NULL,
                              .api_url = sf->f.api_url,
                              .allow = sf->f.allow,
                              .timeout_s = 30};

    if (sf->f.kind != FORGE_GITHUB || !inst)
        return 0;
    if (json_is_integer(inst))
        snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(inst));
    else
        snprintf(id, sizeof(id), "%s", json_string_value(inst) ? json_string_value(inst) : "");
    if (!app.app_id || !*app.app_id || !app.key_file || !*app.key_file)
        return err_set(err, ERR_INVALID,
                       "the project names a GitHub App installation but droverd has no App "
                       "(DROVER_GITHUB_APP_ID, DROVER_GITHUB_APP_KEY_FILE)");
    if (forge_ghapp_token(&app, &tok, expires, err) < 0)
        return -1;
    if (sf->token) {
        memset(sf->token, 0, strlen(sf->token));
        free(sf->token);
    }
    sf->token = tok;
    snprintf(sf->expires_at, sizeof(sf->expires_at), "%s", expires);
    return 0;
}

int svc_forge_resolve(struct svc_ctx *c, int64_t project_id, const json_t *task,
                      struct svc_forge *sf, bool *has_forge, struct err *err)
{
    const json_t *tp = json_object_get(task, "project");
    json_t *p;

    memset(sf, 0, sizeof(*sf));
    *has_forge = false;
    if (project_id <= 0)
        return 0;
    if (projects_get_id(c->db, project_id, &sf->project, err) < 0)
        return -1;
    p = sf->project;
    sf->f.kind = FORGE_GIT;
    sf->f.timeout_s = 60;
    sf->f.repo_url = json_string_value(json_object_get(tp, "repoUrl"));
    if (forge_backend_kind_parse(json_string_value(json_object_get(p, "forge_kind")), &sf->f.kind,
                                 err) < 0)
        goto fail;
    sf->f.api_url = json_string_value(json_object_get(p, "forge_api_url"));
    sf->f.repo_path = json_string_value(json_object_get(p, "forge_repo_path"));
    sf->f.allow = svc_forge_allow(c, json_string_value(json_object_get(p, "name")));
    if (forge_backend_token_lookup(json_string_value(json_object_get(p, "name")),
                                   c->env->forge_secrets, &sf->token, err) < 0 ||
        svc_forge_app_token(c, p, sf, err) < 0)
        goto fail;
    sf->f.token = sf->token;
    sf->f.protocols = c->env->repo_protocols;
    if (!sf->f.repo_url || !*sf->f.repo_url) {
        err_set(err, ERR_INVALID, "the task names no repository");
        goto fail;
    }
    *has_forge = true;
    return 0;
fail:
    svc_forge_clear(sf);
    return -1;
}

void svc_forge_clear(struct svc_forge *sf)
{
    json_decref(sf->project);
    if (sf->token) {
        memset(sf->token, 0, strlen(sf->token));
        free(sf->token);
    }
    memset(sf, 0, sizeof(*sf));
}

const char *svc_forge_base(const json_t *task)
{
    return svc_forge_base_or(task, NULL);
}

const char *svc_forge_base_or(const json_t *task, const char *found)
{
    const char *b = json_string_value(json_object_get(task, "base_branch"));

    /* Neither the task nor its project names one: what the agent found on the remote. */
    if (found && *found && json_is_false(json_object_get(task, "base_given")))
        return found;
    if (!b || !*b)
        b = json_string_value(json_object_get(json_object_get(task, "project"), "defaultBranch"));
    return b && *b ? b : MODEL_DEFAULT_BRANCH;
}
