/*
 * MCP 2026-07-28, the stateless ("modern") era, beside the legacy one of mcp.c on the same
 * endpoints (a dual-era server, basic/versioning): no initialize and no session; every request
 * carries its protocol version, client capabilities and (optionally) client info in
 * params._meta, and over HTTP mirrors method, name and version in headers (mcp_headers.h).
 * Served here: server/discover, tools/list, tools/call, the tasks extension's methods
 * (mcp_tasks.h) and subscriptions/listen (mcp_listen.h); anything else (among them initialize,
 * ping and logging/setLevel, removed in this version) is -32601, HTTP 404. Results carry
 * resultType; cacheable ones ttlMs and cacheScope. Worker threads; never touches lws.
 */
#ifndef DROVER_MCP_MODERN_H
#define DROVER_MCP_MODERN_H

#include <jansson.h>
#include <stdbool.h>

#include "mcp/mcp.h"
#include "mcp/mcp_headers.h"

#define MCP_META_VERSION "io.modelcontextprotocol/protocolVersion"
#define MCP_META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define MCP_META_CLIENT "io.modelcontextprotocol/clientInfo"
#define MCP_META_SERVER "io.modelcontextprotocol/serverInfo"

/* How long clients may cache tools/list and server/discover: they change only on upgrade. */
#define MCP_MODERN_TTL_MS 300000

/*
 * True when `msg` (one message) belongs to the modern era: its params._meta names a protocol
 * version, or the MCP-Protocol-Version header (`hdr_version`, NULL when absent) names one that
 * is not a legacy version (an unknown version is answered as the modern era answers it: 400
 * with the supported versions and the request's id).
 */
bool mcp_modern_is(const json_t *msg, const char *hdr_version);

/*
 * Serve one modern-era message. `h`: the request's HTTP headers, NULL on /ws (no headers to
 * check). *reply: the response (NULL for a notification, or when the request is held:
 * c->park_seconds > 0). *status: the HTTP status to send it with.
 */
void mcp_modern_handle(struct mcp_ctx *c, const json_t *msg, const struct mcp_headers *h,
                       json_t **reply, int *status);

/* Every version this server speaks, newest first (a new array). */
json_t *mcp_modern_versions(void);

/* A result of a modern request as sent: resultType "complete" added to `result` (stolen). */
json_t *mcp_modern_complete(json_t *result);

/* True when the request's clientCapabilities declare extension `ext` (an object under
 * "extensions"). */
bool mcp_modern_has_extension(const struct mcp_ctx *c, const char *ext);

#endif
