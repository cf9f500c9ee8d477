/* Project rows. Worker threads or subcommands. */
#include "store/projects.h"
#include "core/model.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The schema's column default repeats it; a NULL given here means "the default". */
/* None: the repository's own default branch, found by the agent (sql/011). */
#define PROJECTS_DEFAULT_BRANCH_SQL "NULL::text"

#define PROJECT_JSON                                                                               \
    "jsonb_build_object('id', id, 'name', name, 'repository', repo_url, 'default_branch',"         \
    " default_branch, 'forge_kind', forge_kind, 'forge_api_url', forge_api_url,"                   \
    " 'forge_repo_path', forge_repo_path, 'settings', settings, 'created_at', created_at,"         \
    " 'updated_at', updated_at)"

/* Column defaults come from the schema (default_branch none, forge_kind 'git', settings {}). */
static const struct db_stmt st_create = {
    "projects_create",
    "INSERT INTO projects (name, repo_url, default_branch, forge_kind, forge_api_url,"
    " forge_repo_path, settings) VALUES ($1, $2, coalesce($3, " PROJECTS_DEFAULT_BRANCH_SQL "),"
    " coalesce($4, 'git'), $5, $6, coalesce($7::jsonb, '{}'))"
    " RETURNING " PROJECT_JSON "::text AS p, true AS created",
    7};

static const struct db_stmt st_upsert = {
    "projects_upsert",
    "INSERT INTO projects AS p (name, repo_url, default_branch, forge_kind, forge_api_url,"
    " forge_repo_path, settings) VALUES ($1, $2, coalesce($3, " PROJECTS_DEFAULT_BRANCH_SQL "),"
    " coalesce($4, 'git'), $5, $6, coalesce($7::jsonb, '{}'))"
    " ON CONFLICT (name) DO UPDATE SET repo_url = EXCLUDED.repo_url,"
    " default_branch = EXCLUDED.default_branch, forge_kind = EXCLUDED.forge_kind,"
    " forge_api_url = EXCLUDED.forge_api_url, forge_repo_path = EXCLUDED.forge_repo_path,"
    " settings = CASE WHEN $7::jsonb IS NULL THEN p.settings ELSE EXCLUDED.settings END,"
    " updated_at = now()"
    " RETURNING " PROJECT_JSON "::text AS p, xmax = 0 AS created",
    7};

static const struct db_stmt st_update = {
    "projects_update",
    "UPDATE projects SET name = coalesce($2, name), repo_url = coalesce($3, repo_url),"
    " default_branch = coalesce($4, default_branch), forge_kind = coalesce($5, forge_kind),"
    " forge_api_url = coalesce($6, forge_api_url),"
    " forge_repo_path = coalesce($7, forge_repo_path),"
    " settings = coalesce($8::jsonb, settings), updated_at = now()"
    " WHERE id = $1 RETURNING " PROJECT_JSON "::text AS p, false AS created",
    8};

static const struct db_stmt st_list = {
    "projects_list",
    "SELECT coalesce(jsonb_agg(" PROJECT_JSON " ORDER BY id), '[]')::text FROM projects", 0};

static const struct db_stmt st_get = {
    "projects_get",
    "SELECT " PROJECT_JSON "::text AS p FROM projects WHERE ($1::bigint IS NOT NULL AND id = $1)"
    " OR ($1::bigint IS NULL AND name = $2)",
    2};

static const struct db_stmt st_delete = {"projects_delete",
                                         "DELETE FROM projects WHERE id = $1 RETURNING id", 1};

static json_t *projects_parse(const char *s, struct err *err)
{
    json_error_t je;
    json_t *j = s ? json_loads(s, 0, &je) : NULL;

    if (!j)
        err_set(err, ERR_INTERNAL, "database returned unreadable JSON");
    return j;
}

static int projects_write(struct db *db, const struct db_stmt *st, const char *const *params,
                          json_t **project, bool *created, struct err *err)
{
    PGresult *r = db_exec_found(db, st, params, err, "no such project");

    *project = NULL;
    if (!r) {
        if (strcmp(db_last_sqlstate(), "23505") == 0)
            err_set(err, ERR_CONFLICT, "a project with that name exists already");
        return -1;
    }
    *project = projects_parse(PQgetvalue(r, 0, 0), err);
    if (created)
        *created = strcmp(db_get(r, 0, "created"), "t") == 0;
    PQclear(r);
    return *project ? 0 : -1;
}

