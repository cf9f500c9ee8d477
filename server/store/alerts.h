/*
 * Alertmanager groups: one task per firing group, deduplicated by the group key while that
 * task is unfinished. Blocking; worker threads only.
 */
#ifndef DROVER_STORE_ALERTS_H
#define DROVER_STORE_ALERTS_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"
#include "store/db.h"
#include "store/queue.h"

/*
 * For a firing group: return the group's unfinished task (*created = false), or enqueue `t`
 * and remember it for the group (*created = true). Concurrent calls for one key serialise on
 * the group row.
 */
int alerts_open(struct db *db, const char *group_key, const struct model_task_new *t, json_t **task,
                bool *created, struct err *err);

/* For a resolved group: note it on the group's unfinished task, if any. *task may be NULL. */
int alerts_resolve(struct db *db, const char *group_key, json_t **task, struct err *err);

#endif
