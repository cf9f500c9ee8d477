/*
 * Requests per token: a token bucket per bearer token (rate per second, burst), checked on the
 * service thread before a request becomes a job, so a token that floods /api or MCP costs a
 * hash lookup and a 429 with Retry-After, not a worker and a database round trip. Tokens are
 * kept as a 64-bit hash, never in the clear. The table has a fixed size: a flood of made-up
 * tokens evicts idle buckets, which only ever starts a token afresh with a full bucket.
 * Service thread only.
 */
#ifndef DROVER_NET_RATELIMIT_H
#define DROVER_NET_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RATELIMIT_SLOTS 8192
#define RATELIMIT_PROBE 8

struct ratelimit_slot {
    uint64_t key; /* 0 = free */
    double tokens;
    long long last_ms;
};

struct ratelimit {
    double rate;  /* tokens per second; 0 = no limit */
    double burst; /* bucket size */
    struct ratelimit_slot slot[RATELIMIT_SLOTS];
};

void ratelimit_init(struct ratelimit *r, int per_second, int burst);

/*
 * One request by `token` at `now_ms`: true when allowed; false when its bucket is empty, with
 * *retry_after_s the whole seconds until one request fits again (>= 1). NULL or empty tokens
 * are not limited here (they are refused by authentication).
 */
bool ratelimit_take(struct ratelimit *r, const char *token, long long now_ms, int *retry_after_s);

#endif
