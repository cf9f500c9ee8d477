/* REST handlers for projects (CRUD) and their scheduled tasks. Worker threads. */
#ifndef DROVER_API_PROJECTS_H
#define DROVER_API_PROJECTS_H

#include <stddef.h>

#include "api/api.h"

extern const struct api_route projects_routes[];

#endif
