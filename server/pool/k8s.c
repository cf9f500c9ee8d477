/*
 * The `kubernetes` pod backend: bare agent pods over the Kubernetes REST API with libcurl.
 *
 *  create  Secret drover-agent-<id> (the token) -> Pod from the template (generateName, labels
 *          app.kubernetes.io/name=drover-agent + drover.dev/agent-id, DROVER_TOKEN from the
 *          Secret via secretKeyRef, AGENT_ID, MCP_SERVER_URL) -> merge-patch the Secret's
 *          ownerReferences to the pod, so it is garbage-collected with it.
 *  remove  DELETE with DeleteOptions {gracePeriodSeconds, propagationPolicy, preconditions.uid};
 *          404 is success, 409 (another incarnation) too; the Secret is deleted as well.
 *  list    labelSelector + limit/continue paging.
 *  poll    a watch from the list's resourceVersion with allowWatchBookmarks, driven without
 *          blocking through curl_multi; events are split on newlines across callbacks; HTTP 410
 *          and an in-stream ERROR 410 re-list (reporting what changed meanwhile); a dropped
 *          or timed-out stream resumes from the last resourceVersion (bookmarks included).
 *  logs    GET .../log?container=agent&tailLines=N.
 * Errors: 429 honours Retry-After and 5xx / dropped connections back off and retry (bounded),
 * 401 re-reads a rotating token once, 403 (e.g. "exceeded quota") and 422 are surfaced
 * without retrying. None of them crash the loop: every call returns -1 with a message.
 * Pool thread only (every call blocks except poll).
 */
#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "pool/backend.h"
#include "pool/kubeconfig.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define K8S_LABEL_NAME "app.kubernetes.io/name"
#define K8S_LABEL_AGENT "drover.dev/agent-id"
#define K8S_SELECTOR "app.kubernetes.io%2Fname%3Ddrover-agent"
#define K8S_BODY_MAX (32u << 20)
#define K8S_RETRIES 4
#define K8S_WATCH_SECONDS 300

struct k8s_pod_state {
    char name[254], uid[64], agent_id[37];
    enum backend_phase phase;
};

struct k8s_impl {
    struct kubeconfig kc;
    char *ns;
    char *token; /* current bearer token (from kc.token or kc.token_file) */
    double token_read_at;
    json_t *tmpl; /* the agent pod template */
    CURLM *multi;
    CURL *watch; /* the open watch, or NULL */
    struct curl_slist *watch_hdrs;
    struct buf line; /* partial watch line */
    long watch_status;
    char rv[64];           /* last resourceVersion seen (list, event or bookmark) */
    bool need_list;        /* (re-)list before watching */
    double watch_retry_at; /* back-off before reopening a failed watch */
    struct k8s_pod_state *pods;
    size_t npods, cappods;
    /* Events gathered while parsing, delivered by poll. */
    struct backend_pod *events;
    size_t nevents, capevents;
};

static double k8s_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- auth ----------------------------------------------------------------------------------- */

/* The bearer token; a token file is re-read every minute (and on 401) because it rotates. */
static const char *k8s_token(struct k8s_impl *k, bool force)
{
    if (k->kc.token_file && (force || !k->token || k8s_now() - k->token_read_at > 60)) {
        char *t = kubeconfig_read_file(k->kc.token_file, NULL, NULL);

        if (t) {
            t[strcspn(t, "\r\n")] = '\0';
            if (k->token)
                memset(k->token, 0, strlen(k->token));
            free(k->token);
            k->token = t;
            k->token_read_at = k8s_now();
        }
    }
    return k->token;
}

static struct curl_slist *k8s_headers(struct k8s_impl *k, const char *ctype, bool force_token)
{
    struct curl_slist *h = NULL;
    const char *tok = k8s_token(k, force_token);

    h = curl_slist_append(h, "Accept: application/json");
    if (ctype) {
        char *c = mem_printf("Content-Type: %s", ctype);

        h = curl_slist_append(h, c);
        free(c);
    }
    if (tok) {
        char *a = mem_printf("Authorization: Bearer %s", tok);

        h = curl_slist_append(h, a);
        memset(a, 0, strlen(a));
        free(a);
    }
    return h;
}

