/*
 * Child processes run to completion, for droverd (git for the forge's git backend) and
 * drover-agent (git and the coding command): fork + exec with an environment built before the
 * fork, in a process group of its own (so stopping it stops everything it started), stdin from
 * /dev/null, stdout and stderr merged and handed over in order as lines and/or raw bytes,
 * bounded by a timeout and a caller's stop test, SIGTERM then SIGKILL after a grace.
 * Blocking; any thread: between fork and exec the child only makes async-signal-safe calls, so
 * forking from a threaded server is safe. (Long-lived agents are spawned by pool/process.c
 * with posix_spawn instead; it shares proc_env_build.)
 */
#ifndef DROVER_CORE_PROC_H
#define DROVER_CORE_PROC_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/err.h"

/* Why a run ended early. */
enum proc_stop { PROC_STOP_NONE = 0, PROC_STOP_TIMEOUT, PROC_STOP_CANCELLED, PROC_STOP_SHUTDOWN };

/* Lines longer than this are cut (the rest of the line is dropped). A coding CLI's event lines
 * must arrive whole: Claude Code's final stream-json "result" event repeats the whole answer
 * next to the session's usage and cost, and a cut line loses both. */
#define PROC_LINE_MAX (1 << 20)

struct proc_opts {
    char *const *argv; /* argv[0] is looked up in PATH */
    const char *cwd;   /* may be NULL */
    char *const *env;  /* the child's full environment ("NAME=value", NULL-terminated); NULL =
                          the parent's */
    long timeout_s;    /* 0 = none */
    long grace_s;      /* SIGTERM -> SIGKILL delay when stopping; 0 = 10; < 0: SIGKILL at once */
    /* Polled about every 200 ms: non-zero (an enum proc_stop) stops the child. May be NULL. */
    enum proc_stop (*should_stop)(void *ud);
    void (*on_line)(void *ud, const char *line); /* may be NULL; lines without '\n' */
    void *ud;
    /* When set, the output as it came (up to the buffer's limit; the rest is read and
     * dropped). */
    struct buf *capture;
};

struct proc_result {
    int exit_code;       /* the exit status, or 128 + signal */
    int term_signal;     /* the signal that ended it, or 0 when it exited */
    enum proc_stop stop; /* why it was stopped, or NONE */
    char last_line[512]; /* the last non-empty output line, for error messages */
};

/* Run to completion (or stop). 0 when the program ran (see res), -1 when it could not start. */
int proc_run(const struct proc_opts *o, struct proc_result *res, struct err *err);

/*
 * A copy of the current environment with `set` ("NAME=value") added or replacing, and every
 * variable named in `unset` (or starting with a name ending in '*') removed. Free with
 * proc_env_free, which also wipes the strings (some hold credentials).
 */
char **proc_env_build(char *const *set, const char *const *unset);
void proc_env_free(char **env);

/*
 * The line splitter proc_run feeds the child's output through: `chunk` (n bytes) is appended
 * to the current line (`line`, PROC_LINE_MAX + 1 bytes, *llen used; longer lines are cut) and
 * each complete line goes to o->on_line (and res->last_line); o->capture gets the raw bytes.
 * `chunk` NULL ends the output: the unfinished line, if any, goes out too.
 * Pure; exposed so the fuzzer reaches it through this header.
 */
void proc_feed(const struct proc_opts *o, struct proc_result *res, char *line, size_t *llen,
               const char *chunk, size_t n);

#endif
