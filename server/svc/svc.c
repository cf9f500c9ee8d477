/* The service context. Any thread for svc_env_default; the owner of the connection otherwise. */
#include "svc/svc.h"
#include "core/ttlcache.h"
#include "svc/svc_auth.h"
#include "svc/svc_hbbatch.h"
#include "svc/svc_hbmem.h"
#include "svc/svc_sessions.h"

#include "core/log.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

void svc_env_default(struct svc_env *env)
{
    memset(env, 0, sizeof(*env));
    queue_opts_default(&env->qo);
    env->auth = svc_auth_cache_new();
    env->sessions = svc_sessions_cache_new();
    env->hbbatch = svc_hbbatch_new(SVC_HBBATCH_DEFAULT);
}

void svc_env_clear(struct svc_env *env)
{
    ttlcache_free(env->auth);
    ttlcache_free(env->sessions);
    env->auth = env->sessions = NULL;
    svc_hbbatch_free(env->hbbatch);
    env->hbbatch = NULL;
    svc_hbmem_free(env->hbmem);
    env->hbmem = NULL;
}

void svc_ctx_refresh(struct svc_ctx *c)
{
    db_refresh(c->db);
}

int svc_ctx_ensure(struct svc_ctx *c, struct err *err)
{
    return db_ensure(c->db, err);
}

struct svc_ctx *svc_ctx_open(const struct svc_env *env, const char *dsn)
{
    struct svc_ctx *c = mem_calloc(1, sizeof(*c));
    struct err err = {0};

    c->env = env;
    c->db = mem_calloc(1, sizeof(*c->db));
    if (db_open(c->db, dsn, &err) < 0)
        log_warn("svc", "%s (will retry)", err.msg);
    return c;
}

void svc_ctx_close(struct svc_ctx *c)
{
    if (!c)
        return;
    db_close(c->db);
    free(c->db);
    free(c);
}
