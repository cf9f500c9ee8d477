/*
 * The pool's settings (its rows of the one settings table, core/opt) and the pool thread's
 * start/stop. Main thread only.
 */
#include "pool/agentpool.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "pool/agentbin.h"
#include "pool/backend.h"
#include "pool/loop.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int agentpool_set_backend(void *target, const struct opt *o, const char *name, const char *v,
                                 struct err *err)
{
    struct agentpool_cfg *c = target;

    (void)o;
    if (strcmp(v, "process") != 0 && strcmp(v, "kubernetes") != 0 && strcmp(v, "none") != 0)
        return err_set(err, ERR_INVALID, "%s must be process, kubernetes or none (got '%s')", name,
                       v);
    snprintf(c->backend, sizeof(c->backend), "%s", v);
    return 0;
}

#define PS(f, e, d, field, h) OPT_STR_ROW(f, e, d, struct agentpool_cfg, field, h)
#define PI(f, e, d, field, lo, hi, h) OPT_INT_ROW(f, e, d, struct agentpool_cfg, field, lo, hi, h)

static const struct opt agentpool_opts[] = {
    OPT_CUSTOM_ROW("pod-backend", "DROVER_POD_BACKEND", "process", agentpool_set_backend,
                   "where agents run: process (local child processes), kubernetes, none"),
    /* No default: agentpool_cfg_resolve() finds drover-agent. */
    PS("agent-command", "DROVER_AGENT_COMMAND", NULL, agent_command,
       "process backend: the agent command line (run with /bin/sh -c); default: the "
       "drover-agent built or installed with droverd (<droverd's dir>/agent/ or its own dir), "
       "else drover-agent on PATH"),
    PS("agent-log-dir", "DROVER_AGENT_LOG_DIR", "/tmp/drover-agents", agent_log_dir,
       "process backend: directory of the per-agent log files"),
    PS("agent-user", "DROVER_AGENT_USER", NULL, agent_user,
       "process backend: run agents as this user (droverd must run as root), so that they "
       "cannot read droverd's memory or environment; without it a root droverd's agents run "
       "as root"),
    PS("agent-server-url", "DROVER_AGENT_SERVER_URL", NULL, server_url,
       "the server URL agents are given (MCP_SERVER_URL); default: the listen address"),
    PI("pool-hard-cap", "DROVER_POOL_HARD_CAP", "50", hard_cap, 0, 10000,
       "ceiling for max_agents and pinned targets"),
    PI("pool-tick", "DROVER_POOL_TICK", "30", tick_seconds, 1, 3600,
       "seconds between autoscaler evaluations (also right after a task becomes runnable)"),
    PI("pool-stabilization", "DROVER_POOL_STABILIZATION", "300", stabilization_seconds, 0, 86400,
       "scale-down stabilization window in seconds"),
    PI("pool-startup-deadline", "DROVER_POOL_STARTUP_DEADLINE", "180", startup_deadline_seconds, 1,
       86400, "seconds an agent may take to send its first heartbeat"),
    PI("pool-stale-after", "DROVER_POOL_STALE_AFTER", "300", stale_after_seconds, 1, 86400,
       "seconds of heartbeat silence before an agent is reaped"),
    PI("pool-orphan-grace", "DROVER_POOL_ORPHAN_GRACE", "60", orphan_grace_seconds, 0, 86400,
       "seconds before a pod with Drover's labels but no agent row is deleted"),
    PI("pool-grace", "DROVER_POOL_GRACE", "30", grace_seconds, 1, 3600,
       "seconds between SIGTERM and SIGKILL when an agent is deleted"),
    PI("pool-max-starting", "DROVER_POOL_MAX_STARTING", "4", max_starting, 1, 1000,
       "at most this many agents starting at once"),
    PI("shutdown-grace", "DROVER_SHUTDOWN_GRACE", "20", shutdown_grace_seconds, 0, 3600,
       "on SIGTERM, seconds this droverd keeps serving its own agents while they hand their "
       "tasks back (SIGKILL after)"),
    PS("k8s-namespace", "DROVER_K8S_NAMESPACE", NULL, namespace_,
       "kubernetes backend: namespace of the agent pods (default: the service account's)"),
    PS("kubeconfig", "KUBECONFIG", NULL, kubeconfig,
       "kubernetes backend: kubeconfig file (default: in-cluster service account)"),
    PS("agent-pod-template", "DROVER_AGENT_POD_TEMPLATE", "/etc/drover/agent-pod.yaml",
       pod_template,
       "kubernetes backend: agent pod template (YAML or JSON; k8s/deployment.yaml mounts "
       "k8s/agent-pod.yaml here)"),
    /* No default row: <host name>-<pid>, computed by agentpool_cfg_default. */
    PS("replica-id", "DROVER_REPLICA_ID", NULL, replica, "this replica's name in scale_events"),
};

struct opt_group agentpool_opt_group(struct agentpool_cfg *c)
{
    return (struct opt_group){"agent pool settings", agentpool_opts,
                              sizeof(agentpool_opts) / sizeof(agentpool_opts[0]), c};
}

void agentpool_cfg_default(struct agentpool_cfg *c)
{
    struct opt_group g = agentpool_opt_group(c);
    char host[64] = "droverd";

    memset(c, 0, sizeof(*c));
    (void)opt_defaults(&g, 1, NULL); /* the table's own defaults: valid by construction */
    gethostname(host, sizeof(host) - 1);
    snprintf(c->replica, sizeof(c->replica), "%s-%ld", host, (long)getpid());
}

int agentpool_cfg_set(struct agentpool_cfg *c, const char *flag, const char *value, struct err *err)
{
    struct opt_group g = agentpool_opt_group(c);

    return opt_set(&g, 1, flag, value, err);
}

