/*
 * After the pull request: a reviewer's accept (ready_to_test -> completed), rework
 * (ready_to_test -> backlog on the same branch, with the instructions, the earlier result and
 * the review comments not yet carried in the task's context; a fresh attempt budget, so it is
 * not a failure) and reject (ready_to_test -> cancelled); who submitted a task; the review
 * comments a forge sent; and the forge deliveries already applied. Each move is one
 * transaction with its activity row naming who. Worker threads only.
 */
#ifndef DROVER_STORE_REVIEW_H
#define DROVER_STORE_REVIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "store/db.h"

/* Longest rework instructions and review comment, in characters. */
#define REVIEW_TEXT_MAX 20000

/*
 * ready_to_test -> completed; `comment` (may be NULL) joins the context. A fan-out child's open
 * siblings are cancelled in the same transaction ("superseded"), unless its project's settings
 * say "fanout_close_siblings": false, and their open pull requests are queued for closing on
 * the forge (store/prclose.h), which the caller does once this has committed. *task owned.
 */
int review_accept(struct db *db, int64_t task_id, const char *actor, const char *comment,
                  json_t **task, struct err *err);

/*
 * ready_to_test -> backlog, runnable now, attempts reset: the context gains {"type":"rework",
 * "by", "instructions", "previous_result", "branch", "pull_request", "review": [{"author",
 * "kind", "body", "path", "line", "diff_hunk", "url"}...]} with every review comment received and
 * not yet carried, which are then marked carried. `instructions` may be NULL only when review
 * comments exist.
 */
int review_rework(struct db *db, int64_t task_id, const char *actor, const char *instructions,
                  json_t **task, struct err *err);

/* ready_to_test -> cancelled ("rejected by <actor>: <why>"). */
int review_reject(struct db *db, int64_t task_id, const char *actor, const char *why, json_t **task,
                  struct err *err);

/* Record who submitted task `task_id` (and its fan-out children). */
int review_set_submitter(struct db *db, int64_t task_id, const char *name, long long token_id,
                         struct err *err);

/*
 * What a developer's permission check needs: the submitter's token id (0: unknown) and the
 * project's settings.developer_access ("own" when unset, or "project"). ERR_NOT_FOUND.
 */
int review_owner(struct db *db, int64_t task_id, long long *token_id, char access[16],
                 struct err *err);

/* A review comment a forge sent (or Drover read back from it). Borrowed; NULL/0: absent. */
struct review_comment {
    const char *kind; /* review | comment | inline */
    const char *author, *body, *path;
    long long line;        /* the file's line */
    const char *forge_id;  /* the forge's comment id: the same one is kept once per task */
    const char *diff_hunk; /* inline: the diff around it */
    long long position;    /* inline: the forge's position in the diff */
    const char *url;       /* the comment on the forge */
};

/*
 * Keep a review comment for the task's next rework. A comment whose forge_id the task already
 * has (its webhook, then the review's fetch, or a redelivery) is not added again (0).
 */
int review_add_comment(struct db *db, int64_t task_id, const struct review_comment *c,
                       struct err *err);

/* A warning on the task's activity (kind system), e.g. a forge read that failed. */
int review_note(struct db *db, int64_t task_id, const char *message, const json_t *metadata,
                struct err *err);

/* The task whose pull request is `number` (else whose branch is `branch`) in `project_id`. */
int review_find_task(struct db *db, int64_t project_id, long long number, const char *branch,
                     int64_t *task_id, struct err *err);

/* Merge `fields` (an object) into the task's pull_request record (its state, url). */
int review_pr_update(struct db *db, int64_t task_id, const json_t *fields, struct err *err);

/*
 * Claim a forge delivery: *fresh = true the first time (project, delivery_id) and the body
 * hash are seen, false for a replay. Then review_delivery_done records the outcome.
 */
int review_delivery_claim(struct db *db, int64_t project_id, const char *forge,
                          const char *delivery_id, const char *body_sha256, const char *event,
                          int64_t *row_id, bool *fresh, struct err *err);
int review_delivery_done(struct db *db, int64_t row_id, int64_t task_id, const char *outcome,
                         struct err *err);
/* A delivery whose effect failed: forgotten, so the forge's retry is applied. */
void review_delivery_forget(struct db *db, int64_t row_id);

/* The last `limit` deliveries of a project, newest first. */
int review_deliveries(struct db *db, int64_t project_id, int limit, json_t **out, struct err *err);

/*
 * A task opened for forge issue `issue`: remember it, with the forge logins of the issue's
 * author and of whoever asked Drover for it (`author`, `requester`: NULL or "" when the payload
 * did not name them), and queue the link-back comment `body` (one transaction). Only the first
 * call for a task records or queues anything.
 */
int review_issue_link(struct db *db, int64_t task_id, long long issue, const char *author,
                      const char *requester, const char *body, struct err *err);

/* The forge login of the reviewer who sent the task back (tasks.forge_requester). */
int review_set_requester(struct db *db, int64_t task_id, const char *login, struct err *err);

/* Take up to `limit` due link-back comments, leased for `lease_s` seconds: an array of
 * {id, task_id, issue, body, attempts, project_id, kind, commented}; kind "pr_close" is a
 * superseded pull request's closing (store/prclose.h). */
int review_comments_take(struct db *db, int limit, int lease_s, json_t **out, struct err *err);
/* Posted, or retry after `retry_s`, or dead. */
int review_comment_settle(struct db *db, int64_t id, bool posted, bool dead, int retry_s,
                          const char *error, struct err *err);

#endif
