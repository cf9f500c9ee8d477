/* MCP over Streamable HTTP on top of httpc. The thread that owns the `struct mcpc`. */
#include "mcpc.h"
#include "core/mem.h"

#include <stdbool.h>
#include <stdio.h>

#define MCPC_META_VERSION "io.modelcontextprotocol/protocolVersion"
#include <stdlib.h>
#include <string.h>

int mcpc_init(struct mcpc *m, const char *url, const char *token, struct err *err)
{
    const char *scheme_end, *path;
    bool ws = url && strncmp(url, "ws://", 5) == 0;
    char *http_url = NULL;
    size_t n;
    int rc;

    memset(m, 0, sizeof(*m));
    if (!url || (!ws && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        return err_set(err, ERR_INVALID,
                       "MCP server URL must start with http://, https:// or ws://");
    scheme_end = strstr(url, "://") + 3;
    path = strchr(scheme_end, '/');
    n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    /* "http://host:8080" or "http://host:8080/" -> ".../mcp" (ws: ".../ws"); a path is kept. */
    if (!path || (size_t)(path - url) >= n)
        m->url = mem_printf("%.*s%s", (int)n, url, ws ? "/ws" : "/mcp");
    else
        m->url = mem_strndup(url, n);
    /* httpc keeps the token (and serves HTTP); over ws it only holds the credentials. */
    http_url = ws ? mem_printf("http://%s", m->url + 5) : mem_strdup(m->url);
    rc = httpc_init(&m->http, http_url, token, err);
    free(http_url);
    if (rc < 0) {
        free(m->url);
        m->url = NULL;
        return -1;
    }
    if (ws) {
        m->ws = mem_calloc(1, sizeof(*m->ws));
        m->ws->fd = -1;
    }
    m->next_id = 1;
    return 0;
}

void mcpc_clear(struct mcpc *m)
{
    if (!m)
        return;
    httpc_clear(&m->http);
    if (m->ws) {
        wsc_close(m->ws);
        free(m->ws);
    }
    free(m->url);
    free(m->session_id);
    free(m->protocol_version);
    free(m->client_name);
    json_decref(m->server_info);
    memset(m, 0, sizeof(*m));
}

enum err_code mcpc_err_code(const char *name)
{
    static const enum err_code codes[] = {
        ERR_INVALID,     ERR_NOT_FOUND, ERR_FORBIDDEN,   ERR_UNAUTHORIZED, ERR_CONFLICT,
        ERR_STALE_EPOCH, ERR_TOO_LARGE, ERR_UNAVAILABLE, ERR_BUSY,         ERR_INTERNAL};

    for (size_t i = 0; name && i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(name, err_code_name(codes[i])) == 0)
            return codes[i];
    if (name && strcmp(name, "invalid") == 0)
        return ERR_INVALID;
    return ERR_INTERNAL;
}

/*
 * The JSON-RPC response with id `id` from an SSE body: events are separated by blank lines,
 * each event's data lines joined by '\n'. Notifications and requests on the stream are skipped.
 */
json_t *mcpc_sse_find(const char *body, long long id)
{
    const char *p = body;
    char *data = NULL;
    size_t dlen = 0;
    json_t *found = NULL;

    while (!found) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len && p[len - 1] == '\r')
            len--;
        bool is_data = len >= 5 && strncmp(p, "data:", 5) == 0;
        if (is_data) {
            const char *v = p + 5;
            size_t vl = len - 5;
            if (vl && *v == ' ') {
                v++;
                vl--;
            }
            data = mem_realloc(data, dlen + vl + 2);
            if (dlen)
                data[dlen++] = '\n';
            memcpy(data + dlen, v, vl);
            dlen += vl;
            data[dlen] = '\0';
        }
        /* A blank line ends an event, and so does the end of the body (even right after a
         * data line: there is no line after it to step to). */
        if ((!is_data && len == 0) || !eol) {
            if (dlen) {
                json_t *msg = json_loadb(data, dlen, 0, NULL);
                json_t *mid = json_object_get(msg, "id");
                if (json_is_integer(mid) && json_integer_value(mid) == id &&
                    (json_object_get(msg, "result") || json_object_get(msg, "error")))
                    found = msg;
                else
                    json_decref(msg);
                dlen = 0;
            }
            if (!eol)
                break;
        }
        p = eol + 1;
    }
    free(data);
    return found;
}

/* Send `msg` over the WebSocket and, for a request, wait for the response with its id. */
static int mcpc_ws_exchange(struct mcpc *m, json_t *msg, long timeout_s, json_t **reply,
                            struct err *err)
{
    json_t *id = json_object_get(msg, "id");
    long long deadline_s = timeout_s > 0 ? timeout_s : m->http.timeout_s;
    char *text = json_dumps(msg, JSON_COMPACT), *in = NULL;
    size_t len;
    int rc = -1;

