/* Pool settings, audit, decisions, leader and agent queries. Worker/pool threads only. */
#include "store/poolstore.h"
#include "core/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_stmt st_settings = {
    "poolstore_settings",
    "SELECT min_agents, max_agents, coalesce(pinned_target, -1) AS pinned_target,"
    " coalesce(extract(epoch FROM pinned_until), 0) AS pinned_until,"
    " extract(epoch FROM now()) AS now FROM pool_settings WHERE id = 1",
    0};

/* One statement: the old row is read under the update's row lock and audited with the new. */
static const struct db_stmt st_set = {
    "poolstore_set",
    "WITH old AS (SELECT min_agents, max_agents FROM pool_settings WHERE id = 1 FOR UPDATE),"
    " u AS (UPDATE pool_settings SET min_agents = $2, max_agents = $3, updated_at = now(),"
    "  updated_by = $1 WHERE id = 1 RETURNING min_agents, max_agents)"
    " INSERT INTO pool_audit (actor, action, old_value, new_value)"
    " SELECT $1, 'settings', jsonb_build_object('min_agents', old.min_agents, 'max_agents',"
    "  old.max_agents), jsonb_build_object('min_agents', u.min_agents, 'max_agents',"
    "  u.max_agents) FROM old, u, (SELECT pg_notify('drover_pool', 'settings')) n RETURNING id",
    3};

/* One lock per schema, so separate test schemas (and deployments) elect separately. */
#define POOLSTORE_LOCK "hashtext('drover.pool.' || current_schema())"

static const struct db_stmt st_lead_try = {
    "poolstore_lead_try", "SELECT pg_try_advisory_lock(" POOLSTORE_LOCK ") AS ok", 0};
static const struct db_stmt st_lead_held = {
    "poolstore_lead_held",
    "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid()",
    0};

static const struct db_stmt st_pin = {
    "poolstore_pin",
    "WITH old AS (SELECT pinned_target, pinned_until FROM pool_settings WHERE id = 1 FOR UPDATE),"
    " u AS (UPDATE pool_settings SET pinned_target = $2::int,"
    "  pinned_until = CASE WHEN $2::int IS NULL THEN NULL WHEN $3::int > 0"
    "   THEN now() + make_interval(secs => $3::int) ELSE 'infinity' END,"
    "  updated_at = now(), updated_by = $1 WHERE id = 1 RETURNING pinned_target, pinned_until)"
    " INSERT INTO pool_audit (actor, action, old_value, new_value)"
    " SELECT $1, CASE WHEN $2::int IS NULL THEN 'unpin' ELSE 'pin' END,"
    "  jsonb_build_object('pinned_target', old.pinned_target, 'pinned_until', old.pinned_until),"
    "  jsonb_build_object('pinned_target', u.pinned_target, 'pinned_until', u.pinned_until)"
    " FROM old, u, (SELECT pg_notify('drover_pool', 'pin')) n RETURNING id",
    3};

static const struct db_stmt st_audit = {
    "poolstore_audit",
    "INSERT INTO pool_audit (actor, action, new_value) VALUES ($1, $2, $3::jsonb)", 3};

static const struct db_stmt st_record = {
    "poolstore_record",
    "INSERT INTO scale_events (replica, trigger, inputs, raw, target, current, creates, deletes,"
    " breaker_open, reason) VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8::jsonb, $9, $10)",
    10};

static const struct db_stmt st_events = {
    "poolstore_events",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'ts', ts, 'replica', replica,"
    " 'trigger', trigger, 'inputs', inputs, 'raw', raw, 'target', target, 'current', current,"
    " 'creates', creates, 'deletes', deletes, 'breaker_open', breaker_open, 'reason', reason)"
    " ORDER BY id DESC), '[]')::text FROM (SELECT * FROM scale_events ORDER BY id DESC"
    " LIMIT $1) e",
    1};

static const struct db_stmt st_audit_list = {
    "poolstore_audit_list",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'ts', ts, 'actor', actor,"
    " 'action', action, 'old', old_value, 'new', new_value) ORDER BY id DESC), '[]')::text"
    " FROM (SELECT * FROM pool_audit ORDER BY id DESC LIMIT $1) a",
    1};

