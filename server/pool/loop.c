/* The pool thread: leader election, reaper, reconciliation, autoscaler. See loop.h. */
#include "pool/loop.h"
#include "core/clock.h"
#include "core/counters.h"
#include "core/log.h"
#include "core/mem.h"
#include "pool/backend.h"
#include "pool/policy.h"
#include "store/agents.h"
#include "store/notify.h"
#include "store/poolstore.h"
#include "store/queue.h"
#include "store/tokens.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Seconds between evaluations woken by drover_task_done: a busy queue finishes tasks all the
 * time, and each evaluation costs a few queries (and a pod list on Kubernetes). */
#define LOOP_DONE_DEBOUNCE 1.0

struct loop {
    struct agentpool_cfg cfg;
    char *dsn;
    struct db db;          /* holds the advisory lock: its session is the leadership */
    struct notify *listen; /* LISTEN drover_task_ready, drover_task_done, drover_pool */
    struct backend *be;
    bool leader;
    atomic_int stop;
    /* Shutdown hand-back (loop_request_drain): requested, then done. */
    atomic_int drain, drained;
    atomic_int drain_grace;
    bool drain_started;
    double last_eval; /* when the policy last ran: task_done is debounced against it */
    double done_due;  /* a task_done notification is waiting for this time; 0 = none */
    char schema[128]; /* drover_task_done's payload for this schema's tasks */
    struct policy_history hist;
    double next_tick, next_retry;
    int failures, successes;   /* start outcomes since the last evaluation */
    int last_raw, last_target; /* the previous decision: retries are recorded when it changes */
    bool last_breaker;
    char failure_reason[128];
    json_t *starting; /* agent id -> monotonic time created (ours, not yet heartbeating) */
    json_t *orphans;  /* pod name -> monotonic time first seen without an agent row */
    json_t *waiting;  /* agent id -> why its pod is not running yet (ImagePullBackOff, ...) */
};

int loop_create(const struct agentpool_cfg *cfg, const char *dsn, struct loop **out,
                struct err *err)
{
    struct loop *l = mem_calloc(1, sizeof(*l));

    *out = NULL;
    l->cfg = *cfg;
    l->dsn = dsn ? mem_strdup(dsn) : NULL;
    if (db_open(&l->db, dsn, err) < 0) {
        free(l->dsn);
        free(l);
        return -1;
    }
    l->starting = json_object();
    l->orphans = json_object();
    l->waiting = json_object();
    *out = l;
    return 0;
}

void loop_request_stop(struct loop *l)
{
    atomic_store(&l->stop, 1);
}

void loop_request_drain(struct loop *l, int grace_seconds)
{
    atomic_store(&l->drain_grace, grace_seconds);
    atomic_store(&l->drain, 1);
}

bool loop_drained(struct loop *l)
{
    return atomic_load(&l->drained) != 0;
}

static void loop_resign(struct loop *l)
{
    notify_close(l->listen);
    l->listen = NULL;
    l->leader = false;
}

void loop_destroy(struct loop *l)
{
    if (!l)
        return;
    loop_resign(l);
    backend_close(l->be);
    db_close(&l->db);
    json_decref(l->starting);
    json_decref(l->orphans);
    json_decref(l->waiting);
    free(l->dsn);
    free(l);
}

/* ---- leadership ---------------------------------------------------------------------- */

/*
 * The best-effort steps of the loop (a row update that a later pass repeats anyway): a
 * failure is logged with what was being done, never silently dropped.
 */
static void loop_warn(int rc, const struct err *err, const char *what, const char *id)
{
    if (rc < 0)
        log_warn("pool", "%s failed: agent=%s err='%s'", what, id ? id : "-", err->msg);
}

static int loop_open_listen(struct loop *l, struct err *err)
{
    static const char *const channels[] = {QUEUE_CHANNEL_READY, QUEUE_CHANNEL_DONE,
                                           AGENTPOOL_CHANNEL, NULL};

    if (notify_open(l->dsn, channels, &l->listen, err) < 0)
        return -1;
    snprintf(l->schema, sizeof(l->schema), "%s", notify_schema(l->listen));
    return 0;
}

