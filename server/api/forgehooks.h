/*
 * Forge webhooks: POST /api/hooks/forge/{gitea|gitlab|github}/{project} take a forge's
 * deliveries for a project, authenticated by the forge's signature or token (public routes:
 * no bearer token), and GET /api/projects/{id}/webhook-deliveries lists what arrived
 * (svc/svc_webhooks.h). Worker threads.
 */
#ifndef DROVER_API_FORGEHOOKS_H
#define DROVER_API_FORGEHOOKS_H

#include "api/api.h"

extern const struct api_route forgehooks_routes[];

#endif
