/*
 * REST handlers for agents: the list (status, pod, last heartbeat and its age, current task,
 * uptime), one agent, and the agent pod's own output (GET /api/agents/{id}/logs), which the
 * pod backend provides through agents_api_logs_hook. Worker threads.
 */
#ifndef DROVER_API_AGENTS_H
#define DROVER_API_AGENTS_H

#include <stddef.h>

#include "api/api.h"

extern const struct api_route agents_routes[];

/*
 * The pod backend's log reader, set once at start-up by the pool (NULL = no backend): the
 * last `tail` lines of the agent's pod output into *text (owned). Returns 0 or -1 with err.
 * Called on worker threads; `env` is NULL when called for a follow=1 stream. ?follow=1
 * re-reads the tail on every stream tick (about every 2 s) and sends the new lines.
 */
typedef int (*agents_api_logs_fn)(const struct api_env *env, const char *agent_id,
                                  const char *pod_name, int tail, char **text, size_t *len,
                                  struct err *err);
extern agents_api_logs_fn agents_api_logs_hook;

#endif
