/*
 * GET /api/diagnostics (operator): the diagnostics report. Its forge and Kubernetes checks
 * call out over the network, so the request asks to be re-run on the slow workers before it
 * does anything (a forge that hangs then holds a slow worker, never the heartbeat path).
 * Worker threads.
 */
#include "api/diag.h"
#include "api/reply.h"
#include "svc/svc_diag.h"

static int diag_get(const struct api_request *req, const char *const *params, size_t nparams,
                    struct api_response *resp)
{
    struct err err = {0};
    json_t *report = NULL;

    (void)params;
    (void)nparams;
    if (!req->slow_ok) {
        resp->reroute = true;
        return 0;
    }
    if (svc_diag_run(req->svc, NULL, &report, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, report);
}

const struct api_route diag_routes[] = {
    {"GET", "/api/diagnostics", PRINCIPAL_OPERATOR, diag_get},
    {NULL, NULL, PRINCIPAL_NONE, NULL},
};
