/*
 * The database side of the diagnostics (svc/svc_diag.h): replicas' clock skew, agents whose
 * coding command could not run, and the reachability of the database itself. Worker threads.
 */
#ifndef DROVER_STORE_DIAGSTORE_H
#define DROVER_STORE_DIAGSTORE_H

#include <jansson.h>

#include "core/err.h"
#include "store/db.h"

/*
 * Record `replica`'s skew: the database's clock minus `local_ms` (the replica's wall clock just
 * before the statement), at most once per 30 s per replica (an earlier row stays). One short
 * statement, no transaction of its own.
 */
int diagstore_clock_record(struct db *db, const char *replica, long long local_ms, struct err *err);

/* Every replica's skew measured in the last hour: [{replica, skew_ms, age_seconds}] (owned). */
int diagstore_clocks(struct db *db, json_t **rows, struct err *err);

/*
 * Agents (not offline) whose coding command failed to start or was not found in the last day,
 * from their tasks' activity: [{id, name, status, message, ts}] (owned). Reads at most the last
 * 100,000 activity rows, so the check stays cheap on a large table.
 */
int diagstore_agents_without_coder(struct db *db, json_t **rows, struct err *err);

#endif