/* Become leader when the lock is free. Returns true while leading. */
static bool loop_elect(struct loop *l)
{
    struct err err = {0};
    bool held = false;

    if (l->leader) {
        /* The session is the lease: if the connection was reset, the lock went with it. */
        if (poolstore_lead_held(&l->db, &held, &err) == 0 && held)
            return true;
        log_warn("pool", "lost the pool leadership: replica=%s err='%s'", l->cfg.replica, err.msg);
        loop_resign(l);
        return false;
    }
    if (db_ensure(&l->db, &err) < 0 || poolstore_lead_try(&l->db, &held, &err) < 0 || !held)
        return false;
    if (!l->be) {
        struct backend_cfg bc = {.kind = l->cfg.backend,
                                 .agent_command = l->cfg.agent_command,
                                 .log_dir = l->cfg.agent_log_dir,
                                 .agent_user = l->cfg.agent_user,
                                 .grace_seconds = l->cfg.grace_seconds,
                                 .server_url = l->cfg.server_url,
                                 .namespace = l->cfg.namespace_,
                                 .kubeconfig = l->cfg.kubeconfig,
                                 .pod_template = l->cfg.pod_template};

        if (backend_open(&bc, &l->be, &err) < 0) {
            log_error("pool", "cannot open the pod backend: backend=%s err='%s'", l->cfg.backend,
                      err.msg);
            poolstore_lead_release(&l->db);
            return false;
        }
    }
    if (loop_open_listen(l, &err) < 0) {
        log_error("pool", "%s", err.msg);
        poolstore_lead_release(&l->db);
        return false;
    }
    l->leader = true;
    l->next_tick = 0;
    memset(&l->hist, 0, sizeof(l->hist));
    loop_warn(poolstore_leader_set(&l->db, l->cfg.replica, &err), &err, "recording the leader",
              NULL);
    log_info("pool", "leading the agent pool: replica=%s backend=%s", l->cfg.replica,
             l->cfg.backend);
    return true;
}

/* ---- agent lifecycle helpers ----------------------------------------------------------- */

/* Leases one agent's end may hand back in one sweep. */
#define LOOP_REAP_BATCH 100

/*
 * Revoke an agent's tokens as the pool lets it go. Marking it offline is not enough: a
 * heartbeat revives an offline agent, so a process the backend cannot see (the child of an
 * earlier droverd, a pod in a partitioned node) would go on claiming tasks that are requeued
 * under it every tick. Without its token it gets 401 and exits.
 */
static void loop_disown(struct loop *l, const char *id)
{
    struct err err = {0};
    int n = 0;

    if (tokens_revoke_agent(&l->db, id, &n, &err) < 0)
        loop_warn(-1, &err, "revoking its token", id);
    else if (n > 0)
        log_info("pool", "agent token revoked: agent=%s tokens=%d", id, n);
}

/*
 * An agent is gone (its pod ended, or vanished): its tasks go back to the queue now rather
 * than when their leases would have run out, and the agent is marked offline. Returns how
 * many tasks were requeued.
 */
static int loop_release(struct loop *l, const char *id, const char *why)
{
    struct err err = {0};
    int n = 0;

    loop_disown(l, id);
    loop_warn(poolstore_expire_agent_leases(&l->db, id, &err), &err, "expiring its leases", id);
    loop_warn(agents_mark_offline(&l->db, id, why, &err), &err, "marking it offline", id);
    loop_warn(queue_reap(&l->db, LOOP_REAP_BATCH, &n, &err), &err, "requeueing its tasks", id);
    return n;
}

/*
 * Delete an agent's pod (if it has one) and mark it offline; a no-op for other backends'.
 * Only an agent this pool runs loses its token: one registered from elsewhere (backend
 * none, an operator's own machine) that went quiet for a while may come back, and a
 * heartbeat revives it; locking it out would need an admin to mint it a new token.
 */
static void loop_retire(struct loop *l, const json_t *agent, const char *reason)
{
    const char *id = json_string_value(json_object_get(agent, "id"));
    const char *pod = json_string_value(json_object_get(agent, "pod_name"));
    const char *uid = json_string_value(json_object_get(agent, "pod_uid"));
    const char *backend = json_string_value(json_object_get(agent, "backend"));
    struct err err = {0};

    if (pod && backend_remove(l->be, pod, uid, &err) < 0)
        log_warn("pool", "pod delete failed: agent=%s pod=%s err='%s'", id, pod, err.msg);
    json_object_del(l->starting, id);
    if (backend_manages_pods(l->be) && backend && strcmp(backend, l->cfg.backend) == 0)
        loop_disown(l, id);
    if (agents_mark_offline(&l->db, id, reason, &err) < 0)
        log_warn("pool", "mark offline failed: agent=%s err='%s'", id, err.msg);
    else
        log_info("pool", "agent retired: agent=%s reason='%s'", id, reason);
}

