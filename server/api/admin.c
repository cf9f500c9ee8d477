/* Token management and the event feed. Worker threads. */
#include "api/admin.h"
#include "api/reply.h"
#include "svc/svc_events.h"
#include "svc/svc_tokens.h"

#include <stdio.h>
#include <string.h>

static int admin_tokens_create(const struct api_request *req, const char *const *params, size_t np,
                               struct api_response *resp)
{
    const char *name = NULL, *scope_s = NULL, *agent = NULL;
    enum principal_scope scope;
    char token[PRINCIPAL_TOKEN_LEN];
    struct err err = {0};
    json_t *body;
    long long id;

    (void)params;
    (void)np;
    if (reply_body_object(req, resp, &body) < 0)
        return 0;
    if (reply_member_string(body, "name", resp, &name) < 0 ||
        reply_member_string(body, "scope", resp, &scope_s) < 0 ||
        reply_member_string(body, "agent_id", resp, &agent) < 0)
        goto out;
    if (!name || !*name) {
        reply_error(resp, ERR_INVALID, "name_required", "name the token (1-200 characters)");
        goto out;
    }
    if (!scope_s || principal_scope_parse(scope_s, &scope, &err) < 0) {
        reply_error(resp, ERR_INVALID, "invalid_scope", "scope must be agent, operator or admin");
        goto out;
    }
    if (svc_tokens_create(req->svc, scope, name, agent, token, &id, &err) < 0) {
        reply_err(resp, &err);
        goto out;
    }
    reply_json(resp, 201,
               json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)id, "name", name, "scope",
                         principal_scope_name(scope), "token", token, "note",
                         "the token is shown only now; store it"));
    memset(token, 0, sizeof(token));
out:
    json_decref(body);
    return 0;
}

static int admin_tokens_list(const struct api_request *req, const char *const *params, size_t np,
                             struct api_response *resp)
{
    struct err err = {0};
    json_t *list;

    (void)params;
    (void)np;
    if (svc_tokens_list(req->svc, &list, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, json_pack("{s:o}", "tokens", list));
}

static int admin_tokens_revoke(const struct api_request *req, const char *const *params, size_t np,
                               struct api_response *resp)
{
    struct err err = {0};
    int revoked = 0;
    int64_t id;

    if (np < 1 || reply_path_id(params[0], "token", resp, &id) < 0)
        return 0;
    if (svc_tokens_revoke(req->svc, params[0], req->who ? req->who->token_id : 0, &revoked, &err) <
        0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, json_pack("{s:I,s:i}", "id", (json_int_t)id, "revoked", revoked));
}

/* The SSE fetch for GET /api/events?follow=1: the cursor is events_poll's. */
static int admin_events_fetch(struct svc_ctx *svc, const char *arg,
                              char cursor[API_STREAM_CURSOR_MAX], json_t **events, struct err *err)
{
    char next[SVC_EVENTS_CURSOR_MAX];

    (void)arg;
    if (svc_events_poll(svc, cursor, 500, events, next, err) < 0)
        return -1;
    snprintf(cursor, API_STREAM_CURSOR_MAX, "%s", next);
    return 0;
}

/* A page of events, or with follow=1 the same objects as server-sent events. */
static int admin_events(const struct api_request *req, const char *const *params, size_t np,
                        struct api_response *resp)
{
    char cursor[SVC_EVENTS_CURSOR_MAX + 8], next[SVC_EVENTS_CURSOR_MAX];
    const char *from = NULL;
    long long limit, follow;
    struct err err = {0};
    json_t *events;
    int got;

    (void)params;
    (void)np;
    if (reply_query_int(req, "limit", 1, 1000, 200, resp, &limit) < 0 ||
        reply_query_int(req, "follow", 0, 1, 0, resp, &follow) < 0)
        return 0;
    got = reply_query(req->query, "after", cursor, sizeof(cursor));
    if (got < 0)
        return reply_error(resp, ERR_INVALID, "invalid_cursor", "after is too long");
    if (got > 0)
        from = cursor;
    else if (req->last_event_id && *req->last_event_id)
        from = req->last_event_id;
    /* No cursor: from the beginning; "now": nothing old, just the cursor to poll from. A
     * stream without a cursor starts now. */
    if (from && strcmp(from, "now") == 0)
        from = "";
    else if (!from)
        from = follow ? "" : "0.0";
    if (follow) {
        /* Check the cursor (and find "now") before the transport commits to a stream. */
        if (svc_events_poll(req->svc, from, 1, &events, next, &err) < 0)
            return reply_err(resp, &err);
        json_decref(events);
        resp->status = 200;
        resp->stream.fetch = admin_events_fetch;
        snprintf(resp->stream.cursor, sizeof(resp->stream.cursor), "%s", *from ? from : next);
        return 0;
    }
    if (svc_events_poll(req->svc, from, (int)limit, &events, next, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, json_pack("{s:o,s:s}", "events", events, "next", next));
}

const struct api_route admin_routes[] = {
    {"GET", "/api/tokens", PRINCIPAL_ADMIN, admin_tokens_list},
    {"POST", "/api/tokens", PRINCIPAL_ADMIN, admin_tokens_create},
    {"DELETE", "/api/tokens/{id}", PRINCIPAL_ADMIN, admin_tokens_revoke},
    {"GET", "/api/events", PRINCIPAL_OPERATOR, admin_events},
    {NULL, NULL, PRINCIPAL_NONE, NULL},
};
