/* droverctl's argument parsing. Single-threaded. */
#include "ctl_args.h"
#include "core/buf.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest joined text (a task's prompt, an answer): what the API accepts, with room to spare. */
#define CTL_ARGS_JOIN_MAX 400000

/* The index of the option `s` ("--name" or "-x") in `spec`, or -1. */
static int ctl_args_find(const struct ctl_args_spec *spec, const char *s)
{
    int k = -1;

    for (int j = 0; spec && spec[j].name; j++)
        if ((s[1] == '-' && strcmp(s + 2, spec[j].name) == 0) ||
            (s[1] != '-' && spec[j].shortname && s[1] == spec[j].shortname && !s[2]))
            k = j;
    return k;
}

/* Take the option argv[*i] (and its value); 0 or -1 after a message. */
static int ctl_args_option(struct ctl *ctl, int argc, char **argv, int *i, struct ctl_args *a)
{
    const char *s = argv[*i];
    int k = ctl_args_find(a->spec, s);

    if (k < 0) {
        fprintf(stderr, "droverctl %s: unknown option '%s' (see --help)\n", ctl->prog_cmd, s);
        return -1;
    }
    if (!a->spec[k].arg) {
        a->val[k] = "";
        return 0;
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, "droverctl %s: %s needs a value\n", ctl->prog_cmd, s);
        return -1;
    }
    a->val[k] = argv[++*i];
    return 0;
}

int ctl_args_parse(struct ctl *ctl, int argc, char **argv, const struct ctl_args_spec *spec,
                   struct ctl_args *a, int minpos, int maxpos)
{
    memset(a, 0, sizeof(*a));
    a->spec = spec;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];

        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)
            return CTL_ARGS_HELP;
        if (strcmp(s, "--json") == 0) {
            ctl->json = true;
            continue;
        }
        if (strcmp(s, "--") == 0) {
            for (i++; i < argc && a->npos < CTL_ARGS_MAXPOS; i++)
                a->pos[a->npos++] = argv[i];
            break;
        }
        if (s[0] == '-' && s[1]) {
            if (ctl_args_option(ctl, argc, argv, &i, a) < 0)
                return -1;
            continue;
        }
        if (a->npos >= CTL_ARGS_MAXPOS) {
            fprintf(stderr, "droverctl %s: too many arguments\n", ctl->prog_cmd);
            return -1;
        }
        a->pos[a->npos++] = s;
    }
    if (a->npos < minpos || a->npos > maxpos) {
        fprintf(stderr, "droverctl %s: expected %d%s argument%s, got %d (see --help)\n",
                ctl->prog_cmd, minpos, maxpos > minpos ? " or more" : "", minpos == 1 ? "" : "s",
                a->npos);
        return -1;
    }
    return 0;
}

int ctl_args_exit(const struct ctl *ctl, int rc)
{
    if (rc != CTL_ARGS_HELP)
        return CTL_USAGE;
    fputs(ctl->usage ? ctl->usage : "", stdout);
    return CTL_OK;
}

const char *ctl_args_opt(const struct ctl_args *a, const char *name)
{
    for (int j = 0; a->spec && a->spec[j].name; j++)
        if (strcmp(a->spec[j].name, name) == 0)
            return a->val[j];
    return NULL;
}

int ctl_args_int(const char *s, const char *what, long long min, long long max, long long *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);

    if (!*s || *end || v < min || v > max) {
        fprintf(stderr, "droverctl: %s must be an integer from %lld to %lld, not '%s'\n", what, min,
                max, s);
        return -1;
    }
    *out = v;
    return 0;
}

int ctl_args_id(const char *s, const char *what, long long *id)
{
    return ctl_args_int(s, what, 1, LLONG_MAX, id);
}

int ctl_args_parse_id(struct ctl *ctl, int argc, char **argv, const char *what, long long *id,
                      int *code)
{
    struct ctl_args a;
    int rc = ctl_args_parse(ctl, argc, argv, NULL, &a, 1, 1);

    if (rc != 0) {
        *code = ctl_args_exit(ctl, rc);
        return -1;
    }
    if (ctl_args_id(a.pos[0], what, id) < 0) {
        *code = CTL_USAGE;
        return -1;
    }
    return 0;
}

char *ctl_args_join(const struct ctl_args *a, int from)
{
    struct buf b;

    buf_init(&b, CTL_ARGS_JOIN_MAX);
    for (int i = from; i < a->npos; i++)
        buf_appendf(&b, "%s%s", i > from ? " " : "", a->pos[i]);
    return buf_take(&b, NULL);
}