static void loop_note_failure(struct loop *l, const char *reason)
{
    l->failures++;
    l->next_retry = clock_s(); /* re-evaluate at once so back-off starts from this failure */
    snprintf(l->failure_reason, sizeof(l->failure_reason), "%.*s",
             (int)sizeof(l->failure_reason) - 1, reason); /* truncation is fine */
}

/* A pod or process ended (from backend_poll). */
static void loop_on_exit(const struct backend_pod *pod, void *arg)
{
    struct loop *l = arg;
    struct err err = {0};
    json_t *agent = NULL;
    const char *status;
    char why[200];
    int n;

    if (!pod->agent_id[0])
        return;
    if (pod->phase == BACKEND_PENDING || pod->phase == BACKEND_RUNNING) {
        /* Not an exit: remember why a pod is stuck, for the start-up deadline's reason. */
        if (pod->reason[0])
            json_object_set_new(l->waiting, pod->agent_id, json_string(pod->reason));
        else
            json_object_del(l->waiting, pod->agent_id);
        return;
    }
    json_object_del(l->waiting, pod->agent_id);
    if (agents_get(&l->db, pod->agent_id, &agent, &err) < 0)
        return;
    status = json_string_value(json_object_get(agent, "status"));
    if (!status || strcmp(status, "offline") == 0)
        goto out;
    if (strcmp(status, "initializing") == 0) {
        snprintf(why, sizeof(why), "exited before its first heartbeat: %s", pod->reason);
        loop_note_failure(l, pod->reason);
    } else {
        snprintf(why, sizeof(why), "pod ended: %s", pod->reason);
        /* Capacity just dropped and nothing else announces it (no task became runnable, no
         * admin change): decide now rather than at the next tick, up to --pool-tick away. */
        l->next_retry = clock_s();
    }
    json_object_del(l->starting, pod->agent_id);
    n = loop_release(l, pod->agent_id, why);
    log_warn("pool", "agent ended: agent=%s reason='%s' requeued=%d", pod->agent_id, why, n);
out:
    json_decref(agent);
}

/* Create the token and the pod of an agent row that exists already. */
static int loop_launch(struct loop *l, const char *id, struct err *err)
{
    char token[PRINCIPAL_TOKEN_LEN], name[64];
    struct backend_agent a = {.agent_id = id, .token = token, .server_url = l->cfg.server_url};
    struct backend_pod pod;

    snprintf(name, sizeof(name), "agent-%.8s", id);
    if (tokens_create(&l->db, PRINCIPAL_AGENT, name, id, token, NULL, err) < 0)
        return -1;
    if (backend_create(l->be, &a, &pod, err) < 0) {
        memset(token, 0, sizeof(token));
        return -1;
    }
    memset(token, 0, sizeof(token));
    if (poolstore_agent_set_pod(&l->db, id, pod.name, pod.uid, err) < 0)
        return -1;
    json_object_set_new(l->starting, id, json_real(clock_s()));
    return 0;
}

static int loop_create_agent(struct loop *l, struct err *err)
{
    char id[37];

    if (agents_create(&l->db, "pool", l->cfg.backend, id, err) < 0)
        return -1;
    if (loop_launch(l, id, err) < 0) {
        char why[300];

        struct err e2 = {0};

        snprintf(why, sizeof(why), "could not start: %s", err->msg);
        loop_warn(agents_mark_offline(&l->db, id, why, &e2), &e2, "marking it offline", id);
        loop_note_failure(l, err->msg);
        return -1;
    }
    return 0;
}

/* ---- one evaluation -------------------------------------------------------------------- */

static const json_t *loop_find(const json_t *agents, const char *id)
{
    size_t i;
    const json_t *a;

    json_array_foreach(agents, i, a)
    {
        const char *x = json_string_value(json_object_get(a, "id"));

        if (x && strcmp(x, id) == 0)
            return a;
    }
    return NULL;
}

