/*
 * GET /api/stream/activity[?task_id=N][&after=ID]: every activity row (state changes, log
 * lines, system notes) as server-sent events, `id:` = the activity id, so Last-Event-ID
 * resumes exactly. The reference user of the transport's SSE facility (api.h). Worker threads.
 */
#include "api/stream.h"
#include "api/reply.h"
#include "svc/svc_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The api_stream fetch function: activity rows after the cursor (an activity id). */
static int stream_activity_fetch(struct svc_ctx *svc, const char *arg,
                                 char cursor[API_STREAM_CURSOR_MAX], json_t **events,
                                 struct err *err)
{
    long long after = strtoll(cursor, NULL, 10);

    if (svc_events_activity(svc, strtoll(arg, NULL, 10), &after, events, err) < 0)
        return -1;
    snprintf(cursor, API_STREAM_CURSOR_MAX, "%lld", after);
    return 0;
}

/* The value of `key` in a query string (digits only), or "" when absent. -1 when malformed. */
static int stream_query_id(const char *q, const char *key, char *out, size_t outsz)
{
    size_t kl = strlen(key);

    out[0] = '\0';
    for (const char *s = q; s && *s; s = strchr(s, '&') ? strchr(s, '&') + 1 : NULL) {
        if (strncmp(s, key, kl) == 0 && s[kl] == '=') {
            size_t n = strspn(s + kl + 1, "0123456789");
            if (n == 0 || n >= outsz || n > 18 || (s[kl + 1 + n] && s[kl + 1 + n] != '&'))
                return -1;
            memcpy(out, s + kl + 1, n);
            out[n] = '\0';
        }
    }
    return 0;
}

static int stream_activity(const struct api_request *req, const char *const *params, size_t nparams,
                           struct api_response *resp)
{
    char task[24], after[24];
    const char *lei = req->last_event_id;

    (void)params;
    (void)nparams;
    if (stream_query_id(req->query, "task_id", task, sizeof(task)) < 0 ||
        stream_query_id(req->query, "after", after, sizeof(after)) < 0) {
        return reply_error(resp, ERR_INVALID, NULL, "task_id and after must be integers");
    }
    if (lei && *lei) {
        if (strspn(lei, "0123456789") != strlen(lei) || strlen(lei) > 18) {
            return reply_error(resp, ERR_INVALID, NULL, "Last-Event-ID must be an activity id");
        }
        snprintf(after, sizeof(after), "%s", lei);
    }
    resp->status = 200;
    resp->stream.fetch = stream_activity_fetch;
    snprintf(resp->stream.arg, sizeof(resp->stream.arg), "%s", task);
    snprintf(resp->stream.cursor, sizeof(resp->stream.cursor), "%s", *after ? after : "0");
    return 0;
}

const struct api_route stream_routes[] = {
    {"GET", "/api/stream/activity", PRINCIPAL_OPERATOR, stream_activity},
    {NULL, NULL, PRINCIPAL_NONE, NULL},
};
