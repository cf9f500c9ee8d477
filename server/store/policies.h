/*
 * Projects' autonomy policies (sql/043_autonomy.sql): versioned, never edited in place. The
 * policy text itself is checked and normalized by core/autonomy.c before it gets here. Blocking;
 * worker threads only.
 *
 * A version as JSON: {project_id, version, enabled, policy, approval_timeout_seconds,
 * created_by, created_at}.
 */
#ifndef DROVER_STORE_POLICIES_H
#define DROVER_STORE_POLICIES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "store/db.h"

/*
 * Add the next version of `project_id`'s policy (normalized, borrowed). *out = the new version.
 * ERR_NOT_FOUND for an unknown project; ERR_CONFLICT when another version was added at the
 * same moment (retry).
 */
int policies_put(struct db *db, int64_t project_id, const json_t *policy, bool enabled,
                 int approval_timeout_seconds, const char *created_by, json_t **out,
                 struct err *err);

/* The version in force (the newest one): 0 with *out, or *out NULL when there is none. */
int policies_current(struct db *db, int64_t project_id, json_t **out, struct err *err);

/* Every version, newest first (up to 100): 0 with the array in *out. */
int policies_versions(struct db *db, int64_t project_id, json_t **out, struct err *err);

#endif
