/* Token buckets per bearer token (ratelimit.h). Service thread only. */
#include "net/ratelimit.h"

#include <math.h>
#include <string.h>

void ratelimit_init(struct ratelimit *r, int per_second, int burst)
{
    memset(r, 0, sizeof(*r));
    r->rate = per_second > 0 ? per_second : 0;
    r->burst = burst > 0 ? burst : 1;
}

/* FNV-1a, 64 bit; never 0 (the free mark). */
static uint64_t ratelimit_hash(const char *s)
{
    uint64_t h = 14695981039346656037ull;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ? h : 1;
}

/* The slot of `key`, or a free one, or the least recently used of the probed ones. */
static struct ratelimit_slot *ratelimit_slot(struct ratelimit *r, uint64_t key, long long now_ms)
{
    struct ratelimit_slot *oldest = NULL;

    for (unsigned i = 0; i < RATELIMIT_PROBE; i++) {
        struct ratelimit_slot *s = &r->slot[(key + i) % RATELIMIT_SLOTS];

        if (s->key == key)
            return s;
        /* a free slot beats any used one; among used ones, the least recently used */
        if (!oldest || (oldest->key != 0 && (s->key == 0 || s->last_ms < oldest->last_ms)))
            oldest = s;
    }
    oldest->key = key;
    oldest->tokens = r->burst;
    oldest->last_ms = now_ms;
    return oldest;
}

bool ratelimit_take(struct ratelimit *r, const char *token, long long now_ms, int *retry_after_s)
{
    struct ratelimit_slot *s;

    *retry_after_s = 0;
    if (r->rate <= 0 || !token || !*token)
        return true;
    s = ratelimit_slot(r, ratelimit_hash(token), now_ms);
    if (now_ms > s->last_ms) {
        s->tokens += (double)(now_ms - s->last_ms) * r->rate / 1000.0;
        if (s->tokens > r->burst)
            s->tokens = r->burst;
        s->last_ms = now_ms;
    }
    if (s->tokens >= 1.0) {
        s->tokens -= 1.0;
        return true;
    }
    *retry_after_s = (int)ceil((1.0 - s->tokens) / r->rate);
    if (*retry_after_s < 1)
        *retry_after_s = 1;
    return false;
}
