/*
 * MCP sessions (Mcp-Session-Id of the legacy protocol era), stored in PostgreSQL so every
 * replica recognises them (store/sessions.c), with a short-lived cache of sessions known to
 * exist so a busy session costs no query per request. A cached entry lives
 * SVC_SESSIONS_TTL_MS; a DELETE on this replica evicts at once, on another one within the TTL.
 * Worker threads.
 */
#ifndef DROVER_SVC_SESSIONS_H
#define DROVER_SVC_SESSIONS_H

#include <jansson.h>
#include <stdbool.h>

#include "svc/svc.h"

#define SVC_SESSIONS_TTL_MS 10000
/* A session id: "mcp_" + 64 hex characters + NUL. */
#define SVC_SESSIONS_ID_LEN 69
/* A session nobody used for a day is forgotten (clients re-initialize on 404). */
#define SVC_SESSIONS_IDLE_SECONDS 86400

/* The cache an svc_env holds in `sessions` (NULL: ask the database every time). */
struct ttlcache *svc_sessions_cache_new(void);

/* Open a session for `token_id`; `id` receives it. */
int svc_sessions_create(struct svc_ctx *c, long long token_id, const char *version,
                        const json_t *client_info, char id[SVC_SESSIONS_ID_LEN], struct err *err);

/* *found when the session exists and belongs to `token_id` (cache first, then the database). */
int svc_sessions_check(struct svc_ctx *c, const char *id, long long token_id, bool *found,
                       struct err *err);

/* End it; *deleted false when it did not exist (or is another token's). */
int svc_sessions_delete(struct svc_ctx *c, const char *id, long long token_id, bool *deleted,
                        struct err *err);

/* logging/setLevel of a session (no session: nothing to store). */
int svc_sessions_set_level(struct svc_ctx *c, const char *id, const char *level, struct err *err);

#endif
