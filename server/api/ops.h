/*
 * The server's own operations that are not a REST route: /ready, the periodic sweep, the
 * count of claimable tasks for held long-polls, one fetch of a server-sent-events stream, and
 * the per-request connection refresh. The transport's worker jobs call these (net/work.c).
 * Worker threads.
 */
#ifndef DROVER_API_OPS_H
#define DROVER_API_OPS_H

#include <stddef.h>

#include "api/api.h"

/* GET /ready: 200 {"status":"ready"}, or 503 with a status only (details go to the log). */
void ops_ready(struct svc_ctx *svc, struct api_response *resp);

/* Reaper, timeout sweep, session expiry, due schedules; logs what it did. */
void ops_sweep(struct svc_ctx *svc);

/* How many tasks are claimable now, at most `limit`; -1 when unknown. */
int ops_runnable(struct svc_ctx *svc, int limit);

/*
 * The next events of `st` (its cursor advanced) as SSE text in *text (owned). -1 ends the
 * stream.
 */
int ops_stream_fetch(struct svc_ctx *svc, const char *token, struct api_stream *st, char **text,
                     size_t *len);

/* Before each job: notice a connection the database closed while idle. */
void ops_refresh(struct svc_ctx *svc);

#endif
