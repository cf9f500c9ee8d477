/*
 * The runner's end of DROVER_SANDBOX=container (`drover-agent exec-run --socket PATH -- ARGV`):
 * a small process the runner starts in place of the coding command (through proc_run, so its
 * timeouts, stops and output handling are unchanged). It connects to the exec service
 * (runner_execd.h), refuses a service that runs as its own uid (the command would not be
 * contained), sends ARGV with its own environment, working directory and stdin/stdout/stderr,
 * turns SIGTERM/SIGINT into a TERM ask (a second into KILL), and exits as the command did.
 * Dying (SIGKILL) closes the connection, which kills the command's group. Main thread.
 */
#ifndef DROVER_AGENT_RUNNER_EXECC_H
#define DROVER_AGENT_RUNNER_EXECC_H

/* The exit status of the command (or 125 when the service could not run it). */
int runner_execc_main(int argc, char **argv);

#endif
