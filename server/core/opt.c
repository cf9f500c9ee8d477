/* The settings parser and --help printer behind core/opt.h. Main thread, at start-up. */
#include "core/opt.h"
#include "core/mem.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* getopt_long's `val` of row k is OPT_VAL_BASE + k: clear of '?', ':' and every char. */
#define OPT_VAL_BASE 256
#define OPT_VAL_HELP (OPT_VAL_BASE - 1)

int opt_int(const char *name, const char *v, long lo, long hi, long *out, struct err *err)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return err_set(err, ERR_INVALID, "%s must be an integer from %ld to %ld (got '%s')", name,
                       lo, hi, v);
    *out = n;
    return 0;
}

static int opt_apply(const struct opt_group *g, const struct opt *o, const char *name,
                     const char *v, struct err *err)
{
    char *base = (char *)g->target + o->offset;
    long n = 0;

    switch (o->type) {
    case OPT_STR:
        if (strlen(v) >= o->size)
            return err_set(err, ERR_INVALID, "%s is longer than %zu characters", name, o->size - 1);
        memcpy(base, v, strlen(v) + 1);
        return 0;
    case OPT_INT:
        if (opt_int(name, v, o->min, o->max, &n, err) < 0)
            return -1;
        if (o->size == sizeof(long))
            *(long *)(void *)base = n;
        else
            *(int *)(void *)base = (int)n;
        return 0;
    case OPT_CUSTOM:
        return o->set(g->target, o, name, v, err);
    }
    return err_set(err, ERR_INTERNAL, "%s: unknown option type", name);
}

int opt_defaults(const struct opt_group *g, size_t ng, struct err *err)
{
    char name[80];

    for (size_t i = 0; i < ng; i++)
        for (size_t j = 0; j < g[i].n; j++) {
            const struct opt *o = &g[i].opts[j];

            if (!o->def)
                continue;
            snprintf(name, sizeof(name), "default of --%s", o->flag);
            if (opt_apply(&g[i], o, name, o->def, err) < 0)
                return -1;
        }
    return 0;
}

int opt_env(const struct opt_group *g, size_t ng, struct err *err)
{
    for (size_t i = 0; i < ng; i++)
        for (size_t j = 0; j < g[i].n; j++) {
            const struct opt *o = &g[i].opts[j];
            const char *v = o->env ? getenv(o->env) : NULL;

            if (v && *v && opt_apply(&g[i], o, o->env, v, err) < 0)
                return -1;
        }
    return 0;
}

int opt_set(const struct opt_group *g, size_t ng, const char *flag, const char *value,
            struct err *err)
{
    char name[80];

    for (size_t i = 0; i < ng; i++)
        for (size_t j = 0; j < g[i].n; j++)
            if (strcmp(g[i].opts[j].flag, flag) == 0) {
                snprintf(name, sizeof(name), "--%s", flag);
                return opt_apply(&g[i], &g[i].opts[j], name, value ? value : "", err) < 0 ? -1 : 1;
            }
    return 0;
}

/* The row behind getopt's `val` (OPT_VAL_BASE + its index among every group's rows). */
static const struct opt *opt_row(const struct opt_group *g, size_t ng, int val,
                                 const struct opt_group **owner)
{
    size_t k;

    if (val < OPT_VAL_BASE)
        return NULL;
    k = (size_t)(val - OPT_VAL_BASE);

    for (size_t i = 0; i < ng; k -= g[i].n, i++)
        if (k < g[i].n) {
            *owner = &g[i];
            return &g[i].opts[k];
        }
    return NULL;
}

int opt_parse(const struct opt_group *g, size_t ng, int argc, char **argv, struct err *err)
{
    struct option *lo;
    size_t total = 0, k = 0;
    int ch, rc = -1;

    for (size_t i = 0; i < ng; i++)
        total += g[i].n;
    if (opt_defaults(g, ng, err) < 0 || opt_env(g, ng, err) < 0)
        return -1;
    lo = mem_calloc(total + 2, sizeof(*lo));
    for (size_t i = 0; i < ng; i++)
        for (size_t j = 0; j < g[i].n; j++, k++)
            lo[k] =
                (struct option){g[i].opts[j].flag, required_argument, NULL, OPT_VAL_BASE + (int)k};
    lo[total] = (struct option){"help", no_argument, NULL, OPT_VAL_HELP};
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
        const struct opt_group *owner = NULL;
        const struct opt *o;
        char name[80];

        if (ch == OPT_VAL_HELP) {
            rc = 1;
            goto out;
        }
        if (ch == ':' && (o = opt_row(g, ng, optopt, &owner))) {
            err_set(err, ERR_INVALID, "--%s needs a value", o->flag);
            goto out;
        }
        if (ch == '?' || ch == ':' || !(o = opt_row(g, ng, ch, &owner))) {
            err_set(err, ERR_INVALID, "unknown option or missing value: '%s'", argv[optind - 1]);
            goto out;
        }
        snprintf(name, sizeof(name), "--%s", o->flag);
        if (opt_apply(owner, o, name, optarg, err) < 0)
            goto out;
    }
    if (optind < argc) {
        err_set(err, ERR_INVALID, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    rc = 0;
out:
    free(lo);
    return rc;
}

static void opt_usage_help(FILE *f)
{
    fprintf(f, "  --%-24s %-28s %s\n", "help", "", "show this help");
}

void opt_usage(FILE *f, const struct opt_group *g, size_t ng)
{
    bool help = false;

    for (size_t i = 0; i < ng; i++) {
        if (g[i].title && !help) { /* --help closes the command's own settings */
            opt_usage_help(f);
            help = true;
        }
        if (g[i].title)
            fprintf(f, "\n%s:\n", g[i].title);
        for (size_t j = 0; j < g[i].n; j++) {
            const struct opt *o = &g[i].opts[j];

            fprintf(f, "  --%-24s %-28s %s%s%s%s\n", o->flag, o->env ? o->env : "", o->help,
                    o->def ? " [default: " : "", o->def ? o->def : "", o->def ? "]" : "");
        }
    }
    if (!help)
        opt_usage_help(f);
}
