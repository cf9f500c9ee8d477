/*
 * The MCP tasks extension (io.modelcontextprotocol/tasks, SEP-2663 as published with
 * 2026-07-28) for submitters: a client that declares the extension in its request's
 * clientCapabilities gets a task handle from submit_task (resultType "task") instead of the
 * plain result, and follows the Drover task with tasks/get (state, the question as an
 * elicitation inputRequest, and when done the result: branch, pull request, summary, usage),
 * answers with tasks/update (inputResponses) and stops it with tasks/cancel. Task states map
 * as backlog/in_progress -> working, needs_input -> input_required, ready_to_test/completed ->
 * completed, failed -> completed with an isError result (a Drover failure is not a JSON-RPC
 * error), cancelled -> cancelled. The taskId is a signed handle (svc/svc_handles.h). Without the
 * extension, the three tasks methods are -32021 (400). Worker threads.
 */
#ifndef DROVER_MCP_TASKS_H
#define DROVER_MCP_TASKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "mcp/mcp.h"

#define MCP_TASKS_EXT "io.modelcontextprotocol/tasks"
#define MCP_TASKS_POLL_MS 5000 /* agents work for minutes: a poll every 5 s is plenty */

/* True for tasks/get, tasks/update, tasks/cancel. */
bool mcp_tasks_method(const char *method);

/* The outcome of a tasks method: a result, or an error with its HTTP status. */
struct mcp_tasks_out {
    json_t *result; /* owned */
    int code;       /* JSON-RPC error code when result is NULL */
    char msg[200];
    json_t *data; /* owned, may be NULL */
    int status;   /* HTTP status */
};

/* A Drover task as the extension's DetailedTask (tasks/get, notifications/tasks), its taskId
 * `handle`. A new object. */
json_t *mcp_tasks_detailed(const json_t *task, const char *handle);

/* Serve tasks/get, tasks/update or tasks/cancel for `c` (modern era). */
void mcp_tasks_handle(struct mcp_ctx *c, const char *method, const json_t *params,
                      struct mcp_tasks_out *o);

/*
 * A tools/call `name`'s result, turned into a CreateTaskResult when the request declared the
 * extension and the tool submits work (submit_task, a single task or a fan-out group); else
 * `result` unchanged. Steals `result`.
 */
json_t *mcp_tasks_maybe_task(struct mcp_ctx *c, const char *name, json_t *result);

#endif
