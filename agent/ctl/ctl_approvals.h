/*
 * droverctl approvals, approve, deny (/api/approvals) and policy get|set|history
 * (/api/projects/{id}/policy): tiered autonomy from the command line (docs/autonomy.md).
 * Single-threaded.
 */
#ifndef DROVER_AGENT_CTL_APPROVALS_H
#define DROVER_AGENT_CTL_APPROVALS_H

#include "ctl.h"

ctl_run_fn ctl_approvals_list;
ctl_run_fn ctl_approvals_approve;
ctl_run_fn ctl_approvals_deny;
ctl_run_fn ctl_approvals_policy_get;
ctl_run_fn ctl_approvals_policy_set;
ctl_run_fn ctl_approvals_policy_history;

#endif
