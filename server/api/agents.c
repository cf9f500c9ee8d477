/* REST handlers for agents. Worker threads. */
#include "api/agents.h"
#include "api/reply.h"
#include "core/text.h"
#include "svc/svc_agents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int agents_list(const struct api_request *req, const char *const *params, size_t np,
                       struct api_response *resp)
{
    char status[32], all[8];
    struct err err = {0};
    json_t *list;
    bool every;
    int got;

    (void)params;
    (void)np;
    got = reply_query(req->query, "status", status, sizeof(status));
    if (got < 0 || (got > 0 && strcmp(status, "initializing") && strcmp(status, "idle") &&
                    strcmp(status, "busy") && strcmp(status, "draining") &&
                    strcmp(status, "offline") && strcmp(status, "unusable")))
        return reply_error(
            resp, ERR_INVALID, "invalid_status",
            "status must be initializing, idle, busy, draining, offline or unusable");
    every = reply_query(req->query, "all", all, sizeof(all)) > 0 &&
            (strcmp(all, "1") == 0 || strcmp(all, "true") == 0);
    if (svc_agents_list(req->svc, got > 0 ? status : NULL, every, &list, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, json_pack("{s:o}", "agents", list));
}

static int agents_show(const struct api_request *req, const char *const *params, size_t np,
                       struct api_response *resp)
{
    struct err err = {0};
    json_t *agent;

    if (np < 1 || !text_is_uuid(params[0]))
        return reply_error(resp, ERR_INVALID, "invalid_id", "agent id must be a UUID");
    if (svc_agents_get(req->svc, params[0], &agent, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, agent);
}

/* FNV-1a of lines[i-2..i] (fewer at the start): where the stream left off. */
static unsigned long long agents_logs_mark(char *const *lines, long long i)
{
    unsigned long long h = 1469598103934665603ULL;

    for (long long k = i >= 2 ? i - 2 : 0; k <= i; k++) {
        for (const char *c = lines[k]; *c; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211ULL;
        h = (h ^ '\n') * 1099511628211ULL;
    }
    return h;
}

/*
 * The SSE fetch for GET /api/agents/{id}/logs?follow=1. arg = "<agent id> <pod name>", cursor =
 * "<lines sent> <mark of the last three sent>". Each run re-reads the pod's last 10,000 lines
 * through the pool and sends those after the marked ones, so a log past 10,000 lines keeps
 * streaming (a line count alone would stop once the window is full); output without the mark
 * (a restarted pod, or more than 10,000 new lines since the last run) starts over from the
 * window's first line.
 */
static int agents_logs_fetch(struct svc_ctx *svc, const char *arg,
                             char cursor[API_STREAM_CURSOR_MAX], json_t **events, struct err *err)
{
    char agent[37], pod[200] = "";
    long long sent = 0, n = 0, from = 0;
    unsigned long long mark = 0;
    char *text = NULL, *line, *save = NULL, **lines = NULL;
    size_t len = 0;

    *events = NULL;
    if (sscanf(arg, "%36s %199s", agent, pod) < 1)
        return err_set(err, ERR_INTERNAL, "agent log stream lost its agent");
    if (sscanf(cursor, "%lld %llx", &sent, &mark) < 2)
        mark = 0;
    if (svc_agents_logs(svc, agent, pod[0] ? pod : NULL, 10000, &text, &len, err) < 0)
        return -1;
    *events = json_array();
    for (const char *c = text; c && *c; c++)
        n += *c == '\n';
    lines = calloc((size_t)n + 2, sizeof(*lines));
    n = 0;
    for (line = text ? strtok_r(text, "\n", &save) : NULL; line && lines;
         line = strtok_r(NULL, "\n", &save))
        lines[n++] = line;
    if (mark)
        for (long long i = n - 1; i >= 0; i--)
            if (agents_logs_mark(lines, i) == mark) {
                from = i + 1;
                break;
            }
    for (long long i = from; i < n; i++) {
        char id[24];

        snprintf(id, sizeof(id), "%lld", ++sent);
        json_array_append_new(*events, json_pack("{s:s,s:s,s:{s:s}}", "id", id, "event", "output",
                                                 "data", "line", lines[i]));
    }
    if (n > 0)
        snprintf(cursor, API_STREAM_CURSOR_MAX, "%lld %llx", sent, agents_logs_mark(lines, n - 1));
    free(lines);
    free(text);
    return 0;
}

static int agents_logs(const struct api_request *req, const char *const *params, size_t np,
                       struct api_response *resp)
{
    long long tail, follow;
    struct err err = {0};
    json_t *agent = NULL;
    char *text = NULL;
    size_t len = 0;

    if (np < 1 || !text_is_uuid(params[0]))
        return reply_error(resp, ERR_INVALID, "invalid_id", "agent id must be a UUID");
    if (reply_query_int(req, "tail", 1, 10000, 200, resp, &tail) < 0 ||
        reply_query_int(req, "follow", 0, 1, 0, resp, &follow) < 0)
        return 0;
    if (svc_agents_get(req->svc, params[0], &agent, &err) < 0)
        return reply_err(resp, &err);
    if (!svc_agents_have_logs(req->svc)) {
        json_decref(agent);
        return reply_error(resp, ERR_UNSUPPORTED, "no_pod_backend",
                           "this server has no pod backend to read agent output from");
    }
    if (follow) {
        const char *pod = json_string_value(json_object_get(agent, "pod_name"));

        resp->status = 200;
        resp->stream.fetch = agents_logs_fetch;
        snprintf(resp->stream.arg, sizeof(resp->stream.arg), "%s %s", params[0], pod ? pod : "");
        snprintf(resp->stream.cursor, sizeof(resp->stream.cursor), "0");
        json_decref(agent);
        return 0;
    }
    if (svc_agents_logs(req->svc, params[0], json_string_value(json_object_get(agent, "pod_name")),
                        (int)tail, &text, &len, &err) < 0) {
        json_decref(agent);
        return reply_err(resp, &err);
    }
    json_decref(agent);
    resp->status = 200;
    resp->raw = text;
    resp->raw_len = len;
    resp->content_type = "text/plain; charset=utf-8";
    return 0;
}

const struct api_route agents_routes[] = {
    {"GET", "/api/agents", PRINCIPAL_OPERATOR, agents_list},
    {"GET", "/api/agents/{id}", PRINCIPAL_OPERATOR, agents_show},
    {"GET", "/api/agents/{id}/logs", PRINCIPAL_OPERATOR, agents_logs},
    {NULL, NULL, PRINCIPAL_NONE, NULL},
};
