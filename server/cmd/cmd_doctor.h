/* droverd doctor: the diagnostics report (svc/svc_diag.h) from the command line. */
#ifndef DROVER_CMD_DOCTOR_H
#define DROVER_CMD_DOCTOR_H

/*
 * Takes droverd serve's settings (flags and environment, so it checks what serve would run
 * with) plus --json. Prints one line per check (status, name, detail, and the fix under it),
 * or the report as JSON. Exit 0 when nothing fails (warnings included), 1 when a check fails,
 * 2 on a usage error.
 */
int cmd_doctor(int argc, char **argv);

#endif
