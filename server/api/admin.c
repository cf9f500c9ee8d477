/* Token management and the event feed. Worker threads. */
#include "api/admin.h"
#include "api/reply.h"
#include "core/text.h"
#include "store/events.h"
#include "store/tokens.h"

#include <stdio.h>
#include <string.h>

static const struct db_stmt st_list = {
    "admin_tokens_list",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'name', name, 'scope', scope,"
    " 'agent_id', agent_id, 'created_at', created_at, 'last_used_at', last_used_at,"
    " 'revoked_at', revoked_at) ORDER BY id), '[]')::text FROM api_tokens"
    " WHERE scope <> 'agent' OR $1",
    1};

static int admin_tokens_create(const struct api_request *req, const char *const *params, size_t np,
                               struct api_response *resp)
{
    const char *name = NULL, *scope_s = NULL, *agent = NULL;
    enum tokens_scope scope;
    char token[TOKENS_LEN];
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
    if (!name || !*name || strlen(name) > 200) {
        reply_error(resp, 400, "name_required", "name the token (1-200 characters)");
        goto out;
    }
    if (!scope_s || tokens_scope_parse(scope_s, &scope, &err) < 0) {
        reply_error(resp, 400, "invalid_scope", "scope must be agent, operator or admin");
        goto out;
    }
    if ((scope == TOKENS_SCOPE_AGENT) != (agent != NULL) || (agent && !text_is_uuid(agent))) {
        reply_error(resp, 400, "invalid_agent",
                    "an agent token needs \"agent_id\" (a UUID); other scopes take none");
        goto out;
    }
    if (tokens_create(req->db, scope, name, agent, token, &id, &err) < 0) {
        reply_err(resp, &err);
        goto out;
    }
    reply_json(resp, 201,
               json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)id, "name", name, "scope",
                         tokens_scope_name(scope), "token", token, "note",
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
    const char *p[1] = {"true"};
    json_error_t je;
    PGresult *r;
    json_t *list;

    (void)params;
    (void)np;
    r = db_exec(req->db, &st_list, p, &err);
    if (!r)
        return reply_err(resp, &err);
    list = json_loads(PQgetvalue(r, 0, 0), 0, &je);
    PQclear(r);
    return reply_json(resp, 200, json_pack("{s:o}", "tokens", list ? list : json_array()));
}

static int admin_tokens_revoke(const struct api_request *req, const char *const *params, size_t np,
                               struct api_response *resp)
{
    struct err err = {0};
    int revoked = 0;
    int64_t id;

    if (np < 1 || reply_path_id(params[0], "token", resp, &id) < 0)
        return 0;
    if (req->who && req->who->token_id == id)
        return reply_error(resp, 409, "revoking_self",
                           "this request is authenticated with that token; use another admin "
                           "token to revoke it");
    if (tokens_revoke(req->db, params[0], &revoked, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, json_pack("{s:I,s:i}", "id", (json_int_t)id, "revoked", revoked));
}

/* The SSE fetch for GET /api/events?follow=1: the cursor is events_poll's. */
static int admin_events_fetch(struct db *db, const char *arg, char cursor[API_STREAM_CURSOR_MAX],
                              json_t **events, struct err *err)
{
    char next[EVENTS_CURSOR_MAX];

    (void)arg;
    if (events_poll(db, cursor, 500, events, next, err) < 0)
        return -1;
    snprintf(cursor, API_STREAM_CURSOR_MAX, "%s", next);
    return 0;
}

/* A page of events, or with follow=1 the same objects as server-sent events. */
static int admin_events(const struct api_request *req, const char *const *params, size_t np,
                        struct api_response *resp)
{
    char cursor[EVENTS_CURSOR_MAX + 8], next[EVENTS_CURSOR_MAX];
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
        return reply_error(resp, 400, "invalid_cursor", "after is too long");
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
        if (events_poll(req->db, from, 1, &events, next, &err) < 0)
            return reply_err(resp, &err);
        json_decref(events);
        resp->status = 200;
        resp->stream.fetch = admin_events_fetch;
        snprintf(resp->stream.cursor, sizeof(resp->stream.cursor), "%s", *from ? from : next);
        return 0;
    }
    if (events_poll(req->db, from, (int)limit, &events, next, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, json_pack("{s:o,s:s}", "events", events, "next", next));
}

const struct api_route admin_routes[] = {
    {"GET", "/api/tokens", TOKENS_SCOPE_ADMIN, admin_tokens_list},
    {"POST", "/api/tokens", TOKENS_SCOPE_ADMIN, admin_tokens_create},
    {"DELETE", "/api/tokens/{id}", TOKENS_SCOPE_ADMIN, admin_tokens_revoke},
    {"GET", "/api/events", TOKENS_SCOPE_OPERATOR, admin_events},
    {NULL, NULL, TOKENS_SCOPE_NONE, NULL},
};
