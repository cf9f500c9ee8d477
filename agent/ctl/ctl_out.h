/*
 * droverctl's exchange with droverd and its printing: one REST call with the error reporting
 * every command shares (status, error code, message, a hint on 401), and the small formatters
 * the tables use. Single-threaded.
 */
#ifndef DROVER_AGENT_CTL_OUT_H
#define DROVER_AGENT_CTL_OUT_H

#include <jansson.h>
#include <stddef.h>

#include "ctl.h"

/*
 * Send `method` to `path` with an optional JSON body and extra headers (NULL-terminated, may be
 * NULL). On a 2xx answer returns CTL_OK with *out = the JSON body (owned; NULL when not JSON).
 * Otherwise prints why to stderr and returns CTL_ERR. `out` may be NULL.
 */
int ctl_out_call(struct ctl *ctl, const char *method, const char *path, const json_t *body,
                 const char *const *headers, json_t **out);

/*
 * DELETE `path`, which names `what` number `id` (an endpoint, a schedule): prints "schedule 7
 * deleted", or under --json the answer (or {"id": 7, "deleted": true} when it has no body).
 * Returns the exit code.
 */
int ctl_out_delete(struct ctl *ctl, const char *path, const char *what, long long id);

/* Print `j` indented, keys in order, with a newline. */
void ctl_out_json(const json_t *j);

/* The string member `k` of `o`, or "-". Borrowed. */
const char *ctl_out_str(const json_t *o, const char *k);

/* The integer member `k` of `o` (0 when absent). */
long long ctl_out_int(const json_t *o, const char *k);

/* "12s", "4m", "2.1h" for a number of seconds, or "-" when `v` is not a number. */
void ctl_out_age(const json_t *v, char *out, size_t n);

/* Percent-encode a query value (unreserved characters stay). Owned. */
char *ctl_out_urlencode(const char *s);

#endif
