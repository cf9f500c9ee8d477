/*
 * droverd serve: the libwebsockets server. One service thread does all socket I/O; blocking
 * work runs on the worker pool (net/workers.h), LISTEN/NOTIFY on its own thread (net/listen.h).
 * Endpoints: /mcp (MCP Streamable HTTP), /ws (the same JSON-RPC over WebSocket), /rpc,
 * /tools/call, /heartbeat (seed endpoints), /api/... (REST router), /health, /ready, and the
 * embedded dashboard at /.
 */
#ifndef DROVER_NET_SERVER_H
#define DROVER_NET_SERVER_H

#include "core/cfg.h"

/*
 * Run until SIGTERM/SIGINT: stop accepting, finish in-flight requests, answer held long-polls
 * with {task: null}, return 0. Returns 1 when the server cannot start.
 * Call from the main thread after migrations ran.
 */
int server_run(const struct cfg *cfg);

#endif
