/*
 * droverctl's task commands over /api/tasks: add (one task or a fan-out), list, show, logs
 * (-f follows until the task finishes), and the operator actions cancel, answer and retry.
 * Single-threaded.
 */
#ifndef DROVER_AGENT_CTL_TASKS_H
#define DROVER_AGENT_CTL_TASKS_H

#include "ctl.h"

ctl_run_fn ctl_tasks_add;
ctl_run_fn ctl_tasks_list;
ctl_run_fn ctl_tasks_show;
ctl_run_fn ctl_tasks_logs;
ctl_run_fn ctl_tasks_cancel;
ctl_run_fn ctl_tasks_answer;
ctl_run_fn ctl_tasks_retry;
ctl_run_fn ctl_tasks_accept;
ctl_run_fn ctl_tasks_rework;
ctl_run_fn ctl_tasks_reject;

#endif
