/*
 * The contract between the HTTP transport (net/) and the REST handlers (api/): a parsed request
 * in, a status plus a JSON body out. A handler parses and checks its input, calls one use case
 * of the service layer (svc/) through the worker's `struct svc_ctx`, and shapes the reply; it
 * never sees lws objects or SQL. Route tables are static arrays exported by each api/ file and
 * collected by the router (api/router.c). Worker threads.
 */
#ifndef DROVER_API_API_H
#define DROVER_API_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/principal.h"
#include "svc/svc.h"

struct api_request {
    const char *method; /* "GET", "POST", "PUT", "DELETE" */
    const char *path;   /* "/api/tasks/12/cancel", no query string */
    const char *query;  /* "state=backlog&limit=10", or "" */
    const char *body;   /* may be NULL */
    size_t body_len;
    const char *idempotency_key; /* Idempotency-Key header, or NULL */
    const char *last_event_id;   /* Last-Event-ID header, or NULL */
    const char *hook_headers;    /* /api/hooks/...: a forge's webhook headers as "name: value\n"
                                  * lines, lower-case names (net/hdr.h hdr_hooks), or NULL */
    const struct principal *who; /* NULL: no token (public routes only) */
    struct svc_ctx *svc;         /* the worker's: environment and connection */
    bool slow_ok;                /* on the slow workers: a handler may call out (a forge) */
};

/*
 * Server-sent events. A handler that answers with a stream sets `stream.fetch` (and leaves
 * body/raw NULL, status 200). The transport then keeps the connection open: it sends
 * `text/event-stream` headers, runs fetch on a worker at once, again whenever drover_activity
 * is notified and at least every API_STREAM_POLL_MS, writes each returned event, and sends a
 * `: keepalive` comment every 15 s. Handlers stay plain blocking code; they never see lws.
 *
 * fetch(svc, arg, cursor, events, err): return 0 with *events an owned array of events, each
 * {"id": "<cursor>" | N, "event"?: "<type>", "data"?: <json>} (without "data" the whole object
 * is sent), and `cursor` advanced past them (in/out, NUL-terminated); -1 ends the stream.
 * Worker threads, with the worker's context.
 */
#define API_STREAM_CURSOR_MAX 128
#define API_STREAM_POLL_MS 2000

struct api_stream {
    int (*fetch)(struct svc_ctx *svc, const char *arg, char cursor[API_STREAM_CURSOR_MAX],
                 json_t **events, struct err *err);
    char arg[1024]; /* handler-defined filter, e.g. a task id (an MCP subscription's state) */
    char cursor[API_STREAM_CURSOR_MAX]; /* where to start (Last-Event-ID, ?after=) */
};

struct api_response {
    int status;   /* HTTP status */
    json_t *body; /* owned; serialised as application/json */
    char *raw;    /* owned; sent instead of body when set (e.g. metrics text) */
    size_t raw_len;
    const char *content_type; /* for raw; static string */
    struct api_stream stream; /* stream.fetch set: answer with server-sent events */
    bool reroute; /* nothing done: run the request again on the slow workers (slow_ok) */
};

/* A route: `pattern` segments in braces match one path segment ("/api/tasks/{id}"). */
struct api_route {
    const char *method;
    const char *pattern;
    enum principal_scope min_scope; /* PRINCIPAL_NONE: public */
    int (*fn)(const struct api_request *req, const char *const *params, size_t nparams,
              struct api_response *resp);
};

#endif
