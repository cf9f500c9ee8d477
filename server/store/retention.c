/* Retention's statements. Worker threads. */
#include "store/retention.h"

#include <stdio.h>
#include <stdlib.h>

static const struct db_stmt st_claim = {
    "retention_claim",
    "UPDATE maintenance_runs SET last_run_at = now(), replica = $3 WHERE name = $1"
    " AND last_run_at <= now() - make_interval(secs => $2::int) RETURNING name",
    3};

/* $3: true when the run stopped at its cap with more to do: due again at the next sweep. */
static const struct db_stmt st_done = {
    "retention_done",
    "UPDATE maintenance_runs SET last_result = $2::jsonb,"
    " last_run_at = CASE WHEN $3::boolean THEN '-infinity' ELSE last_run_at END WHERE name = $1",
    3};

/*
 * The oldest rows come first by id (ids grow with time). The boundary is the first row young
 * enough to keep, found once per run: only ids below it are candidates, so a batch walks the
 * primary key over the old region only, never the whole table. Rows of open tasks stay
 * (however old) and are skipped again by each batch; there are few of them.
 */
static const struct db_stmt st_boundary = {
    "retention_boundary",
    "SELECT coalesce((SELECT id FROM activity WHERE ts >= now() - make_interval(days => $1::int)"
    " ORDER BY id LIMIT 1), (SELECT coalesce(max(id), 0) + 1 FROM activity))",
    1};

static const struct db_stmt st_activity = {
    "retention_activity",
    "WITH v AS (SELECT a.id FROM activity a LEFT JOIN tasks t ON t.id = a.task_id"
    "  WHERE a.id < $1::bigint"
    "   AND (t.id IS NULL OR t.state IN ('completed', 'failed', 'cancelled'))"
    "  ORDER BY a.id LIMIT $2::int FOR UPDATE OF a SKIP LOCKED)"
    " DELETE FROM activity d USING v WHERE d.id = v.id",
    2};

static const struct db_stmt st_scale = {
    "retention_scale_events",
    "WITH v AS (SELECT id FROM scale_events WHERE ts < now() - make_interval(days => $1::int)"
    "  ORDER BY ts LIMIT $2::int FOR UPDATE SKIP LOCKED)"
    " DELETE FROM scale_events d USING v WHERE d.id = v.id",
    2};

/* Delivered notifications only: pending ones are still to be sent, dead ones are kept for people
 * to read until the same horizon as the rest (they age out by created_at). */
static const struct db_stmt st_outbox = {
    "retention_outbox",
    "WITH v AS (SELECT id FROM outbox WHERE state IN ('delivered', 'dead')"
    "  AND coalesce(delivered_at, created_at) < now() - make_interval(days => $1::int)"
    "  ORDER BY id LIMIT $2::int FOR UPDATE SKIP LOCKED)"
    " DELETE FROM outbox d USING v WHERE d.id = v.id",
    2};

int retention_claim(struct db *db, const char *name, int interval_s, const char *replica, bool *due,
                    struct err *err)
{
    char iv[16];
    const char *p[3] = {name, iv, replica};
    PGresult *r;

    *due = false;
    snprintf(iv, sizeof(iv), "%d", interval_s);
    if (!(r = db_exec(db, &st_claim, p, err)))
        return -1;
    *due = PQntuples(r) == 1;
    PQclear(r);
    return 0;
}

int retention_done(struct db *db, const char *name, const char *result_json, bool more,
                   struct err *err)
{
    const char *p[3] = {name, result_json, more ? "true" : "false"};
    PGresult *r = db_exec(db, &st_done, p, err);

    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

static int retention_delete(struct db *db, const struct db_stmt *st, int days, int batch, int *n,
                            struct err *err)
{
    char d[16], b[16];
    const char *p[2] = {d, b};
    PGresult *r;

    *n = 0;
    snprintf(d, sizeof(d), "%d", days);
    snprintf(b, sizeof(b), "%d", batch);
    if (!(r = db_exec(db, st, p, err)))
        return -1;
    *n = atoi(PQcmdTuples(r));
    PQclear(r);
    return 0;
}

int retention_boundary(struct db *db, int days, long long *boundary, struct err *err)
{
    char d[16];
    const char *p[1] = {d};
    PGresult *r;

    snprintf(d, sizeof(d), "%d", days);
    if (!(r = db_exec(db, &st_boundary, p, err)))
        return -1;
    *boundary = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return 0;
}

int retention_activity(struct db *db, long long boundary, int batch, int *n, struct err *err)
{
    char bd[24], b[16];
    const char *p[2] = {bd, b};
    PGresult *r;

    *n = 0;
    snprintf(bd, sizeof(bd), "%lld", boundary);
    snprintf(b, sizeof(b), "%d", batch);
    if (!(r = db_exec(db, &st_activity, p, err)))
        return -1;
    *n = atoi(PQcmdTuples(r));
    PQclear(r);
    return 0;
}

int retention_scale_events(struct db *db, int days, int batch, int *n, struct err *err)
{
    return retention_delete(db, &st_scale, days, batch, n, err);
}

int retention_outbox(struct db *db, int days, int batch, int *n, struct err *err)
{
    return retention_delete(db, &st_outbox, days, batch, n, err);
}
