/* The load generators' shared option parsing and measurements (loadgen.h). */
#define _POSIX_C_SOURCE 200809L
#include "loadgen.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Whether value is one of the space-separated words of choices. */
static int loadgen_choice_ok(const char *choices, const char *value)
{
    size_t n = strlen(value);

    for (const char *p = choices; *p;) {
        size_t w = strcspn(p, " ");

        if (w == n && strncmp(p, value, n) == 0)
            return 1;
        p += w;
        p += strspn(p, " ");
    }
    return 0;
}

int loadgen_parse(int argc, char **argv, int first, const struct loadgen_opt *opts)
{
    struct option lo[LOADGEN_MAX_OPTS + 1];
    char shorts[LOADGEN_MAX_OPTS + 1];
    int n = 0, ns = 0, c;

    for (; opts[n].name && n < LOADGEN_MAX_OPTS; n++) {
        /* Values above any char tell a long option's index without clashing with short ones. */
        lo[n] = (struct option){opts[n].name,
                                opts[n].kind == LOADGEN_HELP ? no_argument : required_argument,
                                NULL, opts[n].short_name ? opts[n].short_name : 256 + n};
        if (opts[n].short_name)
            shorts[ns++] = opts[n].short_name;
    }
    lo[n] = (struct option){NULL, 0, NULL, 0};
    shorts[ns] = '\0';
    optind = first;
    while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        const struct loadgen_opt *o = NULL;

        for (int i = 0; i < n && !o; i++)
            if (lo[i].val == c)
                o = &opts[i];
        if (!o)
            return -1;
        switch (o->kind) {
        case LOADGEN_STR:
            if (o->choices && !loadgen_choice_ok(o->choices, optarg))
                return -1;
            *(const char **)o->dst = optarg;
            break;
        case LOADGEN_INT:
            *(int *)o->dst = atoi(optarg);
            break;
        case LOADGEN_DOUBLE:
            *(double *)o->dst = atof(optarg);
            break;
        case LOADGEN_HELP:
            return 1;
        }
    }
    return 0;
}

double loadgen_cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int loadgen_cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return a < b ? -1 : a > b;
}
