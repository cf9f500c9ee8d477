/*
 * drover-agent's shared state: its configuration (from the environment) and what the task
 * thread (main) and the heartbeat thread both touch, under `lock`.
 */
#ifndef DROVER_AGENT_RUNNER_H
#define DROVER_AGENT_RUNNER_H

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct runner_cfg {
    char *agent_id;       /* AGENT_ID (informational: the token says who we are) */
    char *server_url;     /* MCP_SERVER_URL */
    char *token;          /* DROVER_TOKEN_FILE's content or DROVER_TOKEN (secret) */
    char *workspace;      /* DROVER_WORKSPACE, default /tmp/drover-workspace */
    long heartbeat_s;     /* HEARTBEAT_INTERVAL, else what droverd advertises, else 15 */
    bool heartbeat_fixed; /* HEARTBEAT_INTERVAL was set: ignore the server's value */
    long task_timeout_s;  /* TASK_TIMEOUT, default 0 = the task's own timeout_seconds */
    long poll_wait_s;     /* DROVER_POLL_WAIT: get_next_task long poll, default 20 */
    long stop_grace_s;    /* DROVER_STOP_GRACE: SIGTERM -> SIGKILL, default 10 */
    char *coding_command; /* DROVER_CODING_COMMAND (a shell command line) */
    char *git_token;      /* GIT_TOKEN_FILE's content or GIT_TOKEN (secret), or NULL */
    char *git_ssh_key;    /* GIT_SSH_KEY_FILE, or NULL */
    char *token_file;     /* DROVER_TOKEN_FILE, GIT_TOKEN_FILE: masked in the sandbox */
    char *git_token_file;
    char *git_token_allow; /* DROVER_GIT_TOKEN_ALLOW: URL prefixes GIT_TOKEN may go to */
    long max_tasks;        /* DROVER_MAX_TASKS: exit after this many, 0 = forever */
    bool once;             /* DROVER_EXIT_WHEN_IDLE: exit when a poll returns no task */
};

struct runner_sandbox;

struct runner {
    struct runner_cfg cfg;
    const struct runner_sandbox *sandbox; /* how the coding command is contained */
    pthread_mutex_t lock;
    /* Under lock: */
    int64_t task_id; /* 0 when idle */
    bool cancelled;  /* the server said the current task must stop */
    json_t *usage;   /* the current task's usage (owned), reported with heartbeats */
    bool hb_stop;
    pthread_cond_t hb_cond;
};

/* Set from the SIGTERM/SIGINT handler; read everywhere. */
extern volatile sig_atomic_t runner_shutdown;

/* Read the configuration from the environment. -1 with a message saying what is missing. */
int runner_cfg_load(struct runner_cfg *cfg, struct err *err);
void runner_cfg_clear(struct runner_cfg *cfg);

#endif
