/*
 * The `kubernetes` pod backend: bare agent pods over the Kubernetes REST API (k8s_api).
 *
 *  create  Secret drover-agent-<id> (the token) -> Pod from the template (generateName, labels
 *          app.kubernetes.io/name=drover-agent + drover.dev/agent-id, DROVER_TOKEN from the
 *          Secret via secretKeyRef, AGENT_ID, MCP_SERVER_URL) -> merge-patch the Secret's
 *          ownerReferences to the pod, so it is garbage-collected with it.
 *  remove  DELETE with DeleteOptions {gracePeriodSeconds, propagationPolicy, preconditions.uid};
 *          404 is success, 409 (another incarnation) too; the Secret is deleted as well.
 *  list    every labelled pod (k8s_pods); poll is the watch (k8s_watch).
 *  logs    GET .../log?container=agent&tailLines=N.
 * None of the API's errors crash the loop: every call returns -1 with a message.
 * Pool thread only (every call blocks except poll).
 */
#include "core/log.h"
#include "core/mem.h"
#include "pool/k8s_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int k8s_list(struct backend *b, struct backend_pod **pods, size_t *n, struct err *err)
{
    struct k8s_impl *k = b->impl;
    json_t *items, *it;
    char rv[64];
    size_t i;

    *pods = NULL;
    *n = 0;
    if (k8s_pods_list_all(k, &items, rv, err) < 0)
        return -1;
    *pods = mem_calloc(json_array_size(items) + 1, sizeof(**pods));
    json_array_foreach(items, i, it)
    {
        /* A pod being deleted is still listed: it is on its way out, not an orphan. */
        k8s_pods_fill(it, &(*pods)[i]);
    }
    *n = json_array_size(items);
    k8s_secrets_sweep(k, items);
    json_decref(items);
    return 0;
}

static json_t *k8s_env(const char *name, const char *value)
{
    return json_pack("{s:s,s:s}", "name", name, "value", value ? value : "");
}

/* The agent's pod from the template: Drover's labels, a generated name, the agent's
 * environment with DROVER_TOKEN from `secret`. Owned result, or NULL (err set). */
static json_t *k8s_pod_manifest(const struct k8s_impl *k, const struct backend_agent *a,
                                const char *secret, struct err *err)
{
    json_t *pod = json_deep_copy(k->tmpl), *md, *labels, *c0, *env;

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
        json_decref(pod);
        err_set(err, ERR_INVALID, "the agent pod template has no container");
        return NULL;
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
    return pod;
}

static int k8s_create(struct backend *b, const struct backend_agent *a, struct backend_pod *out,
                      struct err *err)
{
    struct k8s_impl *k = b->impl;
    char secret[80], *path = NULL;
    json_t *sec = NULL, *pod = NULL, *created = NULL, *md, *patch = NULL;
    const char *pname, *puid;
    int rc = -1;

    snprintf(secret, sizeof(secret), "drover-agent-%s", a->agent_id);
    /* 1. The token, in a Secret of its own (never a plain env value). */
    sec = json_pack("{s:s,s:s,s:{s:s,s:{s:s,s:s,s:s}},s:s,s:{s:s}}", "apiVersion", "v1", "kind",
                    "Secret", "metadata", "name", secret, "labels", K8S_LABEL_NAME, "drover-agent",
                    K8S_LABEL_AGENT, a->agent_id, "app.kubernetes.io/part-of", "drover", "type",
                    "Opaque", "stringData", "token", a->token);
    path = mem_printf("/api/v1/namespaces/%s/secrets", k->ns);
    if (k8s_api_json(k, "POST", path, sec, NULL, "create secret", NULL, NULL, err) < 0)
        goto out;
    free(path);
    path = NULL;

