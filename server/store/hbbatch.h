/*
 * Heartbeats of many agents in one statement (group commit): each request's effect is that of
 * queue_heartbeat (last_heartbeat_at, status, lease extensions, usage) and so is its answer,
 * but one statement and one commit carry them all. Worker threads only.
 */
#ifndef DROVER_STORE_HBBATCH_H
#define DROVER_STORE_HBBATCH_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"
#include "store/db.h"
#include "store/queue.h"

/* One agent's heartbeat in a batch: the inputs (borrowed), then its own answer. */
struct hbbatch_req {
    const char *agent_id;
    const char *reported; /* NULL = idle */
    const json_t *task_ids;
    const json_t *usage;
    /* Answered earlier and written now (svc_hbmem): an agent set offline or unusable since keeps
     * that status and reason instead of being brought back by an older heartbeat. */
    bool deferred;
    json_t *out; /* owned by the caller after the call, as queue_heartbeat's *out */
    /* Owned by the caller after the call, NULL on failure: {"tokens", "usd"} the smallest
     * budgets (null: none) of the tasks the agent holds, "over" one is already past its own. */
    json_t *limits;
    int rc; /* 0, or -1 with err */
    struct err err;
};

/*
 * Run the n requests (distinct agents) as one statement. A request that fails its own checks
 * gets rc -1 and its error and takes no part; the others are answered. -1 (err set) when the
 * statement itself failed: nothing of it was written, and no request was answered.
 */
int hbbatch_exec(struct db *db, const struct queue_opts *o, struct hbbatch_req *reqs, size_t n,
                 struct err *err);

#endif
