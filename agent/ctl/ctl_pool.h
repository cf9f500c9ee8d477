/*
 * droverctl pool: show the pool (get), change its bounds (set), pin or unpin its size (scale),
 * over /api/pool. Each prints the API's JSON. Single-threaded.
 */
#ifndef DROVER_AGENT_CTL_POOL_H
#define DROVER_AGENT_CTL_POOL_H

#include "ctl.h"

ctl_run_fn ctl_pool_get;
ctl_run_fn ctl_pool_set;
ctl_run_fn ctl_pool_scale;

#endif