static const struct db_stmt st_leader_set = {
    "poolstore_leader_set",
    "INSERT INTO pool_leader (id, replica) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET"
    " since = CASE WHEN pool_leader.replica = $1 THEN pool_leader.since ELSE now() END,"
    " replica = $1, seen_at = now()",
    1};

static const struct db_stmt st_leader_get = {
    "poolstore_leader_get",
    "SELECT jsonb_build_object('replica', replica, 'since', since, 'seen_at', seen_at)::text"
    " FROM pool_leader WHERE id = 1",
    0};

static const struct db_stmt st_live = {
    "poolstore_live",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', a.id, 'status', a.status,"
    " 'backend', a.backend, 'pod_name', a.pod_name, 'pod_uid', a.pod_uid,"
    " 'unusable_reason', a.unusable_reason, 'age_seconds', extract(epoch FROM now() - "
    "a.created_at),"
    " 'heartbeat_age_seconds', extract(epoch FROM now() - a.last_heartbeat_at),"
    " 'has_task', EXISTS (SELECT 1 FROM tasks t WHERE t.agent_id = a.id"
    "   AND t.state = 'in_progress')) ORDER BY a.created_at DESC, a.id), '[]')::text"
    " FROM agents a WHERE a.status <> 'offline'",
    0};

static const struct db_stmt st_set_pod = {
    "poolstore_set_pod",
    "UPDATE agents SET pod_name = $2, pod_uid = $3, updated_at = now() WHERE id = $1"
    " RETURNING id",
    3};

static const struct db_stmt st_reap_stale = {
    "poolstore_reap_stale",
    "WITH stale AS (SELECT id FROM agents WHERE status <> 'offline'"
    "  AND last_heartbeat_at < now() - make_interval(secs => $1::int) FOR UPDATE SKIP LOCKED),"
    " off AS (UPDATE agents a SET status = 'offline', updated_at = now(),"
    "  offline_reason = 'stale: no heartbeat for ' || $1 || ' s' FROM stale s WHERE a.id = s.id"
    "  RETURNING a.id),"
    " exp AS (UPDATE tasks t SET lease_expires_at = now() - interval '1 second'"
    "  WHERE t.state = 'in_progress' AND t.agent_id IN (SELECT id FROM off) RETURNING t.id)"
    " SELECT coalesce(jsonb_agg(id), '[]')::text, (SELECT count(*) FROM exp) FROM off",
    1};

static const struct db_stmt st_expire_agent = {
    "poolstore_expire_agent",
    "UPDATE tasks SET lease_expires_at = now() - interval '1 second'"
    " WHERE agent_id = $1 AND state = 'in_progress'",
    1};

int poolstore_settings_get(struct db *db, struct poolstore_settings *s, struct err *err)
{
    PGresult *r = db_exec(db, &st_settings, NULL, err);

    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return err_set(err, ERR_INTERNAL, "pool_settings has no row");
    }
    s->min_agents = (int)db_get_ll(r, 0, "min_agents");
    s->max_agents = (int)db_get_ll(r, 0, "max_agents");
    s->pinned_target = (int)db_get_ll(r, 0, "pinned_target");
    /* 'infinity' reads back as "Infinity", which strtod understands. */
    s->pinned_until = strtod(db_get(r, 0, "pinned_until"), NULL);
    s->now = strtod(db_get(r, 0, "now"), NULL);
    PQclear(r);
    return 0;
}

