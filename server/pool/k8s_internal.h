/*
 * What the parts of the `kubernetes` pod backend share and nothing outside them uses:
 *  k8s_api    requests to the API server (auth, TLS, retries, errors) on core/http;
 *  k8s_pods   what a pod object says, the pod cache, listing and re-listing;
 *  k8s_watch  the watch stream that keeps the cache current, and backend_poll;
 *  k8s_secrets  sweeping agent Secrets a dead leader left without their pod;
 *  k8s        the backend itself: create, remove, list, logs, open and destroy.
 * Pool thread only (the thread that owns the backend).
 */
#ifndef DROVER_POOL_K8S_INTERNAL_H
#define DROVER_POOL_K8S_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/http.h"
#include "pool/backend.h"
#include "pool/kubeconfig.h"

#define K8S_LABEL_NAME "app.kubernetes.io/name"
#define K8S_LABEL_AGENT "drover.dev/agent-id"
#define K8S_SELECTOR "app.kubernetes.io%2Fname%3Ddrover-agent"
#define K8S_BODY_MAX (32u << 20)
#define K8S_RETRIES 4
#define K8S_WATCH_SECONDS 300

/* A pod as the cache knows it. */
struct k8s_pod_state {
    char name[254], uid[64], agent_id[37];
    enum backend_phase phase;
};

struct k8s_impl {
    struct kubeconfig kc;
    char *ns;
    char *token; /* current bearer token (from kc.token or kc.token_file) */
    double token_read_at;
    json_t *tmpl;              /* the agent pod template */
    struct http_stream *watch; /* the open watch, or NULL */
    struct buf line;           /* partial watch line */
    long watch_status;
    char rv[64];           /* last resourceVersion seen (list, event or bookmark) */
    bool need_list;        /* (re-)list before watching */
    double watch_retry_at; /* back-off before reopening a failed watch */
    struct k8s_pod_state *pods;
    size_t npods, cappods;
    /* Events gathered while parsing, delivered by poll. */
    struct backend_pod *events;
    size_t nevents, capevents;
    json_t *orphan_secrets; /* Secret name -> clock_s() first seen without a pod (k8s_secrets) */
};

/* ---- k8s_api ---- */

/* The cluster's TLS settings and the current token, on a request. */
void k8s_api_auth(struct k8s_impl *k, struct http_req *req, bool force_token);

/*
 * Send one request to `path` (appended to the server URL); retry 429 (Retry-After, capped at
 * 5 s), 5xx and transport errors with back-off (K8S_RETRIES attempts), and a 401 once after
 * re-reading the token. 0 when a response arrived, of any status (in resp->status, the body in
 * resp->body); -1 with err set otherwise. resp is cleared first and must be cleared after.
 */
int k8s_api_request(struct k8s_impl *k, const char *method, const char *path, const char *body,
                    const char *ctype, struct http_resp *resp, struct err *err);

/* Map a non-2xx final status to an error quoting the Status message. Returns -1. */
int k8s_api_fail(const struct http_resp *resp, const char *what, struct err *err);

/*
 * Request with an optional JSON body (Content-Type `ctype`, default application/json) and
 * parse a 2xx JSON reply into *out (owned; NULL: not wanted). *status_out, when given, gets
 * the final status. Anything but 2xx is k8s_api_fail's error.
 */
int k8s_api_json(struct k8s_impl *k, const char *method, const char *path, const json_t *body,
                 const char *ctype, const char *what, json_t **out, long *status_out,
                 struct err *err);

/* ---- k8s_pods ---- */

/* What a pod object says about its agent's process. */
void k8s_pods_fill(const json_t *pod, struct backend_pod *out);

/* The cached pod named `name`, or NULL. */
struct k8s_pod_state *k8s_pods_find(struct k8s_impl *k, const char *name);

/* Apply an observed pod (or its deletion) to the cache, queueing an event on a change. */
void k8s_pods_observe(struct k8s_impl *k, const struct backend_pod *p, bool deleted);

/* Every pod with Drover's label, paged (owned array in *items); rv gets the list's
 * resourceVersion. */
int k8s_pods_list_all(struct k8s_impl *k, json_t **items, char rv[64], struct err *err);

/* Re-list: the cache becomes the list, queueing what changed while nobody watched. */
int k8s_pods_relist(struct k8s_impl *k, struct err *err);

/* ---- k8s_secrets ---- */

/* Delete agent Secrets no pod owns and no pod in `pods` (the list's items) needs, once they
 * have been so for a grace. Failures are logged; the next list tries again. */
void k8s_secrets_sweep(struct k8s_impl *k, const json_t *pods);

/* ---- k8s_watch ---- */

/*
 * A slice of the watch stream (http_data_fn): split into lines, each one event for the cache;
 * an error status's body is kept whole. -1 (drop the stream) when a line passes the cap.
 */
int k8s_watch_data(void *arg, long status, const char *p, size_t n);

/* backend_poll: re-list when needed, keep a watch open, deliver the queued events. */
int k8s_watch_poll(struct backend *b, backend_event_fn fn, void *arg, struct err *err);

/* Close the watch (if open) and forget its partial line. */
void k8s_watch_close(struct k8s_impl *k);

#endif
