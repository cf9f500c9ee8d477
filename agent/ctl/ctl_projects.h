/* droverctl project add|list (/api/projects). Single-threaded. */
#ifndef DROVER_AGENT_CTL_PROJECTS_H
#define DROVER_AGENT_CTL_PROJECTS_H

#include "ctl.h"

ctl_run_fn ctl_projects_add;
ctl_run_fn ctl_projects_list;

#endif