int poolstore_settings_set(struct db *db, const char *actor, int min_agents, int max_agents,
                           int hard_cap, struct err *err)
{
    char a[16], b[16];
    const char *params[3] = {actor ? actor : "unknown", a, b};
    PGresult *r;

    if (min_agents < 0)
        return err_set(err, ERR_INVALID, "min_agents must be >= 0 (got %d)", min_agents);
    if (max_agents < min_agents)
        return err_set(err, ERR_INVALID, "min_agents (%d) must be <= max_agents (%d)", min_agents,
                       max_agents);
    if (max_agents > hard_cap)
        return err_set(err, ERR_INVALID, "max_agents (%d) must be <= the hard cap (%d)", max_agents,
                       hard_cap);
    snprintf(a, sizeof(a), "%d", min_agents);
    snprintf(b, sizeof(b), "%d", max_agents);
    r = db_exec(db, &st_set, params, err);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int poolstore_pin(struct db *db, const char *actor, int count, int ttl_seconds, int hard_cap,
                  struct err *err)
{
    char c[16], t[16];
    const char *params[3] = {actor ? actor : "unknown", c, t};
    PGresult *r;

    if (ttl_seconds >= 0 && (count < 0 || count > hard_cap))
        return err_set(err, ERR_INVALID, "count must be between 0 and the hard cap (%d), got %d",
                       hard_cap, count);
    if (ttl_seconds > 30 * 86400)
        return err_set(err, ERR_INVALID, "ttl_seconds must be at most 2592000 (30 days)");
    snprintf(c, sizeof(c), "%d", count);
    snprintf(t, sizeof(t), "%d", ttl_seconds);
    if (ttl_seconds < 0)
        params[1] = NULL;
    r = db_exec(db, &st_pin, params, err);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int poolstore_audit(struct db *db, const char *actor, const char *action, const json_t *detail,
                    struct err *err)
{
    char *js = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    const char *params[3] = {actor ? actor : "unknown", action, js};
    PGresult *r = db_exec(db, &st_audit, params, err);

    free(js);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int poolstore_record(struct db *db, const struct poolstore_event *e, struct err *err)
{
    char raw[16], target[16], current[16], creates[16];
    char *inputs = json_dumps(e->inputs, JSON_COMPACT);
    char *deletes = e->deletes ? json_dumps(e->deletes, JSON_COMPACT) : NULL;
    const char *params[10] = {e->replica,
                              e->trigger,
                              inputs,
                              raw,
                              target,
                              current,
                              creates,
                              deletes ? deletes : "[]",
                              e->breaker_open ? "true" : "false",
                              e->reason};
    PGresult *r;

    snprintf(raw, sizeof(raw), "%d", e->raw);
    snprintf(target, sizeof(target), "%d", e->target);
    snprintf(current, sizeof(current), "%d", e->current);
    snprintf(creates, sizeof(creates), "%d", e->creates);
    r = db_exec(db, &st_record, params, err);
    free(inputs);
    free(deletes);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

/* Run a statement returning one JSON text column and parse it. */
static int poolstore_json(struct db *db, const struct db_stmt *st, const char *const *params,
                          json_t **out, struct err *err)
{
    json_error_t je;
    PGresult *r = db_exec(db, st, params, err);

    *out = NULL;
    if (!r)
        return -1;
    if (PQntuples(r) == 0 || PQgetisnull(r, 0, 0)) {
        PQclear(r);
        *out = json_null();
        return 0;
    }
    *out = json_loads(PQgetvalue(r, 0, 0), 0, &je);
    PQclear(r);
    return *out ? 0 : err_set(err, ERR_INTERNAL, "unreadable JSON from %s", st->name);
}

int poolstore_events(struct db *db, int limit, json_t **out, struct err *err)
{
    char l[16];
    const char *params[1] = {l};

    snprintf(l, sizeof(l), "%d", limit);
    return poolstore_json(db, &st_events, params, out, err);
}

int poolstore_audit_list(struct db *db, int limit, json_t **out, struct err *err)
{
    char l[16];
    const char *params[1] = {l};

    snprintf(l, sizeof(l), "%d", limit);
    return poolstore_json(db, &st_audit_list, params, out, err);
}

int poolstore_leader_set(struct db *db, const char *replica, struct err *err)
{
    const char *params[1] = {replica};
    PGresult *r = db_exec(db, &st_leader_set, params, err);

    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int poolstore_leader_get(struct db *db, json_t **out, struct err *err)
{
    return poolstore_json(db, &st_leader_get, NULL, out, err);
}

int poolstore_agents_live(struct db *db, json_t **out, struct err *err)
{
    return poolstore_json(db, &st_live, NULL, out, err);
}

int poolstore_agent_set_pod(struct db *db, const char *id, const char *pod_name,
                            const char *pod_uid, struct err *err)
{
    const char *params[3] = {id, pod_name, pod_uid};

    if (!text_is_uuid(id))
        return err_set(err, ERR_INVALID, "agent id must be a UUID");
    return db_run_found(db, &st_set_pod, params, err, "agent %s does not exist", id);
}

int poolstore_reap_stale(struct db *db, int stale_seconds, json_t **ids, struct err *err)
{
    char s[16];
    const char *params[1] = {s};
    json_error_t je;
    PGresult *r;

    *ids = NULL;
    snprintf(s, sizeof(s), "%d", stale_seconds);
    r = db_exec(db, &st_reap_stale, params, err);
    if (!r)
        return -1;
    *ids = json_loads(PQgetvalue(r, 0, 0), 0, &je);
    PQclear(r);
    return *ids ? 0 : err_set(err, ERR_INTERNAL, "unreadable stale agent list");
}

int poolstore_expire_agent_leases(struct db *db, const char *id, struct err *err)
{
    const char *params[1] = {id};
    PGresult *r;

    if (!text_is_uuid(id))
        return err_set(err, ERR_INVALID, "agent id must be a UUID");
    r = db_exec(db, &st_expire_agent, params, err);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

static const struct db_stmt st_stop = {
    "poolstore_stop",
    "WITH old AS (SELECT id, status FROM agents WHERE id = $1 FOR UPDATE),"
    " u AS (UPDATE agents a SET status = 'draining', updated_at = now() FROM old"
    "  WHERE a.id = old.id AND old.status <> 'offline' RETURNING a.id),"
    " exp AS (UPDATE tasks t SET lease_expires_at = now() - interval '1 second'"
    "  WHERE $2::bool AND t.state = 'in_progress' AND t.agent_id IN (SELECT id FROM u))"
    " SELECT old.status, (SELECT count(*) FROM u) AS n FROM old,"
    " (SELECT pg_notify('drover_pool', 'stop')) n",
    2};

static const struct db_stmt st_request = {
    "poolstore_request",
    "WITH ins AS (INSERT INTO agents (name, backend) VALUES ('requested by ' || $1, 'requested')"
    " RETURNING id), n AS (SELECT pg_notify('drover_pool', 'agent'))"
    " SELECT id FROM ins, n",
    1};

static const struct db_stmt st_adopt = {
    "poolstore_adopt",
    "UPDATE agents SET backend = $1, updated_at = now() WHERE id = (SELECT id FROM agents"
    " WHERE backend = 'requested' AND status = 'initializing' ORDER BY created_at"
    " FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id",
    1};

int poolstore_agent_stop(struct db *db, const char *id, bool force, char before[16],
                         struct err *err)
{
    const char *params[2] = {id, force ? "true" : "false"};
    PGresult *r;

    before[0] = '\0';
    if (!text_is_uuid(id))
        return err_set(err, ERR_INVALID, "agent id must be a UUID");
    r = db_exec_found(db, &st_stop, params, err, "agent %s does not exist", id);
    if (!r)
        return -1;
    snprintf(before, 16, "%s", db_get(r, 0, "status"));
    PQclear(r);
    if (strcmp(before, "offline") == 0)
        return err_set(err, ERR_CONFLICT, "agent %s is already offline", id);
    return 0;
}

int poolstore_agent_request(struct db *db, const char *actor, char id[37], struct err *err)
{
    const char *params[1] = {actor ? actor : "unknown"};
    PGresult *r = db_exec(db, &st_request, params, err);

    id[0] = '\0';
    if (!r)
        return -1;
    snprintf(id, 37, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

int poolstore_agent_adopt(struct db *db, const char *backend, char id[37], struct err *err)
{
    const char *params[1] = {backend};
    PGresult *r = db_exec(db, &st_adopt, params, err);
    int n;

    id[0] = '\0';
    if (!r)
        return -1;
    n = PQntuples(r);
    if (n)
        snprintf(id, 37, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return n ? 1 : 0;
}

int poolstore_lead_try(struct db *db, bool *leading, struct err *err)
{
    PGresult *r = db_exec(db, &st_lead_try, NULL, err);

    *leading = false;
    if (!r)
        return -1;
    *leading = strcmp(db_get(r, 0, "ok"), "t") == 0;
    PQclear(r);
    return 0;
}

int poolstore_lead_held(struct db *db, bool *leading, struct err *err)
{
    PGresult *r = db_exec(db, &st_lead_held, NULL, err);

    *leading = false;
    if (!r)
        return -1;
    *leading = db_get_ll(r, 0, "n") > 0;
    PQclear(r);
    return 0;
}

void poolstore_lead_release(struct db *db)
{
    db_command(db, "SELECT pg_advisory_unlock_all()", NULL);
}