static void k8s_tls(struct k8s_impl *k, CURL *c)
{
    if (k->kc.ca_pem) {
        struct curl_blob ca = {k->kc.ca_pem, strlen(k->kc.ca_pem), CURL_BLOB_NOCOPY};

        curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
    }
    if (k->kc.cert_pem && k->kc.key_pem) {
        struct curl_blob cert = {k->kc.cert_pem, strlen(k->kc.cert_pem), CURL_BLOB_NOCOPY};
        struct curl_blob key = {k->kc.key_pem, strlen(k->kc.key_pem), CURL_BLOB_NOCOPY};

        curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
        curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
        curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (k->kc.insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

/* ---- one request with retries -----------------------------------------------------------------
 */

static size_t k8s_collect(char *p, size_t sz, size_t n, void *arg)
{
    return buf_append(arg, p, sz * n) < 0 ? 0 : sz * n;
}

/* The Status message of an error body, for messages. */
static void k8s_status_msg(const struct buf *b, char *out, size_t outsz)
{
    json_error_t je;
    json_t *s = b->len ? json_loadb(b->data, b->len, 0, &je) : NULL;
    const char *m = json_string_value(json_object_get(s, "message"));

    snprintf(out, outsz, "%s", m ? m : "(no message)");
    json_decref(s);
}

/*
 * Send one request; retry 429 (Retry-After), 5xx and transport errors with back-off, and a 401
 * once after re-reading the token. *status is the final HTTP status (0 on transport failure);
 * the body is in *resp (caller-initialised). Returns 0 when a response arrived (any status).
 */
static int k8s_do(struct k8s_impl *k, const char *method, const char *path, const char *body,
                  const char *ctype, long *status, struct buf *resp, struct err *err)
{
    char *url = mem_printf("%s%s", k->kc.server, path);
    bool reread = false;
    int rc = -1;

    for (int attempt = 0;; attempt++) {
        CURL *c = curl_easy_init();
        struct curl_slist *h = k8s_headers(k, ctype, reread);
        char ebuf[CURL_ERROR_SIZE] = "";
        curl_off_t retry_after = 0;
        CURLcode cc;

        buf_reset(resp);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, k8s_collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        if (body) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        }
        k8s_tls(k, c);
        cc = curl_easy_perform(c);
        *status = 0;
        if (cc == CURLE_OK) {
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
            curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after);
        }
        curl_slist_free_all(h);
        curl_easy_cleanup(c);

        if (cc == CURLE_OK && *status == 401 && !reread && k->kc.token_file) {
            reread = true; /* the token rotated under us */
            continue;
        }
        if (cc == CURLE_OK && *status != 429 && *status < 500) {
            rc = 0;
            break;
        }
        if (attempt + 1 >= K8S_RETRIES) {
            if (cc != CURLE_OK)
                err_set(err, ERR_UNAVAILABLE, "kubernetes %s %s: %s", method, path,
                        ebuf[0] ? ebuf : curl_easy_strerror(cc));
            else {
                char m[160];

                k8s_status_msg(resp, m, sizeof(m));
                err_set(err, *status == 429 ? ERR_BUSY : ERR_UNAVAILABLE,
                        "kubernetes %s %s: HTTP %ld after %d attempts: %s", method, path, *status,
                        K8S_RETRIES, m);
            }
            break;
        }
        {
            /* 429: the server's Retry-After (capped); else 0.25 s, 0.5 s, 1 s. */
            double wait = *status == 429 && retry_after > 0 ? (double)retry_after
                                                            : 0.25 * (double)(1 << attempt);

            if (wait > 5)
                wait = 5;
            log_warn("pool.k8s", "%s %s: %s, retrying in %.2f s", method, path,
                     cc != CURLE_OK   ? curl_easy_strerror(cc)
                     : *status == 429 ? "429 Too Many Requests"
                                      : "server error",
                     wait);
            usleep((useconds_t)(wait * 1e6));
        }
    }
    free(url);
    return rc;
}

/* Map a non-2xx final status to an error with the Status message. */
static int k8s_fail(long status, const struct buf *resp, const char *what, struct err *err)
{
    char m[200];
    enum err_code code = ERR_INTERNAL;

    k8s_status_msg(resp, m, sizeof(m));
    switch (status) {
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
    return err_set(err, code, "kubernetes %s: HTTP %ld: %s", what, status, m);
}

/* Request and parse a JSON reply; 2xx only. */
static int k8s_json(struct k8s_impl *k, const char *method, const char *path, const json_t *body,
                    const char *ctype, const char *what, json_t **out, long *status_out,
                    struct err *err)
{
    struct buf resp;
    char *js = body ? json_dumps(body, JSON_COMPACT) : NULL;
    long status = 0;
    json_error_t je;
    int rc = -1;

    if (out)
        *out = NULL;
    buf_init(&resp, K8S_BODY_MAX);
    if (k8s_do(k, method, path, js, body ? (ctype ? ctype : "application/json") : NULL, &status,
               &resp, err) < 0)
        goto out;
    if (status_out)
        *status_out = status;
    if (status < 200 || status > 299) {
        k8s_fail(status, &resp, what, err);
        goto out;
    }
    if (out && !(*out = json_loadb(resp.data, resp.len, 0, &je))) {
        err_set(err, ERR_INTERNAL, "kubernetes %s: unreadable reply: %s", what, je.text);
        goto out;
    }
    rc = 0;
out:
    free(js);
    buf_clear(&resp);
    return rc;
}

/* ---- pods as we know them ---------------------------------------------------------------------
 */

/* What a pod object says about its agent's process. */
static void k8s_pod_fill(const json_t *pod, struct backend_pod *out)
{
    const json_t *md = json_object_get(pod, "metadata"), *st = json_object_get(pod, "status");
    const char *phase = json_string_value(json_object_get(st, "phase"));
    const char *s;
    size_t i;
    const json_t *cs;

    memset(out, 0, sizeof(*out));
    out->exit_code = -1;
    snprintf(out->name, sizeof(out->name), "%s",
             (s = json_string_value(json_object_get(md, "name"))) ? s : "");
    snprintf(out->uid, sizeof(out->uid), "%s",
             (s = json_string_value(json_object_get(md, "uid"))) ? s : "");
    snprintf(
        out->agent_id, sizeof(out->agent_id), "%s",
        (s = json_string_value(json_object_get(json_object_get(md, "labels"), K8S_LABEL_AGENT)))
            ? s
            : "");
    out->phase = BACKEND_PENDING;
    if (phase && strcmp(phase, "Running") == 0)
        out->phase = BACKEND_RUNNING;
    if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0))
        out->phase = BACKEND_EXITED;
    /* The reason an operator needs: a waiting reason (ImagePullBackOff), the pod's reason
     * (Evicted, DeadlineExceeded), an exit code, or Unschedulable. */
    json_array_foreach(json_object_get(st, "containerStatuses"), i, cs)
    {
        const json_t *state = json_object_get(cs, "state");
        const json_t *term = json_object_get(state, "terminated");
        const json_t *wait = json_object_get(state, "waiting");

        if (term) {
            out->exit_code = (int)json_integer_value(json_object_get(term, "exitCode"));
            snprintf(out->reason, sizeof(out->reason), "exit code %d (%s)", out->exit_code,
                     (s = json_string_value(json_object_get(term, "reason"))) ? s : "Error");
        } else if (wait && (s = json_string_value(json_object_get(wait, "reason"))) &&
                   strcmp(s, "ContainerCreating") != 0) {
            snprintf(out->reason, sizeof(out->reason), "%s", s);
        }
    }
    if ((s = json_string_value(json_object_get(st, "reason"))))
        snprintf(out->reason, sizeof(out->reason), "%s", s);
    json_array_foreach(json_object_get(st, "conditions"), i, cs)
    {
        if (json_string_value(json_object_get(cs, "reason")) &&
            strcmp(json_string_value(json_object_get(cs, "reason")), "Unschedulable") == 0)
            snprintf(out->reason, sizeof(out->reason), "Unschedulable");
    }
    if (out->phase == BACKEND_EXITED && !out->reason[0])
        snprintf(out->reason, sizeof(out->reason), "pod %s", phase);
}

