/*
 * The one HTTP client on libcurl that droverd and the agent side share: the forge REST calls,
 * the Kubernetes API (its watch stream included), the agent's MCP client and droverctl. Domain
 * logic (JSON shapes, retries, status mapping) stays with those callers; this layer only moves
 * bytes, with the same rules for everyone:
 *  - redirects are never followed (a credential must not travel to where a Location points);
 *  - http:// and https:// only; CURLOPT_NOSIGNAL (a timeout must not raise SIGALRM in a
 *    threaded process); the response body is bounded;
 *  - error messages name the method, the URL without its userinfo and libcurl's reason, never a
 *    header, a token, a password or a key.
 * Threads: a `struct http` (one reusable CURL handle, so keep-alive connections are reused) or
 * a `struct http_stream` belongs to one thread at a time; http_request with a NULL handle uses a
 * fresh one, so it may be called from any thread. Every call blocks except http_stream_step.
 * libcurl's global initialisation is the program's (curl_global_init before any thread).
 */
#ifndef DROVER_CORE_HTTP_H
#define DROVER_CORE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define HTTP_MAX_KEEP 4                  /* response headers one request may keep */
#define HTTP_DEFAULT_MAX_BODY (8u << 20) /* the body cap when a request names none */

/*
 * A streamed response body: called with each slice as it arrives and the response's status.
 * Return 0 to go on, -1 to abandon the transfer (it then ends with a transport error).
 */
typedef int (*http_data_fn)(void *arg, long status, const char *p, size_t n);

struct http_req {
    const char *method;         /* NULL = "GET"; "HEAD" asks for no body */
    const char *url;            /* http:// or https:// */
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated; may be NULL */
    /* The request body, or NULL for none (a POST without a body needs ""). */
    const char *body;
    size_t body_len;          /* 0 = strlen(body) */
    const char *content_type; /* Content-Type of the body, or NULL */
    long timeout_s;           /* the whole exchange; 0 = 60 */
    long connect_timeout_s;   /* 0 = 10 */
    /* TLS (all borrowed PEM text; NULL = none / the system's trust store). */
    const char *ca_pem;
    const char *cert_pem, *key_pem; /* client certificate and its key: both or neither */
    bool insecure;                  /* skip certificate and host-name verification */
    /* Credentials: sent, never logged nor quoted. A credential header of another shape (a
     * forge's "PRIVATE-TOKEN: ...") goes in `headers`, which are never quoted either. */
    const char *bearer;                      /* Authorization: Bearer <bearer> */
    const char *basic_user, *basic_password; /* HTTP Basic */
    /* The response. */
    size_t max_body;      /* cap of resp->body; 0 = HTTP_DEFAULT_MAX_BODY */
    http_data_fn on_data; /* when set, the body goes here instead of resp->body */
    void *data_arg;
    const char *const *keep_headers; /* response header names to keep (case-insensitive) */
    volatile const int *abort_flag;  /* non-zero abandons the transfer within about 1 s */
    bool tcp_keepalive;              /* TCP keepalive probes on an idle connection */
};

struct http_resp {
    long status; /* the HTTP status; 0 when no response arrived */
    char *body;  /* owned, NUL-terminated; "" when empty or streamed */
    size_t len;
    char *content_type; /* owned, or NULL */
    long retry_after_s; /* the Retry-After header in seconds; 0 = none */
    char error[256];    /* why no response arrived (libcurl's reason); "" otherwise */
    /* kept[i] is the value of req->keep_headers[i] (owned), or NULL when it was absent. */
    char *kept[HTTP_MAX_KEEP];
};

/* A reusable handle: one thread at a time. */
struct http {
    void *curl; /* CURL *, owned */
};

int http_init(struct http *h, struct err *err);
void http_clear(struct http *h);

/*
 * Perform `req` on `h` (NULL: a handle of its own). 0 when a response arrived, whatever its
 * status (the caller decides what the status means); -1 when none did: ERR_UNAVAILABLE
 * (connection, TLS, timeout, abort) or ERR_TOO_LARGE (a body past req->max_body), with the
 * message "METHOD URL: reason"; resp->status is 0 then. resp is always initialised; clear it
 * with http_resp_clear either way.
 */
int http_request(struct http *h, const struct http_req *req, struct http_resp *resp,
                 struct err *err);

void http_resp_clear(struct http_resp *r);

/* Percent-encode every byte outside [A-Za-z0-9._~-] ('/' too): a path segment or query value.
 * Owned result. */
char *http_escape(const char *s);

/*
 * A transfer driven without blocking (the Kubernetes watch): http_stream_open starts it, the
 * body goes to req->on_data (required) as it arrives, and http_stream_step moves it on.
 * What req->body, req->keep_headers, req->data_arg and req->abort_flag point to must outlive
 * the stream; everything else is copied when it opens.
 */
struct http_stream;

int http_stream_open(const struct http_req *req, struct http_stream **out, struct err *err);

/*
 * Do what is ready without waiting. 1 while the transfer runs; 0 once it has ended: *status
 * is the final HTTP status (0: no response), and `err` is set (ERR_UNAVAILABLE,
 * "METHOD URL: reason") when it ended on a transport error, cleared when it completed.
 */
int http_stream_step(struct http_stream *s, long *status, struct err *err);

/* Abandon or release the stream; NULL is a no-op. */
void http_stream_close(struct http_stream *s);

#endif
