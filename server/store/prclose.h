/*
 * The pull requests of superseded fan-out siblings, closed on their forge after the accept
 * (sql/047_pr_close.sql): rows of forge_comments with kind 'pr_close', queued in the accept's
 * own transaction so that none is lost, then leased to whoever makes the forge calls (the
 * accepting request right after its commit, else the outbox thread), settled like the
 * link-back comments (review_comment_settle). Worker threads and the outbox thread.
 */
#ifndef DROVER_STORE_PRCLOSE_H
#define DROVER_STORE_PRCLOSE_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "store/db.h"

/*
 * Inside the accept's transaction: for each sibling in `ids` (the rows' first column: the
 * siblings just cancelled) whose recorded pull request has a number and is open, queue its
 * closing with the comment "Superseded: fan-out sibling #<accepted> was accepted (<its PR
 * url>)"; a sibling whose pull request has no number (a plain git project) gets an activity
 * note instead: there is nothing to close.
 */
int prclose_queue(struct db *db, int64_t accepted_id, const PGresult *ids, struct err *err);

/*
 * Lease the due closings of `accepted_id`'s siblings (0: of every task), for `lease_s`
 * seconds, at most `limit`: an array of {id, task_id, issue, body, attempts, project_id,
 * kind, commented} (the same rows review_comments_take hands out). Owned.
 */
int prclose_take(struct db *db, int64_t accepted_id, int limit, int lease_s, json_t **out,
                 struct err *err);

/* The closing's comment is on the forge: a retry only closes. */
int prclose_commented(struct db *db, int64_t id, struct err *err);

/*
 * Closed: the row settled (posted), the task's pull_request.state "closed" and an activity
 * line `message`, in one statement.
 */
int prclose_done(struct db *db, int64_t id, int64_t task_id, const char *message, struct err *err);

#endif
