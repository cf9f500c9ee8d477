/*
 * GET/PUT /api/pool, POST /api/pool/scale, POST /api/agents, DELETE /api/agents/{id}.
 * Worker threads (each request brings the worker's connection).
 */
#include "api/pool.h"
#include "pool/agentpool.h"
#include "store/poolstore.h"
#include "store/queue.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define API_POOL_BODY_MAX 4096

const struct api_route api_pool_routes[] = {
    {"GET", "/api/pool", TOKENS_SCOPE_OPERATOR, api_pool_get},
    {"PUT", "/api/pool", TOKENS_SCOPE_ADMIN, api_pool_put},
    {"POST", "/api/pool/scale", TOKENS_SCOPE_ADMIN, api_pool_scale},
    {"POST", "/api/agents", TOKENS_SCOPE_ADMIN, api_pool_agent_start},
    {"DELETE", "/api/agents/{id}", TOKENS_SCOPE_ADMIN, api_pool_agent_stop},
    {NULL, NULL, TOKENS_SCOPE_NONE, NULL},
};

static int api_pool_error(struct api_response *resp, const struct err *err)
{
    resp->status = err_http_status(err->code);
    resp->body =
        json_pack("{s:{s:s,s:s}}", "error", "code", err_code_name(err->code), "message", err->msg);
    return 0;
}

static const char *api_pool_actor(const struct api_request *req)
{
    return req->who && req->who->name[0] ? req->who->name : "anonymous";
}

/* Parse a JSON object body with only the keys in `allowed`; unknown keys are a 400. */
static json_t *api_pool_body(const struct api_request *req, const char *const *allowed,
                             struct err *err)
{
    json_error_t je;
    json_t *body;
    const char *k;
    json_t *v;

    if (!req->body || req->body_len == 0) {
        err_set(err, ERR_INVALID, "a JSON object body is required");
        return NULL;
    }
    if (req->body_len > API_POOL_BODY_MAX) {
        err_set(err, ERR_TOO_LARGE, "body larger than %d bytes", API_POOL_BODY_MAX);
        return NULL;
    }
    body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!body || !json_is_object(body)) {
        err_set(err, ERR_INVALID, "body must be a JSON object%s%s", body ? "" : ": ",
                body ? "" : je.text);
        json_decref(body);
        return NULL;
    }
    json_object_foreach(body, k, v)
    {
        bool ok = false;

        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(k, allowed[i]) == 0)
                ok = true;
        if (!ok) {
            err_set(err, ERR_INVALID, "unknown field '%s'", k);
            json_decref(body);
            return NULL;
        }
    }
    return body;
}

/* An optional integer field: 0 absent, 1 read, -1 wrong type/range (err set). */
static int api_pool_int(const json_t *body, const char *key, int lo, int hi, int *out,
                        struct err *err)
{
    const json_t *v = json_object_get(body, key);

    if (!v)
        return 0;
    if (!json_is_integer(v))
        return err_set(err, ERR_INVALID, "%s must be an integer", key);
    if (json_integer_value(v) < lo || json_integer_value(v) > hi)
        return err_set(err, ERR_INVALID, "%s must be between %d and %d", key, lo, hi);
    *out = (int)json_integer_value(v);
    return 1;
}

static json_t *api_pool_time(double epoch)
{
    char s[40];
    time_t t;
    struct tm tm;

    if (epoch <= 0)
        return json_null();
    if (isinf(epoch))
        return json_string("infinity");
    t = (time_t)epoch;
    gmtime_r(&t, &tm);
    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(s);
}

int api_pool_get(const struct api_request *req, const char *const *params, size_t nparams,
                 struct api_response *resp)
{
    struct err err = {0};
    struct poolstore_settings s;
    struct queue_counts c;
    json_t *leader = NULL, *events = NULL, *audit = NULL;
    bool pinned;

    (void)params;
    (void)nparams;
    if (poolstore_settings_get(req->db, &s, &err) < 0 || queue_counts(req->db, &c, &err) < 0 ||
        poolstore_leader_get(req->db, &leader, &err) < 0 ||
        poolstore_events(req->db, 20, &events, &err) < 0 ||
        poolstore_audit_list(req->db, 20, &audit, &err) < 0) {
        json_decref(leader);
        json_decref(events);
        return api_pool_error(resp, &err);
    }
    pinned = s.pinned_target >= 0 && s.pinned_until > s.now;
    resp->status = 200;
    resp->body = json_pack(
        "{s:{s:i,s:i,s:i,s:o,s:o},s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:o,s:o,s:o}", "settings",
        "min_agents", s.min_agents, "max_agents", s.max_agents, "hard_cap", agentpool_hard_cap(),
        "pinned_target", pinned ? json_integer(s.pinned_target) : json_null(), "pinned_until",
        pinned ? api_pool_time(s.pinned_until) : json_null(), "counts", "backlog",
        (json_int_t)c.backlog, "delayed", (json_int_t)c.delayed, "in_progress",
        (json_int_t)c.in_progress, "busy", (json_int_t)c.busy, "idle", (json_int_t)c.idle,
        "starting", (json_int_t)c.starting, "draining", (json_int_t)c.draining, "leader", leader,
        "decisions", events, "audit", audit);
    return 0;
}

