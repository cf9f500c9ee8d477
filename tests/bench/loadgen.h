/*
 * What the two load generators share (drover-bench, one thread per agent; drover-scale, one
 * epoll thread): their command lines are long options that each take one value (plus
 * drover-bench's --help), parsed from one table of where each value goes, and they both report
 * the client's CPU time and sort latencies. No state, any thread.
 */
#ifndef DROVER_TESTS_LOADGEN_H
#define DROVER_TESTS_LOADGEN_H

enum loadgen_kind {
    LOADGEN_STR,    /* const char *: optarg as is */
    LOADGEN_INT,    /* int: atoi(optarg) */
    LOADGEN_DOUBLE, /* double: atof(optarg) */
    LOADGEN_HELP,   /* no value: loadgen_parse returns 1 */
};

/* One long option --name; a table of them ends with a NULL name. */
struct loadgen_opt {
    const char *name;
    enum loadgen_kind kind;
    void *dst;           /* where the value goes (NULL for LOADGEN_HELP) */
    const char *choices; /* LOADGEN_STR: NULL, or the values allowed, space-separated */
    char short_name;     /* 0, or the one-letter option that means the same (no value) */
};

#define LOADGEN_MAX_OPTS 32

/*
 * getopt_long over argv[first..] with the table opts. Returns 0 when every option was valid, 1
 * at --help (or its short_name), -1 at an unknown option, a missing value or a value outside
 * choices (getopt has printed why for the first two; the caller prints its usage).
 */
int loadgen_parse(int argc, char **argv, int first, const struct loadgen_opt *opts);

/* This process's CPU time so far (user + system), in seconds. */
double loadgen_cpu_s(void);

/* qsort comparator for doubles, ascending. */
int loadgen_cmp_double(const void *x, const void *y);

#endif
