/*
 * What an agent records on its task besides state: the working branch and the pull request.
 * Both are fenced on the lease exactly like queue_update_status (same agent, current epoch,
 * in_progress, lease not expired) and idempotent. Blocking; worker threads only.
 */
#ifndef DROVER_STORE_BRANCHES_H
#define DROVER_STORE_BRANCHES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "store/db.h"

#define BRANCHES_NAME_MAX 255

/* True when `name` is a valid git branch name (git check-ref-format rules, no "refs/"). */
bool branches_name_valid(const char *name);

/* "drover/<id>-<slug of title>", cut to a valid length. */
void branches_default_name(int64_t task_id, const char *title, char *out, size_t outsz);

/*
 * Record the task's branch (`name` NULL = the default name). Calling again with the same name
 * returns the same result; a different name once one is recorded is ERR_CONFLICT.
 * *out = {"task_id", "branch", "created"} (created false when it was already recorded).
 */
int branches_create(struct db *db, const char *agent_id, int64_t task_id, int64_t epoch,
                    const char *name, json_t **out, struct err *err);

/*
 * Record the task's pull request {title, body?, head?, base?} (head defaults to the task's
 * branch, base to its base branch / project default). Idempotent: a second call returns the
 * recorded one. *out = {"task_id", "pull_request": {url?, number?, title, head, base, state}}.
 */
int branches_pull_request(struct db *db, const char *agent_id, int64_t task_id, int64_t epoch,
                          const char *title, const char *body, const char *head, const char *base,
                          json_t **out, struct err *err);

#endif
