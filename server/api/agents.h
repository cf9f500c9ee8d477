/*
 * REST handlers for agents: the list (status, pod, last heartbeat and its age, current task,
 * uptime), one agent, and the agent pod's own output (GET /api/agents/{id}/logs, read through
 * the pool's backend; ?follow=1 re-reads the tail about every 2 s and sends the new lines).
 * Worker threads.
 */
#ifndef DROVER_API_AGENTS_H
#define DROVER_API_AGENTS_H

#include <stddef.h>

#include "api/api.h"

extern const struct api_route agents_routes[];

#endif
