/* Token management. Worker threads. */
#include "svc/svc_tokens.h"
#include "core/text.h"
#include "store/tokens.h"

#include <stdlib.h>
#include <string.h>

int svc_tokens_list(struct svc_ctx *c, json_t **tokens, struct err *err)
{
    return tokens_list(c->db, true, tokens, err);
}

int svc_tokens_create(struct svc_ctx *c, enum principal_scope scope, const char *name,
                      const char *agent_id, char token[PRINCIPAL_TOKEN_LEN], long long *id,
                      struct err *err)
{
    if (!name || !*name || strlen(name) > 200)
        return err_detail(err, ERR_INVALID, "name_required", "name the token (1-200 characters)");
    if ((scope == PRINCIPAL_AGENT) != (agent_id != NULL) || (agent_id && !text_is_uuid(agent_id)))
        return err_detail(err, ERR_INVALID, "invalid_agent",
                          "an agent token needs \"agent_id\" (a UUID); other scopes take none");
    return tokens_create(c->db, scope, name, agent_id, token, id, err);
}

int svc_tokens_revoke(struct svc_ctx *c, const char *ref, long long caller_token_id, int *revoked,
                      struct err *err)
{
    *revoked = 0;
    if (caller_token_id > 0 && strtoll(ref, NULL, 10) == caller_token_id)
        return err_detail(err, ERR_CONFLICT, "revoking_self",
                          "this request is authenticated with that token; use another admin "
                          "token to revoke it");
    return tokens_revoke(c->db, ref, revoked, err);
}
