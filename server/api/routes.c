/*
 * Every REST route table, in one list the router walks. Add a table here when adding an
 * api/ file (one line and one include). Read-only data; any thread.
 */
#include "api/router.h"
#include "api/stream.h"
#include "api/whoami.h"

const struct api_route *const routes_tables[] = {
    whoami_routes,
    stream_routes,
    NULL,
};
