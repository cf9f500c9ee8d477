/*
 * The agent pool as a service inside droverd: its settings, and starting/stopping the
 * pool thread (leader election, autoscaler, reaper, reconciliation; see loop.h).
 * agentpool_start/agentpool_stop: the main thread only.
 */
#ifndef DROVER_POOL_AGENTPOOL_H
#define DROVER_POOL_AGENTPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/err.h"
#include "core/opt.h"

/* NOTIFY channel the API uses to wake the leader after a settings or agent change. */
#define AGENTPOOL_CHANNEL "drover_pool"

struct agentpool_cfg {
    char backend[16];             /* --pod-backend process|kubernetes|none */
    char agent_command[1024];     /* --agent-command (process); "" = agentpool_cfg_resolve */
    char agent_log_dir[512];      /* --agent-log-dir (process) */
    char agent_user[64];          /* --agent-user (process): run agents as this user */
    char server_url[512];         /* --agent-server-url: MCP_SERVER_URL handed to agents */
    int hard_cap;                 /* --pool-hard-cap: no setting or pin may exceed it */
    int tick_seconds;             /* --pool-tick */
    int stabilization_seconds;    /* --pool-stabilization */
    int startup_deadline_seconds; /* --pool-startup-deadline */
    int stale_after_seconds;      /* --pool-stale-after */
    int orphan_grace_seconds;     /* --pool-orphan-grace */
    int grace_seconds;            /* --pool-grace: SIGTERM/gracePeriodSeconds on delete */
    int max_starting;             /* --pool-max-starting */
    int shutdown_grace_seconds;   /* --shutdown-grace: own agents' hand-back time on SIGTERM */
    char namespace_[64];          /* --k8s-namespace */
    char kubeconfig[512];         /* --kubeconfig */
    char pod_template[512];       /* --agent-pod-template */
    char replica[128];            /* --replica-id: names this droverd in scale_events */
};

/*
 * The pool's settings over `c`: its rows of the one settings table (core/opt.h), titled for
 * --help. droverd serve parses them with its own in one pass (cfg_parse_with) and lists them
 * in one --help.
 */
struct opt_group agentpool_opt_group(struct agentpool_cfg *c);

/* The defaults (process backend, tick 30 s, window 300 s, deadline 180 s, stale 300 s...; the
 * replica id <host name>-<pid>). */
void agentpool_cfg_default(struct agentpool_cfg *c);

/*
 * Set the setting named by `flag` ("pod-backend") from text. Returns 1 when set, 0 when the
 * flag is not a pool setting, -1 with ERR_INVALID for a bad value.
 */
int agentpool_cfg_set(struct agentpool_cfg *c, const char *flag, const char *value,
                      struct err *err);

/*
 * The process backend's default agent command, when none was given (flag or environment):
 * the quoted path of the drover-agent agentbin_find() picks for this droverd, logged with where
 * it came from. 0 (also when nothing needed resolving), or -1 with ERR_NOT_FOUND saying where it
 * looked: better to refuse to start than to start agents that exit 127.
 */
int agentpool_cfg_resolve(struct agentpool_cfg *c, struct err *err);

/* A running pool (its thread). */
struct agentpool;

/*
 * Start the pool thread with a connection of its own to `dsn` (NULL: the PG* environment).
 * The thread runs until agentpool_stop(); only the replica holding the pool's advisory lock acts.
 * The configuration is copied. Main thread.
 */
int agentpool_start(const struct agentpool_cfg *cfg, const char *dsn, struct agentpool **out,
                    struct err *err);

/*
 * The hard cap the admin API validates against: the running pool's (`p`), else
 * DROVER_POOL_HARD_CAP, else 50. Any thread.
 */
int agentpool_hard_cap(const struct agentpool *p);

/*
 * droverd's shutdown, step one: ask the agents this replica started (process backend) to stop,
 * so they hand their tasks back while the server still serves them; SIGKILL after
 * --shutdown-grace. Kubernetes pods are left running. A no-op for NULL.
 * agentpool_drain and agentpool_drained: one thread (droverd's service thread).
 */
void agentpool_drain(struct agentpool *p);

/*
 * True once none of this replica's own agents runs (at once when it has none, or for NULL), or
 * when the grace has passed by more than a few seconds (a backstop in case the pool thread is
 * stuck). Cheap: the server polls it.
 */
bool agentpool_drained(struct agentpool *p);

/* The settings the pool runs with (read-only; for diagnostics). Any thread. */
const struct agentpool_cfg *agentpool_config(const struct agentpool *p);

/* Stop the thread (the process backend's agents are terminated with it) and free `p`. */
void agentpool_stop(struct agentpool *p);

/*
 * The last `tail` lines of an agent's own output (its pod's or process's log), for the REST
 * API. Uses a backend instance of its own, serialised by a mutex, because the pool thread owns
 * the loop's. *text is owned by the caller. ERR_NOT_FOUND when there is no log or no backend.
 * Worker threads.
 */
int agentpool_logs(struct agentpool *p, const char *agent_id, const char *pod_name, int tail,
                   char **text, size_t *len, struct err *err);

#endif
