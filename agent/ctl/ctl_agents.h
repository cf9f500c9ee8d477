/* droverctl agents: the agents with their status, pod, heartbeat age, task and uptime
 * (GET /api/agents). Single-threaded. */
#ifndef DROVER_AGENT_CTL_AGENTS_H
#define DROVER_AGENT_CTL_AGENTS_H

#include "ctl.h"

ctl_run_fn ctl_agents_list;

#endif
