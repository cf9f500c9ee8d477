/*
 * Agents as operators see them: the list, one agent, and its own output (its pod's or
 * process's log) read through the pool's backend. Worker threads.
 */
#ifndef DROVER_SVC_AGENTS_H
#define DROVER_SVC_AGENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "svc/svc.h"

/* `status` NULL = any; `all` includes agents offline for over an hour. */
int svc_agents_list(struct svc_ctx *c, const char *status, bool all, json_t **agents,
                    struct err *err);
int svc_agents_get(struct svc_ctx *c, const char *id, json_t **agent, struct err *err);

/* True when this server has a pod backend to read agent output from. */
bool svc_agents_have_logs(struct svc_ctx *c);

/* The last `tail` lines of the agent's output (*text owned). ERR_NOT_FOUND: no log. */
int svc_agents_logs(struct svc_ctx *c, const char *id, const char *pod_name, int tail, char **text,
                    size_t *len, struct err *err);

#endif
