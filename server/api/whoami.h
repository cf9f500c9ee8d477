/* GET /api/whoami. */
#ifndef DROVER_API_WHOAMI_H
#define DROVER_API_WHOAMI_H

#include "api/api.h"

extern const struct api_route whoami_routes[];

#endif
