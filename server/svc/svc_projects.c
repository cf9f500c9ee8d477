/* Projects and schedules. Worker threads or a subcommand. */
#include "svc/svc_projects.h"
#include "core/jsonkeys.h"
#include "core/model.h"
#include "core/text.h"
#include "store/projects.h"
#include "store/schedules.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

static const char *const svc_projects_fields[] = {
    "name",          "repository",      "default_branch", "forge_kind",
    "forge_api_url", "forge_repo_path", "settings",       NULL};

static int svc_projects_name_ok(const char *n, struct err *err)
{
    size_t len = strlen(n);
    bool ok = len >= 1 && len <= 100 && isalnum((unsigned char)n[0]), digits = true;

    for (size_t i = 0; ok && i < len; i++)
        ok = isalnum((unsigned char)n[i]) || strchr("._-", n[i]);
    if (!ok)
        return err_set(err, ERR_INVALID,
                       "name must be 1-100 characters of letters, digits, '.', '_' or '-', "
                       "starting with a letter or digit");
    for (size_t i = 0; i < len; i++)
        digits = digits && isdigit((unsigned char)n[i]);
    if (digits)
        return err_set(err, ERR_INVALID, "name must not be all digits (ids are numbers)");
    return 0;
}

/* A list of tool names or permission rules ("Bash(make:*)"): strings without quotes. */
static int svc_projects_tools(const json_t *v, const char *key, struct err *err)
{
    const json_t *t;
    size_t i;

    if (!v)
        return 0;
    if (!json_is_array(v) || json_array_size(v) > 100)
        return err_set(err, ERR_INVALID, "settings.agent.%s must be an array of up to 100 names",
                       key);
    json_array_foreach(v, i, t)
    {
        const char *s = json_string_value(t);

        if (!s || !*s || strlen(s) > 200 || strpbrk(s, "\"'`$\\\n"))
            return err_set(err, ERR_INVALID,
                           "settings.agent.%s[%zu] must be a tool name or rule (1 to 200 "
                           "characters, no quotes, $, backslash or newline)",
                           key, i);
    }
    return 0;
}

/*
 * settings.agent, the coding agent's settings (docs/agent.md, "Per project"): model (a
 * default for tasks without one), mcp_servers (Claude Code mcpServers entries added next to
 * Drover's own), tools (the built-in tools available) and allowed_tools (the permission
 * allow-list). Checked here so a typo fails the request rather than every task.
 */
static int svc_projects_agent(const json_t *a, struct err *err)
{
    static const char *const keys[] = {"model", "mcp_servers", "tools", "allowed_tools", NULL};
    const char *k, *model;
    const json_t *v;

    if (!a || json_is_null(a))
        return 0;
    if (!json_is_object(a))
        return err_set(err, ERR_INVALID, "settings.agent must be an object");
    if ((k = jsonkeys_unknown(a, keys)))
        return err_set(err, ERR_INVALID,
                       "unknown field settings.agent.%.60s (model, mcp_servers, tools, "
                       "allowed_tools)",
                       k);
    model = json_string_value(json_object_get(a, "model"));
    if (json_object_get(a, "model") &&
        (!model || !*model || strlen(model) > 200 || strpbrk(model, "\"'`$\\\n ")))
        return err_set(err, ERR_INVALID, "settings.agent.model must be a model name");
    v = json_object_get(a, "mcp_servers");
    if (v) {
        const json_t *srv;

        if (!json_is_object(v) || json_object_size(v) > 20)
            return err_set(err, ERR_INVALID,
                           "settings.agent.mcp_servers must be an object of up to 20 servers");
        json_object_foreach((json_t *)v, k, srv)
        {
            if (strcmp(k, "drover") == 0)
                return err_set(err, ERR_INVALID,
                               "settings.agent.mcp_servers: \"drover\" is the task's own server");
            if (!json_is_object(srv))
                return err_set(err, ERR_INVALID,
                               "settings.agent.mcp_servers.%.60s must be an object", k);
        }
    }
    if (svc_projects_tools(json_object_get(a, "tools"), "tools", err) < 0 ||
        svc_projects_tools(json_object_get(a, "allowed_tools"), "allowed_tools", err) < 0)
        return -1;
    return 0;
}

