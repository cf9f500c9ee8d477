/*
 * Diagnostics: one report of what is wrong, for GET /api/diagnostics, the dashboard and
 * `droverd doctor`. Each check is {name, status: ok|warn|fail, detail, fix?}:
 *
 *   database         PostgreSQL answers
 *   migrations       none pending
 *   pool.*           the pod backend loads and (Kubernetes) answers and permits (pool/pooldiag.h)
 *   forge:<project>  each project's forge answers and accepts its credential
 *   webhook:<project> the forge has Drover's webhook, active, with the events (svc_diaghook.h)
 *   agents.coder     agents whose coding command could not start or was not found (last day)
 *   clock            each replica's wall clock against the database's
 *
 * The forge, webhook and Kubernetes checks call out over the network: the caller runs on the slow
 * workers (or is a subcommand); no transaction is open during any of them. Worker threads.
 */
#ifndef DROVER_SVC_DIAG_H
#define DROVER_SVC_DIAG_H

#include <jansson.h>

#include "pool/agentpool.h"
#include "svc/svc.h"

/* Skew (ms) beyond which the clock check warns, and fails. */
#define SVC_DIAG_SKEW_WARN_MS 1000
#define SVC_DIAG_SKEW_FAIL_MS 5000

/*
 * Run every check. `pool` is the pod backend's settings (NULL: the running pool's, from the
 * environment, or none). *report = {"status": the worst, "generated_at", "checks": [...]}
 * (owned). Returns 0; a failing check is part of the report, not an error.
 */
int svc_diag_run(struct svc_ctx *c, const struct agentpool_cfg *pool, json_t **report,
                 struct err *err);

/* Record this replica's clock skew (throttled in SQL to one row per 30 s). From the sweep. */
void svc_diag_clock_tick(struct svc_ctx *c);

#endif
