/*
 * droverctl notify list|add|delete|deliveries (/api/notifications): where Drover tells people
 * that a task needs them (a question, an approval, a pull request to test, a failure), and how
 * those messages fared. Single-threaded.
 */
#ifndef DROVER_AGENT_CTL_NOTIFY_H
#define DROVER_AGENT_CTL_NOTIFY_H

#include "ctl.h"

ctl_run_fn ctl_notify_list;
ctl_run_fn ctl_notify_add;
ctl_run_fn ctl_notify_delete;
ctl_run_fn ctl_notify_deliveries;

#endif
