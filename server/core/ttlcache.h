/*
 * A small cache of recently confirmed facts with a fixed lifetime: a direct-mapped table of
 * string keys and fixed-size values under one mutex, so a lookup costs a hash and a compare
 * and a busy caller makes no query per request. An entry lives `ttl_ms` from when it was put
 * (it never slides), which bounds how long a revoked fact keeps being believed. A collision
 * evicts. Any thread.
 */
#ifndef DROVER_CORE_TTLCACHE_H
#define DROVER_CORE_TTLCACHE_H

#include <stdbool.h>
#include <stddef.h>

#define TTLCACHE_KEY_MAX 128 /* longer keys are never cached */

struct ttlcache;

/* `slots` entries of `value_size` bytes each. */
struct ttlcache *ttlcache_new(size_t slots, size_t value_size, long long ttl_ms);
void ttlcache_free(struct ttlcache *c);

/* True and *value filled when `key` was put less than ttl_ms ago. NULL cache: false. */
bool ttlcache_get(struct ttlcache *c, const char *key, void *value);
/* Remember `value` under `key` for ttl_ms from now. NULL cache: nothing. */
void ttlcache_put(struct ttlcache *c, const char *key, const void *value);
void ttlcache_forget(struct ttlcache *c, const char *key);
void ttlcache_clear(struct ttlcache *c);

#endif