    /* 2. The pod, from the template. */
    if (!(pod = k8s_pod_manifest(k, a, secret, err)))
        goto out;
    path = mem_printf("/api/v1/namespaces/%s/pods?fieldManager=droverd", k->ns);
    if (k8s_api_json(k, "POST", path, pod, NULL, "create pod", &created, NULL, err) < 0) {
        struct err ignore = {0};
        char *sp = mem_printf("/api/v1/namespaces/%s/secrets/%s", k->ns, secret);

        k8s_api_json(k, "DELETE", sp, NULL, NULL, "delete secret", NULL, NULL, &ignore);
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
    k8s_pods_fill(created, out);

    /* 3. The Secret belongs to the pod: garbage-collected with it. */
    free(path);
    path = mem_printf("/api/v1/namespaces/%s/secrets/%s", k->ns, secret);
    patch =
        json_pack("{s:{s:[{s:s,s:s,s:s,s:s,s:b}]}}", "metadata", "ownerReferences", "apiVersion",
                  "v1", "kind", "Pod", "name", pname, "uid", puid, "blockOwnerDeletion", 0);
    if (k8s_api_json(k, "PATCH", path, patch, "application/merge-patch+json", "own secret", NULL,
                     NULL, err) < 0)
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
    struct k8s_pod_state *s = k8s_pods_find(k, name);
    char *path = mem_printf("/api/v1/namespaces/%s/pods/%s", k->ns, name);
    json_t *opts =
        json_pack("{s:s,s:s,s:i,s:s}", "apiVersion", "v1", "kind", "DeleteOptions",
                  "gracePeriodSeconds", b->cfg.grace_seconds, "propagationPolicy", "Background");
    long status = 0;
    int rc;

    /* The uid precondition: never delete a re-created pod of the same name. */
    if (uid && *uid)
        json_object_set_new(opts, "preconditions", json_pack("{s:s}", "uid", uid));
    rc = k8s_api_json(k, "DELETE", path, opts, NULL, "delete pod", NULL, &status, err);
    if (rc < 0 && (err->code == ERR_NOT_FOUND || err->code == ERR_CONFLICT)) {
        /* 404: gone already; 409: the name belongs to another incarnation now. */
        err_clear(err);
        rc = 0;
    }
    if (rc == 0 && s && s->agent_id[0]) {
        struct err ignore = {0};
        char *sp = mem_printf("/api/v1/namespaces/%s/secrets/drover-agent-%s", k->ns, s->agent_id);

        k8s_api_json(k, "DELETE", sp, NULL, NULL, "delete secret", NULL, NULL, &ignore);
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
    /* With follow=true the stream ends when the container exits (k8s_api_request's 60 s cap
     * bounds it otherwise). */
    char *path =
        mem_printf("/api/v1/namespaces/%s/pods/%s/log?container=agent&tailLines=%d%s", k->ns, name,
                   tail_lines > 0 ? tail_lines : 200, follow ? "&follow=true" : "");
    struct http_resp resp;
    int rc = -1;

    if (k8s_api_request(k, "GET", path, NULL, NULL, &resp, err) < 0)
        goto out;
    if (resp.status != 200) {
        k8s_api_fail(&resp, "pod logs", err);
        goto out;
    }
    if (buf_append(out, resp.body, resp.len) < 0) {
        err_set(err, ERR_TOO_LARGE, "pod log too large");
        goto out;
    }
    rc = 0;
out:
    free(path);
    http_resp_clear(&resp);
    return rc;
}

static void k8s_destroy(struct backend *b)
{
    struct k8s_impl *k = b->impl;

    /* Agent pods outlive droverd: another replica (or the restart) adopts them. */
    k8s_watch_close(k);
    kubeconfig_free(&k->kc);
    if (k->token)
        memset(k->token, 0, strlen(k->token));
    free(k->token);
    free(k->ns);
    json_decref(k->tmpl);
    json_decref(k->orphan_secrets);
    buf_clear(&k->line);
    free(k->pods);
    free(k->events);
    free(k);
}

/* No shutdown: agent pods outlive a droverd restart (the next leader adopts them). */
static const struct backend_ops k8s_ops = {"kubernetes",   k8s_create, k8s_remove,  k8s_list,
                                           k8s_watch_poll, k8s_logs,   k8s_destroy, NULL};

int k8s_open(struct backend *b, struct err *err)
{
    struct k8s_impl *k = mem_calloc(1, sizeof(*k));
    /* Absolute: a relative default would depend on the directory droverd was started in. */
    const char *tpath = b->cfg.pod_template && *b->cfg.pod_template ? b->cfg.pod_template
                                                                    : "/etc/drover/agent-pod.yaml";
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
