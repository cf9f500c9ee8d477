/*
 * Notifications out: the endpoints (notify_endpoints) and the durable outbox the task's own
 * transaction fills (sql/023's trigger), taken by the outbox thread with a lease (SKIP LOCKED,
 * so several replicas share the work) and settled with the outcome. Worker threads and the
 * outbox thread (each with its own connection).
 */
#ifndef DROVER_STORE_OUTBOX_H
#define DROVER_STORE_OUTBOX_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "store/db.h"

/* Create an endpoint: name, url (http/https), format (generic|slack, NULL = generic), events
 * (a JSON array of event names, NULL = the default set), project_id (0 = every project). */
int outbox_endpoint_create(struct db *db, const char *name, const char *url, const char *format,
                           const json_t *events, int64_t project_id, const char *by, json_t **out,
                           struct err *err);
int outbox_endpoint_list(struct db *db, json_t **out, struct err *err);
int outbox_endpoint_delete(struct db *db, int64_t id, struct err *err);

/*
 * Take up to `limit` due messages, each leased for `lease_s` seconds (attempts + 1): an array
 * of {id, endpoint, url, format, event, payload, attempts, created_at}.
 */
int outbox_take(struct db *db, int limit, int lease_s, json_t **out, struct err *err);

/* The outcome of one attempt: delivered, or retry after `retry_s` seconds, or dead. */
int outbox_settle(struct db *db, int64_t id, bool delivered, bool dead, int retry_s, long status,
                  const char *error, struct err *err);

/* Delivery history, newest first: all, or one task's (task_id > 0). */
int outbox_history(struct db *db, int64_t task_id, int limit, json_t **out, struct err *err);

#endif
