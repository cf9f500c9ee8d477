/*
 * What an agent records on its task besides state: the working branch, the pull request and
 * the preview URL. The lease fence is checked twice around the forge call that the service
 * layer makes in between (svc/svc_branch.c): branches_fence() reads without holding any lock,
 * branches_record_*() lock the row only for their own short transaction. Idempotent.
 * Blocking; worker threads only.
 */
#ifndef DROVER_STORE_BRANCHES_H
#define DROVER_STORE_BRANCHES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "store/db.h"

/* What the fence read of a task the caller holds. */
struct branches_lease {
    json_t *task; /* owned: the task as every reader sees it (store/taskjson.h) */
    const char *branch, *title, *base; /* borrowed from task; branch may be NULL */
    const json_t *pr;                  /* borrowed: the recorded pull request, or NULL */
    int64_t project_id;                /* 0 = a task without a project */
    char submitter[201];               /* who submitted it (tasks.submitted_by), or "" */
};

/*
 * The fence of every agent write about a task (the same as queue_update_status): leased to
 * `agent_id`, at `epoch`, in_progress, lease not expired. ERR_NOT_FOUND, ERR_FORBIDDEN,
 * ERR_STALE_EPOCH or ERR_CONFLICT otherwise. One read: no transaction is left open and no lock
 * is held when it returns. On success *l is filled (clear it with branches_lease_clear).
 */
int branches_fence(struct db *db, const char *agent_id, int64_t task_id, int64_t epoch,
                   struct branches_lease *l, struct err *err);
void branches_lease_clear(struct branches_lease *l);

/*
 * Record `name` as the task's branch (one short transaction). The branch exists on the forge
 * by now, so it is recorded even when the lease was lost meanwhile: then *fence holds the
 * stale-lease error the caller must answer with (its code is ERR_OK when the lease still
 * holds). A task that already records another branch keeps it: *recorded is false and an
 * activity note names the one created too. Returns -1 only when nothing could be written.
 */
int branches_record_branch(struct db *db, const char *agent_id, int64_t task_id, int64_t epoch,
                           const char *name, bool *recorded, struct err *fence, struct err *err);

/*
 * Record `pr` ({title, head, base, state, url?, number?, forge?}) as the task's pull request,
 * the same way: recorded although the lease was lost meanwhile (then *fence is set); a task
 * that records one already keeps it, and *out is that one. *out = {"task_id", "pull_request",
 * "created"} (owned).
 */
int branches_record_pr(struct db *db, const char *agent_id, int64_t task_id, int64_t epoch,
                       const json_t *pr, json_t **out, struct err *fence, struct err *err);

/* Record the preview deployment URL the same way (tasks.preview_url). */
int branches_record_preview(struct db *db, const char *agent_id, int64_t task_id, int64_t epoch,
                            const char *url, struct err *fence, struct err *err);

#endif
