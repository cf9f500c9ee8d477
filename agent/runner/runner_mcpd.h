/*
 * The task's MCP endpoint for the coding command: Streamable HTTP (JSON responses, no SSE) on
 * 127.0.0.1 at a free port, one thread, serving runner_mcptools for the task the runner holds.
 * Callers authenticate with a random bearer secret made for this task ($DROVER_MCP_TOKEN in the
 * coding command's environment), so the coding command never holds the agent's token; tool
 * calls that reach droverd go on the endpoint's own connection with that token. Requests
 * carrying an Origin header are refused (no browser has business here: DNS rebinding).
 * Started and stopped by the task thread; the intent is read after runner_mcpd_stop.
 */
#ifndef DROVER_AGENT_RUNNER_MCPD_H
#define DROVER_AGENT_RUNNER_MCPD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "mcpc.h"
#include "runner.h"
#include "runner_mcptools.h"

struct runner_mcpd {
    int fd;
    char url[64];    /* http://127.0.0.1:<port>/mcp */
    char secret[65]; /* the bearer secret (hex) */
    pthread_t thread;
    bool running;
    atomic_bool stop;
    struct runner_mcptools tools; /* touched by the thread only while it runs */
    const struct runner_cfg *cfg;
    struct mcpc m;
    bool m_ready, m_init;
};

/*
 * Listen and start serving task `task_id` at `epoch`; `autonomy`: offer approve_action for the
 * project's policy, with `cwd` (borrowed, outlives the endpoint) as the working tree. 0, or -1.
 */
int runner_mcpd_start(struct runner_mcpd *d, const struct runner_cfg *cfg, int64_t task_id,
                      int64_t epoch, bool autonomy, const char *cwd, struct err *err);

/* Stop serving (joins the thread); d->tools.intent then holds what the model asked for. */
void runner_mcpd_stop(struct runner_mcpd *d);

/* Stop if running, free everything, wipe the secret. */
void runner_mcpd_clear(struct runner_mcpd *d);

#endif
