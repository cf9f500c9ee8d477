/*
 * droverd serve: the libwebsockets server. One service thread does all socket I/O; blocking
 * work runs on the worker pool (net/workers.h), LISTEN/NOTIFY on its own thread (net/listen.h).
 * Endpoints: /mcp (MCP Streamable HTTP), /ws (the same JSON-RPC over WebSocket), /rpc,
 * /tools/call, /heartbeat (seed endpoints), /api/... (REST router), /health, /ready, /metrics,
 * and the embedded dashboard at / (the route table: net/route.c).
 */
#ifndef DROVER_NET_SERVER_H
#define DROVER_NET_SERVER_H

#include <stdbool.h>

#include "core/cfg.h"

/*
 * What the server waits for on SIGTERM before it stops serving: drain_begin(arg) is called
 * once, then drain_done(arg) on every pass of the service loop until it returns true (main.c:
 * the pool's own agents handing their tasks back, pool/agentpool.h). Both on the service
 * thread; a NULL member: nothing to begin, nothing to wait for.
 */
struct server_app {
    void *arg;
    void (*drain_begin)(void *arg);
    bool (*drain_done)(void *arg);
};

/*
 * Run until SIGTERM/SIGINT, then shut down in order: (a) close claims (no task is handed out;
 * held get_next_task long-polls are answered {task: null} at once, later ones are held without
 * claiming), (b) keep serving everything else until app->drain_done says done, (c) stop
 * accepting, answer what is held, finish in-flight requests, return 0. `app` (copied) may be
 * NULL. Returns 1 when the server cannot start. Call from the main thread after migrations
 * ran; one server_run at a time (it owns the SIGTERM and SIGINT handlers while it runs).
 */
int server_run(const struct cfg *cfg, const struct server_app *app);

#endif
