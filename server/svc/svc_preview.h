/*
 * trigger_preview_deploy: ask the project's preview webhook (settings.preview_webhook) to deploy
 * the branch of a task the caller holds. Fenced like every task tool (holder, epoch, in_progress,
 * lease not expired); the webhook is called outside any transaction and its URL recorded with
 * the fence re-checked. Worker threads (blocking HTTP).
 */
#ifndef DROVER_SVC_PREVIEW_H
#define DROVER_SVC_PREVIEW_H

#include <jansson.h>
#include <stdint.h>

#include "svc/svc.h"

/*
 * POST {"task": id, "branch", "pull_request"} to the webhook; it answers {"url"} or
 * {"preview_url"} or a plain-text http(s) URL. *out = {"task_id", "preview_url"} (owned).
 */
int svc_preview_deploy(struct svc_ctx *c, const char *agent_id, int64_t task_id, int64_t epoch,
                       json_t **out, struct err *err);

#endif