    *reply = NULL;
    if (wsc_send(m->ws, text, strlen(text), err) < 0)
        goto out;
    if (!id) {
        rc = 0;
        goto out;
    }
    for (;;) {
        json_t *r, *rid;
        if (wsc_recv(m->ws, deadline_s * 1000, m->http.abort_flag, &in, &len, err) < 0)
            goto out;
        r = json_loadb(in, len, 0, NULL);
        free(in);
        in = NULL;
        rid = json_object_get(r, "id");
        /* Skip notifications and server-initiated requests; only our response counts. */
        if (json_is_object(r) && json_equal(rid, id) &&
            (json_object_get(r, "result") || json_object_get(r, "error"))) {
            *reply = r;
            rc = 0;
            goto out;
        }
        json_decref(r);
    }
out:
    if (rc < 0 && m->ws->fd >= 0 && err && err->code != ERR_TOO_LARGE) {
        /* A half-read exchange leaves the stream unusable: start afresh next time. */
        wsc_close(m->ws);
    }
    free(in);
    free(text);
    return rc;
}

/* Connect the WebSocket (bearer token on the upgrade) and, unless this is the initialize
 * itself, repeat the MCP handshake on the new connection. */
static int mcpc_ws_open(struct mcpc *m, bool handshake, struct err *err)
{
    char *auth = m->http.token ? mem_printf("Authorization: Bearer %s", m->http.token) : NULL;
    const char *hdrs[2] = {auth, NULL};
    json_t *init = NULL, *reply = NULL, *note = NULL;
    int rc;

    rc = wsc_connect(m->ws, m->url, "mcp", hdrs, m->http.timeout_s, err);
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    if (rc < 0 || !handshake || m->modern)
        return rc; /* the modern era has no handshake: each message carries its metadata */
    init = json_pack("{s:s, s:I, s:s, s:{s:s, s:{}, s:{s:s, s:s}}}", "jsonrpc", "2.0", "id",
                     m->next_id++, "method", "initialize", "params", "protocolVersion",
                     m->protocol_version ? m->protocol_version : MCPC_PROTOCOL_VERSION,
                     "capabilities", "clientInfo", "name",
                     m->client_name ? m->client_name : "drover-client", "version", "0");
    note = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", "notifications/initialized");
    rc = mcpc_ws_exchange(m, init, 0, &reply, err);
    if (rc == 0 && json_object_get(reply, "error"))
        rc = err_set(err, ERR_INTERNAL, "MCP initialize over the WebSocket failed");
    if (rc == 0) {
        json_t *none = NULL;
        rc = mcpc_ws_exchange(m, note, 0, &none, err);
    }
    json_decref(init);
    json_decref(note);
    json_decref(reply);
    return rc;
}

/* POST one JSON-RPC message. *reply = the response object for requests (owned), else NULL. */
static int mcpc_post(struct mcpc *m, json_t *msg, long timeout_s, json_t **reply, int *status,
                     struct err *err)
{
    const char *hdrs[5] = {NULL, NULL, NULL, NULL, NULL};
    char *h_session = NULL, *h_version = NULL, *h_method = NULL, *h_name = NULL;
    const json_t *params = json_object_get(msg, "params");
    bool modern = json_object_get(json_object_get(params, "_meta"), MCPC_META_VERSION) != NULL;
    struct httpc_resp r;
    json_t *id = json_object_get(msg, "id");
    size_t k = 0;
    int rc = -1;

