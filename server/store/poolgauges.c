/* The latest scale decision. Worker threads. */
#include "store/poolgauges.h"

#include <string.h>

static const struct db_stmt st_latest = {
    "poolgauges_latest",
    "SELECT target, current, breaker_open FROM scale_events ORDER BY id DESC LIMIT 1", 0};

int poolgauges_latest(struct db *db, struct poolgauges *g, struct err *err)
{
    PGresult *r;

    memset(g, 0, sizeof(*g));
    if (!(r = db_exec(db, &st_latest, NULL, err)))
        return -1;
    if (PQntuples(r) == 1) {
        g->have = true;
        g->target = db_get_ll(r, 0, "target");
        g->current = db_get_ll(r, 0, "current");
        g->breaker_open = strcmp(db_get(r, 0, "breaker_open"), "t") == 0;
    }
    PQclear(r);
    return 0;
}
