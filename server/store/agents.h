/*
 * Agent rows: registration, lookup, draining and marking offline.
 * Blocking; worker threads only (or tools that own their connection).
 */
#ifndef DROVER_STORE_AGENTS_H
#define DROVER_STORE_AGENTS_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"
#include "store/db.h"

/* Register a new agent in `initializing`. `id` receives the UUID (37 bytes with NUL). */
int agents_create(struct db *db, const char *name, const char *backend, char id[37],
                  struct err *err);

/* The agent as JSON {id, name, status, backend, pod_name, last_heartbeat_at, current_task,...}. */
int agents_get(struct db *db, const char *id, json_t **agent, struct err *err);

/*
 * Agents, live ones first then by age: {id, name, status, backend, pod_name, offline_reason,
 * created_at, last_heartbeat_at, heartbeat_age_seconds, uptime_seconds, current_task}.
 * `status` NULL = any; offline agents quiet for over an hour only with `all`.
 */
int agents_list(struct db *db, const char *status, bool all, json_t **agents, struct err *err);

/*
 * Mark an idle agent draining in one row update, so it can no longer claim. *drained is false
 * (and nothing changes) when the agent is busy or already draining/offline.
 */
int agents_drain(struct db *db, const char *id, bool *drained, struct err *err);

/* Mark an agent offline with a reason. */
int agents_mark_offline(struct db *db, const char *id, const char *reason, struct err *err);

/*
 * The agent has no usable coding command (docs/agent.md): status 'unusable' with `reason`
 * (kept on a draining or offline row), its heartbeat time refreshed. ERR_CONFLICT while it
 * holds a task. *agent = {id, status, unusable_reason, last_heartbeat_at}.
 */
int agents_set_unusable(struct db *db, const char *id, const char *reason, json_t **agent,
                        struct err *err);

#endif
