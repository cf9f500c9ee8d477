/*
 * After the pull request, people's side: accept (ready_to_test -> completed), rework
 * (ready_to_test -> backlog on the same branch, the instructions, the earlier result and the
 * review comments in the next attempt's prompt; not a failure) and reject (ready_to_test ->
 * cancelled), each recorded with who did it; who submitted a task; and what a developer may
 * act on (its own tasks, or every task of a project whose settings say
 * "developer_access": "project"). *task = the task with its history (svc_tasks_detail).
 * An accept that supersedes fan-out siblings closes their pull requests on the forge once
 * it has committed (svc/svc_prclose.h); a forge failure there never fails the accept.
 * Worker threads.
 */
#ifndef DROVER_SVC_REVIEW_H
#define DROVER_SVC_REVIEW_H

#include <jansson.h>
#include <stdint.h>

#include "core/principal.h"
#include "svc/svc.h"

int svc_review_accept(struct svc_ctx *c, int64_t id, const char *actor, const char *comment,
                      json_t **task, struct err *err);
int svc_review_rework(struct svc_ctx *c, int64_t id, const char *actor, const char *instructions,
                      json_t **task, struct err *err);
int svc_review_reject(struct svc_ctx *c, int64_t id, const char *actor, const char *why,
                      json_t **task, struct err *err);

/* Remember that `who` submitted task `id` (and its fan-out children). */
int svc_review_submitted(struct svc_ctx *c, int64_t id, const struct principal *who,
                         struct err *err);

/*
 * May `who` act on task `id`? Everyone but a developer may (the route's scope already
 * decided); a developer only on a task it submitted, or on any task of a project with
 * "developer_access": "project". ERR_FORBIDDEN (nothing changed) or ERR_NOT_FOUND.
 */
int svc_review_authorize(struct svc_ctx *c, const struct principal *who, int64_t id,
                         struct err *err);

#endif