static int agentpool_cfg_env(struct agentpool_cfg *c, struct err *err)
{
    struct opt_group g = agentpool_opt_group(c);

    return opt_env(&g, 1, err);
}

int agentpool_cfg_resolve(struct agentpool_cfg *c, struct err *err)
{
    char exe[PATH_MAX], found[PATH_MAX];
    enum agentbin_source src;
    struct err why = {0};

    if (strcmp(c->backend, "process") == 0 && c->agent_user[0] &&
        process_check_user(c->agent_user, err) < 0)
        return -1; /* a start-up error, not a pool that cannot start agents */
    if (strcmp(c->backend, "process") != 0 || c->agent_command[0])
        return 0;
    if (agentbin_self(exe, sizeof(exe), &why) < 0)
        exe[0] = '\0'; /* no /proc: PATH alone */
    if (agentbin_find(exe, getenv("PATH"), found, sizeof(found), &src, &why) < 0)
        return err_set(err, ERR_NOT_FOUND,
                       "--pod-backend process: %s; build it (cmake --build build --target "
                       "drover-agent) or give --agent-command",
                       why.msg);
    if (agentbin_quote(found, c->agent_command, sizeof(c->agent_command), err) < 0)
        return -1;
    log_info("pool", "agent command from=%s path=\"%s\"", agentbin_source_name(src), found);
    return 0;
}

/* A running pool: its thread, and the log reader the REST API shares. */
struct agentpool {
    pthread_t thread;
    struct loop *loop;
    struct agentpool_cfg cfg;
    pthread_mutex_t logs_mu;
    struct backend *logs_be;
    double drain_deadline; /* agentpool_drained's backstop; 0 = no drain asked */
};

const struct agentpool_cfg *agentpool_config(const struct agentpool *p)
{
    return &p->cfg;
}

int agentpool_hard_cap(const struct agentpool *p)
{
    struct agentpool_cfg c;

    if (p && p->cfg.hard_cap > 0)
        return p->cfg.hard_cap;
    agentpool_cfg_default(&c);
    agentpool_cfg_env(&c, NULL);
    return c.hard_cap;
}

static void *agentpool_thread(void *arg)
{
    loop_run(arg);
    return NULL;
}

int agentpool_start(const struct agentpool_cfg *cfg, const char *dsn, struct agentpool **out,
                    struct err *err)
{
    struct agentpool *p;
    struct loop *l;

    *out = NULL;
    if (loop_create(cfg, dsn, &l, err) < 0)
        return -1;
    p = mem_calloc(1, sizeof(*p));
    pthread_mutex_init(&p->logs_mu, NULL);
    p->loop = l;
    p->cfg = *cfg;
    if (pthread_create(&p->thread, NULL, agentpool_thread, l) != 0) {
        loop_destroy(l);
        pthread_mutex_destroy(&p->logs_mu);
        free(p);
        return err_set(err, ERR_INTERNAL, "cannot start the pool thread");
    }
    *out = p;
    return 0;
}

/* The pool thread SIGKILLs at the grace; this much more lets it reap and requeue. */
#define AGENTPOOL_DRAIN_SLACK 5

void agentpool_drain(struct agentpool *p)
{
    if (!p || p->drain_deadline > 0)
        return;
    p->drain_deadline = clock_s() + p->cfg.shutdown_grace_seconds + AGENTPOOL_DRAIN_SLACK;
    loop_request_drain(p->loop, p->cfg.shutdown_grace_seconds);
}

bool agentpool_drained(struct agentpool *p)
{
    if (!p || p->drain_deadline <= 0 || loop_drained(p->loop))
        return true;
    if (clock_s() > p->drain_deadline) {
        log_warn("pool", "shutting down without waiting longer for the pool thread");
        p->drain_deadline = -1; /* past due: warn once */
        return true;
    }
    return false;
}

void agentpool_stop(struct agentpool *p)
{
    if (!p)
        return;
    loop_request_stop(p->loop);
    pthread_join(p->thread, NULL);
    loop_destroy(p->loop);
    backend_close(p->logs_be);
    pthread_mutex_destroy(&p->logs_mu);
    free(p);
}

int agentpool_logs(struct agentpool *p, const char *agent_id, const char *pod_name, int tail,
                   char **text, size_t *len, struct err *err)
{
    const struct agentpool_cfg *c = &p->cfg;
    struct buf out;
    int rc = -1;

    *text = NULL;
    *len = 0;
    if (strcmp(c->backend, "none") == 0)
        return err_set(err, ERR_NOT_FOUND, "no pod backend runs agents here (--pod-backend none)");
    buf_init(&out, 8u << 20);
    pthread_mutex_lock(&p->logs_mu);
    if (!p->logs_be) {
        struct backend_cfg bc = {.kind = c->backend,
                                 .agent_command = c->agent_command,
                                 .log_dir = c->agent_log_dir,
                                 .agent_user = c->agent_user,
                                 .grace_seconds = c->grace_seconds,
                                 .server_url = c->server_url,
                                 .namespace = c->namespace_,
                                 .kubeconfig = c->kubeconfig,
                                 .pod_template = c->pod_template};

        if (backend_open(&bc, &p->logs_be, err) < 0)
            goto out;
    }
    /* The process backend names logs by agent id; Kubernetes by pod name. */
    if (backend_logs(p->logs_be,
                     pod_name && *pod_name && strcmp(c->backend, "kubernetes") == 0 ? pod_name
                                                                                    : agent_id,
                     tail, false, &out, err) < 0)
        goto out;
    *text = buf_take(&out, len);
    rc = 0;
out:
    pthread_mutex_unlock(&p->logs_mu);
    buf_clear(&out);
    return rc;
}