    *reply = NULL;
    *status = 0;
    if (m->ws) {
        const char *method = json_string_value(json_object_get(msg, "method"));
        bool is_init =
            method && (strcmp(method, "initialize") == 0 || strcmp(method, "server/discover") == 0);
        if (m->ws->fd < 0 || is_init) {
            wsc_close(m->ws);
            if (mcpc_ws_open(m, !is_init, err) < 0)
                return -1;
        }
        return mcpc_ws_exchange(m, msg, timeout_s, reply, err);
    }
    if (modern) { /* 2026-07-28: the body's version, method and name mirrored in headers */
        const char *method = json_string_value(json_object_get(msg, "method"));
        const char *name = json_string_value(json_object_get(params, "name"));
        hdrs[k++] = h_version = mem_printf("MCP-Protocol-Version: %s", MCPC_MODERN_VERSION);
        hdrs[k++] = h_method = mem_printf("Mcp-Method: %s", method ? method : "");
        if (name && method && strcmp(method, "tools/call") == 0)
            hdrs[k++] = h_name = mem_printf("Mcp-Name: %s", name); /* tool names are plain ASCII */
    } else {
        if (m->session_id)
            hdrs[k++] = h_session = mem_printf("Mcp-Session-Id: %s", m->session_id);
        if (m->protocol_version)
            hdrs[k++] = h_version = mem_printf("MCP-Protocol-Version: %s", m->protocol_version);
    }
    if (httpc_request(&m->http, "POST", m->url, msg, hdrs, timeout_s, &r, err) < 0)
        goto out;
    *status = (int)r.status;
    if (r.session_id && !m->session_id)
        m->session_id = mem_strdup(r.session_id);
    if (r.status == 401 || r.status == 403) {
        const char *em = httpc_error_message(&r);
        err_set(err, r.status == 401 ? ERR_UNAUTHORIZED : ERR_FORBIDDEN,
                "MCP server refused the token (HTTP %ld%s%s)", r.status, em ? ": " : "",
                em ? em : "");
        goto out;
    }
    if (!id) { /* a notification: 202 expected */
        if (r.status >= 200 && r.status < 300)
            rc = 0;
        else
            err_set(err, ERR_INTERNAL, "MCP notification answered HTTP %ld", r.status);
        goto out;
    }
    if (r.status < 200 || r.status > 299) {
        const char *em = httpc_error_message(&r);
        err_set(err,
                r.status == 404   ? ERR_NOT_FOUND
                : r.status >= 500 ? ERR_UNAVAILABLE
                                  : ERR_INVALID,
                "MCP server answered HTTP %ld%s%s", r.status, em ? ": " : "", em ? em : "");
        goto out;
    }
    if (r.content_type && strncmp(r.content_type, "text/event-stream", 17) == 0)
        *reply = mcpc_sse_find(r.body ? r.body : "", json_integer_value(id));
    else if (r.json)
        *reply = json_incref(r.json);
    if (!json_is_object(*reply)) {
        json_decref(*reply);
        *reply = NULL;
        err_set(err, ERR_INTERNAL, "MCP server sent no JSON-RPC response");
        goto out;
    }
    rc = 0;
out:
    httpc_resp_clear(&r);
    free(h_session);
    free(h_version);
    free(h_method);
    free(h_name);
    return rc;
}

/* Turn a JSON-RPC response into its result, or an error. */
static int mcpc_unwrap(json_t *reply, json_t **result, struct err *err)
{
    json_t *e = json_object_get(reply, "error"), *res = json_object_get(reply, "result");

    if (e) {
        json_int_t code = json_integer_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        return err_set(err,
                       code == -32602 || code == -32600 ? ERR_INVALID
                       : code == -32601                 ? ERR_NOT_FOUND
                                                        : ERR_INTERNAL,
                       "MCP error %lld: %s", (long long)code, msg ? msg : "(no message)");
    }
    if (!res)
        return err_set(err, ERR_INTERNAL, "MCP response has neither result nor error");
    *result = json_incref(res);
    return 0;
}

/* The per-request metadata of the modern era (basic/index, _meta). */
static json_t *mcpc_meta(const struct mcpc *m)
{
    return json_pack("{s:s, s:{}, s:{s:s, s:s}}", MCPC_META_VERSION, MCPC_MODERN_VERSION,
                     "io.modelcontextprotocol/clientCapabilities",
                     "io.modelcontextprotocol/clientInfo", "name",
                     m->client_name ? m->client_name : "drover-client", "version", "0");
}

static int mcpc_send_request(struct mcpc *m, const char *method, const json_t *params,
                             long timeout_s, json_t **result, struct err *err)
{
    json_t *msg =
               json_pack("{s:s, s:I, s:s}", "jsonrpc", "2.0", "id", m->next_id++, "method", method),
           *reply = NULL;
    int status, rc;

    if (params)
        json_object_set_new(msg, "params", json_deep_copy(params));
    if (m->modern) {
        json_t *p = json_object_get(msg, "params");
        if (!p)
            json_object_set_new(msg, "params", p = json_object());
        json_object_set_new(p, "_meta", mcpc_meta(m));
    }
    rc = mcpc_post(m, msg, timeout_s, &reply, &status, err);
    if (rc == 0)
        rc = mcpc_unwrap(reply, result, err);
    json_decref(reply);
    json_decref(msg);
    return rc < 0 ? (status == 404 ? -2 : -1) : 0;
}

/*
 * The modern era's probe: 0 when the server answered server/discover offering 2026-07-28 (the
 * client is then modern), 1 when it did not understand it (a legacy server: fall back), -1 on
 * an auth refusal or an outage (err set).
 */
