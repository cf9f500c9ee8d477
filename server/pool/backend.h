/*
 * Pod backends: what runs an agent. `process` (local child processes), `kubernetes` (bare pods
 * over the REST API) and `none` (agents are started elsewhere and only register). All blocking
 * calls (libcurl, waitpid) happen on the pool thread that owns the backend; a backend is never
 * shared between threads.
 */
#ifndef DROVER_POOL_BACKEND_H
#define DROVER_POOL_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

struct backend_cfg {
    const char *kind;          /* "process" | "kubernetes" | "none" */
    const char *agent_command; /* process: run with /bin/sh -c; default "drover-agent" */
    const char *log_dir;       /* process: <log_dir>/<agent id>.log; default /tmp/drover-agents */
    const char *agent_user;    /* process: run agents as this user (droverd is root), or NULL */
    int grace_seconds;         /* delete: SIGTERM, SIGKILL after this (k8s: gracePeriodSeconds) */
    const char *server_url;    /* MCP_SERVER_URL handed to agents */
    const char *namespace;     /* kubernetes */
    const char *kubeconfig;    /* kubernetes: a file; NULL = in-cluster, then $KUBECONFIG */
    const char *pod_template;  /* kubernetes: the agent pod template (YAML or JSON) */
    const char *sa_dir;        /* kubernetes in-cluster: default the service-account mount */
};

enum backend_phase {
    BACKEND_PENDING = 0, /* created, not running yet (k8s Pending) */
    BACKEND_RUNNING,
    BACKEND_EXITED,  /* the agent's process ended (k8s Succeeded/Failed) */
    BACKEND_DELETED, /* the pod object is gone */
};

struct backend_pod {
    char name[254];
    char uid[64];
    char agent_id[37]; /* from the pod's label / the process table; "" when unknown */
    enum backend_phase phase;
    int exit_code;    /* BACKEND_EXITED: the exit status (128 + signal when killed), else -1 */
    char reason[128]; /* why it is not running: "exit code 1", "ImagePullBackOff", ... */
};

/* What an agent needs to start. Secrets are never logged. */
struct backend_agent {
    const char *agent_id;
    const char *token;
    const char *server_url;
};

/* A phase change observed by backend_poll(). */
typedef void (*backend_event_fn)(const struct backend_pod *pod, void *arg);

struct backend;

struct backend_ops {
    const char *name;
    int (*create)(struct backend *b, const struct backend_agent *a, struct backend_pod *out,
                  struct err *err);
    /* Ask the pod to stop: SIGTERM / DELETE with grace; gone already is success. */
    int (*remove)(struct backend *b, const char *name, const char *uid, struct err *err);
    /* Every pod this backend manages (owned array in *pods). */
    int (*list)(struct backend *b, struct backend_pod **pods, size_t *n, struct err *err);
    /* Report phase changes since the previous call (exits, deletions); never blocks long. */
    int (*poll)(struct backend *b, backend_event_fn fn, void *arg, struct err *err);
    /* Up to `tail_lines` last lines of the agent's output; with `follow`, also what it writes
     * until it ends (kubernetes; bounded by `out`'s limit and a minute). */
    int (*logs)(struct backend *b, const char *name, int tail_lines, bool follow, struct buf *out,
                struct err *err);
    void (*destroy)(struct backend *b);
    /* Optional (NULL: nothing stops with droverd). See backend_shutdown. */
    int (*shutdown)(struct backend *b, int grace_seconds);
};

struct backend {
    const struct backend_ops *ops;
    struct backend_cfg cfg; /* strings borrowed from the caller's configuration */
    void *impl;
};

/* Open the backend named by cfg->kind. Unknown kinds are ERR_INVALID. */
int backend_open(const struct backend_cfg *cfg, struct backend **out, struct err *err);
void backend_close(struct backend *b);

int backend_create(struct backend *b, const struct backend_agent *a, struct backend_pod *out,
                   struct err *err);
int backend_remove(struct backend *b, const char *name, const char *uid, struct err *err);
int backend_list(struct backend *b, struct backend_pod **pods, size_t *n, struct err *err);
int backend_poll(struct backend *b, backend_event_fn fn, void *arg, struct err *err);
int backend_logs(struct backend *b, const char *name, int tail_lines, bool follow, struct buf *out,
                 struct err *err);

/*
 * droverd is shutting down: ask the agents that stop with it to stop now (process: SIGTERM to
 * each agent's group, SIGKILL by backend_poll once `grace_seconds` have passed). Returns how
 * many of them are still running (call again, after backend_poll, to watch them go): 0 for
 * kubernetes, whose pods outlive droverd and are adopted by the next leader, and for none.
 */
int backend_shutdown(struct backend *b, int grace_seconds);

/* True when the backend runs agents (process, kubernetes); false for none. */
bool backend_manages_pods(const struct backend *b);

/* Constructors of the implementations (process.c, k8s.c). */
int process_open(struct backend *b, struct err *err);
int k8s_open(struct backend *b, struct err *err);

/* --agent-user: an existing user other than root, and droverd runs as root. 0 or -1. */
int process_check_user(const char *user, struct err *err);

#endif
