/* The OpenAPI document route and the table of ops routes. Any thread. */
#include "api/openapi.h"
#include "api/admin.h"
#include "api/agents.h"
#include "api/hooks.h"
#include "api/metrics.h"
#include "api/projects.h"
#include "api/reply.h"
#include "api/tasks.h"
#include "core/mem.h"
#include "net/assets.h"

#include <string.h>

static int openapi_handler(const struct api_request *req, const char *const *params, size_t np,
                           struct api_response *resp)
{
    const struct assets_file *f = assets_find("/openapi.json");

    (void)req;
    (void)params;
    (void)np;
    if (!f)
        return reply_error(resp, 500, "internal", "the OpenAPI document was not built in");
    resp->status = 200;
    resp->raw = mem_alloc(f->len + 1);
    memcpy(resp->raw, f->data, f->len);
    resp->raw[f->len] = '\0';
    resp->raw_len = f->len;
    resp->content_type = "application/json";
    return 0;
}

const struct api_route openapi_routes[] = {
    {"GET", "/api/openapi.json", TOKENS_SCOPE_NONE, openapi_handler},
    {NULL, NULL, TOKENS_SCOPE_NONE, NULL},
};
