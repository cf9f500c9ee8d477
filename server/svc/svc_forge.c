/* A task's forge: project settings plus token. Worker threads. */
#include "svc/svc_forge.h"
#include "core/model.h"
#include "store/projects.h"

#include <stdlib.h>
#include <string.h>

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
    if (forge_backend_token_lookup(json_string_value(json_object_get(p, "name")),
                                   c->env->forge_secrets, &sf->token, err) < 0)
        goto fail;
    sf->f.token = sf->token;
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
