/*
 * Notifications out: GET/POST /api/notifications/endpoints, DELETE .../endpoints/{id}, and the
 * delivery history GET /api/notifications/deliveries (svc/svc_outbox.h). Worker threads.
 */
#ifndef DROVER_API_NOTIFY_H
#define DROVER_API_NOTIFY_H

#include "api/api.h"

extern const struct api_route notify_routes[];

#endif