/* Reaper: expired leases, silent agents, missed start-up deadlines, drained agents. */
static void loop_reap(struct loop *l)
{
    struct err err = {0};
    json_t *live = NULL, *stale = NULL, *a;
    size_t i;
    int n = 0;

    if (poolstore_agents_live(&l->db, &live, &err) < 0)
        goto out;
    if (poolstore_reap_stale(&l->db, l->cfg.stale_after_seconds, &stale, &err) == 0) {
        json_array_foreach(stale, i, a)
        {
            const json_t *ag = loop_find(live, json_string_value(a));
            char why[64];

            snprintf(why, sizeof(why), "stale: no heartbeat for %d s", l->cfg.stale_after_seconds);
            if (ag)
                loop_retire(l, ag, why);
        }
    }
    if (queue_reap(&l->db, LOOP_REAP_BATCH, &n, &err) == 0 && n > 0)
        log_info("pool", "expired leases returned to the queue: n=%d", n);
    json_decref(live);
    live = NULL;
    if (poolstore_agents_live(&l->db, &live, &err) < 0)
        goto out;
    json_array_foreach(live, i, a)
    {
        const char *id = json_string_value(json_object_get(a, "id"));
        const char *status = json_string_value(json_object_get(a, "status"));
        const char *backend = json_string_value(json_object_get(a, "backend"));
        double age = json_number_value(json_object_get(a, "age_seconds"));
        bool has_task = json_is_true(json_object_get(a, "has_task"));
        bool mine = backend && strcmp(backend, l->cfg.backend) == 0;

        if (strcmp(status, "initializing") == 0 && mine && age > l->cfg.startup_deadline_seconds) {
            char why[200];
            const char *stuck = json_string_value(json_object_get(l->waiting, id));

            snprintf(why, sizeof(why), "no heartbeat within %d s of start%s%s%s",
                     l->cfg.startup_deadline_seconds, stuck ? " (" : "", stuck ? stuck : "",
                     stuck ? ")" : "");
            json_object_del(l->waiting, id);
            loop_note_failure(l, why);
            loop_retire(l, a, why);
        } else if ((strcmp(status, "idle") == 0 || strcmp(status, "busy") == 0) &&
                   json_object_get(l->starting, id)) {
            l->successes++;
            json_object_del(l->starting, id);
        } else if (strcmp(status, "unusable") == 0 && mine && backend_manages_pods(l->be)) {
            /* It will never take a task: retire it, and count it as a failed start so the
             * breaker opens with its reason rather than the pool starting more of the same. */
            char why[300];

            snprintf(why, sizeof(why), "unusable: %s",
                     json_string_value(json_object_get(a, "unusable_reason")));
            json_object_del(l->starting, id);
            loop_note_failure(l, why);
            loop_retire(l, a, why);
        } else if (strcmp(status, "draining") == 0 && !has_task && backend_manages_pods(l->be)) {
            loop_retire(l, a, "drained");
        }
    }
out:
    if (err.code)
        log_warn("pool", "reaper: err='%s'", err.msg);
    json_decref(live);
    json_decref(stale);
}

/* Pods without an agent row go after a grace; agent rows whose pod is gone go offline. */
static void loop_reconcile(struct loop *l)
{
    struct err err = {0};
    struct backend_pod *pods = NULL;
    size_t npods = 0, i;
    json_t *live = NULL, *a, *seen = json_object();
    double now = clock_s();

    if (!backend_manages_pods(l->be))
        goto out;
    if (poolstore_agents_live(&l->db, &live, &err) < 0 ||
        backend_list(l->be, &pods, &npods, &err) < 0)
        goto out;
    for (i = 0; i < npods; i++) {
        const char *name = pods[i].name;

        json_object_set_new(seen, name, json_true());
        if (!pods[i].agent_id[0])
            continue;
        if (loop_find(live, pods[i].agent_id)) {
            json_object_del(l->orphans, name);
            continue;
        }
        if (!json_object_get(l->orphans, name)) {
            json_object_set_new(l->orphans, name, json_real(now));
        } else if (now - json_number_value(json_object_get(l->orphans, name)) >=
                   l->cfg.orphan_grace_seconds) {
            log_warn("pool", "deleting an orphan pod: pod=%s agent=%s", name, pods[i].agent_id);
            loop_warn(backend_remove(l->be, name, pods[i].uid, &err), &err,
                      "deleting the orphan pod", pods[i].agent_id);
            err_clear(&err);
            json_object_del(l->orphans, name);
        }
    }
    json_array_foreach(live, i, a)
    {
        const char *id = json_string_value(json_object_get(a, "id"));
        const char *pod = json_string_value(json_object_get(a, "pod_name"));
        const char *backend = json_string_value(json_object_get(a, "backend"));

        if (!pod || !backend || strcmp(backend, l->cfg.backend) != 0 || json_object_get(seen, pod))
            continue;
        json_object_del(l->starting, id);
        log_warn("pool", "agent's pod is gone: agent=%s pod=%s requeued=%d", id, pod,
                 loop_release(l, id, "pod gone"));
    }
out:
    if (err.code)
        log_warn("pool", "reconcile: err='%s'", err.msg);
    free(pods);
    json_decref(live);
    json_decref(seen);
}

