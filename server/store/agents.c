/* Agent rows. Worker threads only. */
#include "store/agents.h"
#include "core/text.h"

#include <stdio.h>
#include <string.h>

static const struct db_stmt st_create = {
    "agents_create", "INSERT INTO agents (name, backend) VALUES ($1, $2) RETURNING id", 2};

static const struct db_stmt st_get = {
    "agents_get",
    "SELECT jsonb_build_object('id', a.id, 'name', a.name, 'status', a.status,"
    " 'backend', a.backend, 'pod_name', a.pod_name, 'offline_reason', a.offline_reason,"
    " 'unusable_reason', a.unusable_reason, 'usage', a.usage, 'created_at', a.created_at, "
    "'last_heartbeat_at', a.last_heartbeat_at,"
    " 'heartbeat_age_seconds', extract(epoch FROM now() - a.last_heartbeat_at),"
    " 'uptime_seconds', extract(epoch FROM now() - a.created_at),"
    " 'current_task', (SELECT min(t.id) FROM tasks t WHERE t.agent_id = a.id"
    "   AND t.state = 'in_progress'))::text AS agent"
    " FROM agents a WHERE a.id = $1",
    1};

static const struct db_stmt st_list = {
    "agents_list",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', a.id, 'name', a.name, 'status', a.status,"
    " 'backend', a.backend, 'pod_name', a.pod_name, 'offline_reason', a.offline_reason,"
    " 'unusable_reason', a.unusable_reason, 'created_at', a.created_at, 'last_heartbeat_at', "
    "a.last_heartbeat_at,"
    " 'heartbeat_age_seconds', extract(epoch FROM now() - a.last_heartbeat_at),"
    " 'uptime_seconds', extract(epoch FROM now() - a.created_at),"
    " 'current_task', (SELECT jsonb_build_object('id', t.id, 'title', t.title, 'branch', t.branch)"
    "   FROM tasks t WHERE t.agent_id = a.id AND t.state = 'in_progress' ORDER BY t.id LIMIT 1))"
    " ORDER BY a.status = 'offline', a.created_at, a.id), '[]')::text"
    " FROM agents a WHERE ($1::text IS NULL OR a.status = $1)"
    " AND ($2 OR a.status <> 'offline' OR a.updated_at > now() - interval '1 hour')",
    2};

static const struct db_stmt st_drain = {
    "agents_drain",
    "UPDATE agents SET status = 'draining', updated_at = now()"
    " WHERE id = $1 AND status IN ('idle', 'initializing')"
    " AND NOT EXISTS (SELECT 1 FROM tasks WHERE agent_id = $1 AND state = 'in_progress')"
    " RETURNING id",
    1};

static const struct db_stmt st_offline = {
    "agents_offline",
    "UPDATE agents SET status = 'offline', offline_reason = $2, updated_at = now()"
    " WHERE id = $1 RETURNING id",
    2};

/* Only an agent that holds no task may declare itself unusable; a draining or offline one
 * stays what it is (the pool decided), but keeps the reason. */
static const struct db_stmt st_unusable = {
    "agents_unusable",
    "UPDATE agents SET unusable_reason = $2, last_heartbeat_at = now(), updated_at = now(),"
    " status = CASE WHEN status IN ('draining', 'offline') THEN status ELSE 'unusable' END"
    " WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM tasks WHERE agent_id = $1"
    "  AND state = 'in_progress')"
    " RETURNING jsonb_build_object('id', id, 'status', status, 'unusable_reason',"
    "  unusable_reason, 'last_heartbeat_at', last_heartbeat_at)::text",
    2};

int agents_create(struct db *db, const char *name, const char *backend, char id[37],
                  struct err *err)
{
    const char *params[2] = {name, backend};
    PGresult *r;

    id[0] = '\0';
    if (name && strlen(name) > 200)
        return err_set(err, ERR_INVALID, "agent name is longer than 200 characters");
    r = db_exec(db, &st_create, params, err);
    if (!r)
        return -1;
    snprintf(id, 37, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

int agents_get(struct db *db, const char *id, json_t **agent, struct err *err)
{
    const char *params[1] = {id};
    json_error_t je;
    PGresult *r;

    *agent = NULL;
    if (!text_is_uuid(id))
        return err_set(err, ERR_INVALID, "agent id must be a UUID");
    r = db_exec_found(db, &st_get, params, err, "agent %s does not exist", id);
    if (!r)
        return -1;
    *agent = json_loads(PQgetvalue(r, 0, 0), 0, &je);
    PQclear(r);
    return *agent ? 0 : err_set(err, ERR_INTERNAL, "unreadable agent row");
}

int agents_drain(struct db *db, const char *id, bool *drained, struct err *err)
{
    const char *params[1] = {id};
    PGresult *r;

    *drained = false;
    if (!text_is_uuid(id))
        return err_set(err, ERR_INVALID, "agent id must be a UUID");
    r = db_exec(db, &st_drain, params, err);
    if (!r)
        return -1;
    *drained = PQntuples(r) > 0;
    PQclear(r);
    return 0;
}

int agents_mark_offline(struct db *db, const char *id, const char *reason, struct err *err)
{
    const char *params[2] = {id, reason};

    if (!text_is_uuid(id))
        return err_set(err, ERR_INVALID, "agent id must be a UUID");
    return db_run_found(db, &st_offline, params, err, "agent %s does not exist", id);
}

int agents_list(struct db *db, const char *status, bool all, json_t **agents, struct err *err)
{
    const char *p[2] = {status, all ? "true" : "false"};
    json_error_t je;
    PGresult *r = db_exec(db, &st_list, p, err);

    *agents = NULL;
    if (!r)
        return -1;
    *agents = json_loads(PQgetvalue(r, 0, 0), 0, &je);
    PQclear(r);
    return *agents ? 0 : err_set(err, ERR_INTERNAL, "database returned unreadable JSON");
}

int agents_set_unusable(struct db *db, const char *id, const char *reason, json_t **agent,
                        struct err *err)
{
    const char *params[2] = {id, reason};
    json_error_t je;
    PGresult *r;

    *agent = NULL;
    if (!text_is_uuid(id))
        return err_set(err, ERR_INVALID, "agent id must be a UUID");
    if (!reason || !*reason || strlen(reason) > 1000)
        return err_set(err, ERR_INVALID, "an unusable agent must say why (1 to 1000 bytes)");
    r = db_exec(db, &st_unusable, params, err);
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return err_set(err, ERR_CONFLICT,
                       "agent %s does not exist or holds a task: it cannot be unusable", id);
    }
    *agent = json_loads(PQgetvalue(r, 0, 0), 0, &je);
    PQclear(r);
    return *agent ? 0 : err_set(err, ERR_INTERNAL, "unreadable agent row");
}
