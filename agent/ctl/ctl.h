/*
 * droverctl's shared state: the REST client, the --json switch, the name of the command being
 * run (for messages), the exit codes, and the shape of a command's entry point. Every command
 * handler (ctl_tasks.c, ctl_agents.c, ctl_pool.c, ctl_projects.c, ctl_tokens.c) has this
 * signature; ctl_main.c's table maps command names to them and holds each one's --help text.
 * Single-threaded.
 */
#ifndef DROVER_AGENT_CTL_H
#define DROVER_AGENT_CTL_H

#include <stdbool.h>

#include "httpc.h"

/* Exit codes (docs/droverctl.md). */
#define CTL_OK 0
#define CTL_ERR 1   /* the server refused, or could not be reached */
#define CTL_USAGE 2 /* unknown command or option, missing or malformed argument */

struct ctl {
    struct httpc http;
    bool json;            /* --json: print the API's JSON instead of a table */
    const char *prog_cmd; /* "task add", for messages */
    const char *usage;    /* the command's --help text (from ctl_main.c's table) */
};

/*
 * A command: `argv` holds the arguments after the command's name (after "task add", after
 * "agents"). Returns the process exit code.
 */
typedef int ctl_run_fn(struct ctl *ctl, int argc, char **argv);

#endif
