/*
 * The drover-agent program the process backend runs when --agent-command is not given: the one
 * built or installed with this droverd, else the one on PATH. Without this, a plain build would
 * start agents that exit 127 (no drover-agent on PATH) until the pool's breaker opens.
 * Any thread (reads the filesystem only).
 */
#ifndef DROVER_POOL_AGENTBIN_H
#define DROVER_POOL_AGENTBIN_H

#include <stddef.h>

#include "core/err.h"

/* Where agentbin_find found the program. */
enum agentbin_source {
    AGENTBIN_BUILD_TREE =
        0,           /* <exe dir>/agent/drover-agent: CMake's build/droverd + build/agent/ */
    AGENTBIN_BESIDE, /* <exe dir>/drover-agent: both installed in one bin/ */
    AGENTBIN_PATH,   /* an absolute directory of `path` */
};

/* "build-tree", "beside-droverd", "path": for log lines. */
const char *agentbin_source_name(enum agentbin_source s);

/*
 * The first regular, executable file among <dir of exe>/agent/drover-agent,
 * <dir of exe>/drover-agent and <entry>/drover-agent for each absolute entry of `path` (a PATH
 * value; empty and relative entries are skipped, so the choice cannot depend on droverd's
 * working directory). `exe` may be NULL or "" (PATH only), `path` NULL (no PATH). 0 with `out`
 * the absolute path and *source set; -1 with ERR_NOT_FOUND naming the places looked at.
 */
int agentbin_find(const char *exe, const char *path, char *out, size_t outsz,
                  enum agentbin_source *source, struct err *err);

/* The running program's path (/proc/self/exe). 0, or -1 with ERR_INTERNAL. */
int agentbin_self(char *out, size_t outsz, struct err *err);

/*
 * `path` as one /bin/sh word: single-quoted, each ' written as '\''. The process backend runs
 * the agent command through `sh -c`, and build directories may contain spaces. 0, or -1 with
 * ERR_INVALID when it does not fit in `outsz`.
 */
int agentbin_quote(const char *path, char *out, size_t outsz, struct err *err);

#endif
