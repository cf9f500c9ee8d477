/* Project rows. Worker threads only. */
#include "store/projects.h"
#include "core/mem.h"
#include "core/text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROJECT_JSON                                                                               \
    "jsonb_build_object('id', id, 'name', name, 'repository', repo_url, 'default_branch',"         \
    " default_branch, 'forge_kind', forge_kind, 'forge_api_url', forge_api_url,"                   \
    " 'forge_repo_path', forge_repo_path, 'settings', settings, 'created_at', created_at,"         \
    " 'updated_at', updated_at)::text"

static const struct db_stmt st_create = {
    "projects_create",
    "INSERT INTO projects (name, repo_url, default_branch, forge_kind, forge_api_url,"
    " forge_repo_path, settings) VALUES ($1, $2, coalesce($3, 'main'), coalesce($4, 'git'), $5,"
    " $6, coalesce($7::jsonb, '{}')) RETURNING " PROJECT_JSON " AS p",
    7};

static const struct db_stmt st_update = {
    "projects_update",
    "UPDATE projects SET name = coalesce($2, name), repo_url = coalesce($3, repo_url),"
    " default_branch = coalesce($4, default_branch), forge_kind = coalesce($5, forge_kind),"
    " forge_api_url = coalesce($6, forge_api_url),"
    " forge_repo_path = coalesce($7, forge_repo_path),"
    " settings = coalesce($8::jsonb, settings), updated_at = now()"
    " WHERE id = $1 RETURNING " PROJECT_JSON " AS p",
    8};

static const struct db_stmt st_list = {
    "projects_list",
    "SELECT coalesce(jsonb_agg(" PROJECT_JSON "::jsonb ORDER BY id), '[]')::text FROM projects", 0};

static const struct db_stmt st_get = {
    "projects_get",
    "SELECT " PROJECT_JSON " AS p FROM projects WHERE ($1::bigint IS NOT NULL AND id = $1)"
    " OR ($1::bigint IS NULL AND name = $2)",
    2};

static const struct db_stmt st_delete = {"projects_delete",
                                         "DELETE FROM projects WHERE id = $1 RETURNING id", 1};

static const char *const projects_fields[] = {
    "name",          "repository",      "default_branch", "forge_kind",
    "forge_api_url", "forge_repo_path", "settings",       NULL};

static json_t *projects_parse(const char *s, struct err *err)
{
    json_error_t je;
    json_t *j = s ? json_loads(s, 0, &je) : NULL;

    if (!j)
        err_set(err, ERR_INTERNAL, "database returned unreadable JSON");
    return j;
}

/* Checks the input object and extracts the text parameters (settings serialised). */
static int projects_params(const json_t *in, bool create, const char *out[7], char **settings,
                           struct err *err)
{
    const char *key;
    json_t *v;

    *settings = NULL;
    json_object_foreach((json_t *)in, key, v)
    {
        bool known = false;

        for (int i = 0; projects_fields[i]; i++)
            known |= strcmp(key, projects_fields[i]) == 0;
        if (!known)
            return err_set(err, ERR_INVALID,
                           "unknown field '%.60s'; a project has name, repository, default_branch, "
                           "forge_kind, forge_api_url, forge_repo_path and settings",
                           key);
    }
    for (int i = 0; i < 6; i++) {
        v = json_object_get(in, projects_fields[i]);
        out[i] = NULL;
        if (!v || json_is_null(v))
            continue;
        if (!json_is_string(v) || !json_string_length(v))
            return err_set(err, ERR_INVALID, "%s must be a non-empty string", projects_fields[i]);
        out[i] = json_string_value(v);
        if (!text_utf8_valid(out[i], strlen(out[i])))
            return err_set(err, ERR_INVALID, "%s is not valid UTF-8", projects_fields[i]);
    }
    if (create && (!out[0] || !out[1]))
        return err_set(err, ERR_INVALID, "a project needs a name and a repository URL");
    if (out[0]) {
        const char *n = out[0];
        size_t len = strlen(n);
        bool ok = len >= 1 && len <= 100 && isalnum((unsigned char)n[0]);

        for (size_t i = 0; ok && i < len; i++)
            ok = isalnum((unsigned char)n[i]) || strchr("._-", n[i]);
        if (!ok)
            return err_set(err, ERR_INVALID,
                           "name must be 1-100 characters of letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit");
        ok = false;
        for (size_t i = 0; i < len; i++)
            ok |= !isdigit((unsigned char)n[i]);
        if (!ok)
            return err_set(err, ERR_INVALID, "name must not be all digits (ids are numbers)");
    }
    if (out[3] && strcmp(out[3], "git") && strcmp(out[3], "gitea") && strcmp(out[3], "gitlab") &&
        strcmp(out[3], "github"))
        return err_set(err, ERR_INVALID, "forge_kind must be git, gitea, gitlab or github");
    v = json_object_get(in, "settings");
    if (v && !json_is_null(v)) {
        if (!json_is_object(v))
            return err_set(err, ERR_INVALID, "settings must be a JSON object");
        *settings = json_dumps(v, JSON_COMPACT);
    }
    return 0;
}

static int projects_write(struct db *db, const struct db_stmt *st, const char *const *params,
                          json_t **project, struct err *err)
{
    PGresult *r = db_exec(db, st, params, err);

    if (!r) {
        if (strcmp(db_last_sqlstate(), "23505") == 0)
            err_set(err, ERR_CONFLICT, "a project with that name exists already");
        return -1;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        return err_set(err, ERR_NOT_FOUND, "no such project");
    }
    *project = projects_parse(PQgetvalue(r, 0, 0), err);
    PQclear(r);
    return *project ? 0 : -1;
}

int projects_create(struct db *db, const json_t *in, json_t **project, struct err *err)
{
    const char *p[7];
    char *settings = NULL;
    int rc;

    *project = NULL;
    if (projects_params(in, true, p, &settings, err) < 0)
        return -1;
    p[6] = settings;
    rc = projects_write(db, &st_create, p, project, err);
    free(settings);
    return rc;
}

int projects_update(struct db *db, int64_t id, const json_t *in, json_t **project, struct err *err)
{
    const char *p[7], *params[8];
    char idbuf[24], *settings = NULL;
    int rc;

    *project = NULL;
    if (projects_params(in, false, p, &settings, err) < 0)
        return -1;
    snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
    params[0] = idbuf;
    for (int i = 0; i < 6; i++)
        params[i + 1] = p[i];
    params[7] = settings;
    rc = projects_write(db, &st_update, params, project, err);
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
    params[0] = numeric ? ref : NULL;
    params[1] = ref;
    r = db_exec(db, &st_get, params, err);
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return err_set(err, ERR_NOT_FOUND, "project '%.100s' does not exist", ref);
    }
    *project = projects_parse(PQgetvalue(r, 0, 0), err);
    PQclear(r);
    return *project ? 0 : -1;
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
    PGresult *r;
    int n;

    snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
    r = db_exec(db, &st_delete, params, err);
    if (!r) {
        if (strcmp(db_last_sqlstate(), "23503") == 0)
            err_set(err, ERR_CONFLICT,
                    "project %lld still has tasks; cancel or keep it (tasks are history)",
                    (long long)id);
        return -1;
    }
    n = PQntuples(r);
    PQclear(r);
    if (n == 0)
        return err_set(err, ERR_NOT_FOUND, "project %lld does not exist", (long long)id);
    return 0;
}
