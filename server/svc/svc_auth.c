/* Token verification with a cache. Any thread for svc_auth_peek; worker threads otherwise. */
#include "svc/svc_auth.h"
#include "core/ttlcache.h"
#include "store/tokens.h"

#include <string.h>

/*
 * Slots of the verified-token cache: one per agent token in use. With fewer than the agents
 * (512 before), tokens evicted each other and every heartbeat of a 3,000-agent pool went to
 * the database to verify its token, filling the job queue ("server busy"; docs/performance.md).
 * 16,384 covers the 10,000-agent target at about 6 MiB.
 */
#define SVC_AUTH_CACHE_SLOTS 16384

struct ttlcache *svc_auth_cache_new(void)
{
    return ttlcache_new(SVC_AUTH_CACHE_SLOTS, sizeof(struct principal), SVC_AUTH_TTL_MS);
}

bool svc_auth_peek(const struct svc_env *env, const char *token, struct principal *who)
{
    char hash[65];

    if (!token || strlen(token) != PRINCIPAL_TOKEN_LEN - 1)
        return false;
    tokens_hash_hex(token, hash);
    return ttlcache_get(env->auth, hash, who);
}

int svc_auth_verify(struct svc_ctx *c, const char *token, struct principal *who, struct err *err)
{
    char hash[65];

    if (!token || strlen(token) != PRINCIPAL_TOKEN_LEN - 1)
        return tokens_verify(c->db, token, who, err); /* the malformed-token message */
    tokens_hash_hex(token, hash);
    if (ttlcache_get(c->env->auth, hash, who))
        return 0;
    if (tokens_verify(c->db, token, who, err) < 0) {
        /* A connection lost since the last job (a database restart) shows up here first: the
         * lookup is read-only, so reconnect and ask once more rather than fail the request. */
        if (err->code != ERR_UNAVAILABLE || db_ensure(c->db, NULL) < 0 ||
            tokens_verify(c->db, token, who, err) < 0)
            return -1;
    }
    ttlcache_put(c->env->auth, hash, who);
    return 0;
}
