/* Pool configuration knobs and the pool thread's start/stop. Main thread only. */
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

#define KS(f, e, field, h)                                                                         \
    {                                                                                              \
        f, e, h, AGENTPOOL_KNOB_STR, offsetof(struct agentpool_cfg, field),                        \
            sizeof(((struct agentpool_cfg *)0)->field), 0, 0                                       \
    }
#define KI(f, e, field, lo, hi, h)                                                                 \
    {                                                                                              \
        f, e, h, AGENTPOOL_KNOB_INT, offsetof(struct agentpool_cfg, field), sizeof(int), lo, hi    \
    }

const struct agentpool_knob agentpool_knobs[] = {
    KS("pod-backend", "DROVER_POD_BACKEND", backend,
       "where agents run: process (local child processes), kubernetes, none"),
    KS("agent-command", "DROVER_AGENT_COMMAND", agent_command,
       "process backend: the agent command line (run with /bin/sh -c); default: the "
       "drover-agent built or installed with droverd (<droverd's dir>/agent/ or its own dir), "
       "else drover-agent on PATH"),
    KS("agent-log-dir", "DROVER_AGENT_LOG_DIR", agent_log_dir,
       "process backend: directory of the per-agent log files"),
    KS("agent-server-url", "DROVER_AGENT_SERVER_URL", server_url,
       "the server URL agents are given (MCP_SERVER_URL)"),
    KI("pool-hard-cap", "DROVER_POOL_HARD_CAP", hard_cap, 0, 10000,
       "ceiling for max_agents and pinned targets"),
    KI("pool-tick", "DROVER_POOL_TICK", tick_seconds, 1, 3600,
       "seconds between autoscaler evaluations (also right after a task becomes runnable)"),
    KI("pool-stabilization", "DROVER_POOL_STABILIZATION", stabilization_seconds, 0, 86400,
       "scale-down stabilization window in seconds"),
    KI("pool-startup-deadline", "DROVER_POOL_STARTUP_DEADLINE", startup_deadline_seconds, 1, 86400,
       "seconds an agent may take to send its first heartbeat"),
    KI("pool-stale-after", "DROVER_POOL_STALE_AFTER", stale_after_seconds, 1, 86400,
       "seconds of heartbeat silence before an agent is reaped"),
    KI("pool-orphan-grace", "DROVER_POOL_ORPHAN_GRACE", orphan_grace_seconds, 0, 86400,
       "seconds before a pod with Drover's labels but no agent row is deleted"),
    KI("pool-grace", "DROVER_POOL_GRACE", grace_seconds, 1, 3600,
       "seconds between SIGTERM and SIGKILL when an agent is deleted"),
    KI("pool-max-starting", "DROVER_POOL_MAX_STARTING", max_starting, 1, 1000,
       "at most this many agents starting at once"),
    KI("shutdown-grace", "DROVER_SHUTDOWN_GRACE", shutdown_grace_seconds, 0, 3600,
       "on SIGTERM, seconds this droverd keeps serving its own agents while they hand their "
       "tasks back (SIGKILL after)"),
    KS("k8s-namespace", "DROVER_K8S_NAMESPACE", namespace_,
       "kubernetes backend: namespace of the agent pods (default: the service account's)"),
    KS("kubeconfig", "KUBECONFIG", kubeconfig,
       "kubernetes backend: kubeconfig file (default: in-cluster service account)"),
    KS("agent-pod-template", "DROVER_AGENT_POD_TEMPLATE", pod_template,
       "kubernetes backend: agent pod template (YAML or JSON)"),
    KS("replica-id", "DROVER_REPLICA_ID", replica, "this replica's name in scale_events"),
};
const size_t agentpool_nknobs = sizeof(agentpool_knobs) / sizeof(agentpool_knobs[0]);

void agentpool_cfg_default(struct agentpool_cfg *c)
{
    char host[64] = "droverd";

    memset(c, 0, sizeof(*c));
    snprintf(c->backend, sizeof(c->backend), "process");
    /* agent_command stays empty: agentpool_cfg_resolve() finds drover-agent. */
    snprintf(c->agent_log_dir, sizeof(c->agent_log_dir), "/tmp/drover-agents");
    c->hard_cap = 50;
    c->tick_seconds = 30;
    c->stabilization_seconds = 300;
    c->startup_deadline_seconds = 180;
    c->stale_after_seconds = 300;
    c->orphan_grace_seconds = 60;
    c->grace_seconds = 30;
    c->max_starting = 4;
    c->shutdown_grace_seconds = 20;
    snprintf(c->pod_template, sizeof(c->pod_template), "k8s/agent-pod.yaml");
    gethostname(host, sizeof(host) - 1);
    snprintf(c->replica, sizeof(c->replica), "%s-%ld", host, (long)getpid());
}

