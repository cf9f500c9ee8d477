/*
 * Every REST route table, in one list the router walks. Add a table here when adding an
 * api/ file (one line and one include). Read-only data; any thread.
 */
#include "api/pool.h"
#include "api/router.h"
#include "api/admin.h"
#include "api/agents.h"
#include "api/approvals.h"
#include "api/diag.h"
#include "api/history.h"
#include "api/forgehooks.h"
#include "api/hooks.h"
#include "api/metrics.h"
#include "api/notify.h"
#include "api/openapi.h"
#include "api/projects.h"
#include "api/review.h"
#include "api/stream.h"
#include "api/tasks.h"
#include "api/whoami.h"

const struct api_route *const routes_tables[] = {
    whoami_routes,
    stream_routes,
    tasks_routes,
    agents_routes,
    projects_routes,
    admin_routes,
    hooks_routes,
    metrics_routes,
    openapi_routes,
    api_pool_routes,
    review_routes,
    forgehooks_routes,
    notify_routes,
    diag_routes,
    history_routes,
    approvals_routes,
    NULL,
};
