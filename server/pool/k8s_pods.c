/*
 * The pods of the `kubernetes` backend as droverd knows them: what a pod object says about its
 * agent's process (phase, exit code, the reason an operator needs), the cache the watch keeps
 * current with the events it queues for backend_poll, and listing (labelSelector +
 * limit/continue paging) and re-listing (what changed while nobody watched). Pool thread only.
 */
#include "core/mem.h"
#include "pool/k8s_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void k8s_pods_fill(const json_t *pod, struct backend_pod *out)
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

struct k8s_pod_state *k8s_pods_find(struct k8s_impl *k, const char *name)
{
    for (size_t i = 0; i < k->npods; i++)
        if (strcmp(k->pods[i].name, name) == 0)
            return &k->pods[i];
    return NULL;
}

static void k8s_pods_emit(struct k8s_impl *k, const struct backend_pod *p)
{
    if (k->nevents == k->capevents) {
        k->capevents = k->capevents ? k->capevents * 2 : 16;
        k->events = mem_realloc(k->events, k->capevents * sizeof(*k->events));
    }
    k->events[k->nevents++] = *p;
}

void k8s_pods_observe(struct k8s_impl *k, const struct backend_pod *p, bool deleted)
{
    struct k8s_pod_state *s = k8s_pods_find(k, p->name);

    if (deleted) {
        if (s) {
            struct backend_pod ev = *p;

            ev.phase = BACKEND_DELETED;
            if (!ev.reason[0])
                snprintf(ev.reason, sizeof(ev.reason), "pod deleted");
            k8s_pods_emit(k, &ev);
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
        k8s_pods_emit(k, p);
    }
}

int k8s_pods_list_all(struct k8s_impl *k, json_t **items, char rv[64], struct err *err)
{
    char *cont = NULL;
    int rc = -1;

    *items = json_array();
    do {
        char *path;
        json_t *page = NULL;
        const json_t *md;
        const char *c, *r;
        char *ec = cont ? http_escape(cont) : NULL;

        path = mem_printf("/api/v1/namespaces/%s/pods?labelSelector=%s&limit=100%s%s", k->ns,
                          K8S_SELECTOR, ec ? "&continue=" : "", ec ? ec : "");
        free(ec);
        rc = k8s_api_json(k, "GET", path, NULL, NULL, "list pods", &page, NULL, err);
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

int k8s_pods_relist(struct k8s_impl *k, struct err *err)
{
    json_t *items, *it;
    size_t i;
    char rv[64] = "";

    if (k8s_pods_list_all(k, &items, rv, err) < 0)
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
        k8s_pods_observe(k, &gone, true); /* swaps the last entry into j: don't advance */
    }
    json_array_foreach(items, i, it)
    {
        struct backend_pod p;

        k8s_pods_fill(it, &p);
        k8s_pods_observe(k, &p, false);
    }
    json_decref(items);
    snprintf(k->rv, sizeof(k->rv), "%s", rv);
    k->need_list = false;
    return 0;
}
