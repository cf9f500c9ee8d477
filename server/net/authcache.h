/*
 * A short-lived cache of verified bearer tokens, so heartbeats and tool calls do not hash and
 * query on every request. Entries live AUTHCACHE_TTL_MS, which bounds how long a revoked token
 * keeps working. Keyed by the token's SHA-256 (the clear token is never stored). Any thread.
 */
#ifndef DROVER_NET_AUTHCACHE_H
#define DROVER_NET_AUTHCACHE_H

#include <stdbool.h>

#include "core/err.h"
#include "store/db.h"
#include "store/tokens.h"

#define AUTHCACHE_TTL_MS 10000

/* Verify through the cache, querying on a miss (worker threads: blocks on a miss). */
int authcache_verify(struct db *db, const char *token, struct tokens_principal *who,
                     struct err *err);

/* Cache only, never blocks (the service thread): true and *who filled on a fresh hit. */
bool authcache_peek(const char *token, struct tokens_principal *who);

/* Forget everything (tests, and after `token revoke` in the same process). */
void authcache_clear(void);

/* Milliseconds on the monotonic clock. */
long long authcache_now_ms(void);

#endif