static struct k8s_pod_state *k8s_cache_find(struct k8s_impl *k, const char *name)
{
    for (size_t i = 0; i < k->npods; i++)
        if (strcmp(k->pods[i].name, name) == 0)
            return &k->pods[i];
    return NULL;
}

static void k8s_emit(struct k8s_impl *k, const struct backend_pod *p)
{
    if (k->nevents == k->capevents) {
        k->capevents = k->capevents ? k->capevents * 2 : 16;
        k->events = mem_realloc(k->events, k->capevents * sizeof(*k->events));
    }
    k->events[k->nevents++] = *p;
}

/* Apply an observed pod (or its deletion) to the cache, emitting an event on a change. */
static void k8s_observe(struct k8s_impl *k, const struct backend_pod *p, bool deleted)
{
    struct k8s_pod_state *s = k8s_cache_find(k, p->name);

    if (deleted) {
        if (s) {
            struct backend_pod ev = *p;

            ev.phase = BACKEND_DELETED;
            if (!ev.reason[0])
                snprintf(ev.reason, sizeof(ev.reason), "pod deleted");
            k8s_emit(k, &ev);
            *s = k->pods[--k->npods];
        }
        return;
    }
    if (!s) {
        if (k->npods == k->cappods) {
            k->cappods = k->cappods ? k->cappods * 2 : 16;
            k->pods = mem_realloc(k->pods, k->cappods * sizeof(*k->pods));
        }
        s = &k->pods[k->npods++];
        memset(s, 0, sizeof(*s));
        snprintf(s->name, sizeof(s->name), "%s", p->name);
        s->phase = BACKEND_PENDING;
    }
    snprintf(s->uid, sizeof(s->uid), "%s", p->uid);
    snprintf(s->agent_id, sizeof(s->agent_id), "%s", p->agent_id);
    if (p->phase != s->phase) {
        s->phase = p->phase;
        k8s_emit(k, p);
    }
}

