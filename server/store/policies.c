/* Projects' autonomy policies (see policies.h). Worker threads. */
#include "store/policies.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICIES_JSON                                                                              \
    "jsonb_build_object('project_id', v.project_id, 'version', v.version, 'enabled', v.enabled,"   \
    " 'policy', v.policy, 'approval_timeout_seconds', v.approval_timeout_seconds,"                 \
    " 'created_by', v.created_by, 'created_at', v.created_at)"

/* The next version number is read under the project's row lock, so two PUTs queue up rather
 * than both computing the same number (the primary key would refuse the second one anyway). */
static const struct db_stmt st_put = {
    "policies_put",
    "WITH p AS (SELECT id FROM projects WHERE id = $1 FOR UPDATE),"
    " v AS (INSERT INTO project_policies (project_id, version, policy, enabled,"
    "  approval_timeout_seconds, created_by)"
    "  SELECT p.id, coalesce((SELECT max(version) FROM project_policies WHERE project_id = p.id),"
    "   0) + 1, $2::jsonb, $3::boolean, $4::int, $5 FROM p RETURNING *)"
    " SELECT " POLICIES_JSON "::text FROM v",
    5};

static const struct db_stmt st_current = {"policies_current",
                                          "SELECT " POLICIES_JSON
                                          "::text FROM project_policies v WHERE v.project_id = $1"
                                          " ORDER BY v.version DESC LIMIT 1",
                                          1};

static const struct db_stmt st_versions = {
    "policies_versions",
    "SELECT coalesce(jsonb_agg(x.j ORDER BY x.version DESC), '[]')::text FROM"
    " (SELECT v.version, " POLICIES_JSON " AS j FROM project_policies v WHERE v.project_id = $1"
    "  ORDER BY v.version DESC LIMIT 100) x",
    1};

static int policies_read(PGresult *r, json_t **out, struct err *err)
{
    json_error_t je;

    *out = NULL;
    if (PQntuples(r) == 0 || PQgetisnull(r, 0, 0))
        return 0;
    *out = json_loads(PQgetvalue(r, 0, 0), 0, &je);
    return *out ? 0 : err_set(err, ERR_INTERNAL, "database returned unreadable JSON");
}

int policies_put(struct db *db, int64_t project_id, const json_t *policy, bool enabled,
                 int approval_timeout_seconds, const char *created_by, json_t **out,
                 struct err *err)
{
    char id[24], to[16];
    char *text = json_dumps(policy, JSON_COMPACT);
    const char *p[5] = {id, text, enabled ? "true" : "false", to, created_by};
    PGresult *r = NULL;
    int rc = -1;

    *out = NULL;
    if (!text)
        return err_set(err, ERR_INTERNAL, "policy does not serialize");
    snprintf(id, sizeof(id), "%lld", (long long)project_id);
    snprintf(to, sizeof(to), "%d", approval_timeout_seconds);
    r = db_exec(db, &st_put, p, err);
    if (!r) {
        if (strcmp(db_last_sqlstate(), "23505") == 0)
            err_set(err, ERR_CONFLICT, "the policy was changed at the same moment; send it again");
        goto out;
    }
    if (policies_read(r, out, err) < 0)
        goto out;
    if (!*out) {
        err_set(err, ERR_NOT_FOUND, "project %lld does not exist", (long long)project_id);
        goto out;
    }
    rc = 0;
out:
    PQclear(r);
    free(text);
    return rc;
}

/* Run `st` for one project and read its answer (policies_read). */
static int policies_of(struct db *db, const struct db_stmt *st, int64_t project_id, json_t **out,
                       struct err *err)
{
    char id[24];
    const char *p[1] = {id};
    PGresult *r;
    int rc;

    *out = NULL;
    snprintf(id, sizeof(id), "%lld", (long long)project_id);
    if (!(r = db_exec(db, st, p, err)))
        return -1;
    rc = policies_read(r, out, err);
    PQclear(r);
    return rc;
}

int policies_current(struct db *db, int64_t project_id, json_t **out, struct err *err)
{
    return policies_of(db, &st_current, project_id, out, err);
}

int policies_versions(struct db *db, int64_t project_id, json_t **out, struct err *err)
{
    return policies_of(db, &st_versions, project_id, out, err);
}