int api_pool_put(const struct api_request *req, const char *const *params, size_t nparams,
                 struct api_response *resp)
{
    static const char *const allowed[] = {"min_agents", "max_agents", NULL};
    struct err err = {0};
    struct poolstore_settings s;
    json_t *body;
    int lo, hi, rc;

    (void)params;
    (void)nparams;
    if (!(body = api_pool_body(req, allowed, &err)))
        return api_pool_error(resp, &err);
    if (poolstore_settings_get(req->db, &s, &err) < 0)
        goto fail;
    lo = s.min_agents;
    hi = s.max_agents;
    if (!json_object_get(body, "min_agents") && !json_object_get(body, "max_agents")) {
        err_set(&err, ERR_INVALID, "give min_agents and/or max_agents");
        goto fail;
    }
    if (api_pool_int(body, "min_agents", -1000000, 1000000, &lo, &err) < 0 ||
        api_pool_int(body, "max_agents", -1000000, 1000000, &hi, &err) < 0)
        goto fail;
    if (poolstore_settings_set(req->db, api_pool_actor(req), lo, hi, agentpool_hard_cap(), &err) <
        0)
        goto fail;
    json_decref(body);
    return api_pool_get(req, params, nparams, resp);
fail:
    json_decref(body);
    rc = api_pool_error(resp, &err);
    return rc;
}

int api_pool_scale(const struct api_request *req, const char *const *params, size_t nparams,
                   struct api_response *resp)
{
    static const char *const allowed[] = {"count", "ttl_seconds", NULL};
    struct err err = {0};
    json_t *body;
    int count = 0, ttl = 0, cap = agentpool_hard_cap();

    (void)params;
    (void)nparams;
    if (!(body = api_pool_body(req, allowed, &err)))
        return api_pool_error(resp, &err);
    if (!json_object_get(body, "count")) {
        err_set(&err, ERR_INVALID, "count is required (an integer 0..%d, or null to unpin)", cap);
        goto fail;
    }
    if (json_is_null(json_object_get(body, "count"))) {
        ttl = -1; /* unpin */
    } else if (api_pool_int(body, "count", 0, cap, &count, &err) < 0 ||
               api_pool_int(body, "ttl_seconds", 1, 30 * 86400, &ttl, &err) < 0) {
        goto fail;
    }
    if (poolstore_pin(req->db, api_pool_actor(req), count, ttl, cap, &err) < 0)
        goto fail;
    json_decref(body);
    return api_pool_get(req, params, nparams, resp);
fail:
    json_decref(body);
    return api_pool_error(resp, &err);
}

int api_pool_agent_start(const struct api_request *req, const char *const *params, size_t nparams,
                         struct api_response *resp)
{
    struct err err = {0};
    char id[37];
    json_t *detail;

    (void)params;
    (void)nparams;
    if (req->body_len > 0) {
        static const char *const allowed[] = {NULL};
        json_t *body = api_pool_body(req, allowed, &err);

        if (!body)
            return api_pool_error(resp, &err);
        json_decref(body);
    }
    if (poolstore_agent_request(req->db, api_pool_actor(req), id, &err) < 0)
        return api_pool_error(resp, &err);
    detail = json_pack("{s:s}", "agent_id", id);
    poolstore_audit(req->db, api_pool_actor(req), "start_agent", detail, NULL);
    json_decref(detail);
    resp->status = 202;
    resp->body = json_pack("{s:s,s:s}", "id", id, "status", "initializing");
    return 0;
}

int api_pool_agent_stop(const struct api_request *req, const char *const *params, size_t nparams,
                        struct api_response *resp)
{
    struct err err = {0};
    char before[16];
    bool force = false;
    json_t *detail;
    const char *q = req->query ? req->query : "";

    if (nparams < 1)
        return api_pool_error(resp, &(struct err){ERR_INVALID, "agent id missing"});
    /* force=1 | force=true */
    for (const char *p = q; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, "force=1", 7) == 0 || strncmp(p, "force=true", 10) == 0)
            force = true;
    }
    if (poolstore_agent_stop(req->db, params[0], force, before, &err) < 0)
        return api_pool_error(resp, &err);
    detail = json_pack("{s:s,s:s,s:b}", "agent_id", params[0], "previous_status", before, "force",
                       force);
    poolstore_audit(req->db, api_pool_actor(req), "stop_agent", detail, NULL);
    json_decref(detail);
    if (force) {
        int n;

        /* Its task goes back to the queue now; the agent is told to stop by its heartbeat. */
        queue_reap(req->db, 100, &n, NULL);
    }
    resp->status = 202;
    resp->body = json_pack("{s:s,s:s,s:s,s:b,s:s}", "id", params[0], "status", "draining",
                           "previous_status", before, "force", force, "note",
                           strcmp(before, "busy") == 0 && !force
                               ? "the agent finishes its current task, then its pod is deleted"
                               : "the pod is deleted by the pool leader");
    return 0;
}
