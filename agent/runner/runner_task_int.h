/*
 * What runner_task.c and runner_report.c share of one task's attempt: its state and the
 * helpers that log, report a status and end the attempt. Internal to drover-agent's task
 * runner. Main thread.
 */
#ifndef DROVER_AGENT_RUNNER_TASK_INT_H
#define DROVER_AGENT_RUNNER_TASK_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/proc.h"
#include "mcpc.h"
#include "runner.h"
#include "runner_checks.h"
#include "runner_mcpd.h"
#include "runner_usage.h"

#define RUNNER_TASK_FORGE_TIMEOUT 120 /* seconds for create_branch / create_pull_request */

/* One task's state, shared by the steps of runner_task_run. */
struct runner_task {
    struct runner *r;
    struct mcpc *m;
    const json_t *task; /* borrowed: the get_next_task result's "task" */
    int64_t id, epoch, attempt;
    const char *title;
    const char *url;  /* borrowed: the repository, or NULL */
    const char *base; /* borrowed: the base branch (NULL until found: the remote's) */
    bool base_found;  /* neither task nor project named it: the remote's default */
    char found_base[256];
    long timeout_s;       /* the attempt's whole time budget */
    long long started_ms; /* when the task was taken */
    char dir[1024], repo[1100], branch[256], base_sha[41], head_sha[41], mcp_config[1200];
    char gitdir[1100], home[1100]; /* the runner's own repository; the command's $HOME */
    char *safe_url;                /* owned: url without credentials, for messages */
    char *git_token;               /* owned secret: the project's credential, or NULL */
    char *prompt;                  /* owned */
    char **git_env, **cmd_env;
    struct proc_result cmd; /* how the coding command ended */
    bool changed;           /* HEAD moved from the base (there is work to push) */
    json_t *batch;          /* pending log entries */
    long long batch_since;
    const char *prefix; /* "" or "[setup] " */
    /* Usage from Claude Code's stream-json: running totals and the final result event. */
    struct runner_usage usage;
    bool stop_logged;
    struct runner_mcpd mcpd; /* the model's task-scoped MCP endpoint */
    char model_error[600];   /* the coding CLI's own account of a failed session, or "" */
    char *final_words;       /* owned: the model's last message (a session's successful result) */
    struct runner_checks checks; /* the tests, linters and builds it ran, for the PR body */
    int rc;                      /* what runner_task_run returns, once a step ended the task */
};

/* A line from the agent itself (not the command), flushed at once so order is kept. */
void runner_task_log(struct runner_task *t, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* update_task_status; a refusal (e.g. the lease is gone) is logged and returned. */
int runner_task_status(struct runner_task *t, const char *status, json_t *extra, struct err *err);

/* Log `fmt` as an error and report the attempt failed (retry: may be tried again). */
int runner_task_fail(struct runner_task *t, bool retry, struct err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A step ends the task: `rc` is what runner_task_run returns. Always false. */
bool runner_task_end(struct runner_task *t, int rc);

/* Step: tell the server how the attempt ended (the work, if any, is pushed by now). */
bool runner_report(struct runner_task *t, struct err *err);

#endif
