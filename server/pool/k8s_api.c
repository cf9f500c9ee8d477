/*
 * Requests of the `kubernetes` pod backend to the API server, on the shared HTTP client: the
 * cluster's TLS settings and bearer token (a token file is re-read as it rotates), retries
 * and the mapping of Kubernetes statuses to errors. 429 honours Retry-After, 5xx and dropped
 * connections back off and retry (bounded), 401 re-reads a rotating token once, 403 (e.g.
 * "exceeded quota") and 422 are surfaced without retrying. Pool thread only (blocking).
 */
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "pool/k8s_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The bearer token; a token file is re-read every minute (and with `force`: after a 401). */
static const char *k8s_api_token(struct k8s_impl *k, bool force)
{
    if (k->kc.token_file && (force || !k->token || clock_s() - k->token_read_at > 60)) {
        char *t = kubeconfig_read_file(k->kc.token_file, NULL, NULL);

        if (t) {
            t[strcspn(t, "\r\n")] = '\0';
            if (k->token)
                memset(k->token, 0, strlen(k->token));
            free(k->token);
            k->token = t;
            k->token_read_at = clock_s();
        }
    }
    return k->token;
}

void k8s_api_auth(struct k8s_impl *k, struct http_req *req, bool force_token)
{
    req->ca_pem = k->kc.ca_pem;
    req->cert_pem = k->kc.cert_pem;
    req->key_pem = k->kc.key_pem;
    req->insecure = k->kc.insecure;
    req->bearer = k8s_api_token(k, force_token);
}

/* The Status message of an error body, for messages. */
static void k8s_api_status_msg(const struct http_resp *r, char *out, size_t outsz)
{
    json_error_t je;
    json_t *s = r->len ? json_loadb(r->body, r->len, 0, &je) : NULL;
    const char *m = json_string_value(json_object_get(s, "message"));

    snprintf(out, outsz, "%s", m ? m : "(no message)");
    json_decref(s);
}

/* How long to wait before attempt `attempt` + 1: the server's Retry-After for a 429 (capped),
 * else 0.25 s, 0.5 s, 1 s. */
static double k8s_api_backoff(const struct http_resp *r, int attempt)
{
    double wait = r->status == 429 && r->retry_after_s > 0 ? (double)r->retry_after_s
                                                           : 0.25 * (double)(1 << attempt);

    return wait > 5 ? 5 : wait;
}

int k8s_api_request(struct k8s_impl *k, const char *method, const char *path, const char *body,
                    const char *ctype, struct http_resp *resp, struct err *err)
{
    static const char *const accept[] = {"Accept: application/json", NULL};
    char *url = mem_printf("%s%s", k->kc.server, path);
    bool reread = false;
    int rc = -1;

    memset(resp, 0, sizeof(*resp));
    for (int attempt = 0;; attempt++) {
        struct http_req req = {.method = method,
                               .url = url,
                               .headers = accept,
                               .body = body,
                               .content_type = ctype,
                               .timeout_s = 60,
                               .max_body = K8S_BODY_MAX};
        struct err e = {0};
        bool got;
        double wait;

        k8s_api_auth(k, &req, reread);
        http_resp_clear(resp);
        got = http_request(NULL, &req, resp, &e) == 0;
        if (got && resp->status == 401 && !reread && k->kc.token_file) {
            reread = true; /* the token rotated under us */
            continue;
        }
        if (got && resp->status != 429 && resp->status < 500) {
            rc = 0;
            break;
        }
        if (!got && e.code == ERR_TOO_LARGE) { /* the same answer again: no retry */
            err_set(err, ERR_TOO_LARGE, "kubernetes %s %s: %s", method, path, resp->error);
            break;
        }
        if (attempt + 1 >= K8S_RETRIES) {
            char m[160];

            if (!got) {
                err_set(err, ERR_UNAVAILABLE, "kubernetes %s %s: %s", method, path, resp->error);
                break;
            }
            k8s_api_status_msg(resp, m, sizeof(m));
            err_set(err, resp->status == 429 ? ERR_BUSY : ERR_UNAVAILABLE,
                    "kubernetes %s %s: HTTP %ld after %d attempts: %s", method, path, resp->status,
                    K8S_RETRIES, m);
            break;
        }
        wait = k8s_api_backoff(resp, attempt);
        log_warn("pool.k8s", "%s %s: %s, retrying in %.2f s", method, path,
                 !got                  ? resp->error
                 : resp->status == 429 ? "429 Too Many Requests"
                                       : "server error",
                 wait);
        usleep((useconds_t)(wait * 1e6));
    }
    free(url);
    return rc;
}

int k8s_api_fail(const struct http_resp *resp, const char *what, struct err *err)
{
    char m[200];
    enum err_code code = ERR_INTERNAL;

    k8s_api_status_msg(resp, m, sizeof(m));
    switch (resp->status) {
    case 400:
    case 422:
        code = ERR_INVALID; /* our request is wrong: never retried */
        break;
    case 401:
        code = ERR_UNAUTHORIZED;
        break;
    case 403:
        code = ERR_FORBIDDEN; /* RBAC, or "exceeded quota": a capacity ceiling */
        break;
    case 404:
        code = ERR_NOT_FOUND;
        break;
    case 409:
        code = ERR_CONFLICT;
        break;
    default:
        break;
    }
    return err_set(err, code, "kubernetes %s: HTTP %ld: %s", what, resp->status, m);
}

int k8s_api_json(struct k8s_impl *k, const char *method, const char *path, const json_t *body,
                 const char *ctype, const char *what, json_t **out, long *status_out,
                 struct err *err)
{
    struct http_resp resp;
    char *js = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_error_t je;
    int rc = -1;

    if (out)
        *out = NULL;
    if (k8s_api_request(k, method, path, js, body ? (ctype ? ctype : "application/json") : NULL,
                        &resp, err) < 0)
        goto out;
    if (status_out)
        *status_out = resp.status;
    if (resp.status < 200 || resp.status > 299) {
        k8s_api_fail(&resp, what, err);
        goto out;
    }
    if (out && !(*out = json_loadb(resp.body, resp.len, 0, &je))) {
        err_set(err, ERR_INTERNAL, "kubernetes %s: unreadable reply: %s", what, je.text);
        goto out;
    }
    rc = 0;
out:
    free(js);
    http_resp_clear(&resp);
    return rc;
}
