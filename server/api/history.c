/* GET /api/history?hours=N (operator). Worker threads. */
#include "api/history.h"
#include "api/reply.h"
#include "svc/svc_history.h"

static int history_api_get(const struct api_request *req, const char *const *params, size_t np,
                           struct api_response *resp)
{
    struct err err = {0};
    json_t *out = NULL;
    long long hours;

    (void)params;
    (void)np;
    if (reply_query_int(req, "hours", 1, svc_history_max_hours(req->svc), 24, resp, &hours) < 0)
        return 0;
    if (svc_history_get(req->svc, (int)hours, &out, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, out);
}

const struct api_route history_routes[] = {
    {"GET", "/api/history", PRINCIPAL_OPERATOR, history_api_get},
    {NULL, NULL, PRINCIPAL_NONE, NULL},
};