static int agentpool_knob_apply(struct agentpool_cfg *c, const struct agentpool_knob *k,
                                const char *value, struct err *err)
{
    char *base = (char *)c + k->offset;

    if (k->type == AGENTPOOL_KNOB_STR) {
        if (strlen(value) >= k->size)
            return err_set(err, ERR_INVALID, "--%s is longer than %zu characters", k->flag,
                           k->size - 1);
        if (strcmp(k->flag, "pod-backend") == 0 && strcmp(value, "process") != 0 &&
            strcmp(value, "kubernetes") != 0 && strcmp(value, "none") != 0)
            return err_set(err, ERR_INVALID,
                           "--pod-backend must be process, kubernetes or none (got '%s')", value);
        snprintf(base, k->size, "%s", value);
    } else {
        char *end;
        long v = strtol(value, &end, 10);

        if (!*value || *end || v < k->min || v > k->max)
            return err_set(err, ERR_INVALID, "--%s must be an integer between %d and %d (got '%s')",
                           k->flag, k->min, k->max, value);
        *(int *)(void *)base = (int)v;
    }
    return 1;
}

int agentpool_cfg_set(struct agentpool_cfg *c, const char *flag, const char *value, struct err *err)
{
    for (size_t i = 0; i < agentpool_nknobs; i++)
        if (strcmp(agentpool_knobs[i].flag, flag) == 0)
            return agentpool_knob_apply(c, &agentpool_knobs[i], value ? value : "", err);
    return 0;
}

int agentpool_cfg_env(struct agentpool_cfg *c, struct err *err)
{
    for (size_t i = 0; i < agentpool_nknobs; i++) {
        const char *v = getenv(agentpool_knobs[i].env);

        if (v && *v && agentpool_knob_apply(c, &agentpool_knobs[i], v, err) < 0)
            return -1;
    }
    return 0;
}

int agentpool_cfg_args(struct agentpool_cfg *c, int *argc, char **argv, struct err *err)
{
    int out = 1;

    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i], *eq, *value = NULL;
        char flag[64];
        int r;

        if (strncmp(a, "--", 2) != 0) {
            argv[out++] = argv[i];
            continue;
        }
        eq = strchr(a, '=');
        snprintf(flag, sizeof(flag), "%.*s", (int)(eq ? eq - a - 2 : (long)strlen(a + 2)), a + 2);
        if (eq)
            value = eq + 1;
        else if (i + 1 < *argc)
            value = argv[i + 1];
        r = agentpool_cfg_set(c, flag, value ? value : "", err);
        if (r < 0)
            return -1;
        if (r == 0) {
            argv[out++] = argv[i];
            continue;
        }
        if (!value)
            return err_set(err, ERR_INVALID, "--%s needs a value", flag);
        if (!eq)
            i++; /* the value was the next argument */
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

