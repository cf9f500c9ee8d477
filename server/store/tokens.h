/*
 * Bearer tokens: random, shown once, stored as SHA-256 hashes, with a scope (agent, operator,
 * admin). An agent token is bound to one agent row. Blocking; worker threads only (or the
 * `droverd token` command).
 */
#ifndef DROVER_STORE_TOKENS_H
#define DROVER_STORE_TOKENS_H

#include <stdbool.h>

#include "core/err.h"
#include "store/db.h"

/* Ordered: operator < admin for the REST API; agent is separate (MCP tools only). */
enum tokens_scope {
    TOKENS_SCOPE_NONE = 0,
    TOKENS_SCOPE_AGENT,
    TOKENS_SCOPE_OPERATOR,
    TOKENS_SCOPE_ADMIN
};

/* Who a verified token belongs to. */
struct tokens_principal {
    enum tokens_scope scope;
    long long token_id; /* 0 when auth is off */
    char agent_id[37];  /* agent tokens only, else "" */
    char name[201];     /* the token's name, recorded in activity and audit rows */
};

/* "drv_" + 64 hex characters + NUL. */
#define TOKENS_LEN 69

/* Parse "agent" | "operator" | "admin". Returns 0, or -1 with ERR_INVALID. */
int tokens_scope_parse(const char *s, enum tokens_scope *out, struct err *err);
const char *tokens_scope_name(enum tokens_scope s);

/*
 * Create a token. For TOKENS_SCOPE_AGENT, `agent_id` names the agent it acts for (required);
 * otherwise it must be NULL. `token` receives the secret (the only time it exists in clear),
 * `*id` the row id (may be NULL).
 */
int tokens_create(struct db *db, enum tokens_scope scope, const char *name, const char *agent_id,
                  char token[TOKENS_LEN], long long *id, struct err *err);

/* Look a presented token up. Unknown, malformed or revoked tokens are ERR_UNAUTHORIZED. */
int tokens_verify(struct db *db, const char *token, struct tokens_principal *who, struct err *err);

/* Revoke by row id or by name (`ref` is either). ERR_NOT_FOUND when nothing matched. */
int tokens_revoke(struct db *db, const char *ref, int *revoked, struct err *err);

/* SHA-256 of the token as 64 lower-case hex characters (+ NUL). */
void tokens_hash_hex(const char *token, char out[65]);

#endif
