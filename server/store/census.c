/* Head counts for /metrics. Worker threads. */
#include "store/census.h"

#include <stdlib.h>
#include <string.h>

static const struct db_stmt st_census = {
    "census_take",
    "SELECT"
    " (SELECT coalesce(jsonb_object_agg(state, n), '{}')::text FROM (SELECT state, count(*) AS n"
    "   FROM tasks WHERE NOT is_group GROUP BY state) s) AS states,"
    " (SELECT coalesce(jsonb_object_agg(status, n), '{}')::text FROM (SELECT status,"
    "   count(*) AS n FROM agents GROUP BY status) s) AS statuses,"
    " (SELECT coalesce(jsonb_agg(extract(epoch FROM now() - last_heartbeat_at)), '[]')::text"
    "   FROM agents WHERE status <> 'offline' AND last_heartbeat_at IS NOT NULL) AS ages,"
    /* Pending rows are few and have a partial index (outbox_due_idx). Dead ones are counted over
     * the messages created in the last 24 h (retention bounds the table). */
    " (SELECT count(*) FROM outbox WHERE state = 'pending') AS outbox_pending,"
    " (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM outbox"
    "   WHERE state = 'pending') AS outbox_oldest,"
    " (SELECT count(*) FROM outbox WHERE state = 'dead'"
    "   AND created_at > now() - interval '24 hours') AS outbox_dead",
    0};

static void census_clear(struct census *c)
{
    json_decref(c->states);
    json_decref(c->statuses);
    json_decref(c->ages);
    memset(c, 0, sizeof(*c));
}

int census_take(struct db *db, struct census *c, struct err *err)
{
    json_error_t je;
    PGresult *r;

    memset(c, 0, sizeof(*c));
    r = db_exec(db, &st_census, NULL, err);
    if (!r)
        return -1;
    c->states = json_loads(db_get(r, 0, "states"), 0, &je);
    c->statuses = json_loads(db_get(r, 0, "statuses"), 0, &je);
    c->ages = json_loads(db_get(r, 0, "ages"), 0, &je);
    c->outbox_pending = db_get_ll(r, 0, "outbox_pending");
    c->outbox_dead = db_get_ll(r, 0, "outbox_dead");
    c->outbox_oldest_pending = strtod(db_get(r, 0, "outbox_oldest"), NULL);
    PQclear(r);
    if (!c->states || !c->statuses || !c->ages) {
        census_clear(c);
        return err_set(err, ERR_INTERNAL, "database returned unreadable JSON");
    }
    return 0;
}
