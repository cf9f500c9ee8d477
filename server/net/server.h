/*
 * droverd serve: the libwebsockets server. One service thread does all socket I/O; blocking
 * work runs on the worker pool (net/workers.h), LISTEN/NOTIFY on its own thread (net/listen.h).
 * Endpoints: /mcp (MCP Streamable HTTP), /ws (the same JSON-RPC over WebSocket), /rpc,
 * /tools/call, /heartbeat (seed endpoints), /api/... (REST router), /health, /ready, and the
 * embedded dashboard at /.
 */
#ifndef DROVER_NET_SERVER_H
#define DROVER_NET_SERVER_H

#include <stdbool.h>

#include "core/cfg.h"

/*
 * What the server waits for on SIGTERM before it stops serving: begin() is called once, then
 * done() on every pass of the service loop until it returns true (main.c: the pool's own agents
 * handing their tasks back, pool/agentpool.h). Service thread; NULL members: nothing to wait for.
 */
struct server_drain {
    void (*begin)(void);
    bool (*done)(void);
};
/* Set before server_run. */
extern struct server_drain server_drain_hook;

/*
 * Run until SIGTERM/SIGINT, then shut down in order: (a) close claims (no task is handed out;
 * held get_next_task long-polls are answered {task: null} at once, later ones are held without
 * claiming), (b) keep serving everything else until server_drain_hook says done, (c) stop
 * accepting, answer what is held, finish in-flight requests, return 0.
 * Returns 1 when the server cannot start. Call from the main thread after migrations ran.
 */
int server_run(const struct cfg *cfg);

#endif