/* Agents requested through the API get their token and pod here. */
static void loop_adopt(struct loop *l)
{
    struct err err = {0}, e2 = {0};
    char adopt[37];

    while (backend_manages_pods(l->be) &&
           poolstore_agent_adopt(&l->db, l->cfg.backend, adopt, &err) == 1) {
        if (loop_launch(l, adopt, &err) < 0) {
            loop_warn(agents_mark_offline(&l->db, adopt, err.msg, &e2), &e2, "marking it offline",
                      adopt);
            loop_note_failure(l, err.msg);
        }
    }
}

/* The policy's settings from the pool's row and droverd's knobs. */
static void loop_settings(const struct loop *l, const struct poolstore_settings *ps,
                          struct policy_settings *cfg)
{
    policy_settings_default(cfg);
    cfg->min_agents = ps->min_agents;
    cfg->max_agents = ps->max_agents;
    cfg->hard_cap = l->cfg.hard_cap;
    cfg->pinned_target = ps->pinned_target;
    /* The pin's expiry is on the database's clock; the policy runs on ours. */
    cfg->pinned_until =
        isinf(ps->pinned_until) ? INFINITY : clock_s() + (ps->pinned_until - ps->now);
    cfg->max_starting = l->cfg.max_starting;
    cfg->stabilization_seconds = l->cfg.stabilization_seconds;
}

/* What the policy sees: head counts, the idle agents this backend may scale down. */
static void loop_snapshot(struct loop *l, const json_t *live, const struct queue_counts *qc,
                          struct policy_snapshot *snap, struct policy_agent *idle)
{
    size_t i;
    const json_t *a;

    json_array_foreach(live, i, a)
    {
        const char *status = json_string_value(json_object_get(a, "status"));
        const char *backend = json_string_value(json_object_get(a, "backend"));

        if (strcmp(status, "busy") == 0) {
            snap->busy++;
        } else if (strcmp(status, "idle") == 0) {
            snap->idle++;
            /* Only agents this backend started may be scaled down: agents registered from
             * elsewhere (backend none, another backend, a benchmark) are capacity, not ours. */
            if (backend_manages_pods(l->be) && backend && strcmp(backend, l->cfg.backend) == 0) {
                idle[snap->nagents].id = json_string_value(json_object_get(a, "id"));
                idle[snap->nagents++].idle = true;
            }
        } else if (strcmp(status, "initializing") == 0) {
            snap->starting++;
        }
    }
    snap->backlog = qc->backlog;
    snap->agents = idle;
    snap->start_failures = l->failures;
    snap->start_successes = l->successes;
    snap->failure_reason = l->failure_reason[0] ? l->failure_reason : NULL;
    l->failures = l->successes = 0;
}

/* Apply a decision: drain first (the row update that stops claims), then delete; then create.
 * The deleted agents' ids go to `deletes`; returns how many were created. */
static int loop_apply(struct loop *l, const struct policy_decision *d, const json_t *live,
                      json_t *deletes)
{
    struct err err = {0};
    int created = 0;

    for (size_t i = 0; i < d->ndeletes; i++) {
        bool drained = false;

        if (agents_drain(&l->db, d->deletes[i], &drained, &err) < 0 || !drained) {
            err_clear(&err);
            continue; /* it claimed a task meanwhile: it stays */
        }
        json_array_append_new(deletes, json_string(d->deletes[i]));
        if (backend_manages_pods(l->be))
            loop_retire(l, loop_find(live, d->deletes[i]), "scaled down");
    }
    for (int k = 0; backend_manages_pods(l->be) && k < d->creates; k++) {
        if (loop_create_agent(l, &err) < 0) {
            log_warn("pool", "agent create failed: err='%s'", err.msg);
            break;
        }
        created++;
    }
    return created;
}

