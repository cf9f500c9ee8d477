/*
 * Projects (a repository with its default branch, forge settings and free-form settings) and
 * cron schedules of tasks. Input arrives as the JSON objects of the REST API and of
 * `droverd project add`; the rules for it are here, once. Worker threads or a subcommand.
 */
#ifndef DROVER_SVC_PROJECTS_H
#define DROVER_SVC_PROJECTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "svc/svc.h"

/*
 * `in` = {name, repository, default_branch?, forge_kind?, forge_api_url?, forge_repo_path?,
 * settings?}: unknown fields, wrong types, invalid UTF-8, a bad name (1-100 of [A-Za-z0-9._-],
 * starting with a letter or digit, not all digits), an unknown forge kind (git, gitea or its
 * alias forgejo, gitlab, github) or a bad default branch are ERR_INVALID.
 */
int svc_projects_create(struct svc_ctx *c, const json_t *in, json_t **project, struct err *err);
/* Create, or update the project with the same name (scripts re-run it). */
int svc_projects_upsert(struct svc_ctx *c, const json_t *in, json_t **project, bool *created,
                        struct err *err);
/* Update the given fields of the project named or numbered `ref`. */
int svc_projects_update(struct svc_ctx *c, const char *ref, const json_t *in, json_t **project,
                        struct err *err);
int svc_projects_list(struct svc_ctx *c, json_t **projects, struct err *err);
int svc_projects_get(struct svc_ctx *c, const char *ref, json_t **project, struct err *err);
/* ERR_CONFLICT while tasks still refer to it. *id = the deleted project's id. */
int svc_projects_delete(struct svc_ctx *c, const char *ref, int64_t *id, struct err *err);

int svc_projects_schedules(struct svc_ctx *c, json_t **schedules, struct err *err);
int svc_projects_schedule_create(struct svc_ctx *c, const json_t *in, json_t **schedule,
                                 struct err *err);
int svc_projects_schedule_delete(struct svc_ctx *c, int64_t id, struct err *err);

#endif
