/* Notification endpoints and deliveries. Worker threads. */
#include "api/notify.h"
#include "api/reply.h"
#include "core/jsonkeys.h"
#include "svc/svc_outbox.h"

#include <stdint.h>
#include <string.h>

static int notify_list(const struct api_request *req, const char *const *params, size_t np,
                       struct api_response *resp)
{
    struct err err = {0};
    json_t *list;

    (void)params;
    (void)np;
    if (svc_outbox_endpoint_list(req->svc, &list, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, json_pack("{s:o}", "endpoints", list));
}

static int notify_create(const struct api_request *req, const char *const *params, size_t np,
                         struct api_response *resp)
{
    static const char *const known[] = {"name", "url", "format", "events", "project", NULL};
    const char *name = NULL, *url = NULL, *format = NULL, *project = NULL, *k;
    json_t *body = NULL, *out = NULL, *events;
    struct err err = {0};

    (void)params;
    (void)np;
    if (reply_body_object(req, resp, &body) < 0)
        return 0;
    if ((k = jsonkeys_unknown(body, known))) {
        reply_error(resp, ERR_INVALID, "unknown_field", "unknown field '%.60s'", k);
        goto out;
    }
    if (reply_member_string(body, "name", resp, &name) < 0 ||
        reply_member_string(body, "url", resp, &url) < 0 ||
        reply_member_string(body, "format", resp, &format) < 0 ||
        reply_member_string(body, "project", resp, &project) < 0)
        goto out;
    events = json_object_get(body, "events");
    if (!name || !url || (events && !json_is_array(events))) {
        reply_error(resp, ERR_INVALID, "invalid_field",
                    "send {\"name\", \"url\" (http or https), \"format\": generic or slack, "
                    "\"events\": a list of needs_input, ready_to_test, failed, completed, "
                    "budget, cancelled, approval, \"project\"}");
        goto out;
    }
    if (svc_outbox_endpoint_create(req->svc, name, url, format, events, project, reply_actor(req),
                                   &out, &err) < 0) {
        reply_err(resp, &err);
        goto out;
    }
    reply_json(resp, 201, out);
out:
    json_decref(body);
    return 0;
}

static int notify_delete(const struct api_request *req, const char *const *params, size_t np,
                         struct api_response *resp)
{
    struct err err = {0};
    int64_t id;

    if (np < 1 || reply_path_id(params[0], "endpoint", resp, &id) < 0)
        return 0;
    if (svc_outbox_endpoint_delete(req->svc, id, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, json_pack("{s:I,s:b}", "id", (json_int_t)id, "deleted", 1));
}

static int notify_deliveries(const struct api_request *req, const char *const *params, size_t np,
                             struct api_response *resp)
{
    struct err err = {0};
    long long task, limit;
    json_t *list;

    (void)params;
    (void)np;
    if (reply_query_int(req, "task", 1, INT64_MAX, 0, resp, &task) < 0 ||
        reply_query_int(req, "limit", 1, 500, 50, resp, &limit) < 0)
        return 0;
    if (svc_outbox_history(req->svc, task, (int)limit, &list, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, json_pack("{s:o}", "deliveries", list));
}

const struct api_route notify_routes[] = {
    {"GET", "/api/notifications/endpoints", PRINCIPAL_OPERATOR, notify_list},
    {"POST", "/api/notifications/endpoints", PRINCIPAL_ADMIN, notify_create},
    {"DELETE", "/api/notifications/endpoints/{id}", PRINCIPAL_ADMIN, notify_delete},
    {"GET", "/api/notifications/deliveries", PRINCIPAL_OPERATOR, notify_deliveries},
    {NULL, NULL, PRINCIPAL_NONE, NULL},
};
