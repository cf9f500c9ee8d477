/*
 * Read models of tasks for the REST API and the dashboard: filtered, cursor-paged lists, a
 * task's history and log lines from `activity`, fan-out children, and the fan-out group
 * marker. Blocking; worker threads only.
 */
#ifndef DROVER_STORE_TASKLIST_H
#define DROVER_STORE_TASKLIST_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "core/model.h"
#include "store/db.h"

/*
 * Newest first. *tasks = array (owned); *next_before = the id to pass as before_id for the
 * next page, or 0 when this page is the last.
 */
int tasklist_page(struct db *db, const struct model_task_filter *f, json_t **tasks,
                  int64_t *next_before, struct err *err);

/* The task's state changes in order: [{id, ts, from, to, message, agent_id}]. */
int tasklist_history(struct db *db, int64_t task_id, json_t **history, struct err *err);

/* Activity rows of a task with id > after, oldest first, at most `limit`. */
int tasklist_logs(struct db *db, int64_t task_id, int64_t after, int limit, json_t **entries,
                  struct err *err);

/* Children of a fan-out parent: [{id, state, branch, agent_id, pull_request}]. */
int tasklist_children(struct db *db, int64_t parent_id, json_t **children, struct err *err);

#endif
