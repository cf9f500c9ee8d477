/* JSON over the shared HTTP client (core/http). The thread that owns the `struct httpc`. */
#include "httpc.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

#define HTTPC_MAX_BODY (64u << 20)

int httpc_init(struct httpc *c, const char *base_url, const char *token, struct err *err)
{
    size_t n;

    memset(c, 0, sizeof(*c));
    if (!base_url || (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8)))
        return err_set(err, ERR_INVALID, "server URL must start with http:// or https://");
    if (http_init(&c->http, err) < 0)
        return -1;
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
    http_clear(&c->http);
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

int httpc_request(struct httpc *c, const char *method, const char *path, const json_t *body,
                  const char *const *headers, long timeout_s, struct httpc_resp *resp,
                  struct err *err)
{
    static const char *const keep[] = {"Mcp-Session-Id", NULL};
    size_t nh = 0;
    const char **hl;
    struct http_req req = {.method = method,
                           .timeout_s = timeout_s > 0 ? timeout_s : c->timeout_s,
                           .bearer = c->token,
                           .max_body = HTTPC_MAX_BODY,
                           .keep_headers = keep,
                           .abort_flag = c->abort_flag};
    struct http_resp r;
    char *url, *payload = NULL;
    size_t n = 0;
    json_error_t je;
    int rc = -1;

    memset(resp, 0, sizeof(*resp));
    if (strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0)
        url = mem_strdup(path);
    else
        url = mem_printf("%s%s%s", c->base_url, path[0] == '/' ? "" : "/", path);
    req.url = url;
    while (headers && headers[nh])
        nh++;
    hl = mem_calloc(nh + 2, sizeof(*hl));
    hl[n++] = "Accept: application/json, text/event-stream";
    for (size_t i = 0; i < nh; i++)
        hl[n++] = headers[i];
    req.headers = hl;
    if (body) {
        payload = json_dumps(body, JSON_COMPACT);
        req.body = payload;
        req.content_type = "application/json";
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        req.body = ""; /* an empty POST: Content-Length: 0 */
    }
    if (http_request(&c->http, &req, &r, err) < 0)
        goto out;
    resp->status = r.status;
    resp->body = r.body;
    resp->len = r.len;
    resp->content_type = r.content_type;
    resp->session_id = r.kept[0];
    r.body = r.content_type = r.kept[0] = NULL;
    if (resp->len)
        resp->json = json_loadb(resp->body, resp->len, 0, &je);
    rc = 0;
out:
    http_resp_clear(&r);
    free(hl);
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
