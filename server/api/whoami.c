/*
 * GET /api/whoami: who the presented token is (scope, name, agent). Lets operators and
 * droverctl check a token; also the router's own smoke route. Worker threads.
 */
#include "api/whoami.h"

static int whoami_get(const struct api_request *req, const char *const *params, size_t nparams,
                      struct api_response *resp)
{
    (void)params;
    (void)nparams;
    resp->status = 200;
    resp->body = json_pack("{s:s,s:s,s:I}", "scope", principal_scope_name(req->who->scope), "name",
                           req->who->name, "token_id", (json_int_t)req->who->token_id);
    return 0;
}

const struct api_route whoami_routes[] = {
    {"GET", "/api/whoami", PRINCIPAL_OPERATOR, whoami_get},
    {NULL, NULL, PRINCIPAL_NONE, NULL},
};
