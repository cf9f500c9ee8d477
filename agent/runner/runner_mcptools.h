/*
 * The coding model's own MCP tools, scoped to the one task the runner works on: the JSON-RPC
 * side of the task's MCP endpoint (runner_mcpd.c carries it over HTTP on 127.0.0.1). The model
 * sees only log_activity, ask_user_question, create_pull_request, trigger_preview_deploy and
 * update_task_status, each without task_id or lease_epoch (implied); it is never offered
 * get_next_task, heartbeat or create_branch, and never holds the agent's token.
 *
 * log_activity is forwarded to droverd at once. The others are the model's decisions about how
 * the task ends, and are recorded (struct runner_intent) for the runner to carry out once the
 * coding command has exited and its commits are pushed: a forge refuses a pull request for a
 * branch that does not have them yet, and a task parked while its command still runs would
 * have the command killed mid-turn. Pure but for the forward callback; one thread at a time.
 *
 * approve_action (only with t->autonomy) is not for the model: it is Claude Code's permission
 * prompt tool. It asks droverd's request_approval about each action and, when a person must
 * decide, polls get_approval until they have (or the project's timeout denies it); any failure
 * to get an answer denies (fail closed). Its result is the text Claude Code expects:
 * {"behavior":"allow","updatedInput":...} or {"behavior":"deny","message":...}.
 */
#ifndef DROVER_AGENT_RUNNER_MCPTOOLS_H
#define DROVER_AGENT_RUNNER_MCPTOOLS_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

/* What the model asked for, in the order the runner honours it. Strings owned or NULL. */
struct runner_intent {
    char *question;           /* ask_user_question: park the task in needs_input */
    char *pr_title, *pr_body; /* create_pull_request: the model's title and summary */
    bool preview;             /* trigger_preview_deploy */
    char *status;             /* update_task_status: "ready_to_test" or "completed" */
    char *summary;            /* ... with the model's summary, or NULL */
    int logged;               /* log_activity calls that reached droverd */
    int approvals, denials;   /* approve_action: actions asked about, and those denied */
    int calls;                /* tools/call requests, all tools */
};

/* Sends one agent tool call to droverd (args borrowed; *result owned). 0 or -1. */
typedef int (*runner_mcptools_forward_fn)(void *ud, const char *tool, const json_t *args,
                                          json_t **result, struct err *err);

struct runner_mcptools {
    int64_t task_id, epoch;
    runner_mcptools_forward_fn forward;
    void *ud;
    struct runner_intent intent;
    /* The task's project has an autonomy policy: approve_action is offered (Claude Code's
     * --permission-prompt-tool), deciding each action through droverd. cwd: the working tree. */
    bool autonomy;
    const char *cwd;
    const atomic_bool *stop; /* set when the runner stops serving: a wait for a person ends */
    unsigned poll_ms;        /* how often a pending approval is asked about again (0: 1000) */
};

/* One JSON-RPC message: the response (owned), or NULL for a notification. */
json_t *runner_mcptools_handle(struct runner_mcptools *t, const json_t *msg);

/* The tool names the model is offered, NULL-terminated (for the prompt and the allow-list). */
extern const char *const runner_mcptools_names[];

void runner_intent_clear(struct runner_intent *i);

#endif
