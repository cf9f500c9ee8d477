/*
 * Table-driven settings for a command: each row is one setting (its flag, its environment
 * variable, its default, its type and bounds or its own setter, its help line, and where in
 * its owner's struct the value lives). Modules contribute tables (a `struct opt_group` each:
 * `droverd serve` has core/cfg's and the agent pool's); one parser applies the defaults, then
 * the environment, then argv, to all of them at once, so a flag always wins, and one printer
 * lists them all for --help. Main thread, at start-up.
 */
#ifndef DROVER_CORE_OPT_H
#define DROVER_CORE_OPT_H

#include <stddef.h>
#include <stdio.h>

#include "core/err.h"

enum opt_type {
    OPT_STR,    /* a char array of `size` bytes; longer values are refused */
    OPT_INT,    /* an int or a long (by `size`), from `min` to `max` */
    OPT_CUSTOM, /* `set` parses, validates and stores */
};

struct opt;

/*
 * A row's own setter: store `value` into `target` (the group's struct). `name` is what the
 * value came from, for messages: "--flag", the environment variable, or "default of --flag".
 * 0, or -1 with ERR_INVALID.
 */
typedef int (*opt_set_fn)(void *target, const struct opt *o, const char *name, const char *value,
                          struct err *err);

struct opt {
    const char *flag; /* the long option, without "--" */
    const char *env;  /* its environment variable, or NULL */
    const char *def;  /* the default, applied first and shown by --help; NULL: the target's own */
    const char *help;
    enum opt_type type;
    size_t offset, size; /* the value's place in the target and its size */
    long min, max;       /* OPT_INT */
    opt_set_fn set;      /* OPT_CUSTOM */
};

/* A row of `type` storing into `field` of `type_`. */
#define OPT_STR_ROW(flag, env, def, type_, field, help)                                            \
    {                                                                                              \
        flag, env, def, help, OPT_STR, offsetof(type_, field), sizeof(((type_ *)0)->field), 0, 0,  \
            NULL                                                                                   \
    }
#define OPT_INT_ROW(flag, env, def, type_, field, lo, hi, help)                                    \
    {                                                                                              \
        flag, env, def, help, OPT_INT, offsetof(type_, field), sizeof(((type_ *)0)->field), lo,    \
            hi, NULL                                                                               \
    }
#define OPT_CUSTOM_ROW(flag, env, def, fn, help)                                                   \
    {                                                                                              \
        flag, env, def, help, OPT_CUSTOM, 0, 0, 0, 0, fn                                           \
    }

/* One module's rows and the struct they fill. */
struct opt_group {
    const char *title; /* the --help heading; NULL for the command's own settings */
    const struct opt *opts;
    size_t n;
    void *target;
};

/* Parse a base-10 integer from `lo` to `hi` into *out; the message names `name`. 0 or -1. */
int opt_int(const char *name, const char *v, long lo, long hi, long *out, struct err *err);

/* Apply every row's default (rows without one keep what the target holds). 0 or -1. */
int opt_defaults(const struct opt_group *g, size_t ng, struct err *err);

/* Apply every environment variable that is set and not empty. 0 or -1 (the first bad one). */
int opt_env(const struct opt_group *g, size_t ng, struct err *err);

/* Set the row named `flag` ("pod-backend") from text: 1 when set, 0 when no row has that flag,
 * -1 with ERR_INVALID for a bad value. */
int opt_set(const struct opt_group *g, size_t ng, const char *flag, const char *value,
            struct err *err);

/*
 * Defaults, then the environment, then argv (getopt_long: --flag VALUE or --flag=VALUE;
 * argv[0] is the command's name), for every group. 0; 1 when --help was asked for (nothing is
 * printed: the caller prints opt_usage); -1 with ERR_INVALID for an unknown flag, a missing or
 * bad value, or an argument that is not a flag.
 */
int opt_parse(const struct opt_group *g, size_t ng, int argc, char **argv, struct err *err);

/* Every row of every group: flag, environment variable, help and default; then --help. */
void opt_usage(FILE *f, const struct opt_group *g, size_t ng);

#endif
