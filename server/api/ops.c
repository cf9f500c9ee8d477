/* /ready, the sweep, the claimable count and SSE fetches. Worker threads. */
#include "api/ops.h"
#include "svc/svc_auth.h"
#include "api/reply.h"
#include "core/buf.h"
#include "core/log.h"
#include "svc/svc_claim.h"
#include "svc/svc_sweep.h"

#include <stdio.h>
#include <stdlib.h>

void ops_ready(struct svc_ctx *svc, struct api_response *resp)
{
    struct err err = {0};
    int pending = 0;

    if (svc_sweep_ready(svc, &pending, &err) == 0) {
        reply_json(resp, 200, json_pack("{s:s}", "status", "ready"));
    } else if (pending) {
        reply_json(resp, 503,
                   json_pack("{s:s,s:i}", "status", "migrations_pending", "pending", pending));
    } else {
        log_warn("ready", "not ready: %s", err.msg);
        reply_json(resp, 503, json_pack("{s:s}", "status", "unavailable"));
    }
}

void ops_sweep(struct svc_ctx *svc)
{
    struct svc_sweep_counts n;
    struct err err = {0};

    if (svc_sweep_run(svc, &n, &err) < 0)
        log_warn("sweep", "sweep failed: %s", err.msg);
    else if (n.reaped || n.timed_out || n.sessions_expired || n.schedules_fired ||
             n.approvals_expired)
        log_info("sweep",
                 "reaped=%d timed_out=%d sessions_expired=%d schedules_fired=%d"
                 " approvals_expired=%d",
                 n.reaped, n.timed_out, n.sessions_expired, n.schedules_fired, n.approvals_expired);
}

int ops_runnable(struct svc_ctx *svc, int limit)
{
    struct err err = {0};
    int n = 0;

    if (svc_claim_runnable(svc, limit, &n, &err) < 0) {
        log_warn("server", "recheck failed: %s", err.msg);
        return -1;
    }
    return n;
}

int ops_stream_fetch(struct svc_ctx *svc, const char *token, struct api_stream *st, char **text,
                     size_t *len)
{
    struct principal who;
    struct err err = {0};
    struct buf b;
    json_t *events = NULL, *e;
    size_t i;

    *text = NULL;
    *len = 0;
    if (svc_ctx_ensure(svc, &err) < 0)
        return 0; /* try again on the next poll */
    /* The token that opened the stream still has to be valid (revoked: the stream ends). A
     * database hiccup is not a revocation: try again on the next poll. Auth off: no token. */
    if (token && (!svc->env->cfg || svc->env->cfg->auth) &&
        svc_auth_verify(svc, token, &who, &err) < 0) {
        if (err.code != ERR_UNAUTHORIZED && err.code != ERR_FORBIDDEN)
            return 0;
        log_info("sse", "stream ended: its token is no longer valid");
        return -1;
    }
    if (st->fetch(svc, st->arg, st->cursor, &events, &err) < 0) {
        log_info("sse", "stream ended: %s", err.msg);
        return -1;
    }
    buf_init(&b, 64 * 1024 * 1024);
    json_array_foreach(events, i, e)
    {
        const json_t *id = json_object_get(e, "id"), *ev = json_object_get(e, "event");
        const json_t *data = json_object_get(e, "data");
        char *d = json_dumps(data ? data : e, JSON_COMPACT | JSON_ENCODE_ANY);

        if (json_is_string(id))
            buf_appendf(&b, "id: %s\n", json_string_value(id));
        else if (json_is_integer(id))
            buf_appendf(&b, "id: %lld\n", (long long)json_integer_value(id));
        if (json_is_string(ev))
            buf_appendf(&b, "event: %s\n", json_string_value(ev));
        buf_appendf(&b, "data: %s\n\n", d ? d : "null");
        free(d);
    }
    json_decref(events);
    *text = buf_take(&b, len);
    return 0;
}

void ops_refresh(struct svc_ctx *svc)
{
    svc_ctx_refresh(svc);
}
