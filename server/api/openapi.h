/*
 * GET /api/openapi.json: the OpenAPI 3 document (server/net/www/openapi.json, embedded at
 * build time) and the list of every route table this branch defines, which a test compares
 * with the document. Any thread.
 */
#ifndef DROVER_API_OPENAPI_H
#define DROVER_API_OPENAPI_H

#include <stddef.h>

#include "api/api.h"

struct openapi_table {
    const struct api_route *routes;
    const size_t *count;
};

/* The ops route tables (tasks, agents, projects, admin, hooks, metrics, openapi); NULL-ended. */
extern const struct openapi_table openapi_tables[];

extern const struct api_route openapi_routes[];
extern const size_t openapi_routes_count;

#endif
