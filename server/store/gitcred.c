/* get_git_credential's once-per-lease mark (see store/gitcred.h). Worker threads. */
#include "store/gitcred.h"

#include <stdio.h>

static const struct db_stmt st_take = {
    "gitcred_take",
    "UPDATE tasks SET git_credential_epoch = lease_epoch"
    " WHERE id = $1 AND agent_id = $2::uuid AND lease_epoch = $3::bigint"
    " AND state = 'in_progress' AND (lease_expires_at IS NULL OR lease_expires_at > now())"
    " AND (git_credential_epoch IS NULL OR git_credential_epoch < lease_epoch) RETURNING id",
    3};

int gitcred_take(struct db *db, const char *agent_id, int64_t task_id, int64_t epoch, bool *first,
                 struct err *err)
{
    char id[24], ep[24];
    const char *p[3] = {id, agent_id, ep};
    PGresult *r;

    *first = false;
    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    snprintf(ep, sizeof(ep), "%lld", (long long)epoch);
    r = db_exec(db, &st_take, p, err);
    if (!r)
        return -1;
    *first = PQntuples(r) == 1;
    PQclear(r);
    return 0;
}