/* Record the decision in scale_events. Retries and task_done re-evaluations (up to one a
 * second under load) are recorded only when they act or carry news. */
static void loop_record(struct loop *l, const char *trigger, const struct policy_decision *d,
                        const struct policy_snapshot *snap, const struct policy_settings *cfg,
                        const struct queue_counts *qc, const json_t *deletes, int created)
{
    struct err err = {0};
    json_t *inputs;

    if ((strcmp(trigger, "retry") == 0 || strcmp(trigger, "task_done") == 0) && created == 0 &&
        json_array_size(deletes) == 0 && snap->start_failures == 0 && snap->start_successes == 0 &&
        d->raw == l->last_raw && d->target == l->last_target && d->breaker_open == l->last_breaker)
        return;
    inputs = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:i,s:i,s:i,s:i,s:i,s:s}", "backlog",
                       (json_int_t)qc->backlog, "delayed", (json_int_t)qc->delayed, "busy",
                       (json_int_t)snap->busy, "idle", (json_int_t)snap->idle, "starting",
                       (json_int_t)snap->starting, "in_progress", (json_int_t)qc->in_progress,
                       "min_agents", cfg->min_agents, "max_agents", cfg->max_agents, "hard_cap",
                       cfg->hard_cap, "pinned_target", d->pinned ? cfg->pinned_target : -1,
                       "start_failures", snap->start_failures, "consecutive_failures",
                       l->hist.consecutive_failures, "backend", l->cfg.backend);
    {
        struct poolstore_event ev = {.replica = l->cfg.replica,
                                     .trigger = trigger,
                                     .reason = d->reason,
                                     .inputs = inputs,
                                     .deletes = deletes,
                                     .raw = d->raw,
                                     .target = d->target,
                                     .current = d->current,
                                     .creates = created,
                                     .breaker_open = d->breaker_open};

        if (poolstore_record(&l->db, &ev, &err) < 0)
            log_warn("pool", "cannot record the decision: err='%s'", err.msg);
    }
    json_decref(inputs);
}

/* When to come back before the next tick: within a second while held back (by the rate
 * limits, or by the window), and right after a pin expires (no notification marks that). */
static void loop_schedule(struct loop *l, const struct policy_decision *d,
                          const struct policy_settings *cfg, int created)
{
    l->last_raw = d->raw;
    l->last_target = d->target;
    l->last_breaker = d->breaker_open;
    l->next_retry =
        d->rate_limited || created < d->creates || d->stabilized > d->raw ? clock_s() + 1 : 0;
    if (d->pinned && isfinite(cfg->pinned_until) &&
        (l->next_retry == 0 || cfg->pinned_until < l->next_retry))
        l->next_retry = cfg->pinned_until + 0.01;
}

static void loop_evaluate(struct loop *l, const char *trigger)
{
    struct err err = {0};
    struct poolstore_settings ps;
    struct policy_settings cfg;
    struct policy_snapshot snap = {0};
    struct policy_decision *d = mem_calloc(1, sizeof(*d));
    struct policy_agent *idle = NULL;
    struct queue_counts qc;
    json_t *live = NULL, *deletes = json_array();
    int created;

    /* Every evaluation reads fresh counts, so it also answers a pending task_done. */
    l->last_eval = clock_s();
    l->done_due = 0;
    loop_reap(l);
    loop_reconcile(l);
    loop_adopt(l);
    if (poolstore_settings_get(&l->db, &ps, &err) < 0 || queue_counts(&l->db, &qc, &err) < 0 ||
        poolstore_agents_live(&l->db, &live, &err) < 0)
        goto out;
    loop_settings(l, &ps, &cfg);
    idle = mem_calloc(json_array_size(live) + 1, sizeof(*idle));
    loop_snapshot(l, live, &qc, &snap, idle);
    policy_decide(&snap, &cfg, clock_s(), &l->hist, d);
    counters_scale_decision(d->creates > 0 ? "up" : d->ndeletes > 0 ? "down" : "hold");
    created = loop_apply(l, d, live, deletes);
    loop_record(l, trigger, d, &snap, &cfg, &qc, deletes, created);
    if (created || json_array_size(deletes))
        log_info("pool", "scaled: trigger=%s target=%d created=%d deleted=%zu reason='%s'", trigger,
                 d->target, created, json_array_size(deletes), d->reason);
    loop_schedule(l, d, &cfg, created);
    loop_warn(poolstore_leader_set(&l->db, l->cfg.replica, &err), &err, "recording the leader",
              NULL);
    err_clear(&err);
out:
    if (err.code)
        log_warn("pool", "evaluation failed: err='%s'", err.msg);
    json_decref(live);
    json_decref(deletes);
    free(idle);
    free(d);
}

