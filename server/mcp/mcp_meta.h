/*
 * The parse of a 2026-07-28 request body with its _meta envelope taken from a cache. A modern
 * client sends the same params._meta (protocol version, client info, client capabilities) on
 * every request, byte for byte: where a legacy client's session is looked up in a cache, the
 * stateless era would otherwise lex that envelope again on every call, which measured as most
 * of what a modern call cost more than a legacy one (docs/performance.md, "The two MCP eras").
 * Each worker thread keeps the envelopes it parsed last, keyed by their exact text; a body
 * whose envelope is one of them is parsed without it and gets the kept value. Worker threads
 * (the cache is the calling thread's own: jansson's reference counts are not atomic).
 */
#ifndef DROVER_MCP_META_H
#define DROVER_MCP_META_H

#include <jansson.h>
#include <stddef.h>

#define MCP_META_SLOTS 4    /* envelopes kept per worker thread */
#define MCP_META_BYTES 1024 /* longest envelope text kept */

/*
 * jrpc_parse, to the same result and the same errors, with params._meta reused from this
 * thread's cache when its text is one seen before. The message's params._meta is then shared
 * with the cache: read it, never change it (nothing in the request path does).
 */
int mcp_meta_parse(const char *body, size_t len, json_t **out, int *code, char *msg, size_t msgsz);

#endif
