/*
 * The model's rules, stated once: the task states and the transitions between them, the bounds
 * and defaults of a task's fields, the default base branch, the branch-name rule and the log
 * levels. The server (store/, svc/, mcp/, api/) and the agent side (droverctl, drover-agent)
 * read them from here; the SQL schema repeats the bounds as CHECK constraints, a second guard
 * (sql/001_init.sql, tested against these values in check_model).
 * Pure functions and constants; any thread.
 */
#ifndef DROVER_CORE_MODEL_H
#define DROVER_CORE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Task states (tasks.state). */
enum model_state {
    MODEL_BACKLOG = 0,
    MODEL_IN_PROGRESS,
    MODEL_READY_TO_TEST,
    MODEL_NEEDS_INPUT,
    MODEL_COMPLETED,
    MODEL_FAILED,
    MODEL_CANCELLED,
    MODEL_NSTATES
};

/* The name of a state ("backlog", ...). */
const char *model_state_name(enum model_state s);
/* The state named `name`: 0, or -1 when it is not a state. */
int model_state_parse(const char *name, enum model_state *out);
/* True for a known state name. */
bool model_state_valid(const char *name);
/* "backlog, in_progress, ..., cancelled": for error messages and help texts. */
const char *model_state_list(void);
/* True when `from -> to` is a legal transition (docs/architecture.md, "Task lifecycle"). */
bool model_transition_allowed(const char *from, const char *to);
/* True for completed, failed and cancelled. */
bool model_state_terminal(const char *name);

/* Field bounds and defaults of a task. Characters, not bytes, for the texts. */
#define MODEL_TITLE_MAX 500
#define MODEL_DESCRIPTION_MAX 100000
#define MODEL_MESSAGE_MAX 65536 /* one activity line */
#define MODEL_ERROR_MAX 10000   /* kept of an error */
#define MODEL_QUESTION_MAX 10000
#define MODEL_ANSWER_MAX 100000
#define MODEL_MODEL_MAX 200
#define MODEL_REPO_URL_MAX 2048
#define MODEL_IDEMPOTENCY_KEY_MAX 200
#define MODEL_PRIORITY_MIN (-1000)
#define MODEL_PRIORITY_MAX 1000
#define MODEL_ATTEMPTS_MIN 1
#define MODEL_ATTEMPTS_MAX 100
#define MODEL_ATTEMPTS_DEFAULT 3
#define MODEL_TIMEOUT_MIN 1
#define MODEL_TIMEOUT_MAX 604800 /* a week */
#define MODEL_TIMEOUT_DEFAULT 7200
#define MODEL_FANOUT_MAX 10      /* agent_count of a fan-out group */
#define MODEL_LOG_BATCH_MAX 1000 /* entries of one log_activity call */
#define MODEL_PR_TITLE_MAX 500
#define MODEL_PR_BODY_MAX 65536

/* The base branch when neither the task nor its project names one. */
#define MODEL_DEFAULT_BRANCH "main"

/* Longest branch name, in bytes. */
#define MODEL_BRANCH_MAX 255

/*
 * The one branch-name rule (git check-ref-format for a branch, without "refs/"): 1..255 bytes of
 * valid UTF-8; no control characters, space, '~', '^', ':', '?', '*', '[', '\\'; no "..", "//"
 * or "@{"; not "@"; not starting with '-' or '/'; not ending with '/' or '.'; no component that
 * starts with '.' or ends with ".lock".
 */
bool model_branch_name_valid(const char *name);

/* "drover/<id>-<slug of title>" (or "drover/<id>"), cut to a valid length. */
void model_branch_default(int64_t task_id, const char *title, char *out, size_t outsz);

/* Activity log levels. */
bool model_log_level_valid(const char *level);
/* "debug, info, notice, warning, error". */
const char *model_log_level_list(void);

#include <jansson.h>

#include "core/err.h"

/* A heartbeat's usage object: at most this many keys, each of at most MODEL_USAGE_KEY_MAX bytes. */
#define MODEL_USAGE_KEYS_MAX 16
#define MODEL_USAGE_KEY_MAX 64
/*
 * A usage report ({"tokens": 1200, "usd": 0.5, ...}): an object of at most MODEL_USAGE_KEYS_MAX
 * keys whose values are non-negative finite numbers. 0, or -1 with ERR_INVALID / ERR_TOO_LARGE.
 */
int model_usage_check(const json_t *usage, struct err *err);

/*
 * A client's idempotency key. Keys the server derives live in their own namespaces: a fan-out
 * child is "<key>#<i>" and a schedule's run "schedule:<id>:<slot>", so a client key may contain
 * no '#' and may not start with "schedule:" (nor any control character). 0, or -1 with
 * ERR_INVALID.
 */
int model_idem_key_check(const char *key, struct err *err);

/* True when `s` holds a C0 control character other than tab and newline, or DEL. */
bool model_text_has_control(const char *s);

/* A task to create (svc_tasks_submit, queue_enqueue). Strings are borrowed; NULL = not given. */
struct model_task_new {
    const char *title;           /* required, 1..MODEL_TITLE_MAX characters */
    const char *description;     /* the prompt; may be NULL */
    int priority;                /* MODEL_PRIORITY_MIN..MAX, higher first */
    const char *model;           /* may be NULL */
    int64_t project_id;          /* 0 = none (then repo_url names the repository) */
    const char *repo_url;        /* may be NULL */
    const char *base_branch;     /* may be NULL: the project's default branch */
    int max_attempts;            /* 0 = MODEL_ATTEMPTS_DEFAULT */
    int timeout_seconds;         /* 0 = MODEL_TIMEOUT_DEFAULT */
    const char *idempotency_key; /* may be NULL */
    int64_t parent_id;           /* 0 = none */
    const char *budget_json;     /* may be NULL: {"tokens": N, "usd": X} */
    int delay_seconds;           /* run_after = now() + delay */
    int fanout;                  /* > 0: the parent of a fan-out group of this many (fingerprint) */
};

/* What an agent reports with a transition. Every field may be NULL. */
struct model_outcome {
    const char *error;    /* failed: what went wrong */
    const char *question; /* needs_input: what to ask */
    const char *reason;   /* needs_input: "question" (default), "timeout", "budget" */
    const json_t *result; /* completed / ready_to_test: free-form result object */
    bool no_retry;        /* failed: do not retry even when attempts remain */
};

/* Which tasks a list shows. */
struct model_task_filter {
    const char *state;    /* NULL = any */
    int64_t project_id;   /* 0 = any */
    const char *agent_id; /* NULL = any */
    int64_t parent_id;    /* 0 = any */
    int64_t before_id;    /* cursor: only ids below this; 0 = from the newest */
    int limit;            /* 1..200 */
};

#endif
