/* Closing superseded fan-out siblings' pull requests. Worker threads and the outbox thread. */
#include "svc/svc_prclose.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/prclose.h"
#include "store/queue.h"
#include "store/review.h"
#include "svc/svc_forge.h"
#include "svc/svc_outbox.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SVC_PRCLOSE_LEASE_S 120 /* a comment and a close, each within the forge's timeout */

/* Is the recorded pull request still open (Gitea/GitHub "open", GitLab "opened")? */
static bool svc_prclose_open(const json_t *task)
{
    const char *st =
        json_string_value(json_object_get(json_object_get(task, "pull_request"), "state"));

    return !st || strcmp(st, "open") == 0 || strcmp(st, "opened") == 0;
}

/* The forge calls, outside any transaction (the row is leased). 0, or -1 with ferr. */
static int svc_prclose_call(struct svc_ctx *c, const json_t *row, const json_t *task,
                            struct err *ferr)
{
    int64_t id = json_integer_value(json_object_get(row, "id"));
    long long number = json_integer_value(json_object_get(row, "issue"));
    struct svc_forge sf;
    struct err derr = {0};
    bool has = false;
    int rc = -1;

    if (svc_forge_resolve(c, json_integer_value(json_object_get(row, "project_id")), task, &sf,
                          &has, ferr) < 0)
        return -1;
    if (!has) {
        err_set(ferr, ERR_INVALID, "the task's project has no forge");
        goto out;
    }
    if (!json_is_true(json_object_get(row, "commented"))) {
        if (forge_backend_comment_pull_request(
                &sf.f, number, json_string_value(json_object_get(row, "body")), ferr) < 0)
            goto out;
        /* Not commented twice: a retry after a failed close only closes. */
        if (prclose_commented(c->db, id, &derr) < 0)
            log_warn("forge", "closing %lld: could not record the comment: %s", (long long)id,
                     derr.msg);
    }
    if (forge_backend_close_pull_request(&sf.f, number, ferr) < 0)
        goto out;
    rc = 0;
out:
    svc_forge_clear(&sf);
    return rc;
}

int svc_prclose_one(struct svc_ctx *c, const json_t *row, struct err *err)
{
    int64_t id = json_integer_value(json_object_get(row, "id"));
    int64_t task_id = json_integer_value(json_object_get(row, "task_id"));
    int attempts = (int)json_integer_value(json_object_get(row, "attempts")), retry = 5;
    const json_t *pr;
    const char *url;
    struct err ferr = {0};
    json_t *task = NULL;
    char *msg = NULL;
    bool dead;
    int rc = -1;

    if (queue_get(c->db, task_id, &task, err) < 0)
        return -1;
    pr = json_object_get(task, "pull_request");
    url = json_string_value(json_object_get(pr, "url"));
    if (!svc_prclose_open(task)) {
        /* Closed or merged meanwhile (a webhook, a person): nothing left to do. */
        rc = review_comment_settle(c->db, id, true, false, 0, NULL, err);
        goto out;
    }
    if (svc_prclose_call(c, row, task, &ferr) == 0) {
        msg = mem_printf("superseded: closed its pull request %s on the forge", url ? url : "");
        log_info("forge", "task=%lld superseded pull request closed", (long long)task_id);
        rc = prclose_done(c->db, id, task_id, msg, err);
        goto out;
    }
    for (int k = 1; k < attempts && retry < 3600; k++)
        retry *= 2;
    dead = attempts >= SVC_OUTBOX_MAX_ATTEMPTS || ferr.code == ERR_INVALID ||
           ferr.code == ERR_NOT_FOUND;
    log_warn("forge", "task=%lld closing superseded pull request: attempt %d failed: %s",
             (long long)task_id, attempts, ferr.msg);
    if (attempts <= 1 || dead) {
        struct err ne = {0};
        json_t *meta = json_pack("{s:I,s:i,s:b}", "pr_close", (json_int_t)id, "attempt", attempts,
                                 "retried", !dead);

        msg = mem_printf("superseded: could not close its pull request %s on the forge: %s%s",
                         url ? url : "", ferr.msg,
                         dead ? " (given up: close it by hand)" : " (retried in the background)");
        if (review_note(c->db, task_id, msg, meta, &ne) < 0)
            log_warn("forge", "task=%lld note failed: %s", (long long)task_id, ne.msg);
        json_decref(meta);
    }
    rc = review_comment_settle(c->db, id, false, dead, retry > 3600 ? 3600 : retry, ferr.msg, err);
out:
    json_decref(task);
    free(msg);
    return rc;
}

void svc_prclose_after_accept(struct svc_ctx *c, int64_t accepted_id)
{
    struct err err = {0};
    json_t *due = NULL, *row;
    size_t i;

    if (prclose_take(c->db, accepted_id, 100, SVC_PRCLOSE_LEASE_S, &due, &err) < 0) {
        log_warn("forge", "task=%lld: superseded pull requests left to the outbox: %s",
                 (long long)accepted_id, err.msg);
        return;
    }
    json_array_foreach(due, i, row)
    {
        if (svc_prclose_one(c, row, &err) < 0)
            log_warn("forge", "task=%lld: recording a closing failed (retried): %s",
                     (long long)accepted_id, err.msg);
    }
    json_decref(due);
}
