/* GET /api/stream/activity: activity rows as server-sent events (the reference stream). */
#ifndef DROVER_API_STREAM_H
#define DROVER_API_STREAM_H

#include "api/api.h"

extern const struct api_route stream_routes[];

#endif
