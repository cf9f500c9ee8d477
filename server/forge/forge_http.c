/*
 * Forge REST exchanges on the shared HTTP client (core/http): the API base URL, each forge's
 * auth header and JSON in and out; the idempotent create all three API backends share.
 * Worker threads only (blocking).
 */
#include "core/http.h"
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <stdlib.h>
#include <string.h>

#define FORGE_HTTP_MAX_BODY (8u << 20)

static const char *forge_http_default_api(enum forge_kind k)
{
    return k == FORGE_GITHUB ? "https://api.github.com" : "";
}

int forge_http_request(const struct forge *f, const char *method, const char *path,
                       const json_t *body, struct forge_http_resp *resp, struct err *err)
{
    const char *api = f->api_url && *f->api_url ? f->api_url : forge_http_default_api(f->kind);
    const char *hl[8];
    /* Where the next page of a list is (forge_pages.c). */
    static const char *const keep[] = {"Link", "X-Next-Page", NULL};
    struct http_req req = {.method = method,
                           .headers = hl,
                           .timeout_s = f->timeout_s > 0 ? f->timeout_s : 60L,
                           .max_body = FORGE_HTTP_MAX_BODY,
                           .keep_headers = keep};
    struct http_resp r;
    char *url = NULL, *payload = NULL, *auth = NULL;
    size_t alen = strlen(api), n = 0;
    int rc = -1;

    memset(resp, 0, sizeof(*resp));
    if (!*api)
        return err_set(err, ERR_INVALID, "the %s forge needs the project's forge_api_url",
                       forge_backend_kind_name(f->kind));
    while (alen && api[alen - 1] == '/')
        alen--;
    url = mem_printf("%.*s%s", (int)alen, api, path);
    req.url = url;
    if (forge_cred_check(f, url, f->token && *f->token, err) < 0) {
        free(url);
        return -1;
    }
    hl[n++] = "Accept: application/json";
    if (f->kind == FORGE_GITHUB) {
        /* GitHub rejects requests without a User-Agent and versions its API by header. */
        hl[n++] = "Accept: application/vnd.github+json";
        hl[n++] = "X-GitHub-Api-Version: 2022-11-28";
    }
    hl[n++] = "User-Agent: droverd";
    if (f->token && *f->token) {
        if (f->kind == FORGE_GITLAB)
            auth = mem_printf("PRIVATE-TOKEN: %s", f->token);
        else if (f->kind == FORGE_GITEA)
            auth = mem_printf("Authorization: token %s", f->token);
        else
            req.bearer = f->token;
        if (auth)
            hl[n++] = auth;
    }
    hl[n] = NULL;
    if (body) {
        payload = json_dumps(body, JSON_COMPACT);
        req.body = payload;
        req.content_type = "application/json";
    } else if (strcmp(method, "GET") != 0) {
        req.body = ""; /* an empty POST: Content-Length: 0 */
    }
    if (http_request(NULL, &req, &r, err) < 0)
        goto out;
    resp->status = r.status;
    if (r.len)
        resp->json = json_loadb(r.body, r.len, 0, NULL);
    resp->body = r.body;
    r.body = NULL;
    resp->link = r.kept[0];
    resp->next_page = r.kept[1];
    r.kept[0] = r.kept[1] = NULL;
    rc = 0;
out:
    http_resp_clear(&r);
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    free(payload);
    free(url);
    return rc;
}

void forge_http_resp_clear(struct forge_http_resp *r)
{
    if (!r)
        return;
    json_decref(r->json);
    free(r->body);
    free(r->link);
    free(r->next_page);
    memset(r, 0, sizeof(*r));
}

const char *forge_http_message(const struct forge_http_resp *r)
{
    const json_t *m;

    if (!r->json)
        return "";
    m = json_object_get(r->json, "message");
    if (json_is_array(m)) /* GitLab sometimes answers {"message": ["...", ...]} */
        m = json_array_get(m, 0);
    if (!json_is_string(m))
        m = json_object_get(r->json, "error");
    return json_is_string(m) ? json_string_value(m) : "";
}

int forge_http_fail(const struct forge_http_resp *r, const char *what, struct err *err)
{
    enum err_code code = ERR_INTERNAL;
    const char *msg = forge_http_message(r);

    switch (r->status) {
    case 400:
    case 422:
        code = ERR_INVALID;
        break;
    case 401:
        code = ERR_UNAUTHORIZED;
        break;
    case 403:
        code = ERR_FORBIDDEN;
        break;
    case 404:
        code = ERR_NOT_FOUND;
        break;
    case 409:
    case 423:
        code = ERR_CONFLICT;
        break;
    default:
        if (r->status >= 500 || r->status == 429)
            code = ERR_UNAVAILABLE;
    }
    return err_set(err, code, "%s: forge answered HTTP %ld%s%.160s", what, r->status,
                   *msg ? ": " : "", msg);
}

int forge_http_send(const struct forge *f, const char *method, const char *path, const json_t *body,
                    const char *what, struct err *err)
{
    struct forge_http_resp r;
    int rc = -1;

    if (forge_http_request(f, method, path, body, &r, err) < 0)
        return -1;
    if (r.status >= 200 && r.status <= 299)
        rc = 0;
    else
        forge_http_fail(&r, what, err);
    forge_http_resp_clear(&r);
    return rc;
}

int forge_http_get_json(const struct forge *f, const char *path, json_type type, const char *what,
                        json_t **json, struct err *err)
{
    struct forge_http_resp r;
    int rc = 1;

    *json = NULL;
    if (forge_http_request(f, "GET", path, NULL, &r, err) < 0)
        return -1;
    if (r.status == 200 && r.json && json_typeof(r.json) == type) {
        *json = json_incref(r.json);
        rc = 0;
    } else {
        forge_http_fail(&r, what, err);
    }
    forge_http_resp_clear(&r);
    return rc;
}

int forge_http_create(const struct forge *f, const struct forge_http_create *op, const char *path,
                      const json_t *body, const void *ctx, json_t **out, struct err *err)
{
    struct forge_http_resp r;
    json_t *found = NULL;
    int rc = -1;

    if (forge_http_request(f, "POST", path, body, &r, err) < 0)
        return -1;
    if (r.status == 201 && json_is_object(r.json)) {
        *out = op->record(ctx, r.json, true);
        rc = 0;
    } else if (r.status == op->exists_status) {
        if (op->existing(f, op, ctx, &r, &found, err) == 0) {
            *out = op->record(ctx, found, false);
            rc = 0;
        }
    } else {
        forge_http_fail(&r, op->what, err);
    }
    json_decref(found);
    forge_http_resp_clear(&r);
    return rc;
}