/* ---- list ------------------------------------------------------------------------------------ */

/* Every pod with Drover's label, paged; *rv receives the list's resourceVersion. */
static int k8s_list_all(struct k8s_impl *k, json_t **items, char rv[64], struct err *err)
{
    char *cont = NULL;
    int rc = -1;

    *items = json_array();
    do {
        char *path;
        json_t *page = NULL;
        const json_t *md;
        const char *c, *r;
        char *ec = cont ? curl_easy_escape(NULL, cont, 0) : NULL;

        path = mem_printf("/api/v1/namespaces/%s/pods?labelSelector=%s&limit=100%s%s", k->ns,
                          K8S_SELECTOR, ec ? "&continue=" : "", ec ? ec : "");
        curl_free(ec);
        rc = k8s_json(k, "GET", path, NULL, NULL, "list pods", &page, NULL, err);
        free(path);
        free(cont);
        cont = NULL;
        if (rc < 0)
            break;
        json_array_extend(*items, json_object_get(page, "items"));
        md = json_object_get(page, "metadata");
        if ((r = json_string_value(json_object_get(md, "resourceVersion"))))
            snprintf(rv, 64, "%s", r);
        if ((c = json_string_value(json_object_get(md, "continue"))) && *c)
            cont = mem_strdup(c);
        json_decref(page);
    } while (cont);
    if (rc < 0) {
        json_decref(*items);
        *items = NULL;
    }
    return rc;
}

static int k8s_list(struct backend *b, struct backend_pod **pods, size_t *n, struct err *err)
{
    struct k8s_impl *k = b->impl;
    json_t *items, *it;
    char rv[64];
    size_t i;

    *pods = NULL;
    *n = 0;
    if (k8s_list_all(k, &items, rv, err) < 0)
        return -1;
    *pods = mem_calloc(json_array_size(items) + 1, sizeof(**pods));
    json_array_foreach(items, i, it)
    {
        /* A pod being deleted is still listed: it is on its way out, not an orphan. */
        k8s_pod_fill(it, &(*pods)[i]);
    }
    *n = json_array_size(items);
    json_decref(items);
    return 0;
}

/* Re-list: the cache becomes the list, emitting what changed while we were not watching. */
static int k8s_relist(struct k8s_impl *k, struct err *err)
{
    json_t *items, *it;
    size_t i;
    char rv[64] = "";

    if (k8s_list_all(k, &items, rv, err) < 0)
        return -1;
    for (size_t j = 0; j < k->npods;) {
        bool found = false;
        struct backend_pod gone;

        json_array_foreach(items, i, it)
        {
            const char *nm =
                json_string_value(json_object_get(json_object_get(it, "metadata"), "name"));

            if (nm && strcmp(nm, k->pods[j].name) == 0)
                found = true;
        }
        if (found) {
            j++;
            continue;
        }
        memset(&gone, 0, sizeof(gone));
        snprintf(gone.name, sizeof(gone.name), "%s", k->pods[j].name);
        snprintf(gone.uid, sizeof(gone.uid), "%s", k->pods[j].uid);
        snprintf(gone.agent_id, sizeof(gone.agent_id), "%s", k->pods[j].agent_id);
        gone.exit_code = -1;
        k8s_observe(k, &gone, true); /* swaps the last entry into j: don't advance */
    }
    json_array_foreach(items, i, it)
    {
        struct backend_pod p;

        k8s_pod_fill(it, &p);
        k8s_observe(k, &p, false);
    }
    json_decref(items);
    snprintf(k->rv, sizeof(k->rv), "%s", rv);
    k->need_list = false;
    return 0;
}

