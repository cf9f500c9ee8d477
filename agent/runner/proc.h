/*
 * Child processes for drover-agent: git and the coding command. The child runs in its own
 * process group (so stopping it stops everything it started), with stdin from /dev/null and
 * stdout+stderr merged into lines handed to a callback, in order. Blocking; the agent's main
 * thread.
 */
#ifndef DROVER_AGENT_PROC_H
#define DROVER_AGENT_PROC_H

#include <stdbool.h>

#include "core/err.h"

/* Why a run ended early. */
enum proc_stop { PROC_STOP_NONE = 0, PROC_STOP_TIMEOUT, PROC_STOP_CANCELLED, PROC_STOP_SHUTDOWN };

struct proc_opts {
    char *const *argv; /* argv[0] is looked up in PATH */
    const char *cwd;   /* may be NULL */
    char *const *env;  /* the child's full environment ("NAME=value", NULL-terminated) */
    long timeout_s;    /* 0 = none */
    long grace_s;      /* SIGTERM -> SIGKILL delay when stopping; 0 = 10 */
    /* Polled about every 200 ms: non-zero (an enum proc_stop) stops the child. May be NULL. */
    enum proc_stop (*should_stop)(void *ud);
    void (*on_line)(void *ud, const char *line); /* may be NULL; lines without '\n' */
    void *ud;
};

struct proc_result {
    int exit_code;       /* the exit status, or 128 + signal */
    enum proc_stop stop; /* why it was stopped, or NONE */
    char last_line[512]; /* the last non-empty output line, for error messages */
};

/* Run to completion (or stop). 0 when the program ran (see res), -1 when it could not start. */
int proc_run(const struct proc_opts *o, struct proc_result *res, struct err *err);

/*
 * A copy of the current environment with `set` ("NAME=value") added or replacing, and every
 * variable named in `unset` (or starting with a name ending in '*') removed. Free with
 * proc_env_free.
 */
char **proc_env_build(char *const *set, const char *const *unset);
void proc_env_free(char **env);

#endif
