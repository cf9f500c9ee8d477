/* The lease an agent holds now, for calls that carry no lease_epoch. Worker threads. */
#include "store/leases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct db_stmt st_epoch = {
    "leases_epoch",
    "SELECT t.state, t.agent_id, t.lease_epoch,"
    " t.lease_expires_at IS NULL OR t.lease_expires_at <= now() AS expired"
    " FROM tasks t WHERE t.id = $1",
    1};

/* tasks_in_progress_idx (agent_id WHERE in_progress) answers this. */
static const struct db_stmt st_current = {
    "leases_current",
    "SELECT t.id, t.lease_epoch FROM tasks t"
    " WHERE t.agent_id = $1::uuid AND t.state = 'in_progress' AND t.lease_expires_at > now()"
    " ORDER BY t.started_at DESC NULLS LAST, t.id DESC LIMIT 1",
    1};

int leases_epoch(struct db *db, const char *agent_id, int64_t task_id, int64_t *epoch,
                 struct err *err)
{
    char id[24];
    const char *p[1] = {id}, *agent, *state;
    PGresult *r;
    int rc = -1;

    if (task_id <= 0)
        return err_set(err, ERR_INVALID, "task_id must be a positive integer");
    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    if (!(r = db_exec_found(db, &st_epoch, p, err, "task %lld does not exist", (long long)task_id)))
        return -1;
    agent = db_get(r, 0, "agent_id");
    state = db_get(r, 0, "state");
    if (!agent || strcasecmp(agent, agent_id) != 0) {
        err_set(err, ERR_FORBIDDEN, "task %lld is not leased to agent %s", (long long)task_id,
                agent_id);
        goto out;
    }
    if (strcmp(state, "in_progress") != 0) {
        err_set(err, ERR_CONFLICT, "task %lld is %s, not in_progress: the lease is no longer held",
                (long long)task_id, state);
        goto out;
    }
    if (strcmp(db_get(r, 0, "expired"), "t") == 0) {
        err_set(err, ERR_STALE_EPOCH, "the lease on task %lld expired", (long long)task_id);
        goto out;
    }
    *epoch = db_get_ll(r, 0, "lease_epoch");
    rc = 0;
out:
    PQclear(r);
    return rc;
}

int leases_current(struct db *db, const char *agent_id, int64_t *task_id, int64_t *epoch,
                   struct err *err)
{
    const char *p[1] = {agent_id};
    PGresult *r;
    int rc = -1;

    if (!(r = db_exec(db, &st_current, p, err)))
        return -1;
    if (PQntuples(r) == 0) {
        err_set(err, ERR_CONFLICT, "agent %s holds no task: name one with task_id", agent_id);
        goto out;
    }
    *task_id = db_get_ll(r, 0, "id");
    *epoch = db_get_ll(r, 0, "lease_epoch");
    rc = 0;
out:
    PQclear(r);
    return rc;
}
