/*
 * The shared libcurl client behind core/http.h: one function turns a `struct http_req` into
 * easy-handle options, so the blocking request and the non-blocking stream apply the same
 * rules (no redirects, http/https only, NOSIGNAL, bounded bodies, no secret in a message).
 * The thread that owns the handle or stream.
 */
#include "core/http.h"
#include "core/buf.h"
#include "core/mem.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What one transfer's callbacks share. */
struct http_xfer {
    const struct http_req *req;
    struct http_resp *resp;
    CURL *c;
    struct buf body;
    bool too_large;
    long status; /* cached on the first body slice, for on_data */
    struct curl_slist *hl;
    char ebuf[CURL_ERROR_SIZE];
    char what[320]; /* "METHOD URL" with the URL's userinfo removed: the context of messages */
};

int http_init(struct http *h, struct err *err)
{
    h->curl = curl_easy_init();
    if (!h->curl)
        return err_set(err, ERR_INTERNAL, "curl_easy_init failed");
    return 0;
}

void http_clear(struct http *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    h->curl = NULL;
}

void http_resp_clear(struct http_resp *r)
{
    if (!r)
        return;
    free(r->body);
    free(r->content_type);
    for (size_t i = 0; i < HTTP_MAX_KEEP; i++)
        free(r->kept[i]);
    memset(r, 0, sizeof(*r));
}

char *http_escape(const char *s)
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

/* "METHOD URL" for messages, without "user:password@" in the URL's authority. */
static void http_what(const struct http_req *req, char *out, size_t outsz)
{
    const char *url = req->url ? req->url : "", *auth = strstr(url, "://"), *at = NULL;
    const char *method = req->method ? req->method : "GET";

    if (auth) {
        size_t alen;

        auth += 3;
        alen = strcspn(auth, "/?#");
        for (const char *p = auth; p < auth + alen; p++)
            if (*p == '@')
                at = p;
    }
    if (at)
        snprintf(out, outsz, "%s %.*s%s", method, (int)(auth - url), url, at + 1);
    else
        snprintf(out, outsz, "%s %s", method, url);
}

static size_t http_on_body(char *p, size_t size, size_t n, void *ud)
{
    struct http_xfer *x = ud;
    size_t len = size * n;

    if (x->req->on_data) {
        if (x->status == 0)
            curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &x->status);
        return x->req->on_data(x->req->data_arg, x->status, p, len) < 0 ? 0 : len;
    }
    if (buf_append(&x->body, p, len) < 0) {
        x->too_large = true;
        return 0;
    }
    return len;
}

/* Keeps the response headers the request asked for (the last of each name wins). */
static size_t http_on_header(char *p, size_t size, size_t n, void *ud)
{
    struct http_xfer *x = ud;
    const char *const *keep = x->req->keep_headers;
    size_t len = size * n;

    for (size_t i = 0; keep && keep[i] && i < HTTP_MAX_KEEP; i++) {
        size_t k = strlen(keep[i]);
        const char *v = p + k + 1;
        size_t vl;

        if (len <= k || p[k] != ':' || strncasecmp(p, keep[i], k) != 0)
            continue;
        vl = len - k - 1;
        while (vl && isspace((unsigned char)*v)) {
            v++;
            vl--;
        }
        while (vl && isspace((unsigned char)v[vl - 1]))
            vl--;
        free(x->resp->kept[i]);
        x->resp->kept[i] = mem_strndup(v, vl);
    }
    return len;
}

static int http_on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    volatile const int *flag = ud;

    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    return *flag ? 1 : 0;
}

static void http_blob(CURL *c, CURLoption opt, const char *pem)
{
    struct curl_blob b = {(void *)pem, strlen(pem), CURL_BLOB_COPY};

    curl_easy_setopt(c, opt, &b);
}

/* Every option of one transfer, on a handle that was just created or reset. */
static void http_setup(struct http_xfer *x)
{
    const struct http_req *r = x->req;
    const char *method = r->method ? r->method : "GET";
    CURL *c = x->c;

    curl_easy_setopt(c, CURLOPT_URL, r->url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    else if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    /* A redirect would carry the credentials to wherever it points: never follow one. */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
                     r->connect_timeout_s > 0 ? r->connect_timeout_s : 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, r->timeout_s > 0 ? r->timeout_s : 60L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->ebuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    for (size_t i = 0; r->headers && r->headers[i]; i++)
        x->hl = curl_slist_append(x->hl, r->headers[i]);
    if (r->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(r->body_len ? r->body_len : strlen(r->body)));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
    }
    if (r->content_type) {
        char *ct = mem_printf("Content-Type: %s", r->content_type);

        x->hl = curl_slist_append(x->hl, ct);
        free(ct);
    }
    if (r->bearer) {
        char *a = mem_printf("Authorization: Bearer %s", r->bearer);

        x->hl = curl_slist_append(x->hl, a);
        memset(a, 0, strlen(a));
        free(a);
    }
    if (r->basic_user) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, r->basic_user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, r->basic_password ? r->basic_password : "");
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->hl);
    if (r->ca_pem)
        http_blob(c, CURLOPT_CAINFO_BLOB, r->ca_pem);
    if (r->cert_pem && r->key_pem) {
        http_blob(c, CURLOPT_SSLCERT_BLOB, r->cert_pem);
        curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
        http_blob(c, CURLOPT_SSLKEY_BLOB, r->key_pem);
        curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (r->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (r->abort_flag) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, http_on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)r->abort_flag);
    }
    if (r->tcp_keepalive)
        curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
}

