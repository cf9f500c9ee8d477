/*
 * Bearer tokens: random, shown once, stored as SHA-256 hashes, with a scope (core/principal.h).
 * An agent token is bound to one agent row. Blocking; worker threads only (or the `droverd
 * token` command).
 */
#ifndef DROVER_STORE_TOKENS_H
#define DROVER_STORE_TOKENS_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"
#include "core/principal.h"
#include "store/db.h"

/*
 * Create a token. For PRINCIPAL_AGENT, `agent_id` names the agent it acts for (required);
 * otherwise it must be NULL. `token` receives the secret (the only time it exists in clear),
 * `*id` the row id (may be NULL).
 */
int tokens_create(struct db *db, enum principal_scope scope, const char *name, const char *agent_id,
                  char token[PRINCIPAL_TOKEN_LEN], long long *id, struct err *err);

/* Look a presented token up. Unknown, malformed or revoked tokens are ERR_UNAUTHORIZED. */
int tokens_verify(struct db *db, const char *token, struct principal *who, struct err *err);

/* Revoke by row id or by name (`ref` is either). ERR_NOT_FOUND when nothing matched. */
int tokens_revoke(struct db *db, const char *ref, int *revoked, struct err *err);

/*
 * Revoke every live token of one agent (`*revoked` of them; none is not an error). The pool
 * does this when it lets an agent go, so a process it cannot reach stops acting for it.
 */
int tokens_revoke_agent(struct db *db, const char *agent_id, int *revoked, struct err *err);

/*
 * Every token, without its secret: [{id, name, scope, agent_id, created_at, last_used_at,
 * revoked_at}], agent tokens only with `agents`.
 */
int tokens_list(struct db *db, bool agents, json_t **tokens, struct err *err);

/* SHA-256 of the token as 64 lower-case hex characters (+ NUL). */
void tokens_hash_hex(const char *token, char out[65]);

#endif
