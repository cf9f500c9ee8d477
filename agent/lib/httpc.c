/* Blocking JSON-over-HTTP client on libcurl. The thread that owns the `struct httpc`. */
#include "httpc.h"
#include "core/buf.h"
#include "core/mem.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTPC_MAX_BODY (64u << 20)

int httpc_init(struct httpc *c, const char *base_url, const char *token, struct err *err)
{
    size_t n;

    memset(c, 0, sizeof(*c));
    if (!base_url || (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8)))
        return err_set(err, ERR_INVALID, "server URL must start with http:// or https://");
    c->curl = curl_easy_init();
    if (!c->curl)
        return err_set(err, ERR_INTERNAL, "curl_easy_init failed");
    c->base_url = mem_strdup(base_url);
    n = strlen(c->base_url);
    while (n > 0 && c->base_url[n - 1] == '/')
        c->base_url[--n] = '\0';
    c->token = token && *token ? mem_strdup(token) : NULL;
    c->timeout_s = 30;
    return 0;
}

void httpc_clear(struct httpc *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    if (c->token)
        memset(c->token, 0, strlen(c->token));
    free(c->token);
    free(c->base_url);
    memset(c, 0, sizeof(*c));
}

void httpc_resp_clear(struct httpc_resp *r)
{
    if (!r)
        return;
    free(r->body);
    json_decref(r->json);
    free(r->content_type);
    free(r->session_id);
    memset(r, 0, sizeof(*r));
}

static size_t httpc_on_body(char *p, size_t size, size_t n, void *ud)
{
    struct buf *b = ud;

    return buf_append(b, p, size * n) < 0 ? 0 : size * n;
}

/* Keeps the one response header the MCP client needs. */
static size_t httpc_on_header(char *p, size_t size, size_t n, void *ud)
{
    struct httpc_resp *r = ud;
    size_t len = size * n, k = strlen("mcp-session-id:");

    if (len > k && strncasecmp(p, "mcp-session-id:", k) == 0) {
        const char *v = p + k;
        size_t vl = len - k;

        while (vl && isspace((unsigned char)*v)) {
            v++;
            vl--;
        }
        while (vl && isspace((unsigned char)v[vl - 1]))
            vl--;
        free(r->session_id);
        r->session_id = mem_strndup(v, vl);
    }
    return len;
}

static int httpc_on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    volatile const int *flag = ud;

    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    return flag && *flag ? 1 : 0;
}

int httpc_request(struct httpc *c, const char *method, const char *path, const json_t *body,
                  const char *const *headers, long timeout_s, struct httpc_resp *resp,
                  struct err *err)
{
    CURL *h = c->curl;
    struct curl_slist *hl = NULL;
    struct buf in;
    char *url = NULL, *payload = NULL, *auth = NULL;
    char *ct = NULL;
    json_error_t je;
    CURLcode cc;
    int rc = -1;

    memset(resp, 0, sizeof(*resp));
    buf_init(&in, HTTPC_MAX_BODY);
    if (strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0)
        url = mem_strdup(path);
    else
        url = mem_printf("%s%s%s", c->base_url, path[0] == '/' ? "" : "/", path);
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s > 0 ? timeout_s : c->timeout_s);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, httpc_on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &in);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, httpc_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
    if (c->abort_flag) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, httpc_on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)c->abort_flag);
    }
    hl = curl_slist_append(hl, "Accept: application/json, text/event-stream");
    if (c->token) {
        auth = mem_printf("Authorization: Bearer %s", c->token);
        hl = curl_slist_append(hl, auth);
    }
    for (size_t i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    if (body) {
        payload = json_dumps(body, JSON_COMPACT);
        hl = curl_slist_append(hl, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") != 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        err_set(err, ERR_UNAVAILABLE, "%s %s: %s", method, url, curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    if (ct)
        resp->content_type = mem_strdup(ct);
    resp->body = buf_take(&in, &resp->len);
    if (resp->len)
        resp->json = json_loadb(resp->body, resp->len, 0, &je);
    rc = 0;
out:
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
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

const char *httpc_error_message(const struct httpc_resp *r)
{
    const json_t *e = r && r->json ? json_object_get(r->json, "error") : NULL;

    if (json_is_string(e))
        return json_string_value(e);
    if (json_is_object(e) && json_is_string(json_object_get(e, "message")))
        return json_string_value(json_object_get(e, "message"));
    return NULL;
}
