/* droverctl health (GET /api/diagnostics): what droverd finds wrong. Single-threaded. */
#ifndef DROVER_AGENT_CTL_HEALTH_H
#define DROVER_AGENT_CTL_HEALTH_H

#include "ctl.h"

/* Prints one row per check (and its fix), or --json; exit 1 when a check fails. */
ctl_run_fn ctl_health;

#endif
