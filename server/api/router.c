/*
 * REST routing. Worker threads.
 */
#include "api/router.h"
#include "api/reply.h"
#include "svc/svc_auth.h"

#include <stdio.h>
#include <string.h>

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
    char buf[1024];
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
            if (r->min_scope != PRINCIPAL_NONE) {
                if (!req->who || req->who->scope == PRINCIPAL_NONE) {
                    reply_error(resp, ERR_UNAUTHORIZED, NULL,
                                "send Authorization: Bearer <operator or admin token>");
                    return;
                }
                if (!principal_allows(req->who->scope, r->min_scope)) {
                    reply_error(resp, ERR_FORBIDDEN, NULL, "this needs %s token",
                                r->min_scope == PRINCIPAL_DEVELOPER ? "a developer or admin"
                                : r->min_scope == PRINCIPAL_ADMIN   ? "an admin"
                                                                    : "an operator or higher");
                    return;
                }
            }
            if (r->fn(req, params, np, resp) < 0 || resp->status == 0) {
                if (!resp->body && !resp->raw)
                    reply_error(resp, ERR_INTERNAL, NULL, "the handler failed");
                else if (resp->status == 0)
                    resp->status = 500;
            }
            return;
        }
    }
    if (path_known)
        reply_error(resp, ERR_METHOD, NULL, "this path does not take that method");
    else
        reply_error(resp, ERR_NOT_FOUND, NULL, "no such API endpoint");
}

void router_serve(struct svc_ctx *svc, const char *token, struct api_request *req,
                  struct api_response *resp, struct principal *who)
{
    const struct cfg *cfg = svc->env->cfg;
    struct err err = {0};

    memset(resp, 0, sizeof(*resp));
    memset(who, 0, sizeof(*who));
    req->who = NULL;
    req->svc = svc;
    if (cfg && !cfg->auth) {
        who->scope = PRINCIPAL_ADMIN; /* auth off (loopback only): everyone is the admin */
        snprintf(who->name, sizeof(who->name), "auth-off");
        req->who = who;
    } else if (token) {
        if (svc_auth_verify(svc, token, who, &err) < 0) {
            if (err.code == ERR_UNAVAILABLE)
                reply_error(resp, ERR_UNAVAILABLE, NULL, "database unavailable, retry shortly");
            else
                reply_error(resp, ERR_UNAUTHORIZED, "invalid_token", "%s", err.msg);
            return;
        }
        if (who->scope == PRINCIPAL_AGENT) {
            reply_error(resp, ERR_FORBIDDEN, NULL, "agent tokens cannot use the REST API");
            return;
        }
        req->who = who;
    }
    if (svc_ctx_ensure(svc, &err) < 0) {
        reply_error(resp, ERR_UNAVAILABLE, NULL, "database unavailable, retry shortly");
        return;
    }
    router_dispatch(req, resp);
}
