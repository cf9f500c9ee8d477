/*
 * subscriptions/listen for the tasks extension (2026-07-28 basic/patterns/subscriptions and
 * SEP-2663 "Task Status Notifications"): a submitter opens a stream on POST /mcp naming the
 * task handles it follows; droverd answers with server-sent events: first
 * notifications/subscriptions/acknowledged with the handles it agreed to (those the caller may
 * follow; others are left out), then notifications/tasks carrying the task's DetailedTask (as
 * tasks/get would return it) for each, at once and whenever its status changes. Every message
 * carries the subscription id (the request's JSON-RPC id) in _meta. Only task notifications
 * are offered: Drover's tool list never changes while it runs, and it has no resources.
 *
 * The stream itself is the transport's (net/sse.c): it calls mcp_listen_fetch on a worker when
 * a task's activity may have changed something, and every few seconds anyway. Worker threads.
 */
#ifndef DROVER_MCP_LISTEN_H
#define DROVER_MCP_LISTEN_H

#include <jansson.h>
#include <stdbool.h>

#include "mcp/mcp.h"

#define MCP_LISTEN_MAX_TASKS 32 /* handles one subscription may follow */
#define MCP_LISTEN_ARG_MAX MCP_STREAM_ARG_MAX
#define MCP_LISTEN_CURSOR_MAX 128 /* = API_STREAM_CURSOR_MAX (api/api.h) */
#define MCP_META_SUBSCRIPTION "io.modelcontextprotocol/subscriptionId"

/* The outcome of opening: c->listen set, or an error with its HTTP status. */
struct mcp_listen_out {
    int code; /* JSON-RPC error code; 0 = opened */
    char msg[200];
    json_t *data; /* owned, may be NULL */
    int status;   /* HTTP status */
};

bool mcp_listen_method(const char *method);

/*
 * Check a subscriptions/listen request (`id` its JSON-RPC id) and decide which task handles
 * it follows. On success c->listen is true and c->listen_arg holds the stream's state.
 */
void mcp_listen_open(struct mcp_ctx *c, const json_t *id, const json_t *params,
                     struct mcp_listen_out *o);

/*
 * The stream's next events (an api_stream fetch): [{"data": <JSON-RPC notification>}, ...].
 * `cursor` "" on the first call (the acknowledgement and every task's status), then the
 * statuses last sent, updated in place.
 */
int mcp_listen_fetch(struct svc_ctx *svc, const char *arg, char cursor[MCP_LISTEN_CURSOR_MAX],
                     json_t **events, struct err *err);

#endif
