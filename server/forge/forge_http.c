/* libcurl exchanges with forge REST APIs. Worker threads only (blocking). */
#include "core/buf.h"
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define FORGE_HTTP_MAX_BODY (8u << 20)

static size_t forge_http_on_body(char *p, size_t size, size_t n, void *ud)
{
    return buf_append(ud, p, size * n) < 0 ? 0 : size * n;
}

static const char *forge_http_default_api(enum forge_kind k)
{
    return k == FORGE_GITHUB ? "https://api.github.com" : "";
}

int forge_http_request(const struct forge *f, const char *method, const char *path,
                       const json_t *body, struct forge_http_resp *resp, struct err *err)
{
    const char *api = f->api_url && *f->api_url ? f->api_url : forge_http_default_api(f->kind);
    struct curl_slist *hl = NULL;
    char *url = NULL, *payload = NULL, *auth = NULL;
    size_t alen = strlen(api);
    struct buf in;
    CURLcode cc;
    CURL *h;
    int rc = -1;

    memset(resp, 0, sizeof(*resp));
    if (!*api)
        return err_set(err, ERR_INVALID, "the %s forge needs the project's forge_api_url",
                       forge_backend_kind_name(f->kind));
    h = curl_easy_init();
    if (!h)
        return err_set(err, ERR_INTERNAL, "curl_easy_init failed");
    buf_init(&in, FORGE_HTTP_MAX_BODY);
    while (alen && api[alen - 1] == '/')
        alen--;
    url = mem_printf("%.*s%s", (int)alen, api, path);
    hl = curl_slist_append(hl, "Accept: application/json");
    if (f->kind == FORGE_GITHUB) {
        /* GitHub rejects requests without a User-Agent and versions its API by header. */
        hl = curl_slist_append(hl, "Accept: application/vnd.github+json");
        hl = curl_slist_append(hl, "X-GitHub-Api-Version: 2022-11-28");
    }
    hl = curl_slist_append(hl, "User-Agent: droverd");
    if (f->token && *f->token) {
        if (f->kind == FORGE_GITLAB)
            auth = mem_printf("PRIVATE-TOKEN: %s", f->token);
        else if (f->kind == FORGE_GITEA)
            auth = mem_printf("Authorization: token %s", f->token);
        else
            auth = mem_printf("Authorization: Bearer %s", f->token);
        hl = curl_slist_append(hl, auth);
    }
    if (body) {
        payload = json_dumps(body, JSON_COMPACT);
        hl = curl_slist_append(hl, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, f->timeout_s > 0 ? f->timeout_s : 60L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, forge_http_on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &in);
    /* Never follow redirects: a redirect to another host would carry the token there. */
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        /* The URL carries no secret (tokens travel in headers), so it can be quoted. */
        err_set(err, ERR_UNAVAILABLE, "%s %s: %s", method, url, curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    if (in.len)
        resp->json = json_loadb(in.data, in.len, 0, NULL);
    resp->body = buf_take(&in, NULL);
    rc = 0;
out:
    curl_easy_cleanup(h);
    curl_slist_free_all(hl);
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    buf_clear(&in);
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
    memset(r, 0, sizeof(*r));
}

char *forge_http_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s), k = 0;
    char *o = mem_alloc(n * 3 + 1);

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '_' || c == '~' || c == '-') {
            o[k++] = (char)c;
        } else {
            o[k++] = '%';
            o[k++] = hex[c >> 4];
            o[k++] = hex[c & 15];
        }
    }
    o[k] = '\0';
    return o;
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
