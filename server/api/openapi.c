/* The OpenAPI document route. Any thread. */
#include "api/openapi.h"
#include "core/mem.h"

#include <string.h>

static int openapi_handler(const struct api_request *req, const char *const *params, size_t np,
                           struct api_response *resp)
{
    (void)req;
    (void)params;
    (void)np;
    resp->status = 200;
    resp->raw = mem_alloc(openapi_json_len + 1);
    memcpy(resp->raw, openapi_json, openapi_json_len + 1);
    resp->raw_len = openapi_json_len;
    resp->content_type = "application/json";
    return 0;
}

const struct api_route openapi_routes[] = {
    {"GET", "/api/openapi.json", PRINCIPAL_NONE, openapi_handler},
    {NULL, NULL, PRINCIPAL_NONE, NULL},
};
