/* REST handlers for approvals and autonomy policies (see approvals.h). Worker threads. */
#include "api/approvals.h"
#include "api/reply.h"
#include "svc/svc_autonomy.h"

#include <stdbool.h>
#include <string.h>

static int approvals_api_list(const struct api_request *req, const char *const *params, size_t np,
                              struct api_response *resp)
{
    struct err err = {0};
    char state[32];
    long long task = 0, limit = 100;
    int has;
    json_t *list;

    (void)params;
    (void)np;
    has = reply_query(req->query, "state", state, sizeof(state));
    if (has < 0)
        return reply_error(resp, ERR_INVALID, "invalid_parameter", "state is not valid");
    if (reply_query_int(req, "task_id", 1, INT64_MAX, 0, resp, &task) < 0 ||
        reply_query_int(req, "limit", 1, 500, 100, resp, &limit) < 0)
        return 0;
    if (svc_autonomy_list(req->svc, has ? state : NULL, task, (int)limit, &list, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, json_pack("{s:o}", "approvals", list));
}

static int approvals_api_show(const struct api_request *req, const char *const *params, size_t np,
                              struct api_response *resp)
{
    struct err err = {0};
    int64_t id;
    json_t *a;

    if (np < 1 || reply_path_id(params[0], "approval", resp, &id) < 0)
        return 0;
    if (svc_autonomy_get(req->svc, id, &a, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, a);
}

/* POST /api/approvals/{id}/approve|deny with an optional {"reason": "..."}. */
static int approvals_api_answer(const struct api_request *req, const char *const *params, size_t np,
                                struct api_response *resp, bool approve)
{
    struct err err = {0};
    json_t *body = NULL, *a = NULL;
    const char *reason = NULL, *k;
    json_t *v;
    int64_t id;

    if (np < 1 || reply_path_id(params[0], "approval", resp, &id) < 0)
        return 0;
    if (req->body && req->body_len > 0) {
        if (reply_body_object(req, resp, &body) < 0)
            return 0;
        json_object_foreach(body, k, v)
        {
            if (strcmp(k, "reason") != 0) {
                reply_error(resp, ERR_INVALID, "unknown_field",
                            "unknown field '%.60s'; this action takes \"reason\"", k);
                goto out;
            }
        }
        if (reply_member_string(body, "reason", resp, &reason) < 0)
            goto out;
    }
    if (svc_autonomy_decide(req->svc, id, approve, reply_actor(req), reason, &a, &err) < 0)
        reply_err(resp, &err);
    else
        reply_json(resp, 200, a);
out:
    json_decref(body);
    return 0;
}

static int approvals_api_approve(const struct api_request *req, const char *const *params,
                                 size_t np, struct api_response *resp)
{
    return approvals_api_answer(req, params, np, resp, true);
}

static int approvals_api_deny(const struct api_request *req, const char *const *params, size_t np,
                              struct api_response *resp)
{
    return approvals_api_answer(req, params, np, resp, false);
}

/*
 * GET and PUT /api/projects/{id}/policy, GET /api/projects/{id}/policy/versions: one
 * handler, since all three resolve the same project and answer 200 with what the use case made.
 */
static int policy_api(const struct api_request *req, const char *const *params, size_t np,
                      struct api_response *resp)
{
    struct err err = {0};
    json_t *body = NULL, *out = NULL;
    int rc;

    if (np < 1)
        return reply_error(resp, ERR_NOT_FOUND, NULL, "no such project");
    if (strcmp(req->method, "PUT") == 0) {
        if (reply_body_object(req, resp, &body) < 0)
            return 0;
        rc = svc_autonomy_policy_put(req->svc, params[0], body, reply_actor(req), &out, &err);
    } else if (strlen(req->path) > 9 &&
               strcmp(req->path + strlen(req->path) - 9, "/versions") == 0) {
        rc = svc_autonomy_policy_versions(req->svc, params[0], &out, &err);
        if (rc == 0)
            out = json_pack("{s:o}", "versions", out);
    } else {
        rc = svc_autonomy_policy_get(req->svc, params[0], &out, &err);
    }
    json_decref(body);
    return rc < 0 ? reply_err(resp, &err) : reply_json(resp, 200, out);
}

const struct api_route approvals_routes[] = {
    {"GET", "/api/approvals", PRINCIPAL_OPERATOR, approvals_api_list},
    {"GET", "/api/approvals/{id}", PRINCIPAL_OPERATOR, approvals_api_show},
    {"POST", "/api/approvals/{id}/approve", PRINCIPAL_DEVELOPER, approvals_api_approve},
    {"POST", "/api/approvals/{id}/deny", PRINCIPAL_DEVELOPER, approvals_api_deny},
    {"GET", "/api/projects/{id}/policy", PRINCIPAL_OPERATOR, policy_api},
    {"PUT", "/api/projects/{id}/policy", PRINCIPAL_ADMIN, policy_api},
    {"GET", "/api/projects/{id}/policy/versions", PRINCIPAL_OPERATOR, policy_api},
    {NULL, NULL, PRINCIPAL_NONE, NULL},
};
