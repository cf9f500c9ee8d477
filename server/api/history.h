/* GET /api/history: the dashboard's charts over the last hours to days (svc/svc_history.h). */
#ifndef DROVER_API_HISTORY_H
#define DROVER_API_HISTORY_H

#include "api/api.h"

extern const struct api_route history_routes[];

#endif
