/*
 * GET /api/openapi.json: the OpenAPI 3 document (server/net/www/openapi.json, embedded at
 * build time). tests/unit/check_api.c checks that it documents every route of routes.c and
 * nothing else. Any thread.
 */
#ifndef DROVER_API_OPENAPI_H
#define DROVER_API_OPENAPI_H

#include <stddef.h>

#include "api/api.h"

extern const struct api_route openapi_routes[];

#endif