/* The JSON object `in` as a row; `create`: name and repository are required. */
static int svc_projects_row(const json_t *in, bool create, struct projects_row *row,
                            struct err *err)
{
    const char **cols[6] = {&row->name,       &row->repository,    &row->default_branch,
                            &row->forge_kind, &row->forge_api_url, &row->forge_repo_path};
    const char *key;
    json_t *v;

    memset(row, 0, sizeof(*row));
    if ((key = jsonkeys_unknown(in, svc_projects_fields)))
        return err_set(err, ERR_INVALID,
                       "unknown field '%.60s'; a project has name, repository, default_branch, "
                       "forge_kind, forge_api_url, forge_repo_path and settings",
                       key);
    for (int i = 0; i < 6; i++) {
        v = json_object_get(in, svc_projects_fields[i]);
        if (!v || json_is_null(v))
            continue;
        if (!json_is_string(v) || !json_string_length(v))
            return err_set(err, ERR_INVALID, "%s must be a non-empty string",
                           svc_projects_fields[i]);
        *cols[i] = json_string_value(v);
        if (!text_utf8_valid(*cols[i], strlen(*cols[i])))
            return err_set(err, ERR_INVALID, "%s is not valid UTF-8", svc_projects_fields[i]);
    }
    if (create && (!row->name || !row->repository))
        return err_set(err, ERR_INVALID, "a project needs a name and a repository URL");
    if (row->name && svc_projects_name_ok(row->name, err) < 0)
        return -1;
    if (row->forge_kind && strcmp(row->forge_kind, "forgejo") == 0)
        row->forge_kind = "gitea"; /* the same API */
    if (row->forge_kind && strcmp(row->forge_kind, "git") && strcmp(row->forge_kind, "gitea") &&
        strcmp(row->forge_kind, "gitlab") && strcmp(row->forge_kind, "github"))
        return err_set(err, ERR_INVALID, "forge_kind must be git, gitea, gitlab or github");
    if (row->default_branch && !model_branch_name_valid(row->default_branch))
        return err_set(err, ERR_INVALID, "default_branch '%.100s' is not a valid branch name",
                       row->default_branch);
    v = json_object_get(in, "settings");
    if (v && !json_is_null(v)) {
        if (!json_is_object(v))
            return err_set(err, ERR_INVALID, "settings must be a JSON object");
        if (svc_projects_agent(json_object_get(v, "agent"), err) < 0)
            return -1;
        row->settings = v;
    }
    return 0;
}

int svc_projects_create(struct svc_ctx *c, const json_t *in, json_t **project, struct err *err)
{
    struct projects_row row;

    *project = NULL;
    if (svc_projects_row(in, true, &row, err) < 0)
        return -1;
    return projects_create(c->db, &row, project, err);
}

int svc_projects_upsert(struct svc_ctx *c, const json_t *in, json_t **project, bool *created,
                        struct err *err)
{
    struct projects_row row;

    *project = NULL;
    if (svc_projects_row(in, true, &row, err) < 0)
        return -1;
    return projects_upsert(c->db, &row, project, created, err);
}

int svc_projects_update(struct svc_ctx *c, const char *ref, const json_t *in, json_t **project,
                        struct err *err)
{
    struct projects_row row;
    int64_t id;

    *project = NULL;
    if (projects_resolve(c->db, ref, &id, err) < 0 || svc_projects_row(in, false, &row, err) < 0)
        return -1;
    return projects_update(c->db, id, &row, project, err);
}

int svc_projects_list(struct svc_ctx *c, json_t **projects, struct err *err)
{
    return projects_list(c->db, projects, err);
}

int svc_projects_get(struct svc_ctx *c, const char *ref, json_t **project, struct err *err)
{
    return projects_get(c->db, ref, project, err);
}

int svc_projects_delete(struct svc_ctx *c, const char *ref, int64_t *id, struct err *err)
{
    if (projects_resolve(c->db, ref, id, err) < 0)
        return -1;
    return projects_delete(c->db, *id, err);
}

int svc_projects_schedules(struct svc_ctx *c, json_t **schedules, struct err *err)
{
    return schedules_list(c->db, time(NULL), schedules, err);
}

int svc_projects_schedule_create(struct svc_ctx *c, const json_t *in, json_t **schedule,
                                 struct err *err)
{
    return schedules_create(c->db, in, schedule, err);
}

int svc_projects_schedule_delete(struct svc_ctx *c, int64_t id, struct err *err)
{
    return schedules_delete(c->db, id, err);
}
