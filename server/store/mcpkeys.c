/* MCP server keys. Worker threads. */
#include "store/mcpkeys.h"

#include <stdio.h>

static const struct db_stmt st_get = {"mcpkeys_get", "SELECT secret FROM mcp_keys WHERE name = $1",
                                      1};

int mcpkeys_get(struct db *db, const char *name, char *out, size_t outsz, struct err *err)
{
    const char *p[1] = {name};
    PGresult *r = db_exec(db, &st_get, p, err);
    int rc = 0;

    if (!r)
        return -1;
    if (PQntuples(r) != 1)
        rc = err_set(err, ERR_NOT_FOUND, "no MCP key %s", name);
    else if (snprintf(out, outsz, "%s", PQgetvalue(r, 0, 0)) >= (int)outsz)
        rc = err_set(err, ERR_INTERNAL, "MCP key %s too long", name);
    PQclear(r);
    return rc;
}
