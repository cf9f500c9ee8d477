/* Project rows. Worker threads or subcommands only. */
#include "store/forge_projects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROJECT_JSON                                                                               \
    "jsonb_build_object('id', id, 'name', name, 'repo_url', repo_url, 'default_branch',"           \
    " default_branch, 'forge_kind', forge_kind, 'forge_api_url', forge_api_url,"                   \
    " 'forge_repo_path', forge_repo_path, 'settings', settings)"

static const struct db_stmt st_upsert = {
    "forge_projects_upsert",
    "INSERT INTO projects AS p (name, repo_url, default_branch, forge_kind, forge_api_url,"
    " forge_repo_path, settings) VALUES ($1, $2, coalesce($3, 'main'), coalesce($4, 'git'), $5,"
    " $6, coalesce($7::jsonb, '{}'))"
    " ON CONFLICT (name) DO UPDATE SET repo_url = EXCLUDED.repo_url,"
    " default_branch = EXCLUDED.default_branch, forge_kind = EXCLUDED.forge_kind,"
    " forge_api_url = EXCLUDED.forge_api_url, forge_repo_path = EXCLUDED.forge_repo_path,"
    " settings = CASE WHEN $7::jsonb IS NULL THEN p.settings ELSE EXCLUDED.settings END,"
    " updated_at = now()"
    " RETURNING (" PROJECT_JSON " || jsonb_build_object('created', xmax = 0))::text AS project",
    7};

static const struct db_stmt st_get = {
    "forge_projects_get", "SELECT " PROJECT_JSON "::text AS project FROM projects WHERE id = $1",
    1};

static const struct db_stmt st_preview = {
    "forge_projects_set_preview_url",
    "UPDATE tasks SET preview_url = $2, updated_at = now() WHERE id = $1 RETURNING id", 2};

static int projects_row(PGresult *r, json_t **out, struct err *err)
{
    json_error_t je;

    if (PQntuples(r) != 1) {
        PQclear(r);
        return err_set(err, ERR_NOT_FOUND, "project not found");
    }
    *out = json_loads(PQgetvalue(r, 0, 0), 0, &je);
    PQclear(r);
    return *out ? 0 : err_set(err, ERR_INTERNAL, "project row is not JSON: %s", je.text);
}

int forge_projects_upsert(struct db *db, const struct forge_projects_new *p, json_t **out,
                          struct err *err)
{
    const char *params[7];
    char *settings = NULL;
    PGresult *r;
    int rc;

    *out = NULL;
    if (!p->name || !*p->name)
        return err_set(err, ERR_INVALID, "a project needs a name");
    if (!p->repo_url || !*p->repo_url)
        return err_set(err, ERR_INVALID, "a project needs a repository URL");
    if (p->settings && !json_is_object(p->settings))
        return err_set(err, ERR_INVALID, "settings must be a JSON object");
    if (p->settings)
        settings = json_dumps(p->settings, JSON_COMPACT);
    params[0] = p->name;
    params[1] = p->repo_url;
    params[2] = p->default_branch;
    params[3] = p->forge_kind && strcmp(p->forge_kind, "forgejo") == 0 ? "gitea" : p->forge_kind;
    params[4] = p->forge_api_url;
    params[5] = p->forge_repo_path;
    params[6] = settings;
    r = db_exec(db, &st_upsert, params, err);
    free(settings);
    if (!r)
        return -1;
    rc = projects_row(r, out, err);
    return rc;
}

int forge_projects_get(struct db *db, int64_t id, json_t **out, struct err *err)
{
    char ids[24];
    const char *params[1] = {ids};
    PGresult *r;

    *out = NULL;
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    r = db_exec(db, &st_get, params, err);
    return r ? projects_row(r, out, err) : -1;
}

int forge_projects_set_preview_url(struct db *db, int64_t task_id, const char *url, struct err *err)
{
    char ids[24];
    const char *params[2] = {ids, url};
    PGresult *r;
    int n;

    snprintf(ids, sizeof(ids), "%lld", (long long)task_id);
    r = db_exec(db, &st_preview, params, err);
    if (!r)
        return -1;
    n = PQntuples(r);
    PQclear(r);
    return n == 1 ? 0 : err_set(err, ERR_NOT_FOUND, "task %lld not found", (long long)task_id);
}
