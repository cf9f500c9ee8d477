/*
 * Forge webhook deliveries in, and their history. Worker threads; a delivery that reads a
 * review's comments back from the forge is re-run on the slow workers.
 */
#include "api/forgehooks.h"
#include "api/reply.h"
#include "svc/svc_webhooks.h"

static int forgehooks_receive(const struct api_request *req, const char *const *params, size_t np,
                              struct api_response *resp, enum svc_webhooks_forge f)
{
    struct svc_webhooks_in in = {0};
    struct err err = {0};
    json_t *out = NULL;
    int status = 200;
    bool reroute = false;

    if (np < 1)
        return reply_error(resp, ERR_NOT_FOUND, NULL, "name the project in the webhook URL");
    in.forge = f;
    in.project = params[0];
    in.body = req->body ? req->body : "";
    in.body_len = req->body ? req->body_len : 0;
    in.headers = req->hook_headers;
    in.idempotency_key = req->idempotency_key;
    in.fast_worker = !req->slow_ok;
    if (svc_webhooks_receive(req->svc, &in, &status, &out, &reroute, &err) < 0)
        return reply_err(resp, &err);
    if (reroute) { /* it reads the review's comments from the forge: on the slow workers */
        resp->reroute = true;
        return 0;
    }
    return reply_json(resp, status, out);
}

static int forgehooks_gitea(const struct api_request *req, const char *const *params, size_t np,
                            struct api_response *resp)
{
    return forgehooks_receive(req, params, np, resp, SVC_WEBHOOKS_GITEA);
}

static int forgehooks_gitlab(const struct api_request *req, const char *const *params, size_t np,
                             struct api_response *resp)
{
    return forgehooks_receive(req, params, np, resp, SVC_WEBHOOKS_GITLAB);
}

static int forgehooks_github(const struct api_request *req, const char *const *params, size_t np,
                             struct api_response *resp)
{
    return forgehooks_receive(req, params, np, resp, SVC_WEBHOOKS_GITHUB);
}

static int forgehooks_deliveries(const struct api_request *req, const char *const *params,
                                 size_t np, struct api_response *resp)
{
    struct err err = {0};
    json_t *list = NULL;
    long long limit;

    if (np < 1)
        return reply_error(resp, ERR_NOT_FOUND, NULL, "name the project");
    if (reply_query_int(req, "limit", 1, 500, 50, resp, &limit) < 0)
        return 0;
    if (svc_webhooks_deliveries(req->svc, params[0], (int)limit, &list, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, json_pack("{s:o}", "deliveries", list));
}

const struct api_route forgehooks_routes[] = {
    {"POST", "/api/hooks/forge/gitea/{project}", PRINCIPAL_NONE, forgehooks_gitea},
    {"POST", "/api/hooks/forge/gitlab/{project}", PRINCIPAL_NONE, forgehooks_gitlab},
    {"POST", "/api/hooks/forge/github/{project}", PRINCIPAL_NONE, forgehooks_github},
    {"GET", "/api/projects/{id}/webhook-deliveries", PRINCIPAL_OPERATOR, forgehooks_deliveries},
    {NULL, NULL, PRINCIPAL_NONE, NULL},
};
