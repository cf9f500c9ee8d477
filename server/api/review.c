/* Accept, rework, reject. Worker threads. */
#include "api/review.h"
#include "api/reply.h"
#include "svc/svc_review.h"

#include <string.h>

enum review_action { REVIEW_ACCEPT, REVIEW_REWORK, REVIEW_REJECT };

static const char *const review_fields[] = {"comment", "instructions", "reason"};

static int review_act(const struct api_request *req, const char *const *params, size_t np,
                      struct api_response *resp, enum review_action act)
{
    const char *field = review_fields[act], *text = NULL, *k;
    json_t *body = NULL, *task = NULL, *v;
    struct err err = {0};
    int64_t id;
    int rc;

    if (np < 1 || reply_path_id(params[0], "task", resp, &id) < 0)
        return 0;
    if (act == REVIEW_REWORK || (req->body && req->body_len)) {
        if (reply_body_object(req, resp, &body) < 0)
            return 0;
        json_object_foreach(body, k, v)
        {
            if (strcmp(k, field) != 0) {
                reply_error(resp, ERR_INVALID, "unknown_field",
                            "unknown field '%.60s'; this action takes \"%s\"", k, field);
                goto out;
            }
        }
        if (reply_member_string(body, field, resp, &text) < 0)
            goto out;
    }
    if (act == REVIEW_REWORK && (!text || !*text)) {
        reply_error(resp, ERR_INVALID, "instructions_required",
                    "send {\"instructions\": \"...\"}: what the agent should change");
        goto out;
    }
    if (svc_review_authorize(req->svc, req->who, id, &err) < 0) {
        reply_err(resp, &err);
        goto out;
    }
    switch (act) {
    case REVIEW_ACCEPT:
        rc = svc_review_accept(req->svc, id, reply_actor(req), text, &task, &err);
        break;
    case REVIEW_REWORK:
        rc = svc_review_rework(req->svc, id, reply_actor(req), text, &task, &err);
        break;
    default:
        rc = svc_review_reject(req->svc, id, reply_actor(req), text, &task, &err);
        break;
    }
    reply_moved(resp, rc, task, &err);
out:
    json_decref(body);
    return 0;
}

static int review_accept_h(const struct api_request *req, const char *const *params, size_t np,
                           struct api_response *resp)
{
    return review_act(req, params, np, resp, REVIEW_ACCEPT);
}

static int review_rework_h(const struct api_request *req, const char *const *params, size_t np,
                           struct api_response *resp)
{
    return review_act(req, params, np, resp, REVIEW_REWORK);
}

static int review_reject_h(const struct api_request *req, const char *const *params, size_t np,
                           struct api_response *resp)
{
    return review_act(req, params, np, resp, REVIEW_REJECT);
}

const struct api_route review_routes[] = {
    {"POST", "/api/tasks/{id}/accept", PRINCIPAL_DEVELOPER, review_accept_h},
    {"POST", "/api/tasks/{id}/rework", PRINCIPAL_DEVELOPER, review_rework_h},
    {"POST", "/api/tasks/{id}/reject", PRINCIPAL_DEVELOPER, review_reject_h},
    {NULL, NULL, PRINCIPAL_NONE, NULL},
};
