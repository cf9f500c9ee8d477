/*
 * Project rows: a repository with its default branch, forge kind and settings (which also
 * hold the Alertmanager prompt template). Blocking; worker threads only.
 */
#ifndef DROVER_STORE_PROJECTS_H
#define DROVER_STORE_PROJECTS_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "store/db.h"

/*
 * Create from a JSON object {name, repository, default_branch?, forge_kind?, forge_api_url?,
 * forge_repo_path?, settings?}. ERR_INVALID names the bad field; ERR_CONFLICT on a taken name.
 */
int projects_create(struct db *db, const json_t *in, json_t **project, struct err *err);

/* Partial update with the same fields (absent ones stay). */
int projects_update(struct db *db, int64_t id, const json_t *in, json_t **project, struct err *err);

int projects_list(struct db *db, json_t **projects, struct err *err);

/* By numeric id or by name. ERR_NOT_FOUND when neither matches. */
int projects_get(struct db *db, const char *ref, json_t **project, struct err *err);

/* The id of the project named or numbered `ref`. */
int projects_resolve(struct db *db, const char *ref, int64_t *id, struct err *err);

/* ERR_CONFLICT while tasks still refer to it. */
int projects_delete(struct db *db, int64_t id, struct err *err);

#endif