/* The row as the seven text parameters of create/upsert (settings serialised into *settings). */
static void projects_params(const struct projects_row *in, const char *p[7], char **settings)
{
    *settings = in->settings ? json_dumps(in->settings, JSON_COMPACT) : NULL;
    p[0] = in->name;
    p[1] = in->repository;
    p[2] = in->default_branch;
    p[3] = in->forge_kind;
    p[4] = in->forge_api_url;
    p[5] = in->forge_repo_path;
    p[6] = *settings;
}

int projects_create(struct db *db, const struct projects_row *in, json_t **project, struct err *err)
{
    const char *p[7];
    char *settings;
    int rc;

    projects_params(in, p, &settings);
    rc = projects_write(db, &st_create, p, project, NULL, err);
    free(settings);
    return rc;
}

int projects_upsert(struct db *db, const struct projects_row *in, json_t **project, bool *created,
                    struct err *err)
{
    const char *p[7];
    char *settings;
    int rc;

    projects_params(in, p, &settings);
    rc = projects_write(db, &st_upsert, p, project, created, err);
    free(settings);
    return rc;
}

int projects_update(struct db *db, int64_t id, const struct projects_row *in, json_t **project,
                    struct err *err)
{
    const char *p[7], *params[8];
    char idbuf[24], *settings;
    int rc;

    projects_params(in, p, &settings);
    snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
    params[0] = idbuf;
    for (int i = 0; i < 7; i++)
        params[i + 1] = p[i];
    rc = projects_write(db, &st_update, params, project, NULL, err);
    free(settings);
    return rc;
}

int projects_list(struct db *db, json_t **projects, struct err *err)
{
    PGresult *r = db_exec(db, &st_list, NULL, err);

    *projects = NULL;
    if (!r)
        return -1;
    *projects = projects_parse(PQgetvalue(r, 0, 0), err);
    PQclear(r);
    return *projects ? 0 : -1;
}

int projects_get(struct db *db, const char *ref, json_t **project, struct err *err)
{
    bool numeric = ref && *ref;
    const char *params[2];
    PGresult *r;

    *project = NULL;
    for (const char *c = ref; numeric && *c; c++)
        numeric = isdigit((unsigned char)*c);
    if (!ref || !*ref || strlen(ref) > 100)
        return err_set(err, ERR_INVALID, "name a project by its id or name");
    if (numeric && strlen(ref) > 18)
        return err_set(err, ERR_NOT_FOUND, "project '%.100s' does not exist", ref);
    params[0] = numeric ? ref : NULL;
    params[1] = ref;
    r = db_exec_found(db, &st_get, params, err, "project '%.100s' does not exist", ref);
    if (!r)
        return -1;
    *project = projects_parse(PQgetvalue(r, 0, 0), err);
    PQclear(r);
    return *project ? 0 : -1;
}

int projects_get_id(struct db *db, int64_t id, json_t **project, struct err *err)
{
    char ref[24];

    snprintf(ref, sizeof(ref), "%lld", (long long)id);
    return projects_get(db, ref, project, err);
}

int projects_resolve(struct db *db, const char *ref, int64_t *id, struct err *err)
{
    json_t *p = NULL;

    *id = 0;
    if (projects_get(db, ref, &p, err) < 0)
        return -1;
    *id = json_integer_value(json_object_get(p, "id"));
    json_decref(p);
    return 0;
}

int projects_delete(struct db *db, int64_t id, struct err *err)
{
    char idbuf[24];
    const char *params[1] = {idbuf};

    snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
    if (db_run_found(db, &st_delete, params, err, "project %lld does not exist", (long long)id) ==
        0)
        return 0;
    if (strcmp(db_last_sqlstate(), "23503") == 0)
        err_set(err, ERR_CONFLICT,
                "project %lld still has tasks; cancel or keep it (tasks are history)",
                (long long)id);
    return -1;
}
