/* The diagnostics' queries. Worker threads. */
#include "store/diagstore.h"

#include <stdio.h>

static const struct db_stmt st_clock_record = {
    "diagstore_clock_record",
    "INSERT INTO replica_clocks AS r (replica, skew_ms, measured_at)"
    " VALUES ($1, extract(epoch FROM clock_timestamp()) * 1000 - $2::double precision, now())"
    " ON CONFLICT (replica) DO UPDATE SET skew_ms = excluded.skew_ms, measured_at = now()"
    " WHERE r.measured_at < now() - interval '30 seconds'",
    2};

static const struct db_stmt st_clocks = {
    "diagstore_clocks",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('replica', replica, 'skew_ms', round(skew_ms),"
    " 'age_seconds', round(extract(epoch FROM now() - measured_at))) ORDER BY replica), '[]')::text"
    " FROM replica_clocks WHERE measured_at > now() - interval '1 hour'",
    0};

static const struct db_stmt st_no_coder = {
    "diagstore_agents_without_coder",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', a.id, 'name', a.name, 'status', a.status,"
    " 'message', m.message, 'ts', m.ts) ORDER BY a.id), '[]')::text"
    " FROM agents a JOIN LATERAL (SELECT x.message, x.ts FROM activity x"
    "  WHERE x.agent_id = a.id AND x.id > (SELECT coalesce(max(id), 0) - 100000 FROM activity)"
    "   AND x.ts > now() - interval '1 day' AND x.level = 'error'"
    "   AND (x.message LIKE 'cannot start the coding command%'"
    "    OR x.message ~ 'the coding command exited with status 12[67]')"
    "  ORDER BY x.id DESC LIMIT 1) m ON true"
    " WHERE a.status <> 'offline'",
    0};

int diagstore_clock_record(struct db *db, const char *replica, long long local_ms, struct err *err)
{
    char ms[32];
    const char *p[2] = {replica, ms};
    PGresult *r;

    snprintf(ms, sizeof(ms), "%lld", local_ms);
    if (!(r = db_exec(db, &st_clock_record, p, err)))
        return -1;
    PQclear(r);
    return 0;
}

/* One row, one column of JSON text -> *rows. */
static int diagstore_json(struct db *db, const struct db_stmt *st, json_t **rows, struct err *err)
{
    json_error_t je;
    PGresult *r;

    *rows = NULL;
    if (!(r = db_exec(db, st, NULL, err)))
        return -1;
    *rows = PQntuples(r) == 1 ? json_loads(PQgetvalue(r, 0, 0), 0, &je) : NULL;
    PQclear(r);
    if (!*rows)
        return err_set(err, ERR_INTERNAL, "database returned unreadable JSON");
    return 0;
}

int diagstore_clocks(struct db *db, json_t **rows, struct err *err)
{
    return diagstore_json(db, &st_clocks, rows, err);
}

int diagstore_agents_without_coder(struct db *db, json_t **rows, struct err *err)
{
    return diagstore_json(db, &st_no_coder, rows, err);
}
