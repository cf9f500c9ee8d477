/*
 * The service layer: one use case per svc_<case>.c file (claim, branch, pull request, preview,
 * status, tasks, transitions, pool, agents, projects, tokens, auth, sessions, sweep, alerts ...).
 * A use case orchestrates store/ (SQL), forge/ (git forges) and pool/ (the agent pool) for one
 * request, in this order whenever something external is called: fence (a short read or
 * transaction), the external call outside any transaction, record with the fence re-checked.
 * No network call ever runs inside a transaction or while a row lock is held.
 *
 * Every function takes a `struct svc_ctx`: the server-wide environment (read-only once the
 * server runs) plus the calling thread's own database connection. Worker threads (or a
 * subcommand that owns its connection); never the lws service thread.
 */
#ifndef DROVER_SVC_SVC_H
#define DROVER_SVC_SVC_H

#include <stdatomic.h>
#include <stdbool.h>

#include "core/cfg.h"
#include "core/opscfg.h"
#include "store/db.h"
#include "store/queue.h"

struct agentpool;
struct ttlcache;

/* What every use case may read: built once by `droverd serve` (or a test), then read-only. */
struct svc_env {
    const struct cfg *cfg;      /* the serve settings (may be NULL: defaults) */
    const struct opscfg *ops;   /* the operator settings (may be NULL: defaults) */
    struct queue_opts qo;       /* lease length and retry back-off */
    const char *forge_secrets;  /* file of forge tokens (DROVER_FORGE_SECRETS), or NULL */
    const char *forge_allow;    /* URL prefixes forge tokens may go to (DROVER_FORGE_ALLOW) */
    const char *git_secrets;    /* file of agents' git tokens per project (DROVER_GIT_SECRETS) */
    const char *repo_protocols; /* schemes droverd's git may use (DROVER_REPO_PROTOCOLS), NULL:
                                   any (the serve command defaults it to "https,ssh") */
    const char *github_app_id;  /* DROVER_GITHUB_APP_ID: installation tokens for projects with */
    const char
        *github_app_key;    /* settings.github_app_installation_id (DROVER_GITHUB_APP_KEY_FILE) */
    struct agentpool *pool; /* the agent pool (agent logs, limits), or NULL: none */
    atomic_bool *claims_closed;  /* set at shutdown: no task is handed out; may be NULL */
    struct ttlcache *auth;       /* verified tokens (svc_auth.h), or NULL: no cache */
    struct ttlcache *sessions;   /* known MCP sessions (svc_sessions.h), or NULL: no cache */
    const char *public_url;      /* where people reach this droverd (DROVER_PUBLIC_URL), or NULL */
    struct svc_hbbatch *hbbatch; /* heartbeat group commit (svc_hbbatch.h), or NULL: none */
    struct svc_hbmem *hbmem;     /* heartbeats answered from memory (svc_hbmem.h), or NULL */
};

/* One caller's handle: the environment and its own connection (borrowed). */
struct svc_ctx {
    const struct svc_env *env;
    struct db *db;
};

/*
 * Fill `env` with the defaults: no config, default queue options, no forge secrets, no pool,
 * fresh caches. Free what it made with svc_env_clear.
 */
void svc_env_default(struct svc_env *env);
void svc_env_clear(struct svc_env *env);

/*
 * A context with a database connection of its own to `dsn` (NULL: the PG* environment), for a
 * worker thread. A database that is down now is not an error: the first request reconnects.
 */
struct svc_ctx *svc_ctx_open(const struct svc_env *env, const char *dsn);
void svc_ctx_close(struct svc_ctx *c);

/*
 * Before a request: notice a connection the database closed while it sat idle, so that the
 * request reconnects instead of failing. Cheap (reads only what already arrived).
 */
void svc_ctx_refresh(struct svc_ctx *c);

/* Make sure the connection is usable (reconnects). 0, or -1 with ERR_UNAVAILABLE. */
int svc_ctx_ensure(struct svc_ctx *c, struct err *err);

#endif