/* ---- watch ----------------------------------------------------------------------------------- */

static void k8s_watch_line(struct k8s_impl *k, const char *line, size_t len)
{
    json_error_t je;
    json_t *ev = json_loadb(line, len, 0, &je), *obj;
    const char *type, *rv;
    struct backend_pod p;

    if (!ev) {
        log_warn("pool.k8s", "unreadable watch event: %s", je.text);
        return;
    }
    type = json_string_value(json_object_get(ev, "type"));
    obj = json_object_get(ev, "object");
    rv = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
    if (!type) {
        json_decref(ev);
        return;
    }
    if (strcmp(type, "ERROR") == 0) {
        /* 410 Expired in the stream: our resourceVersion is too old; re-list. */
        log_warn("pool.k8s", "watch error %lld: %s, re-listing",
                 json_integer_value(json_object_get(obj, "code")),
                 json_string_value(json_object_get(obj, "message")));
        k->need_list = true;
        json_decref(ev);
        return;
    }
    if (rv)
        snprintf(k->rv, sizeof(k->rv), "%s", rv);
    if (strcmp(type, "BOOKMARK") != 0) {
        k8s_pod_fill(obj, &p);
        k8s_observe(k, &p, strcmp(type, "DELETED") == 0);
    }
    json_decref(ev);
}

/* Watch data arrives in arbitrary slices: buffer and split on newlines. */
static size_t k8s_watch_data(char *p, size_t sz, size_t n, void *arg)
{
    struct k8s_impl *k = arg;
    size_t len = sz * n, start = 0;

    if (k->watch_status == 0)
        curl_easy_getinfo(k->watch, CURLINFO_RESPONSE_CODE, &k->watch_status);
    if (k->watch_status != 200) {
        return buf_append(&k->line, p, len) < 0 ? 0 : len; /* an error Status body */
    }
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '\n')
            continue;
        if (buf_append(&k->line, p + start, i - start) < 0)
            return 0;
        if (k->line.len)
            k8s_watch_line(k, k->line.data, k->line.len);
        buf_reset(&k->line);
        start = i + 1;
    }
    if (start < len && buf_append(&k->line, p + start, len - start) < 0)
        return 0; /* a line past the cap: drop the stream and re-list */
    return len;
}

static void k8s_watch_close(struct k8s_impl *k)
{
    if (!k->watch)
        return;
    curl_multi_remove_handle(k->multi, k->watch);
    curl_easy_cleanup(k->watch);
    curl_slist_free_all(k->watch_hdrs);
    k->watch = NULL;
    k->watch_hdrs = NULL;
    buf_reset(&k->line);
}

