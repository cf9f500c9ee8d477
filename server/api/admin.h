/*
 * REST handlers for token management (POST /api/tokens, GET /api/tokens,
 * DELETE /api/tokens/{id}) and the event feed (GET /api/events). Worker threads.
 */
#ifndef DROVER_API_ADMIN_H
#define DROVER_API_ADMIN_H

#include <stddef.h>

#include "api/api.h"

extern const struct api_route admin_routes[];

#endif