int agentpool_cfg_resolve(struct agentpool_cfg *c, struct err *err)
{
    char exe[PATH_MAX], found[PATH_MAX];
    enum agentbin_source src;
    struct err why = {0};

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

void agentpool_usage(FILE *f)
{
    fprintf(f, "\nagent pool settings (flag / environment variable):\n");
    for (size_t i = 0; i < agentpool_nknobs; i++)
        fprintf(f, "  --%-24s %-30s %s\n", agentpool_knobs[i].flag, agentpool_knobs[i].env,
                agentpool_knobs[i].help);
}

/* The one pool thread of this process, and the log reader the REST API shares. */
static struct {
    pthread_t thread;
    struct loop *loop;
    bool running;
    int hard_cap;
    struct agentpool_cfg cfg;
    pthread_mutex_t logs_mu;
    struct backend *logs_be;
    double drain_deadline; /* agentpool_drained's backstop; 0 = no drain asked */
} agentpool_self = {.logs_mu = PTHREAD_MUTEX_INITIALIZER};

int agentpool_hard_cap(void)
{
    struct agentpool_cfg c;

    if (agentpool_self.hard_cap > 0)
        return agentpool_self.hard_cap;
    agentpool_cfg_default(&c);
    agentpool_cfg_env(&c, NULL);
    return c.hard_cap;
}

static void *agentpool_thread(void *arg)
{
    loop_run(arg);
    return NULL;
}

int agentpool_start(const struct agentpool_cfg *cfg, const char *dsn, struct err *err)
{
    struct loop *l;

    if (agentpool_self.running)
        return err_set(err, ERR_CONFLICT, "the pool is already running");
    if (loop_create(cfg, dsn, &l, err) < 0)
        return -1;
    if (pthread_create(&agentpool_self.thread, NULL, agentpool_thread, l) != 0) {
        loop_destroy(l);
        return err_set(err, ERR_INTERNAL, "cannot start the pool thread");
    }
    agentpool_self.loop = l;
    agentpool_self.running = true;
    agentpool_self.hard_cap = cfg->hard_cap;
    agentpool_self.cfg = *cfg;
    return 0;
}

/* The pool thread SIGKILLs at the grace; this much more lets it reap and requeue. */
#define AGENTPOOL_DRAIN_SLACK 5

void agentpool_drain(void)
{
    if (!agentpool_self.running || agentpool_self.drain_deadline > 0)
        return;
    agentpool_self.drain_deadline =
        clock_s() + agentpool_self.cfg.shutdown_grace_seconds + AGENTPOOL_DRAIN_SLACK;
    loop_request_drain(agentpool_self.loop, agentpool_self.cfg.shutdown_grace_seconds);
}

bool agentpool_drained(void)
{
    if (!agentpool_self.running || agentpool_self.drain_deadline <= 0 ||
        loop_drained(agentpool_self.loop))
        return true;
    if (clock_s() > agentpool_self.drain_deadline) {
        log_warn("pool", "shutting down without waiting longer for the pool thread");
        agentpool_self.drain_deadline = -1; /* past due: warn once */
        return true;
    }
    return false;
}

void agentpool_stop(void)
{
    if (!agentpool_self.running)
        return;
    loop_request_stop(agentpool_self.loop);
    pthread_join(agentpool_self.thread, NULL);
    loop_destroy(agentpool_self.loop);
    agentpool_self.loop = NULL;
    agentpool_self.running = false;
    agentpool_self.drain_deadline = 0;
    pthread_mutex_lock(&agentpool_self.logs_mu);
    backend_close(agentpool_self.logs_be);
    agentpool_self.logs_be = NULL;
    pthread_mutex_unlock(&agentpool_self.logs_mu);
}

int agentpool_logs(const char *agent_id, const char *pod_name, int tail, char **text, size_t *len,
                   struct err *err)
{
    const struct agentpool_cfg *c = &agentpool_self.cfg;
    struct buf out;
    int rc = -1;

    *text = NULL;
    *len = 0;
    if (!agentpool_self.running || strcmp(c->backend, "none") == 0)
        return err_set(err, ERR_NOT_FOUND, "no pod backend runs agents here (--pod-backend none)");
    buf_init(&out, 8u << 20);
    pthread_mutex_lock(&agentpool_self.logs_mu);
    if (!agentpool_self.logs_be) {
        struct backend_cfg bc = {.kind = c->backend,
                                 .agent_command = c->agent_command,
                                 .log_dir = c->agent_log_dir,
                                 .grace_seconds = c->grace_seconds,
                                 .server_url = c->server_url,
                                 .namespace = c->namespace_,
                                 .kubeconfig = c->kubeconfig,
                                 .pod_template = c->pod_template};

        if (backend_open(&bc, &agentpool_self.logs_be, err) < 0)
            goto out;
    }
    /* The process backend names logs by agent id; Kubernetes by pod name. */
    if (backend_logs(agentpool_self.logs_be,
                     pod_name && *pod_name && strcmp(c->backend, "kubernetes") == 0 ? pod_name
                                                                                    : agent_id,
                     tail, false, &out, err) < 0)
        goto out;
    *text = buf_take(&out, len);
    rc = 0;
out:
    pthread_mutex_unlock(&agentpool_self.logs_mu);
    buf_clear(&out);
    return rc;
}
