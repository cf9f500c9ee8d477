/*
 * Project rows: a repository with its default branch, forge settings and free-form settings
 * (the Alertmanager prompt template, the preview webhook, ...). The one module that owns the
 * `projects` table; every reader gets the same JSON shape:
 *   {id, name, repository, default_branch, forge_kind, forge_api_url, forge_repo_path,
 *    settings, created_at, updated_at}
 * Input is validated by the service layer (svc/svc_projects.c); this file is SQL.
 * Blocking; worker threads or a subcommand that owns its connection.
 */
#ifndef DROVER_STORE_PROJECTS_H
#define DROVER_STORE_PROJECTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "store/db.h"

/* The columns a caller writes; NULL members are "not given" (create: the column default). */
struct projects_row {
    const char *name;
    const char *repository;
    const char *default_branch;
    const char *forge_kind; /* git | gitea | gitlab | github */
    const char *forge_api_url;
    const char *forge_repo_path;
    const json_t *settings; /* an object */
};

/* Insert. ERR_CONFLICT when the name is taken. *project owned. */
int projects_create(struct db *db, const struct projects_row *in, json_t **project,
                    struct err *err);

/* Insert, or update the row with the same name (every given column). *created tells which. */
int projects_upsert(struct db *db, const struct projects_row *in, json_t **project, bool *created,
                    struct err *err);

/* Update the given columns of project `id`. ERR_NOT_FOUND, ERR_CONFLICT (name taken). */
int projects_update(struct db *db, int64_t id, const struct projects_row *in, json_t **project,
                    struct err *err);

int projects_list(struct db *db, json_t **projects, struct err *err);

/* By numeric id or by name (`ref`). ERR_NOT_FOUND when neither matches. */
int projects_get(struct db *db, const char *ref, json_t **project, struct err *err);

/* By id. ERR_NOT_FOUND. */
int projects_get_id(struct db *db, int64_t id, json_t **project, struct err *err);

/* The id of the project named or numbered `ref`. */
int projects_resolve(struct db *db, const char *ref, int64_t *id, struct err *err);

/* ERR_CONFLICT while tasks still refer to it. */
int projects_delete(struct db *db, int64_t id, struct err *err);

#endif