static void k8s_watch_open(struct k8s_impl *k)
{
    char *url = mem_printf("%s/api/v1/namespaces/%s/pods?watch=1&labelSelector=%s"
                           "&allowWatchBookmarks=true&timeoutSeconds=%d&resourceVersion=%s",
                           k->kc.server, k->ns, K8S_SELECTOR, K8S_WATCH_SECONDS, k->rv);

    k->watch = curl_easy_init();
    k->watch_hdrs = k8s_headers(k, NULL, false);
    k->watch_status = 0;
    curl_easy_setopt(k->watch, CURLOPT_URL, url);
    curl_easy_setopt(k->watch, CURLOPT_HTTPHEADER, k->watch_hdrs);
    curl_easy_setopt(k->watch, CURLOPT_WRITEFUNCTION, k8s_watch_data);
    curl_easy_setopt(k->watch, CURLOPT_WRITEDATA, k);
    curl_easy_setopt(k->watch, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(k->watch, CURLOPT_CONNECTTIMEOUT, 10L);
    /* The server ends the watch after timeoutSeconds; a silent dead connection past that
     * (plus slack) is cut here, then we resume from the last resourceVersion. */
    curl_easy_setopt(k->watch, CURLOPT_TIMEOUT, (long)K8S_WATCH_SECONDS + 30);
    curl_easy_setopt(k->watch, CURLOPT_TCP_KEEPALIVE, 1L);
    k8s_tls(k, k->watch);
    curl_multi_add_handle(k->multi, k->watch);
    free(url);
}

static int k8s_poll(struct backend *b, backend_event_fn fn, void *arg, struct err *err)
{
    struct k8s_impl *k = b->impl;
    int running = 0, left;
    CURLMsg *m;
    int rc = 0;

    if (k->need_list) {
        k8s_watch_close(k);
        if (k8s_now() < k->watch_retry_at)
            goto deliver;
        if (k8s_relist(k, err) < 0) {
            k->watch_retry_at = k8s_now() + 2;
            rc = -1;
            goto deliver;
        }
    }
    if (!k->watch && k8s_now() >= k->watch_retry_at)
        k8s_watch_open(k);
    if (k->watch) {
        curl_multi_perform(k->multi, &running);
        while ((m = curl_multi_info_read(k->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(k->watch, CURLINFO_RESPONSE_CODE, &k->watch_status);
            if (k->watch_status == 410) {
                log_warn("pool.k8s", "watch: 410 Gone, re-listing");
                k->need_list = true;
            } else if (k->watch_status != 200 || m->data.result != CURLE_OK) {
                /* Dropped, refused or an error status: back off, resume from our RV. */
                log_warn("pool.k8s", "watch ended: HTTP %ld, %s; resuming from %s", k->watch_status,
                         curl_easy_strerror(m->data.result), k->rv);
                k->watch_retry_at = k8s_now() + 1;
                if (k->watch_status >= 400 && k->watch_status != 429 && k->watch_status < 500)
                    k->need_list = true;
            }
            k8s_watch_close(k);
        }
        if (k->need_list) {
            k8s_watch_close(k);
        }
    }
deliver:
    for (size_t i = 0; i < k->nevents; i++)
        if (fn)
            fn(&k->events[i], arg);
    k->nevents = 0;
    return rc;
}

/* ---- create / remove / logs ---------------------------------------------------------------------
 */

static json_t *k8s_env(const char *name, const char *value)
{
    return json_pack("{s:s,s:s}", "name", name, "value", value ? value : "");
}

static int k8s_create(struct backend *b, const struct backend_agent *a, struct backend_pod *out,
                      struct err *err)
{
    struct k8s_impl *k = b->impl;
    char secret[80], *path = NULL;
    json_t *sec = NULL, *pod = NULL, *created = NULL, *md, *labels, *c0, *env, *patch = NULL;
    const char *pname, *puid;
    int rc = -1;

    snprintf(secret, sizeof(secret), "drover-agent-%s", a->agent_id);
    /* 1. The token, in a Secret of its own (never a plain env value). */
    sec = json_pack("{s:s,s:s,s:{s:s,s:{s:s,s:s,s:s}},s:s,s:{s:s}}", "apiVersion", "v1", "kind",
                    "Secret", "metadata", "name", secret, "labels", K8S_LABEL_NAME, "drover-agent",
                    K8S_LABEL_AGENT, a->agent_id, "app.kubernetes.io/part-of", "drover", "type",
                    "Opaque", "stringData", "token", a->token);
    path = mem_printf("/api/v1/namespaces/%s/secrets", k->ns);
    if (k8s_json(k, "POST", path, sec, NULL, "create secret", NULL, NULL, err) < 0)
        goto out;
    free(path);
    path = NULL;

    /* 2. The pod, from the template. */
    pod = json_deep_copy(k->tmpl);
    json_object_set_new(pod, "apiVersion", json_string("v1"));
    json_object_set_new(pod, "kind", json_string("Pod"));
    md = json_object_get(pod, "metadata");
    if (!json_is_object(md)) {
        md = json_object();
        json_object_set_new(pod, "metadata", md);
    }
    json_object_del(md, "name");
    json_object_del(md, "namespace");
    if (!json_string_value(json_object_get(md, "generateName")))
        json_object_set_new(md, "generateName", json_string("drover-agent-"));
    labels = json_object_get(md, "labels");
    if (!json_is_object(labels)) {
        labels = json_object();
        json_object_set_new(md, "labels", labels);
    }
    json_object_set_new(labels, K8S_LABEL_NAME, json_string("drover-agent"));
    json_object_set_new(labels, K8S_LABEL_AGENT, json_string(a->agent_id));
    c0 = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
    if (!c0) {
        err_set(err, ERR_INVALID, "the agent pod template has no container");
        goto out;
    }
    env = json_object_get(c0, "env");
    if (!json_is_array(env)) {
        env = json_array();
        json_object_set_new(c0, "env", env);
    }
    json_array_append_new(env, k8s_env("AGENT_ID", a->agent_id));
    json_array_append_new(env, k8s_env("MCP_SERVER_URL", a->server_url));
    json_array_append_new(env, k8s_env("DROVER_SERVER_URL", a->server_url));
    json_array_append_new(env,
                          json_pack("{s:s,s:{s:{s:s,s:s}}}", "name", "DROVER_TOKEN", "valueFrom",
                                    "secretKeyRef", "name", secret, "key", "token"));
    path = mem_printf("/api/v1/namespaces/%s/pods?fieldManager=droverd", k->ns);
    if (k8s_json(k, "POST", path, pod, NULL, "create pod", &created, NULL, err) < 0) {
        struct err ignore = {0};
        char *sp = mem_printf("/api/v1/namespaces/%s/secrets/%s", k->ns, secret);

        k8s_json(k, "DELETE", sp, NULL, NULL, "delete secret", NULL, NULL, &ignore);
        free(sp);
        goto out;
    }
    md = json_object_get(created, "metadata");
    pname = json_string_value(json_object_get(md, "name"));
    puid = json_string_value(json_object_get(md, "uid"));
    if (!pname || !puid) {
        err_set(err, ERR_INTERNAL, "kubernetes create pod: no name/uid in the reply");
        goto out;
    }
    k8s_pod_fill(created, out);

    /* 3. The Secret belongs to the pod: garbage-collected with it. */
    free(path);
    path = mem_printf("/api/v1/namespaces/%s/secrets/%s", k->ns, secret);
    patch =
        json_pack("{s:{s:[{s:s,s:s,s:s,s:s,s:b}]}}", "metadata", "ownerReferences", "apiVersion",
                  "v1", "kind", "Pod", "name", pname, "uid", puid, "blockOwnerDeletion", 0);
    if (k8s_json(k, "PATCH", path, patch, "application/merge-patch+json", "own secret", NULL, NULL,
                 err) < 0)
        log_warn("pool.k8s", "secret %s not owner-referenced (deleted with the agent): %s", secret,
                 err->msg);
    err_clear(err);
    log_info("pool.k8s", "agent pod created: agent=%s pod=%s", a->agent_id, pname);
    rc = 0;
out:
    free(path);
    json_decref(sec);
    json_decref(pod);
    json_decref(created);
    json_decref(patch);
    return rc;
}

static int k8s_remove(struct backend *b, const char *name, const char *uid, struct err *err)
{
    struct k8s_impl *k = b->impl;
    struct k8s_pod_state *s = k8s_cache_find(k, name);
    char *path = mem_printf("/api/v1/namespaces/%s/pods/%s", k->ns, name);
    json_t *opts =
        json_pack("{s:s,s:s,s:i,s:s}", "apiVersion", "v1", "kind", "DeleteOptions",
                  "gracePeriodSeconds", b->cfg.grace_seconds, "propagationPolicy", "Background");
    long status = 0;
    int rc;

    /* The uid precondition: never delete a re-created pod of the same name. */
    if (uid && *uid)
        json_object_set_new(opts, "preconditions", json_pack("{s:s}", "uid", uid));
    rc = k8s_json(k, "DELETE", path, opts, NULL, "delete pod", NULL, &status, err);
    if (rc < 0 && (err->code == ERR_NOT_FOUND || err->code == ERR_CONFLICT)) {
        /* 404: gone already; 409: the name belongs to another incarnation now. */
        err_clear(err);
        rc = 0;
    }
    if (rc == 0 && s && s->agent_id[0]) {
        struct err ignore = {0};
        char *sp = mem_printf("/api/v1/namespaces/%s/secrets/drover-agent-%s", k->ns, s->agent_id);

        k8s_json(k, "DELETE", sp, NULL, NULL, "delete secret", NULL, NULL, &ignore);
        free(sp);
    }
    free(path);
    json_decref(opts);
    return rc;
}

static int k8s_logs(struct backend *b, const char *name, int tail_lines, bool follow,
                    struct buf *out, struct err *err)
{
    struct k8s_impl *k = b->impl;
    /* With follow=true the stream ends when the container exits (k8s_do's 60 s cap bounds
     * it otherwise). */
    char *path =
        mem_printf("/api/v1/namespaces/%s/pods/%s/log?container=agent&tailLines=%d%s", k->ns, name,
                   tail_lines > 0 ? tail_lines : 200, follow ? "&follow=true" : "");
    struct buf resp;
    long status = 0;
    int rc = -1;

    buf_init(&resp, K8S_BODY_MAX);
    if (k8s_do(k, "GET", path, NULL, NULL, &status, &resp, err) < 0)
        goto out;
    if (status != 200) {
        k8s_fail(status, &resp, "pod logs", err);
        goto out;
    }
    if (buf_append(out, resp.data, resp.len) < 0) {
        err_set(err, ERR_TOO_LARGE, "pod log too large");
        goto out;
    }
    rc = 0;
out:
    free(path);
    buf_clear(&resp);
    return rc;
}

static void k8s_destroy(struct backend *b)
{
    struct k8s_impl *k = b->impl;

    /* Agent pods outlive droverd: another replica (or the restart) adopts them. */
    k8s_watch_close(k);
    curl_multi_cleanup(k->multi);
    kubeconfig_free(&k->kc);
    if (k->token)
        memset(k->token, 0, strlen(k->token));
    free(k->token);
    free(k->ns);
    json_decref(k->tmpl);
    buf_clear(&k->line);
    free(k->pods);
    free(k->events);
    free(k);
}

/* No shutdown: agent pods outlive a droverd restart (the next leader adopts them). */
static const struct backend_ops k8s_ops = {"kubernetes", k8s_create, k8s_remove,  k8s_list,
                                           k8s_poll,     k8s_logs,   k8s_destroy, NULL};

int k8s_open(struct backend *b, struct err *err)
{
    struct k8s_impl *k = mem_calloc(1, sizeof(*k));
    const char *tpath =
        b->cfg.pod_template && *b->cfg.pod_template ? b->cfg.pod_template : "k8s/agent-pod.yaml";
    const char *kcpath = b->cfg.kubeconfig && *b->cfg.kubeconfig ? b->cfg.kubeconfig : NULL;
    char *text = NULL;
    size_t len;
    int rc = -1;

    buf_init(&k->line, 4u << 20);
    if (kcpath) {
        if (kubeconfig_load(kcpath, &k->kc, err) < 0)
            goto out;
    } else if (kubeconfig_in_cluster(b->cfg.sa_dir, &k->kc, err) < 0) {
        const char *env = getenv("KUBECONFIG");
        char first[1024];

        if (!env || !*env)
            goto out; /* the in-cluster error says what is missing */
        err_clear(err);
        snprintf(first, sizeof(first), "%.*s", (int)strcspn(env, ":"), env);
        if (kubeconfig_load(first, &k->kc, err) < 0)
            goto out;
    }
    k->token = k->kc.token ? mem_strdup(k->kc.token) : NULL;
    k->ns = mem_strdup(b->cfg.namespace && *b->cfg.namespace ? b->cfg.namespace
                       : k->kc.namespace                     ? k->kc.namespace
                                                             : "default");
    if (!(text = kubeconfig_read_file(tpath, &len, err)))
        goto out;
    if (kubeconfig_yaml_parse(text, len, &k->tmpl, err) < 0 || !json_is_object(k->tmpl)) {
        err_set(err, ERR_INVALID, "agent pod template %s: %s", tpath,
                err->msg[0] ? err->msg : "not an object");
        goto out;
    }
    k->multi = curl_multi_init();
    k->need_list = true;
    b->impl = k;
    b->ops = &k8s_ops;
    rc = 0;
out:
    free(text);
    if (rc < 0) {
        kubeconfig_free(&k->kc);
        free(k->token);
        free(k->ns);
        json_decref(k->tmpl);
        buf_clear(&k->line);
        free(k);
    }
    return rc;
}
