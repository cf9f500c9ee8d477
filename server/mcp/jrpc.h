/*
 * JSON-RPC 2.0 framing: parse a body into messages, classify each one, build responses.
 * Pure functions over jansson values; any thread. Used by every transport (/mcp, /rpc, /ws).
 */
#ifndef DROVER_MCP_JRPC_H
#define DROVER_MCP_JRPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum jrpc_code {
    JRPC_PARSE_ERROR = -32700,
    JRPC_INVALID_REQUEST = -32600,
    JRPC_METHOD_NOT_FOUND = -32601,
    JRPC_INVALID_PARAMS = -32602,
    JRPC_INTERNAL_ERROR = -32603,
    JRPC_SERVER_ERROR = -32000, /* transport-level: bad session, not acceptable, busy */
    JRPC_UNAUTHORIZED = -32001,
    /* 2026-07-28 (the spec's reserved range -32020..-32099). */
    JRPC_HEADER_MISMATCH = -32020,     /* HTTP headers disagree with the body, or are missing */
    JRPC_MISSING_CAPABILITY = -32021,  /* the request needs a client capability not declared */
    JRPC_UNSUPPORTED_VERSION = -32022, /* data: {supported: [...], requested} */
};

#define JRPC_MAX_DEPTH 32  /* deepest nesting of arrays/objects accepted */
#define JRPC_MAX_BATCH 100 /* messages in one batch (2025-03-26 only) */

enum jrpc_kind {
    JRPC_KIND_INVALID = 0,
    JRPC_KIND_REQUEST,      /* method + id: must be answered */
    JRPC_KIND_NOTIFICATION, /* method, no id: never answered */
    JRPC_KIND_RESPONSE,     /* result or error + id: a client answering us (accepted, ignored) */
};

/*
 * Parse a body. Rejects invalid UTF-8, NUL bytes, nesting deeper than JRPC_MAX_DEPTH and
 * anything that is not JSON with *code = JRPC_PARSE_ERROR and a message in `msg`. On success
 * *out is the parsed value (owned by the caller): an object, or an array for a batch.
 */
int jrpc_parse(const char *body, size_t len, json_t **out, int *code, char *msg, size_t msgsz);

/* jrpc_parse in its two steps: the checks on the text (UTF-8, NUL, depth, not empty), then the
 * parse itself (not a JSON object or array: JRPC_INVALID_REQUEST). Each 0, or -1 as above. */
int jrpc_check(const char *body, size_t len, int *code, char *msg, size_t msgsz);
int jrpc_load(const char *body, size_t len, json_t **out, int *code, char *msg, size_t msgsz);

/* Where jrpc_meta_span found params._meta's value: s[off .. off + n), the depth of the whole
 * text (as jrpc_depth), and whether the value was one of the caller's known texts. */
struct jrpc_span {
    size_t off, n;
    int depth;
    bool known;
};

/* A known text at s[avail]: the length of the caller's known object text that s starts with
 * (its own depth in *depth), or 0. */
typedef size_t (*jrpc_known_fn)(void *arg, const char *s, size_t avail, int *depth);

/*
 * Where the value of params._meta lies in the text of one request: true only when it is an
 * object, under keys spelled without escapes, once, in a message whose brackets and strings
 * close. A value starting with one of `known`'s texts (NULL: none) is taken as that text
 * without scanning it: a complete object closes where it ends. A scan of brackets and
 * strings, not a parse: the text may still be invalid JSON (mcp_meta.h parses both parts
 * before trusting it).
 */
bool jrpc_meta_span(const char *s, size_t len, jrpc_known_fn known, void *arg,
                    struct jrpc_span *sp);

/* Nesting depth of the JSON text (brackets outside strings). Pure scan, no allocation. */
int jrpc_depth(const char *s, size_t len);

/* Classify one message; for INVALID, *why says what is wrong. */
enum jrpc_kind jrpc_classify(const json_t *msg, const char **why);

/* {"jsonrpc":"2.0","id":id,"result":result}; steals `result`. id may be NULL (-> null). */
json_t *jrpc_result(const json_t *id, json_t *result);

/* {"jsonrpc":"2.0","id":id|null,"error":{"code","message"[,"data"]}}; steals `data`. */
json_t *jrpc_error(const json_t *id, int code, const char *message, json_t *data);

/* The id of a message when it has a valid one (string or integer), else NULL. Borrowed. */
const json_t *jrpc_id(const json_t *msg);

#endif
