/*
 * The forge-facing view of project rows: creating/updating one (droverd project add, the
 * embedded default's demo project) and reading the forge settings the forge backends need.
 * Blocking; worker threads or command-line subcommands only.
 */
#ifndef DROVER_STORE_FORGE_PROJECTS_H
#define DROVER_STORE_FORGE_PROJECTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "store/db.h"

struct forge_projects_new {
    const char *name;           /* required: [A-Za-z0-9][A-Za-z0-9._-]{0,99} */
    const char *repo_url;       /* required */
    const char *default_branch; /* NULL = main */
    const char *forge_kind;     /* NULL = git; git | gitea | gitlab | github */
    const char *forge_api_url;  /* may be NULL */
    const char *forge_repo_path;
    const json_t *settings; /* may be NULL: {} ({"preview_webhook": "https://..."}) */
};

/*
 * Create the project, or update the one with the same name (so scripts can re-run it).
 * *out = {id, name, repo_url, default_branch, forge_kind, forge_api_url, forge_repo_path,
 * settings, created}. ERR_INVALID for bad fields.
 */
int forge_projects_upsert(struct db *db, const struct forge_projects_new *p, json_t **out,
                          struct err *err);

/* The project (same shape, without "created"), or ERR_NOT_FOUND. */
int forge_projects_get(struct db *db, int64_t id, json_t **out, struct err *err);

/* Record the preview deployment URL of a task (tasks.preview_url). ERR_NOT_FOUND if no task. */
int forge_projects_set_preview_url(struct db *db, int64_t task_id, const char *url,
                                   struct err *err);

#endif
