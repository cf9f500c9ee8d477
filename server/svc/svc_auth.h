/*
 * Who presents a bearer token: verified against store/tokens.c through a short-lived cache, so
 * heartbeats and tool calls do not hash and query on every request. An entry lives
 * SVC_AUTH_TTL_MS, which bounds how long a revoked token keeps working on a replica. Keyed by
 * the token's SHA-256 (the clear token is never kept). The cache belongs to the svc_env.
 */
#ifndef DROVER_SVC_AUTH_H
#define DROVER_SVC_AUTH_H

#include <stdbool.h>

#include "core/principal.h"
#include "svc/svc.h"

#define SVC_AUTH_TTL_MS 10000

/* The cache an svc_env holds in `auth` (NULL: verify every time). */
struct ttlcache *svc_auth_cache_new(void);

/*
 * Verify `token` into *who: through the cache, querying on a miss (and once more after a
 * reconnect when the connection was lost since the last request). ERR_UNAUTHORIZED for an
 * unknown, malformed or revoked token; ERR_UNAVAILABLE without a database. Worker threads.
 */
int svc_auth_verify(struct svc_ctx *c, const char *token, struct principal *who, struct err *err);

/* The cache alone, never blocking (the lws service thread): true and *who on a fresh hit. */
bool svc_auth_peek(const struct svc_env *env, const char *token, struct principal *who);

#endif
