/*
 * GET/PUT /api/pool, POST /api/pool/scale, POST /api/agents, DELETE /api/agents/{id}.
 * Worker threads (each request brings the worker's connection).
 */
#include "api/pool.h"
#include "api/reply.h"
#include "svc/svc_pool.h"

#include <stdio.h>
#include <string.h>

#define API_POOL_BODY_MAX 4096

const struct api_route api_pool_routes[] = {
    {"GET", "/api/pool", PRINCIPAL_OPERATOR, api_pool_get},
    {"PUT", "/api/pool", PRINCIPAL_ADMIN, api_pool_put},
    {"POST", "/api/pool/scale", PRINCIPAL_ADMIN, api_pool_scale},
    {"POST", "/api/agents", PRINCIPAL_ADMIN, api_pool_agent_start},
    {"DELETE", "/api/agents/{id}", PRINCIPAL_ADMIN, api_pool_agent_stop},
    {NULL, NULL, PRINCIPAL_NONE, NULL},
};

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

int api_pool_get(const struct api_request *req, const char *const *params, size_t nparams,
                 struct api_response *resp)
{
    struct err err = {0};
    json_t *out;

    (void)params;
    (void)nparams;
    if (svc_pool_get(req->svc, &out, &err) < 0)
        return reply_err(resp, &err);
    resp->status = 200;
    resp->body = out;
    return 0;
}

int api_pool_put(const struct api_request *req, const char *const *params, size_t nparams,
                 struct api_response *resp)
{
    static const char *const allowed[] = {"min_agents", "max_agents", NULL};
    struct err err = {0};
    json_t *body;
    int lo, hi, glo, ghi;

    if (!(body = api_pool_body(req, allowed, &err)))
        return reply_err(resp, &err);
    glo = api_pool_int(body, "min_agents", -1000000, 1000000, &lo, &err);
    ghi = glo < 0 ? 0 : api_pool_int(body, "max_agents", -1000000, 1000000, &hi, &err);
    json_decref(body);
    if (glo < 0 || ghi < 0 ||
        svc_pool_set(req->svc, api_pool_actor(req), glo ? &lo : NULL, ghi ? &hi : NULL, &err) < 0)
        return reply_err(resp, &err);
    return api_pool_get(req, params, nparams, resp);
}

int api_pool_scale(const struct api_request *req, const char *const *params, size_t nparams,
                   struct api_response *resp)
{
    static const char *const allowed[] = {"count", "ttl_seconds", NULL};
    struct err err = {0};
    json_t *body;
    int count = 0, ttl = 0, cap = svc_pool_hard_cap(req->svc);
    bool unpin = false;

    if (!(body = api_pool_body(req, allowed, &err)))
        return reply_err(resp, &err);
    if (!json_object_get(body, "count")) {
        err_set(&err, ERR_INVALID, "count is required (an integer 0..%d, or null to unpin)", cap);
        goto fail;
    }
    if (json_is_null(json_object_get(body, "count"))) {
        unpin = true;
    } else if (api_pool_int(body, "count", 0, cap, &count, &err) < 0 ||
               api_pool_int(body, "ttl_seconds", 1, 30 * 86400, &ttl, &err) < 0) {
        goto fail;
    }
    if (svc_pool_pin(req->svc, api_pool_actor(req), unpin, count, ttl, &err) < 0)
        goto fail;
    json_decref(body);
    return api_pool_get(req, params, nparams, resp);
fail:
    json_decref(body);
    return reply_err(resp, &err);
}

int api_pool_agent_start(const struct api_request *req, const char *const *params, size_t nparams,
                         struct api_response *resp)
{
    struct err err = {0};
    char id[37];

    (void)params;
    (void)nparams;
    if (req->body_len > 0) {
        static const char *const allowed[] = {NULL};
        json_t *body = api_pool_body(req, allowed, &err);

        if (!body)
            return reply_err(resp, &err);
        json_decref(body);
    }
    if (svc_pool_agent_start(req->svc, api_pool_actor(req), id, &err) < 0)
        return reply_err(resp, &err);
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
    const char *q = req->query ? req->query : "";

    if (nparams < 1) {
        err_set(&err, ERR_INVALID, "agent id missing");
        return reply_err(resp, &err);
    }
    /* force=1 | force=true */
    for (const char *p = q; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, "force=1", 7) == 0 || strncmp(p, "force=true", 10) == 0)
            force = true;
    }
    if (svc_pool_agent_stop(req->svc, api_pool_actor(req), params[0], force, before, &err) < 0)
        return reply_err(resp, &err);
    resp->status = 202;
    resp->body = json_pack("{s:s,s:s,s:s,s:b,s:s}", "id", params[0], "status", "draining",
                           "previous_status", before, "force", force, "note",
                           strcmp(before, "busy") == 0 && !force
                               ? "the agent finishes its current task, then its pod is deleted"
                               : "the pod is deleted by the pool leader");
    return 0;
}
