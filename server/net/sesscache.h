/*
 * A short-lived cache of MCP sessions known to exist, so a busy session costs no session
 * query per request. Entries live SESSCACHE_TTL_MS; a DELETE on this replica evicts at once,
 * on another replica it takes effect within the TTL. Any thread.
 */
#ifndef DROVER_NET_SESSCACHE_H
#define DROVER_NET_SESSCACHE_H

#include <stdbool.h>

#define SESSCACHE_TTL_MS 10000

/* True when `id` was recently confirmed for `token_id`. */
bool sesscache_known(const char *id, long long token_id);
void sesscache_put(const char *id, long long token_id);
void sesscache_forget(const char *id);
void sesscache_clear(void);

#endif