/* What loop_wait collects from one round of notifications. */
struct loop_heard {
    struct loop *l;
    const char *trigger;
};

static void loop_heard(const char *channel, const char *payload, void *arg)
{
    struct loop_heard *h = arg;
    struct loop *l = h->l;

    if (strcmp(channel, QUEUE_CHANNEL_DONE) == 0) {
        if (l->done_due == 0 && payload && strcmp(payload, l->schema) == 0)
            l->done_due = l->last_eval + LOOP_DONE_DEBOUNCE;
    } else if (!h->trigger || strcmp(channel, AGENTPOOL_CHANNEL) == 0) {
        h->trigger = strcmp(channel, AGENTPOOL_CHANNEL) == 0 ? "api" : "task_ready";
    }
}

/* Wait up to `ms` for a notification; returns the trigger it implies, or NULL. A task_done
 * notification is not a trigger: it schedules one, at most a second after the last evaluation. */
static const char *loop_wait(struct loop *l, int ms)
{
    struct loop_heard h = {l, NULL};
    struct err err = {0};
    int rc = notify_wait(l->listen, ms, loop_heard, &h, &err);

    if (rc != 0) {
        /* Notifications may have been missed while the connection was down: look now. */
        log_warn("pool", "listen connection lost: err='%s'", err.msg);
        return "tick";
    }
    return h.trigger;
}

/*
 * Shutdown hand-back: no more scaling; this replica's own agents are asked to stop (they hand
 * their tasks back through the server, which keeps serving them) and reaped as they exit, so a
 * task whose agent had to be killed goes back to the queue at once too (loop_on_exit).
 * Leadership is kept until loop_destroy: a new leader would take the exiting agents' rows for
 * lost pods. Kubernetes pods are left running.
 */
static void loop_drain_step(struct loop *l)
{
    struct err err = {0};
    int left = 0, grace = atomic_load(&l->drain_grace);

    if (!l->drain_started) {
        l->drain_started = true;
        if (l->be) {
            left = backend_shutdown(l->be, grace);
            if (left > 0)
                log_info("pool",
                         "shutting down: asked %d agent(s) to hand their tasks back and stop"
                         " (grace %d s)",
                         left, grace);
        }
    }
    if (l->be) {
        backend_poll(l->be, loop_on_exit, l, &err);
        left = backend_shutdown(l->be, grace);
    }
    if (left == 0 && !atomic_load(&l->drained)) {
        log_info("pool", "shutting down: none of this replica's agents is running");
        atomic_store(&l->drained, 1);
    }
}

void loop_run(struct loop *l)
{
    while (!atomic_load(&l->stop)) {
        const char *trigger = NULL;
        double now;
        struct err err = {0};

        if (atomic_load(&l->drain)) {
            loop_drain_step(l);
            usleep(50000);
            continue;
        }
        if (!loop_elect(l)) {
            for (int i = 0; i < 10 && !atomic_load(&l->stop) && !atomic_load(&l->drain); i++)
                usleep(100000);
            continue;
        }
        if (l->listen)
            trigger = loop_wait(l, 250);
        else
            usleep(250000);
        if (l->be)
            backend_poll(l->be, loop_on_exit, l, &err);
        now = clock_s();
        if (!trigger && now >= l->next_tick)
            trigger = "tick";
        if (!trigger && l->done_due > 0 && now >= l->done_due)
            trigger = "task_done";
        if (!trigger && l->next_retry > 0 && now >= l->next_retry)
            trigger = "retry";
        if (!trigger)
            continue;
        if (strcmp(trigger, "tick") == 0)
            l->next_tick = now + l->cfg.tick_seconds;
        loop_evaluate(l, trigger);
    }
}
