/*
 * Triggers: POST /api/hooks/alertmanager takes Alertmanager's webhook payload (version 4) and
 * opens one task per firing alert group, deduplicated by groupKey while its task is open,
 * with the prompt rendered from the project's template (svc/svc_alerts.h).
 * Worker threads.
 */
#ifndef DROVER_API_HOOKS_H
#define DROVER_API_HOOKS_H

#include "api/api.h"

extern const struct api_route hooks_routes[];

#endif
