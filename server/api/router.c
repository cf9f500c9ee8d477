/*
 * REST routing. Worker threads.
 */
#include "api/router.h"

#include <stdio.h>
#include <string.h>

void router_error(struct api_response *resp, int status, const char *code, const char *msg)
{
    resp->status = status;
    resp->body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
}

bool router_match(const char *pattern, const char *path, char *buf, size_t bufsz,
                  const char **params, size_t *nparams)
{
    const char *p = pattern, *s = path;
    size_t used = 0;

    *nparams = 0;
    while (*p && *s) {
        if (*p == '{') {
            const char *pe = strchr(p, '}'), *se = strchr(s, '/');
            size_t n = se ? (size_t)(se - s) : strlen(s);
            if (!pe || n == 0 || *nparams == ROUTER_MAX_PARAMS || used + n + 1 > bufsz)
                return false;
            memcpy(buf + used, s, n);
            buf[used + n] = '\0';
            params[(*nparams)++] = buf + used;
            used += n + 1;
            p = pe + 1;
            s += n;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    if (*s == '/' && s[1] == '\0' && !*p) /* tolerate one trailing slash */
        s++;
    return !*p && !*s;
}

void router_dispatch(const struct api_request *req, struct api_response *resp)
{
    const char *params[ROUTER_MAX_PARAMS];
    char buf[1024], msg[160];
    size_t np;
    bool path_known = false;

    memset(resp, 0, sizeof(*resp));
    for (size_t t = 0; routes_tables[t]; t++) {
        for (const struct api_route *r = routes_tables[t]; r->method; r++) {
            if (!router_match(r->pattern, req->path, buf, sizeof(buf), params, &np))
                continue;
            path_known = true;
            if (strcmp(r->method, req->method) != 0)
                continue;
            if (r->min_scope != TOKENS_SCOPE_NONE) {
                if (!req->who || req->who->scope == TOKENS_SCOPE_NONE) {
                    router_error(resp, 401, "unauthorized",
                                 "send Authorization: Bearer <operator or admin token>");
                    return;
                }
                if (req->who->scope == TOKENS_SCOPE_AGENT || req->who->scope < r->min_scope) {
                    snprintf(msg, sizeof(msg), "this needs an %s token",
                             tokens_scope_name(r->min_scope));
                    router_error(resp, 403, "forbidden", msg);
                    return;
                }
            }
            if (r->fn(req, params, np, resp) < 0 || resp->status == 0) {
                if (!resp->body && !resp->raw)
                    router_error(resp, 500, "internal", "the handler failed");
                else if (resp->status == 0)
                    resp->status = 500;
            }
            return;
        }
    }
    if (path_known)
        router_error(resp, 405, "method_not_allowed", "this path does not take that method");
    else
        router_error(resp, 404, "not_found", "no such API endpoint");
}
