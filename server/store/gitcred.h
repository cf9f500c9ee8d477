/*
 * The once-per-lease mark of get_git_credential (tasks.git_credential_epoch). Worker threads.
 */
#ifndef DROVER_STORE_GITCRED_H
#define DROVER_STORE_GITCRED_H

#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"

/*
 * Mark the credential of task `task_id` handed out at `epoch`, when `agent_id` holds it at that
 * epoch (in_progress, lease unexpired) and it was not handed out at that epoch yet. *first is
 * false when it was (or the lease does not hold: the caller fenced just before). One
 * statement. 0 or -1.
 */
int gitcred_take(struct db *db, const char *agent_id, int64_t task_id, int64_t epoch, bool *first,
                 struct err *err);

#endif
