/*
 * Forge webhooks in: a Gitea/Forgejo, GitLab or GitHub delivery for project `project`,
 * authenticated the way that forge does it (before the body is parsed), applied once (the
 * delivery id, and the body's SHA-256 for forges that re-send under a new id), then mapped onto
 * the task whose pull request it names:
 *   - pull request merged -> the task is accepted (ready_to_test -> completed);
 *   - closed without merging -> the task is cancelled;
 *   - review comments (inline with file/line, reviews, conversation comments) are kept for the
 *     task's next rework; a review that requests changes, or a comment that addresses Drover
 *     (settings.review_mention, default "@drover", or a "/drover" command) sends a
 *     ready_to_test task back for rework with the whole thread kept so far;
 *   - an issue labelled settings.issue_label (default "drover"), or opened / commented on with
 *     the mention, becomes a task of the project (once per issue);
 *   - anything else is acknowledged and ignored.
 * The secret is $DROVER_WEBHOOK_SECRET_<PROJECT> (the name upper-cased, other characters as
 * '_'), else $DROVER_WEBHOOK_SECRET. GitLab: a plain secret is compared with X-Gitlab-Token; a
 * "whsec_..." secret verifies the Standard Webhooks signature (webhook-signature) instead.
 * Worker threads.
 */
#ifndef DROVER_SVC_WEBHOOKS_H
#define DROVER_SVC_WEBHOOKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "svc/svc.h"

enum svc_webhooks_forge { SVC_WEBHOOKS_GITEA, SVC_WEBHOOKS_GITLAB, SVC_WEBHOOKS_GITHUB };

struct svc_webhooks_in {
    enum svc_webhooks_forge forge;
    const char *project;         /* from the URL: untrusted until the signature checks */
    const char *body;            /* the exact bytes received */
    size_t body_len;             /* */
    const char *headers;         /* "name: value\n" lines, lower-case names; may be NULL */
    const char *idempotency_key; /* GitLab's Idempotency-Key header, or NULL */
    bool fast_worker; /* a worker that must not wait on a forge: such a delivery is rerouted */
};

/*
 * Apply one delivery. 0 with *out = {"result", "event", "task_id"?} and *status 200 (or 202
 * when a task was created); -1 with ERR_UNAUTHORIZED (unknown project, no secret, bad
 * signature: nothing changed) or ERR_INVALID (the verified body is not a JSON object).
 *
 * A rework whose review's inline comments the payload lacks (Gitea/Forgejo and GitHub
 * reviews, GitLab's addressed notes) reads them back from the forge's REST API
 * (forge_backend_review_comments) after the delivery is recorded and outside any
 * transaction, and keeps them (path, line, diff hunk, position, body, author, link) for the
 * rework's context. On a `fast_worker` such a delivery changes nothing: 0 with *reroute set
 * and *out NULL, to be run again on a slow worker. A forge that fails that read does not stop
 * the rework: it goes on with the review's summary and a warning on the task's activity says
 * why the inline comments are missing.
 */
int svc_webhooks_receive(struct svc_ctx *c, const struct svc_webhooks_in *in, int *status,
                         json_t **out, bool *reroute, struct err *err);

/* One header's value from `headers` ("name: value\n" lines), or 0 when absent. Pure. */
int svc_webhooks_header(const char *headers, const char *name, char *out, size_t outsz);

/* Lower-case hex HMAC-SHA256 of `data` under `key` (out: 65 bytes). Pure. */
void svc_webhooks_hmac_hex(const char *key, size_t keylen, const char *data, size_t len,
                           char out[65]);

/*
 * The environment variable that holds project `project`'s webhook secret:
 * "DROVER_WEBHOOK_SECRET_<PROJECT>" (out: at least 160 bytes for any project name). Pure.
 */
void svc_webhooks_secret_var(const char *project, char *out, size_t outsz);

/*
 * The secret deliveries for `project` are verified with: $DROVER_WEBHOOK_SECRET_<PROJECT>,
 * else $DROVER_WEBHOOK_SECRET, each also as a file ($..._FILE, core/secret.h). 0 with *out
 * owned (wipe it with secret_free) or NULL when none is set; -1 when a named file is unreadable.
 */
int svc_webhooks_secret(const char *project, char **out, struct err *err);

/* The deliveries received for project `project` (newest first, at most `limit`). */
int svc_webhooks_deliveries(struct svc_ctx *c, const char *project, int limit, json_t **out,
                            struct err *err);

#endif
