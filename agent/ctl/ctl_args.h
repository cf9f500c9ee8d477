/*
 * droverctl's argument parsing: a command's options ("--name VALUE", "--name", "-x"), its
 * positional arguments, and the checks on integer values. Messages go to stderr, prefixed with
 * the command's name. Single-threaded.
 */
#ifndef DROVER_AGENT_CTL_ARGS_H
#define DROVER_AGENT_CTL_ARGS_H

#include <stdbool.h>

#include "ctl.h"

#define CTL_ARGS_MAXOPT 16
#define CTL_ARGS_MAXPOS 16
#define CTL_ARGS_HELP 3 /* ctl_args_parse: --help or -h was given */

/* One option a command accepts: "--name VALUE" (arg) or "--name" (flag). */
struct ctl_args_spec {
    const char *name;
    char shortname; /* 0 = none */
    bool arg;
};

struct ctl_args {
    const struct ctl_args_spec *spec; /* borrowed; NULL = no options */
    const char *val[CTL_ARGS_MAXOPT]; /* by spec index; "" for a set flag, NULL when absent */
    const char *pos[CTL_ARGS_MAXPOS];
    int npos;
};

/*
 * Parse argv against `spec` (terminated by a NULL name; may be NULL), wanting minpos..maxpos
 * positional arguments. --json (sets ctl->json) and --help / -h are always allowed; "--" ends
 * the options. Returns 0, CTL_ARGS_HELP, or -1 after printing what is wrong.
 */
int ctl_args_parse(struct ctl *ctl, int argc, char **argv, const struct ctl_args_spec *spec,
                   struct ctl_args *a, int minpos, int maxpos);

/*
 * What a command returns when ctl_args_parse did not return 0: after --help, the command's usage
 * (ctl->usage) on stdout and CTL_OK; after a parse error (already reported), CTL_USAGE.
 */
int ctl_args_exit(const struct ctl *ctl, int rc);

/* The value of option `name` ("" for a flag that was given), or NULL when it was not given. */
const char *ctl_args_opt(const struct ctl_args *a, const char *name);

/* `s` as an integer from min to max into *out; -1 with a message naming `what` otherwise. */
int ctl_args_int(const char *s, const char *what, long long min, long long max, long long *out);

/* `s` as an id (a task's, a token's: an integer from 1 up); -1 with a message otherwise. */
int ctl_args_id(const char *s, const char *what, long long *id);

/*
 * ctl_args_parse for a command whose one argument is an id and that has no options of its own
 * ("token revoke ID"): 0 with *id, or -1 with *code set to what the command returns now (after
 * --help, a bad argument or a malformed id).
 */
int ctl_args_parse_id(struct ctl *ctl, int argc, char **argv, const char *what, long long *id,
                      int *code);

/* The positional arguments from index `from` on, joined by single spaces. Owned. */
char *ctl_args_join(const struct ctl_args *a, int from);

#endif