static void http_xfer_init(struct http_xfer *x, const struct http_req *req, struct http_resp *resp,
                           CURL *c)
{
    memset(x, 0, sizeof(*x));
    memset(resp, 0, sizeof(*resp));
    x->req = req;
    x->resp = resp;
    x->c = c;
    buf_init(&x->body, req->max_body ? req->max_body : HTTP_DEFAULT_MAX_BODY);
    http_what(req, x->what, sizeof(x->what));
}

/* The outcome of a finished transfer: the response's facts, or why there is none. */
static int http_finish(struct http_xfer *x, CURLcode cc, struct err *err)
{
    struct http_resp *resp = x->resp;
    curl_off_t retry_after = 0;
    char *ct = NULL;

    if (cc != CURLE_OK) {
        resp->status = 0;
        if (x->too_large)
            snprintf(resp->error, sizeof(resp->error), "response body over %zu bytes",
                     x->body.limit);
        else
            snprintf(resp->error, sizeof(resp->error), "%s",
                     x->ebuf[0] ? x->ebuf : curl_easy_strerror(cc));
        resp->body = mem_strdup("");
        return err_set(err, x->too_large ? ERR_TOO_LARGE : ERR_UNAVAILABLE, "%s: %s", x->what,
                       resp->error);
    }
    curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_getinfo(x->c, CURLINFO_CONTENT_TYPE, &ct);
    if (ct)
        resp->content_type = mem_strdup(ct);
    if (curl_easy_getinfo(x->c, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
        resp->retry_after_s = (long)retry_after;
    resp->body = buf_take(&x->body, &resp->len);
    if (!resp->body)
        resp->body = mem_strdup("");
    return 0;
}

int http_request(struct http *h, const struct http_req *req, struct http_resp *resp,
                 struct err *err)
{
    CURL *c = h ? h->curl : curl_easy_init();
    struct http_xfer x;
    int rc;

    if (!c) {
        memset(resp, 0, sizeof(*resp));
        resp->body = mem_strdup("");
        return err_set(err, ERR_INTERNAL, "curl_easy_init failed");
    }
    if (h)
        curl_easy_reset(c); /* keeps the connection cache: keep-alive across requests */
    http_xfer_init(&x, req, resp, c);
    http_setup(&x);
    rc = http_finish(&x, curl_easy_perform(c), err);
    /* The header list and error buffer are this call's: detach them from a reused handle. */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(x.hl);
    buf_clear(&x.body);
    if (!h)
        curl_easy_cleanup(c);
    return rc;
}

struct http_stream {
    CURLM *multi;
    struct http_xfer x;
    struct http_req req;   /* the caller's, copied (its strings are borrowed) */
    struct http_resp resp; /* facts of the response; the body went to on_data */
    bool done;
};

int http_stream_open(const struct http_req *req, struct http_stream **out, struct err *err)
{
    struct http_stream *s;
    CURL *c;

    *out = NULL;
    if (!req->on_data)
        return err_set(err, ERR_INTERNAL, "http_stream_open needs on_data");
    c = curl_easy_init();
    if (!c)
        return err_set(err, ERR_INTERNAL, "curl_easy_init failed");
    s = mem_calloc(1, sizeof(*s));
    s->req = *req;
    s->multi = curl_multi_init();
    http_xfer_init(&s->x, &s->req, &s->resp, c);
    http_setup(&s->x);
    /* libcurl copied the strings and the header list holds copies: drop the borrowed
     * pointers the stream no longer needs, so none outlives what it points to. */
    s->req.url = s->req.method = s->req.content_type = NULL;
    s->req.headers = NULL;
    s->req.ca_pem = s->req.cert_pem = s->req.key_pem = NULL;
    s->req.bearer = s->req.basic_user = s->req.basic_password = NULL;
    curl_multi_add_handle(s->multi, c);
    *out = s;
    return 0;
}

int http_stream_step(struct http_stream *s, long *status, struct err *err)
{
    int running = 0, left;
    CURLMsg *m;

    if (!s->done) {
        curl_multi_perform(s->multi, &running);
        while ((m = curl_multi_info_read(s->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            err_clear(err);
            http_finish(&s->x, m->data.result, err);
            if (m->data.result != CURLE_OK) /* a status may have arrived before the failure */
                curl_easy_getinfo(s->x.c, CURLINFO_RESPONSE_CODE, &s->resp.status);
            s->done = true;
        }
    }
    *status = s->done ? s->resp.status : 0;
    return s->done ? 0 : 1;
}

void http_stream_close(struct http_stream *s)
{
    if (!s)
        return;
    curl_multi_remove_handle(s->multi, s->x.c);
    curl_easy_cleanup(s->x.c);
    curl_multi_cleanup(s->multi);
    curl_slist_free_all(s->x.hl);
    buf_clear(&s->x.body);
    http_resp_clear(&s->resp);
    free(s);
}
