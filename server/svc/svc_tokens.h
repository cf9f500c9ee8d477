/* API tokens as admins manage them: list (no secrets), create (shown once), revoke. Workers. */
#ifndef DROVER_SVC_TOKENS_H
#define DROVER_SVC_TOKENS_H

#include <jansson.h>

#include "core/principal.h"
#include "svc/svc.h"

int svc_tokens_list(struct svc_ctx *c, json_t **tokens, struct err *err);

/*
 * A new token of `scope` named `name` (1-200 characters); an agent token needs `agent_id` (a
 * UUID), other scopes take none. `token` receives the secret, *id its row.
 */
int svc_tokens_create(struct svc_ctx *c, enum principal_scope scope, const char *name,
                      const char *agent_id, char token[PRINCIPAL_TOKEN_LEN], long long *id,
                      struct err *err);

/* Revoke by id or name; `caller_token_id` may not revoke itself (ERR_CONFLICT). */
int svc_tokens_revoke(struct svc_ctx *c, const char *ref, long long caller_token_id, int *revoked,
                      struct err *err);

#endif
