/*
 * Helpers every REST handler shares: JSON replies, the uniform error body
 * {"error": {"code", "message"}}, request-body parsing with bounds, query-string lookup and
 * path-parameter parsing. Pure functions over a request/response; any thread.
 */
#ifndef DROVER_API_REPLY_H
#define DROVER_API_REPLY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "core/err.h"

#define REPLY_BODY_MAX (1024 * 1024) /* bytes of a request body */

/* Reply `status` with `body` (reference stolen). Always returns 0. */
int reply_json(struct api_response *resp, int status, json_t *body);

/*
 * Reply with the error body {"error": {"code", "message"}} for `err`: the HTTP status its class
 * maps to (core/err.h, the one mapping), and as "code" its reason, else its class's name.
 * Always returns 0 (the request was handled).
 */
int reply_err(struct api_response *resp, const struct err *err);

/*
 * The tail of a handler that moved a task through one service call returning rc: on failure
 * reply with err (a conflict that names no reason of its own is an "invalid_transition"), else
 * 200 with the task. Takes task's reference either way. Always returns 0.
 */
int reply_moved(struct api_response *resp, int rc, json_t *task, struct err *err);

/* The same for an error made here: class `code`, `reason` (a static string, may be NULL). */
int reply_error(struct api_response *resp, enum err_code code, const char *reason, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

/*
 * Parse the body as a JSON object. On failure replies 400 (invalid_json / body_not_object /
 * body_required) and returns -1; *out is owned by the caller on success.
 */
int reply_body_object(const struct api_request *req, struct api_response *resp, json_t **out);

/*
 * Copy the URL-decoded value of query parameter `name` into out (NUL-terminated). Returns 1
 * when present, 0 when absent, -1 when it does not fit or decodes to invalid UTF-8.
 */
int reply_query(const char *query, const char *name, char *out, size_t outsz);

/* A positive decimal id from a path segment; replies 400 invalid_id and returns -1 otherwise. */
int reply_path_id(const char *s, const char *what, struct api_response *resp, int64_t *id);

/*
 * Optional integer query parameter in [min, max] (default `def` when absent); replies 400
 * invalid_parameter and returns -1 when it is malformed or out of range.
 */
int reply_query_int(const struct api_request *req, const char *name, long long min, long long max,
                    long long def, struct api_response *resp, long long *out);

/* Optional JSON member of a given type: returns -1 after replying 400 when it has another. */
int reply_member_string(json_t *obj, const char *name, struct api_response *resp, const char **out);
int reply_member_int(json_t *obj, const char *name, long long min, long long max,
                     struct api_response *resp, long long *out, bool *present);

/* The actor name recorded in activity rows: the token's name, or "admin". */
const char *reply_actor(const struct api_request *req);

#endif
