/*
 * `droverctl completion bash|zsh`: a completion script for the shell, built from droverctl's own
 * command table (groups, subcommands, and the options each command's --help names), so a new
 * command or option completes without touching this file. Single-threaded.
 */
#ifndef DROVER_AGENT_CTL_COMPLETE_H
#define DROVER_AGENT_CTL_COMPLETE_H

#include <stddef.h>
#include <stdio.h>

/* One command of the table: group, subcommand (NULL: none), its --help text. */
struct ctl_complete_cmd {
    const char *group, *sub, *usage;
};

/*
 * Print the script for `shell` ("bash" or "zsh") to `f`. 0, or -1 for another shell (nothing
 * printed).
 */
int ctl_complete_print(FILE *f, const char *shell, const struct ctl_complete_cmd *cmds, size_t n);

#endif
