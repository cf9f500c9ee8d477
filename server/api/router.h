/*
 * The REST router: matches a request against the route tables collected in routes.c, checks
 * the caller's scope and runs the handler. Worker threads (handlers block on the database).
 *
 * Scopes: a route's min_scope is PRINCIPAL_NONE (public), OPERATOR (reading), DEVELOPER
 * (acting on tasks) or ADMIN (managing); core/principal.c's table says which scopes have that
 * capability. Agent tokens are refused on /api with 403 (they act only through MCP).
 */
#ifndef DROVER_API_ROUTER_H
#define DROVER_API_ROUTER_H

#include "api/api.h"

#define ROUTER_MAX_PARAMS 8

/* NULL-terminated list of route tables; each table ends with an entry whose method is NULL. */
extern const struct api_route *const routes_tables[];

/*
 * Dispatch. `req->who` is NULL when no (valid) token came; the router answers 401 for a
 * non-public route then. Always fills `resp` (404, 405, 401, 403 or the handler's answer).
 */
void router_dispatch(const struct api_request *req, struct api_response *resp);

/*
 * What the transport calls for a REST request: authenticate `token` (NULL: none; with auth
 * off everyone is the admin), refuse agent tokens (403), make sure the database is there
 * (503), then dispatch. `who` is storage for the caller that req->who points to; req->svc is
 * set to `svc`. Always fills `resp`.
 */
void router_serve(struct svc_ctx *svc, const char *token, struct api_request *req,
                  struct api_response *resp, struct principal *who);

/* Match `pattern` against `path`; fills params (borrowed copies into `buf`). */
bool router_match(const char *pattern, const char *path, char *buf, size_t bufsz,
                  const char **params, size_t *nparams);

#endif
