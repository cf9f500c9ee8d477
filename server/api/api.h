/*
 * The contract between the HTTP transport (net/) and the REST handlers (api/): a parsed request
 * in, a status plus a JSON body out. Handlers run on worker threads with the worker's own
 * database connection; they never see lws objects. Route tables are static arrays exported by
 * each api/ file and collected by the router (api/router.c).
 */
#ifndef DROVER_API_API_H
#define DROVER_API_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "store/db.h"
#include "store/tokens.h"

struct api_env; /* server-wide services (config, pool, forges): defined by the server */

struct api_request {
    const char *method; /* "GET", "POST", "PUT", "DELETE" */
    const char *path;   /* "/api/tasks/12/cancel", no query string */
    const char *query;  /* "state=backlog&limit=10", or "" */
    const char *body;   /* may be NULL */
    size_t body_len;
    const char *idempotency_key; /* Idempotency-Key header, or NULL */
    const char *last_event_id;   /* Last-Event-ID header, or NULL */
    const struct tokens_principal *who;
    struct db *db; /* the worker's connection */
    const struct api_env *env;
};

struct api_response {
    int status;   /* HTTP status */
    json_t *body; /* owned; serialised as application/json */
    char *raw;    /* owned; sent instead of body when set (e.g. metrics text) */
    size_t raw_len;
    const char *content_type; /* for raw; static string */
};

/* A route: `pattern` segments in braces match one path segment ("/api/tasks/{id}"). */
struct api_route {
    const char *method;
    const char *pattern;
    enum tokens_scope min_scope; /* TOKENS_SCOPE_NONE: public */
    int (*fn)(const struct api_request *req, const char *const *params, size_t nparams,
              struct api_response *resp);
};

#endif