static int mcpc_discover(struct mcpc *m, struct err *err)
{
    json_t *result = NULL, *versions, *v;
    struct err perr = {0};
    size_t i;
    int rc;

    m->modern = true;
    rc = mcpc_send_request(m, "server/discover", NULL, 0, &result, &perr);
    m->modern = false;
    if (rc != 0) {
        if (perr.code == ERR_UNAUTHORIZED || perr.code == ERR_FORBIDDEN ||
            perr.code == ERR_UNAVAILABLE) {
            *err = perr;
            return -1;
        }
        return 1;
    }
    versions = json_object_get(result, "supportedVersions");
    json_array_foreach(versions, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), MCPC_MODERN_VERSION) == 0)
            m->modern = true;
    }
    if (m->modern) {
        free(m->protocol_version);
        m->protocol_version = mem_strdup(MCPC_MODERN_VERSION);
        json_decref(m->server_info);
        m->server_info = json_incref(json_object_get(json_object_get(result, "_meta"),
                                                     "io.modelcontextprotocol/serverInfo"));
    }
    json_decref(result);
    return m->modern ? 0 : 1;
}

int mcpc_initialize(struct mcpc *m, const char *client_name, const char *client_version,
                    struct err *err)
{
    json_t *params, *result = NULL, *note;
    const char *pv;
    int status, rc = -1;
    json_t *reply = NULL;

    free(m->session_id);
    m->session_id = NULL;
    free(m->protocol_version);
    m->protocol_version = NULL;
    if (client_name && client_name != m->client_name) {
        free(m->client_name);
        m->client_name = mem_strdup(client_name);
    }
    m->modern = false;
    if (!m->legacy_only) {
        int p = mcpc_discover(m, err);
        if (p <= 0)
            return p; /* 0: modern; -1: refused or unreachable (no point in initialize) */
    }
    params = json_pack("{s:s, s:{}, s:{s:s, s:s}}", "protocolVersion", MCPC_PROTOCOL_VERSION,
                       "capabilities", "clientInfo", "name",
                       m->client_name ? m->client_name : "drover-client", "version",
                       client_version ? client_version : "0");
    if (mcpc_send_request(m, "initialize", params, 0, &result, err) != 0)
        goto out;
    pv = json_string_value(json_object_get(result, "protocolVersion"));
    if (!pv) {
        err_set(err, ERR_INTERNAL, "initialize result has no protocolVersion");
        goto out;
    }
    m->protocol_version = mem_strdup(pv);
    json_decref(m->server_info);
    m->server_info = json_incref(json_object_get(result, "serverInfo"));
    note = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", "notifications/initialized");
    rc = mcpc_post(m, note, 0, &reply, &status, err);
    json_decref(note);
out:
    json_decref(reply);
    json_decref(result);
    json_decref(params);
    return rc;
}

/* A JSON-RPC request (e.g. "tools/call"); *result = the "result" member (owned). */
static int mcpc_request(struct mcpc *m, const char *method, const json_t *params, long timeout_s,
                        json_t **result, struct err *err)
{
    int rc;

    *result = NULL;
    rc = mcpc_send_request(m, method, params, timeout_s, result, err);
    if (rc == -2 && m->session_id) {
        /* The server forgot our session (restart, expiry): start a new one and retry once. */
        if (mcpc_initialize(m, m->client_name, NULL, err) < 0)
            return -1;
        rc = mcpc_send_request(m, method, params, timeout_s, result, err);
    }
    return rc == 0 ? 0 : -1;
}

int mcpc_call(struct mcpc *m, const char *name, const json_t *args, long timeout_s, json_t **result,
              struct err *err)
{
    json_t *params = json_pack("{s:s, s:O}", "name", name, "arguments",
                               args ? (json_t *)args : json_object()),
           *res = NULL, *sc, *text;
    int rc = -1;

    *result = NULL;
    if (!args) /* json_pack's O took a reference to the fresh object above */
        json_decref(json_object_get(params, "arguments"));
    if (mcpc_request(m, "tools/call", params, timeout_s, &res, err) < 0)
        goto out;
    sc = json_object_get(res, "structuredContent");
    text = json_object_get(json_array_get(json_object_get(res, "content"), 0), "text");
    if (json_is_true(json_object_get(res, "isError"))) {
        json_t *body =
            sc ? json_incref(sc)
               : json_loads(json_string_value(text) ? json_string_value(text) : "", 0, NULL);
        json_t *e = json_object_get(body, "error");
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        if (!msg)
            msg = json_string_value(text);
        err_set(err, mcpc_err_code(code), "%s: %s", name, msg ? msg : "tool failed");
        json_decref(body);
        goto out;
    }
    if (sc)
        *result = json_incref(sc);
    else if (json_is_string(text))
        *result = json_loads(json_string_value(text), 0, NULL);
    if (!*result) {
        err_set(err, ERR_INTERNAL, "%s returned no structured result", name);
        goto out;
    }
    rc = 0;
out:
    json_decref(res);
    json_decref(params);
    return rc;
}
