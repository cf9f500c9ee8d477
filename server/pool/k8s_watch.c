/*
 * The watch of the `kubernetes` backend: a watch from the list's resourceVersion with
 * allowWatchBookmarks, driven without blocking on the shared client's stream (core/http);
 * events are split on newlines across slices and applied to the pod cache (k8s_pods); HTTP 410
 * and an in-stream ERROR 410 re-list (reporting what changed meanwhile); a dropped or timed-out
 * stream resumes from the last resourceVersion (bookmarks included). Pool thread only.
 */
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "pool/k8s_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        k8s_pods_fill(obj, &p);
        k8s_pods_observe(k, &p, strcmp(type, "DELETED") == 0);
    }
    json_decref(ev);
}

int k8s_watch_data(void *arg, long status, const char *p, size_t len)
{
    struct k8s_impl *k = arg;
    size_t start = 0;

    if (k->watch_status == 0)
        k->watch_status = status;
    if (k->watch_status != 200)
        return buf_append(&k->line, p, len); /* an error Status body */
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '\n')
            continue;
        if (buf_append(&k->line, p + start, i - start) < 0)
            return -1;
        if (k->line.len)
            k8s_watch_line(k, k->line.data, k->line.len);
        buf_reset(&k->line);
        start = i + 1;
    }
    if (start < len && buf_append(&k->line, p + start, len - start) < 0)
        return -1; /* a line past the cap: drop the stream and re-list */
    return 0;
}

void k8s_watch_close(struct k8s_impl *k)
{
    if (!k->watch)
        return;
    http_stream_close(k->watch);
    k->watch = NULL;
    buf_reset(&k->line);
}

static void k8s_watch_open(struct k8s_impl *k)
{
    static const char *const accept[] = {"Accept: application/json", NULL};
    char *url = mem_printf("%s/api/v1/namespaces/%s/pods?watch=1&labelSelector=%s"
                           "&allowWatchBookmarks=true&timeoutSeconds=%d&resourceVersion=%s",
                           k->kc.server, k->ns, K8S_SELECTOR, K8S_WATCH_SECONDS, k->rv);
    /* The server ends the watch after timeoutSeconds; a silent dead connection past that
     * (plus slack) is cut here, then we resume from the last resourceVersion. */
    struct http_req req = {.url = url,
                           .headers = accept,
                           .timeout_s = (long)K8S_WATCH_SECONDS + 30,
                           .on_data = k8s_watch_data,
                           .data_arg = k,
                           .tcp_keepalive = true};
    struct err e = {0};

    k8s_api_auth(k, &req, false);
    k->watch_status = 0;
    if (http_stream_open(&req, &k->watch, &e) < 0) {
        log_warn("pool.k8s", "watch: %s", e.msg);
        k->watch_retry_at = clock_s() + 1;
    }
    free(url);
}

/* Move the open watch on; when it has ended, decide how to go on. */
static void k8s_watch_step(struct k8s_impl *k)
{
    struct err e = {0};
    long status = 0;

    if (http_stream_step(k->watch, &status, &e) != 0)
        return; /* still running */
    k->watch_status = status;
    if (k->watch_status == 410) {
        log_warn("pool.k8s", "watch: 410 Gone, re-listing");
        k->need_list = true;
    } else if (k->watch_status != 200 || e.code != ERR_OK) {
        /* Dropped, refused or an error status: back off, resume from our RV. */
        log_warn("pool.k8s", "watch ended: HTTP %ld, %s; resuming from %s", k->watch_status,
                 e.code != ERR_OK ? e.msg : "No error", k->rv);
        k->watch_retry_at = clock_s() + 1;
        if (k->watch_status >= 400 && k->watch_status != 429 && k->watch_status < 500)
            k->need_list = true;
    }
    k8s_watch_close(k);
}

int k8s_watch_poll(struct backend *b, backend_event_fn fn, void *arg, struct err *err)
{
    struct k8s_impl *k = b->impl;
    int rc = 0;

    if (k->need_list) {
        k8s_watch_close(k);
        if (clock_s() < k->watch_retry_at)
            goto deliver;
        if (k8s_pods_relist(k, err) < 0) {
            k->watch_retry_at = clock_s() + 2;
            rc = -1;
            goto deliver;
        }
    }
    if (!k->watch && clock_s() >= k->watch_retry_at)
        k8s_watch_open(k);
    if (k->watch)
        k8s_watch_step(k);
    if (k->need_list)
        k8s_watch_close(k);
deliver:
    for (size_t i = 0; i < k->nevents; i++)
        if (fn)
            fn(&k->events[i], arg);
    k->nevents = 0;
    return rc;
}
