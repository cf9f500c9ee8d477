/* MCP sessions with a cache. Worker threads. */
#include "svc/svc_sessions.h"
#include "core/ttlcache.h"
#include "store/sessions.h"

#include <string.h>

_Static_assert(SVC_SESSIONS_ID_LEN == SESSIONS_ID_LEN, "the session id length is the store's");

struct ttlcache *svc_sessions_cache_new(void)
{
    return ttlcache_new(1024, sizeof(long long), SVC_SESSIONS_TTL_MS);
}

static bool svc_sessions_cached(struct svc_ctx *c, const char *id, long long token_id)
{
    long long owner;

    return ttlcache_get(c->env->sessions, id, &owner) && owner == token_id;
}

int svc_sessions_create(struct svc_ctx *c, long long token_id, const char *version,
                        const json_t *client_info, char id[SVC_SESSIONS_ID_LEN], struct err *err)
{
    if (sessions_create(c->db, token_id, version, client_info, id, err) < 0)
        return -1;
    ttlcache_put(c->env->sessions, id, &token_id);
    return 0;
}

int svc_sessions_check(struct svc_ctx *c, const char *id, long long token_id, bool *found,
                       struct err *err)
{
    *found = false;
    if (svc_sessions_cached(c, id, token_id)) {
        *found = true;
        return 0;
    }
    /* A lost connection shows up here first: the check is read-only, so reconnect and ask
     * once more. */
    if (sessions_check(c->db, id, token_id, found, err) < 0 &&
        (err->code != ERR_UNAVAILABLE || db_ensure(c->db, NULL) < 0 ||
         sessions_check(c->db, id, token_id, found, err) < 0))
        return -1;
    if (*found) /* only a database answer starts a TTL: it never slides */
        ttlcache_put(c->env->sessions, id, &token_id);
    return 0;
}

int svc_sessions_delete(struct svc_ctx *c, const char *id, long long token_id, bool *deleted,
                        struct err *err)
{
    ttlcache_forget(c->env->sessions, id);
    return sessions_delete(c->db, id, token_id, deleted, err);
}

int svc_sessions_set_level(struct svc_ctx *c, const char *id, const char *level, struct err *err)
{
    if (!id)
        return 0; /* no session (the seed endpoints, /ws): nothing to remember it in */
    return sessions_set_level(c->db, id, level, err);
}
