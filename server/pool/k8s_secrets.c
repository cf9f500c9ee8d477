/*
 * Orphaned agent Secrets. An agent's Secret is created before its pod and owner-referenced to
 * the pod after (k8s.c), so a leader that dies between the two leaves a Secret that no pod
 * owns and the garbage collector never removes. The leader's list sweeps them: a labelled
 * Secret without ownerReferences whose agent has no pod, seen so for K8S_SECRET_ORPHAN_S, is
 * deleted. (A create in progress is on this same thread, so it is never mistaken for one; the
 * grace covers a deposed leader still finishing its create.) Pool thread only.
 */
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "pool/k8s_internal.h"

#include <string.h>

#define K8S_SECRET_ORPHAN_S 10.0

static bool k8s_secrets_has_pod(const json_t *pods, const char *agent)
{
    size_t i;
    const json_t *p;

    json_array_foreach(pods, i, p)
    {
        const char *a = json_string_value(json_object_get(
            json_object_get(json_object_get(p, "metadata"), "labels"), K8S_LABEL_AGENT));

        if (a && strcmp(a, agent) == 0)
            return true;
    }
    return false;
}

void k8s_secrets_sweep(struct k8s_impl *k, const json_t *pods)
{
    struct err err = {0};
    json_t *list = NULL, *seen = json_object();
    const json_t *s;
    char *path;
    size_t i;
    long status = 0;
    double now = clock_s();

    path =
        mem_printf("/api/v1/namespaces/%s/secrets?labelSelector=%s&limit=500", k->ns, K8S_SELECTOR);
    if (k8s_api_json(k, "GET", path, NULL, NULL, "list secrets", &list, NULL, &err) < 0) {
        log_warn("pool.k8s", "cannot list the agent secrets: %s", err.msg);
        goto out;
    }
    json_array_foreach(json_object_get(list, "items"), i, s)
    {
        const json_t *md = json_object_get(s, "metadata");
        const char *name = json_string_value(json_object_get(md, "name"));
        const char *agent =
            json_string_value(json_object_get(json_object_get(md, "labels"), K8S_LABEL_AGENT));
        const json_t *first;

        if (!name || !agent || json_array_size(json_object_get(md, "ownerReferences")) > 0 ||
            k8s_secrets_has_pod(pods, agent))
            continue;
        first = k->orphan_secrets ? json_object_get(k->orphan_secrets, name) : NULL;
        if (!first) {
            json_object_set_new(seen, name, json_real(now));
            continue;
        }
        if (now - json_real_value(first) < K8S_SECRET_ORPHAN_S) {
            json_object_set(seen, name, (json_t *)first);
            continue;
        }
        free(path);
        path = mem_printf("/api/v1/namespaces/%s/secrets/%s", k->ns, name);
        if (k8s_api_json(k, "DELETE", path, NULL, NULL, "delete secret", NULL, &status, &err) < 0 &&
            status != 404) {
            log_warn("pool.k8s", "cannot delete an orphan secret: secret=%s err='%s'", name,
                     err.msg);
            json_object_set(seen, name, (json_t *)first);
        } else {
            log_warn("pool.k8s", "deleted an orphan secret: secret=%s agent=%s", name, agent);
        }
    }
    /* Only what is still orphaned is remembered. */
    json_decref(k->orphan_secrets);
    k->orphan_secrets = seen;
    seen = NULL;
out:
    json_decref(seen);
    json_decref(list);
    free(path);
}
