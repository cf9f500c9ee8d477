/*
 * MCP sessions (Mcp-Session-Id) stored in PostgreSQL so every droverd replica recognises them.
 * Blocking; worker threads only.
 */
#ifndef DROVER_STORE_SESSIONS_H
#define DROVER_STORE_SESSIONS_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"
#include "store/db.h"

/* "mcp_" + 64 hex characters + NUL. */
#define SESSIONS_ID_LEN 69

/* Create a session for `token_id` (0 = auth off); `id` receives the new random id. */
int sessions_create(struct db *db, long long token_id, const char *protocol_version,
                    const json_t *client_info, char id[SESSIONS_ID_LEN], struct err *err);

/*
 * *found = true when the session exists and belongs to `token_id` (a session is bound to the
 * token that opened it; another token's session is "not found").
 */
int sessions_check(struct db *db, const char *id, long long token_id, bool *found, struct err *err);

/* End a session. *deleted = false when it did not exist (or is another token's). */
int sessions_delete(struct db *db, const char *id, long long token_id, bool *deleted,
                    struct err *err);

/* Delete sessions unused for `idle_seconds` (a periodic sweep); *n = how many. */
int sessions_expire(struct db *db, int idle_seconds, int *n, struct err *err);

/* Remember the logging/setLevel level of a session. */
int sessions_set_level(struct db *db, const char *id, const char *level, struct err *err);

#endif
