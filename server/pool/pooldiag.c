/* The pod backend's diagnostics. Slow workers / subcommands. */
#include "pool/pooldiag.h"
#include "core/mem.h"
#include "pool/backend.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void pooldiag_add(json_t *checks, const char *name, const char *status, const char *detail,
                         const char *fix)
{
    json_array_append_new(checks, json_pack("{s:s,s:s,s:s,s:s?}", "name", name, "status", status,
                                            "detail", detail, "fix", fix));
}

/* The process backend runs `/bin/sh -c "exec <command>"`: its first word must be runnable. */
static void pooldiag_process(const struct agentpool_cfg *c, json_t *checks)
{
    size_t n = strcspn(c->agent_command, " \t");
    char *prog = mem_strndup(c->agent_command, n);
    char *detail;
    bool ok = prog[0] && (strchr(prog, '/') ? access(prog, X_OK) == 0 : true);

    detail = mem_printf("process backend: agents run `%s`, logs in %s", c->agent_command,
                        c->agent_log_dir);
    pooldiag_add(checks, "pool.backend", ok ? "ok" : "fail", detail,
                 ok ? NULL
                    : "point --agent-command (DROVER_AGENT_COMMAND) at an executable drover-agent");
    free(detail);
    free(prog);
}

static void pooldiag_kubernetes(const struct agentpool_cfg *c, json_t *checks)
{
    struct backend_cfg bc = {.kind = c->backend,
                             .agent_command = c->agent_command,
                             .log_dir = c->agent_log_dir,
                             .grace_seconds = c->grace_seconds,
                             .server_url = c->server_url,
                             .namespace = c->namespace_,
                             .kubeconfig = c->kubeconfig,
                             .pod_template = c->pod_template};
    struct backend *b = NULL;
    struct backend_pod *pods = NULL;
    struct err err = {0};
    size_t n = 0;
    char *detail;

    if (backend_open(&bc, &b, &err) < 0) {
        detail = mem_printf("kubernetes backend does not load: %s", err.msg);
        pooldiag_add(checks, "pool.template", "fail", detail,
                     "check --kubeconfig (or the in-cluster service account) and "
                     "--agent-pod-template: the template must be a Pod object in YAML or JSON");
        free(detail);
        return;
    }
    pooldiag_add(checks, "pool.template", "ok", "kubeconfig and agent pod template load", NULL);
    if (backend_list(b, &pods, &n, &err) < 0) {
        bool denied = err.code == ERR_UNAUTHORIZED || err.code == ERR_FORBIDDEN;

        detail = mem_printf("listing agent pods in namespace %s: %s",
                            c->namespace_[0] ? c->namespace_ : "(kubeconfig's)", err.msg);
        pooldiag_add(checks, "pool.kubernetes", "fail", detail,
                     denied ? "grant droverd's service account get/list/watch/create/delete on "
                              "pods and pods/log in its namespace (k8s/rbac.yaml)"
                            : "check that the Kubernetes API server is reachable from droverd");
        free(detail);
    } else {
        size_t bad = 0;
        const char *why = "";

        for (size_t i = 0; i < n; i++)
            if (pods[i].reason[0] && pods[i].phase != BACKEND_RUNNING) {
                bad++;
                why = pods[i].reason;
            }
        detail = mem_printf("Kubernetes API reachable; %zu agent pod(s)%s%s", n,
                            bad ? ", not running: " : "", bad ? why : "");
        pooldiag_add(checks, "pool.kubernetes", bad ? "warn" : "ok", detail,
                     bad ? "read the pods' events (kubectl describe pod): an image that cannot be "
                           "pulled or a crashing agent"
                         : NULL);
        free(detail);
    }
    free(pods);
    backend_close(b);
}

void pooldiag_check(const struct agentpool_cfg *c, json_t *checks)
{
    if (strcmp(c->backend, "none") == 0)
        pooldiag_add(
            checks, "pool.backend", "ok",
            "no pod backend (--pod-backend none): agents are started elsewhere and register "
            "with their tokens",
            NULL);
    else if (strcmp(c->backend, "process") == 0)
        pooldiag_process(c, checks);
    else
        pooldiag_kubernetes(c, checks);
}
