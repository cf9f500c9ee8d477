/*
 * The MCP layer's server keys (sql/035_mcp_keys.sql), read by name. Blocking; worker threads.
 */
#ifndef DROVER_STORE_MCPKEYS_H
#define DROVER_STORE_MCPKEYS_H

#include <stddef.h>

#include "core/err.h"
#include "store/db.h"

/* The secret named `name` into out[outsz] (ERR_NOT_FOUND when there is none). */
int mcpkeys_get(struct db *db, const char *name, char *out, size_t outsz, struct err *err);

#endif
