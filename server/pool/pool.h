/*
 * The agent pool as a service inside droverd: configuration knobs, and starting/stopping the
 * pool thread (leader election, autoscaler, reaper, reconciliation; see loop.h).
 * pool_start/pool_stop: the main thread only.
 */
#ifndef DROVER_POOL_POOL_H
#define DROVER_POOL_POOL_H

#include <stddef.h>

#include "core/err.h"

/* NOTIFY channel the API uses to wake the leader after a settings or agent change. */
#define POOL_CHANNEL "drover_pool"

struct pool_cfg {
    char backend[16];             /* --pod-backend process|kubernetes|none */
    char agent_command[1024];     /* --agent-command (process) */
    char agent_log_dir[512];      /* --agent-log-dir (process) */
    char server_url[512];         /* --agent-server-url: MCP_SERVER_URL handed to agents */
    int hard_cap;                 /* --pool-hard-cap: no setting or pin may exceed it */
    int tick_seconds;             /* --pool-tick */
    int stabilization_seconds;    /* --pool-stabilization */
    int startup_deadline_seconds; /* --pool-startup-deadline */
    int stale_after_seconds;      /* --pool-stale-after */
    int orphan_grace_seconds;     /* --pool-orphan-grace */
    int grace_seconds;            /* --pool-grace: SIGTERM/gracePeriodSeconds on delete */
    int max_starting;             /* --pool-max-starting */
    char namespace_[64];          /* --k8s-namespace */
    char kubeconfig[512];         /* --kubeconfig */
    char pod_template[512];       /* --agent-pod-template */
    char replica[128];            /* --replica-id: names this droverd in scale_events */
};

/* One knob: its flag, its environment variable, its help line. */
struct pool_knob {
    const char *flag; /* without the leading "--" */
    const char *env;
    const char *help;
    enum { POOL_KNOB_STR, POOL_KNOB_INT } type;
    size_t offset, size; /* into struct pool_cfg; size of the char array for strings */
    int min, max;        /* integers only */
};

extern const struct pool_knob pool_knobs[];
extern const size_t pool_nknobs;

/* The defaults (process backend, tick 30 s, window 300 s, deadline 180 s, stale 300 s...). */
void pool_cfg_default(struct pool_cfg *c);

/*
 * Set the knob named by `flag` ("pod-backend") from text. Returns 1 when set, 0 when the flag
 * is not a pool knob, -1 with ERR_INVALID for a bad value.
 */
int pool_cfg_set(struct pool_cfg *c, const char *flag, const char *value, struct err *err);

/* Apply every knob's environment variable that is set. 0 or -1 (first bad value). */
int pool_cfg_env(struct pool_cfg *c, struct err *err);

/*
 * Start the pool thread with a connection of its own to `dsn` (NULL: the PG* environment).
 * The thread runs until pool_stop(); only the replica holding the pool's advisory lock acts.
 * The configuration is copied.
 */
int pool_start(const struct pool_cfg *cfg, const char *dsn, struct err *err);

/*
 * The hard cap the admin API validates against: the running pool's, else DROVER_POOL_HARD_CAP,
 * else 50. Any thread (set once by pool_start before the API serves requests).
 */
int pool_hard_cap(void);

/* Stop the thread (the process backend's agents are terminated with it). Idempotent. */
void pool_stop(void);

#endif
