/*
 * The request metadata headers of MCP 2026-07-28 Streamable HTTP (basic/transports/
 * streamable-http, "Request Metadata"): MCP-Protocol-Version, Mcp-Method, Mcp-Name and the
 * Mcp-Param-{Name} headers a tool's inputSchema asks for with "x-mcp-header", checked against
 * the JSON-RPC body they mirror. A gateway may route on these headers while droverd executes the
 * body, so any disagreement is refused (HeaderMismatch, -32020, HTTP 400). Pure functions over
 * plain strings and jansson values; any thread.
 */
#ifndef DROVER_MCP_HEADERS_H
#define DROVER_MCP_HEADERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define MCP_HEADERS_PARAMS_MAX 8  /* Mcp-Param-* headers read off one request */
#define MCP_HEADERS_VALUE_MAX 512 /* longest header value the transport copies */

/* One Mcp-Param-{name} header: `name` is the x-mcp-header value, `value` as received. */
struct mcp_header_param {
    const char *name;
    const char *value;
};

/* The headers of one POST as the transport read them (NULL: absent). */
struct mcp_headers {
    const char *version; /* MCP-Protocol-Version */
    const char *method;  /* Mcp-Method */
    const char *name;    /* Mcp-Name */
    bool too_long;       /* one of them was longer than MCP_HEADERS_VALUE_MAX - 1 */
    size_t nparams;
    struct mcp_header_param params[MCP_HEADERS_PARAMS_MAX];
};

/*
 * Decode one header value into out[outsz] for comparing with the body: optional whitespace
 * around it removed (RFC 9110 5.5), the "=?base64?...?=" sentinel decoded (strict: padding and
 * alphabet, the result valid UTF-8). -1 when the value has bytes a header may not carry, its
 * Base64 is invalid, or it does not fit.
 */
int mcp_headers_decode(const char *raw, char *out, size_t outsz);

/*
 * Check the standard headers and a tools/call's Mcp-Param-* headers against the request `msg`
 * (an object with a string "method"). `tool_schema` is the called tool's inputSchema, or NULL.
 * 0 when they agree; -1 with the reason in why[whysz] (a HeaderMismatch).
 * MCP-Protocol-Version is the caller's (it decides the era); this checks Mcp-Method, Mcp-Name
 * and the params.
 */
int mcp_headers_check(const struct mcp_headers *h, const json_t *msg, const json_t *tool_schema,
                      char *why, size_t whysz);

/*
 * The x-mcp-header names in `schema`'s top-level properties, for the transport to read:
 * appended to names[*n] (at most `max`, duplicates skipped, case-insensitively).
 */
void mcp_headers_schema_names(const json_t *schema, const char **names, size_t *n, size_t max);

#endif
