/*
 * Notifications out: the outbox thread (one per droverd, with its own connection) delivers the
 * messages task transitions left in the outbox (store/outbox.h) to their endpoints, outside any
 * transaction: a generic JSON body signed the Standard Webhooks way (webhook-id "msg_<id>",
 * webhook-timestamp, webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>") with
 * $DROVER_NOTIFY_SECRET_<ENDPOINT> else $DROVER_NOTIFY_SECRET (a "whsec_<base64>" secret is
 * base64-decoded first), or Slack's {"text": ...} for format "slack". A 2xx is delivered; 410
 * (the receiver wants no more) and the 12th failure are dead; anything else is retried after
 * 5 s doubling to 1 h. Several replicas share the work (the outbox rows are leased).
 */
#ifndef DROVER_SVC_OUTBOX_H
#define DROVER_SVC_OUTBOX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "svc/svc.h"

#define SVC_OUTBOX_MAX_ATTEMPTS 12

struct svc_outbox;

/*
 * Start the outbox thread on `dsn` (NULL: PG*); `env` (read-only, outlives the thread) gives
 * the forge settings for the comments that link issue tasks back (store/review.h). NULL when
 * the thread could not start.
 */
struct svc_outbox *svc_outbox_start(const struct svc_env *env, const char *dsn);
/* Stop and join it (within one delivery's timeout). NULL is a no-op. */
void svc_outbox_stop(struct svc_outbox *o);

/* One pass: take and deliver what is due (also what tests call). *n = messages attempted. */
int svc_outbox_pass(struct db *db, int *n, struct err *err);

/* One pass over the due link-back comments on forge issues. *n = comments attempted. */
int svc_outbox_comments_pass(struct svc_ctx *c, int *n, struct err *err);

/* The Slack form of a message's payload ({"text": ...}). Owned. */
json_t *svc_outbox_slack(const json_t *payload);

/* The webhook-signature value for `id`, `ts`, `body` under `secret` (out: 100 bytes). */
void svc_outbox_sign(const char *secret, const char *id, long long ts, const char *body, size_t len,
                     char out[100]);

/* The endpoints (people's side). `project` may be NULL (every project). */
int svc_outbox_endpoint_create(struct svc_ctx *c, const char *name, const char *url,
                               const char *format, const json_t *events, const char *project,
                               const char *by, json_t **out, struct err *err);
int svc_outbox_endpoint_list(struct svc_ctx *c, json_t **out, struct err *err);
int svc_outbox_endpoint_delete(struct svc_ctx *c, int64_t id, struct err *err);
/* Delivery history, newest first (task_id 0: all). */
int svc_outbox_history(struct svc_ctx *c, int64_t task_id, int limit, json_t **out,
                       struct err *err);

#endif
