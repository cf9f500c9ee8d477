/* droverctl schedule list|add|delete (/api/schedules). Single-threaded. */
#ifndef DROVER_AGENT_CTL_SCHEDULES_H
#define DROVER_AGENT_CTL_SCHEDULES_H

#include "ctl.h"

ctl_run_fn ctl_schedules_list;
ctl_run_fn ctl_schedules_add;
ctl_run_fn ctl_schedules_delete;

#endif
