/*
 * The life of one task in drover-agent: runner_task_run walks the steps in runner_task_steps[]
 * (bottom of the file) over one struct runner_task (runner_task_int.h); above them, the helpers
 * they share: the activity log batching, status reports, git commit and push, the command's
 * environment. The last step, telling the server how the attempt ended, is runner_report.c.
 * Main thread.
 */
#include "runner_task.h"
#include "runner_task_int.h"
#include "core/log.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/text.h"
#include "runner_git.h"
#include "runner_hb.h"
#include "runner_diff.h"
#include "runner_mcpd.h"
#include "runner_project.h"
#include "runner_prompt.h"
#include "runner_publish.h"
#include "runner_sandbox.h"
#include "runner_checks.h"
#include "runner_transcript.h"
#include "runner_usage.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RUNNER_TASK_BATCH 50             /* log lines per log_activity call */
#define RUNNER_TASK_FLUSH_MS 1000        /* ... or this old */
#define RUNNER_TASK_LINE_MAX 4000        /* characters kept of one output line */
#define RUNNER_TASK_DEFAULT_TIMEOUT 7200 /* seconds, when the task and TASK_TIMEOUT say none */

static long long runner_task_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void runner_task_flush(struct runner_task *t)
{
    json_t *args, *res = NULL;
    struct err err = {0};

    if (!t->batch || json_array_size(t->batch) == 0)
        return;
    args = json_pack("{s:I, s:O}", "task_id", (json_int_t)t->id, "entries", t->batch);
    /* A lost batch is logged locally and dropped: logging never fails a task. */
    if (mcpc_call(t->m, "log_activity", args, 0, &res, &err) < 0)
        log_warn("agent", "task %lld: log_activity failed (%s)", (long long)t->id, err.msg);
    json_decref(res);
    json_decref(args);
    json_array_clear(t->batch);
    t->batch_since = runner_task_now_ms();
}

/* A line from the agent itself (not the command), flushed at once so order is kept. */
void runner_task_log(struct runner_task *t, const char *level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_info("agent", "task %lld: %s", (long long)t->id, msg);
    json_array_append_new(t->batch, json_pack("{s:s, s:s, s:{s:s}}", "message", msg, "level", level,
                                              "metadata", "source", "drover-agent"));
    runner_task_flush(t);
}

/* Track token and cost usage from a stream-json line; publish it for the heartbeat. */
static void runner_task_usage(struct runner_task *t, const char *line)
{
    if (!runner_usage_line(&t->usage, line))
        return;
    pthread_mutex_lock(&t->r->lock);
    json_decref(t->r->usage);
    t->r->usage = runner_usage_json(&t->usage);
    pthread_mutex_unlock(&t->r->lock);
}

static void runner_task_on_line(void *ud, const char *line)
{
    struct runner_task *t = ud;
    json_t *tx;
    char *msg;

    if (!*line)
        return;
    runner_task_usage(t, line);
    /* Claude Code's events become a transcript (runner_transcript.h), other lines stay as
     * they are. */
    if (!*t->prefix && (tx = runner_transcript_entries(line))) {
        size_t i;
        json_t *e;

        /* A failed session's reason (a rejected key, a failed model call) is the task's
         * error, rather than the raw JSON of the last line. */
        json_array_foreach(tx, i, e)
        {
            const char *lvl = json_string_value(json_object_get(e, "level"));
            const char *kind =
                json_string_value(json_object_get(json_object_get(e, "metadata"), "kind"));
            const char *w;

            if (!lvl || !kind || strcmp(kind, "result") != 0)
                continue;
            if (strcmp(lvl, "error") == 0) {
                snprintf(t->model_error, sizeof(t->model_error), "%s",
                         json_string_value(json_object_get(e, "message")));
                continue;
            }
            /* The model's final message: the summary of a model that gave none itself. */
            w = json_string_value(json_object_get(json_object_get(e, "metadata"), "result"));
            if (w && *w) {
                free(t->final_words);
                t->final_words = mem_strdup(w);
            }
        }
        runner_checks_note(&t->checks, tx);
        json_array_extend(t->batch, tx);
        json_decref(tx);
        if (json_array_size(t->batch) >= RUNNER_TASK_BATCH)
            runner_task_flush(t);
        return;
    }
    msg = mem_printf("%s%.*s", t->prefix, RUNNER_TASK_LINE_MAX, line);
    json_array_append_new(t->batch, json_pack("{s:s}", "message", msg));
    free(msg);
    if (json_array_size(t->batch) >= RUNNER_TASK_BATCH)
        runner_task_flush(t);
}

static enum proc_stop runner_task_should_stop(void *ud)
{
    struct runner_task *t = ud;
    bool cancelled;

    if (json_array_size(t->batch) && runner_task_now_ms() - t->batch_since >= RUNNER_TASK_FLUSH_MS)
        runner_task_flush(t);
    pthread_mutex_lock(&t->r->lock);
    cancelled = t->r->cancelled;
    pthread_mutex_unlock(&t->r->lock);
    if (cancelled) {
        if (!t->stop_logged)
            log_info("agent", "task %lld: cancelled by the server: stopping the coding command",
                     (long long)t->id);
        t->stop_logged = true;
        return PROC_STOP_CANCELLED;
    }
    return runner_shutdown ? PROC_STOP_SHUTDOWN : PROC_STOP_NONE;
}

/* update_task_status; a refusal (e.g. the lease is gone) is logged and returned. */
int runner_task_status(struct runner_task *t, const char *status, json_t *extra, struct err *err)
{
    json_t *args = json_pack("{s:I, s:I, s:s}", "task_id", (json_int_t)t->id, "lease_epoch",
                             (json_int_t)t->epoch, "status", status),
           *res = NULL;
    int rc;

    if (extra)
        json_object_update(args, extra);
    if (t->usage.seen) {
        /* The last usage may postdate the last heartbeat: store it on the task (and let the
         * budget check see it) while the task is still in progress. */
        struct err e2 = {0};
        if (runner_hb_send(t->r, t->m, "busy", &e2) < 0)
            log_warn("agent", "task %lld: final usage heartbeat failed (%s)", (long long)t->id,
                     e2.msg);
    }
    rc = mcpc_call(t->m, "update_task_status", args, 0, &res, err);
    if (rc == 0)
        log_info("agent", "task %lld: status %s", (long long)t->id, status);
    else
        log_warn("agent", "task %lld: update_task_status %s refused (%s)", (long long)t->id, status,
                 err->msg);
    json_decref(res);
    json_decref(args);
    return rc;
}

int runner_task_fail(struct runner_task *t, bool retry, struct err *err, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    json_t *extra;
    int rc;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    runner_task_log(t, "error", "%s", msg);
    extra = json_pack("{s:s, s:b}", "error", msg, "retry", retry);
    rc = runner_task_status(t, "failed", extra, err);
    json_decref(extra);
    return rc;
}

static int runner_task_rm(const char *dir)
{
    char *argv[] = {"rm", "-rf", "--", (char *)dir, NULL};
    struct proc_opts o = {.argv = argv, .timeout_s = 120};
    struct proc_result res;
    struct err err = {0};

    return proc_run(&o, &res, &err) == 0 && res.exit_code == 0 ? 0 : -1;
}

/* Commit whatever the command left in the tree; *changed when HEAD moved from the base. */
static int runner_task_commit(struct runner_task *t, const char *msg, bool *changed,
                              struct err *err)
{
    static const char *const add[] = {"add", "-A", NULL};
    static const char *const diff[] = {"diff", "--cached", "--quiet", NULL};
    const char *commit[] = {"commit", "-q", "--no-verify", "-m", msg, NULL};
    struct proc_result res;

    *changed = false;
    if (runner_git(t->git_env, t->repo, add, NULL, NULL, &res, err) < 0)
        return -1;
    if (res.exit_code != 0)
        return err_set(err, ERR_INTERNAL, "git add failed: %s", res.last_line);
    if (runner_git(t->git_env, t->repo, diff, NULL, NULL, &res, err) < 0)
        return -1;
    if (res.exit_code == 1) {
        if (runner_git(t->git_env, t->repo, commit, NULL, NULL, &res, err) < 0)
            return -1;
        if (res.exit_code != 0)
            return err_set(err, ERR_INTERNAL, "git commit failed: %s", res.last_line);
    }
    if (runner_git_head(t->git_env, t->repo, t->head_sha, err) < 0)
        return -1;
    *changed = strcmp(t->head_sha, t->base_sha) != 0;
    return 0;
}

static int runner_task_push(struct runner_task *t, struct err *err)
{
    char *ref = mem_printf("HEAD:refs/heads/%s", t->branch);
    const char *push[] = {"push", "-q", "--no-verify", "--", t->url, ref, NULL};
    struct proc_result res;
    int rc = -1;

    t->prefix = "[git] ";
    if (runner_git(t->git_env, t->repo, push, runner_task_on_line, t, &res, err) < 0)
        goto out;
    runner_task_flush(t);
    if (res.exit_code != 0) {
        err_set(err, ERR_INTERNAL, "git push of %s failed: %s", t->branch, res.last_line);
        goto out;
    }
    runner_task_log(t, "info", "pushed %.12s to branch %s", t->head_sha, t->branch);
    rc = 0;
out:
    t->prefix = "";
    free(ref);
    return rc;
}

/* The coding command's environment: the task, the MCP config, and no git credentials. */
static char **runner_task_cmd_env(struct runner_task *t, const char *prompt, const char *mcp_config)
{
    /* The agent's token stays with the agent: the model reaches Drover through the task's own
     * endpoint (runner_mcpd.h) with a secret good for this task only. */
    static const char *const unset[] = {"GIT_TOKEN",
                                        "GIT_SSH_KEY_FILE",
                                        "GIT_CONFIG_*",
                                        "GIT_ASKPASS",
                                        "GIT_SSH_COMMAND",
                                        "DROVER_TOKEN",
                                        "DROVER_MODEL",
                                        "DROVER_TOOLS",
                                        "DROVER_ALLOWED_TOOLS",
                                        "DROVER_PERMISSION_MODE",
                                        "DROVER_PERMISSION_PROMPT_TOOL",
                                        NULL};
    struct runner_project pj;
    char *set[20];
    char **env;
    size_t k = 0;

    set[k++] = mem_printf("DROVER_TASK_ID=%lld", (long long)t->id);
    set[k++] = mem_printf("DROVER_LEASE_EPOCH=%lld", (long long)t->epoch);
    set[k++] = mem_printf("DROVER_TASK_TITLE=%s", t->title);
    set[k++] = mem_printf("DROVER_TASK_PROMPT=%s", prompt);
    set[k++] = mem_printf("DROVER_BRANCH=%s", t->branch);
    set[k++] = mem_printf("DROVER_MCP_CONFIG=%s", mcp_config);
    set[k++] = mem_printf("DROVER_REPO_DIR=%s", t->repo);
    set[k++] = mem_printf("DROVER_TASK_ATTEMPT=%lld", (long long)t->attempt);
    set[k++] = mem_strdup("GIT_TERMINAL_PROMPT=0");
    set[k++] = mem_printf("DROVER_MCP_URL=%s", t->mcpd.url);
    set[k++] = mem_printf("DROVER_MCP_TOKEN=%s", t->mcpd.secret);
    runner_project_settings(t->task, geteuid() == 0, &pj);
    if (pj.model && *pj.model)
        set[k++] = mem_printf("DROVER_MODEL=%s", pj.model);
    if (pj.tools)
        set[k++] = mem_printf("DROVER_TOOLS=%s", pj.tools);
    if (pj.allowed)
        set[k++] = mem_printf("DROVER_ALLOWED_TOOLS=%s", pj.allowed);
    if (pj.mode)
        set[k++] = mem_printf("DROVER_PERMISSION_MODE=%s", pj.mode);
    if (pj.prompt_tool) {
        set[k++] = mem_printf("DROVER_PERMISSION_PROMPT_TOOL=%s", pj.prompt_tool);
        /* Claude Code gives up on an MCP tool call after MCP_TOOL_TIMEOUT: a person's answer
         * (or the policy's timeout, which denies) must come first. */
        set[k++] = mem_printf("MCP_TOOL_TIMEOUT=%ld", (pj.approval_timeout_s + 120) * 1000);
    }
    runner_project_clear(&pj);
    if (t->r->sandbox && runner_sandbox_contained(t->r->sandbox))
        set[k++] = mem_printf("HOME=%s", t->home);
    set[k] = NULL;
    env = proc_env_build(set, unset);
    for (size_t i = 0; i < k; i++) {
        memset(set[i], 0, strlen(set[i]));
        free(set[i]);
    }
    return env;
}

/*
 * The MCP config for Claude Code: the task's own endpoint (runner_mcpd.h), its secret by
 * ${DROVER_MCP_TOKEN} expansion so it is never written to disk.
 */
static int runner_task_mcp_config(struct runner_task *t, struct err *err)
{
    char *path = t->mcp_config;
    size_t sz = sizeof(t->mcp_config);
    json_t *cfg;
    int rc;

    if (runner_mcpd_start(&t->mcpd, &t->r->cfg, t->id, t->epoch,
                          json_is_object(json_object_get(t->task, "autonomy")), t->repo, err) < 0)
        return -1;
    {
        struct runner_project pj;
        json_t *servers = json_object();

        /* The project's MCP servers for the coding CLI (their secrets as ${VAR} references,
         * expanded by Claude Code from the agent's environment), then Drover's own. */
        runner_project_settings(t->task, false, &pj);
        if (pj.mcp_servers)
            json_object_update(servers, (json_t *)pj.mcp_servers);
        runner_project_clear(&pj);
        json_object_set_new(servers, "drover",
                            json_pack("{s:s, s:s, s:{s:s}}", "type", "http", "url", t->mcpd.url,
                                      "headers", "Authorization", "Bearer ${DROVER_MCP_TOKEN}"));
        cfg = json_pack("{s:o}", "mcpServers", servers);
    }
    /* In the fresh home: the one place besides the work tree the sandboxed command can read. */
    snprintf(path, sz, "%s/mcp.json", t->home);
    rc = json_dump_file(cfg, path, JSON_INDENT(2));
    json_decref(cfg);
    return rc == 0 ? 0 : err_set(err, ERR_INTERNAL, "cannot write %s", path);
}

/* Run the repository's agent-setup.sh when present. 0 ok/absent, 1 failed (reported), -1. */
static int runner_task_setup_script(struct runner_task *t, long timeout_s, struct err *err)
{
    char script[1200];
    static const char *const inner[] = {"bash", "agent-setup.sh", NULL};
    char **argv = runner_sandbox_argv(t->r->sandbox, &t->r->cfg, t->repo, t->home, inner);
    struct proc_opts o = {.argv = argv,
                          .cwd = t->repo,
                          .env = t->cmd_env,
                          .timeout_s = timeout_s,
                          .grace_s = t->r->cfg.stop_grace_s,
                          .should_stop = runner_task_should_stop,
                          .on_line = runner_task_on_line,
                          .ud = t};
    struct proc_result res;
    int rc;

    snprintf(script, sizeof(script), "%s/agent-setup.sh", t->repo);
    if (access(script, F_OK) != 0) {
        runner_sandbox_argv_free(argv);
        return 0;
    }
    runner_task_log(t, "info", "running agent-setup.sh");
    t->prefix = "[setup] ";
    rc = proc_run(&o, &res, err);
    runner_sandbox_argv_free(argv);
    runner_sandbox_reap(t->r->sandbox);
    runner_task_flush(t);
    t->prefix = "";
    if (rc < 0)
        return -1;
    if (res.exit_code == 0 && !res.stop)
        return 0;
    runner_task_fail(t, true, err, "agent-setup.sh %s%d: %s",
                     res.stop ? "was stopped, status " : "exited with status ", res.exit_code,
                     res.last_line);
    return 1;
}

/* Seconds left of the attempt's budget (at least 1). */
static long runner_task_left(const struct runner_task *t)
{
    long left = t->timeout_s - (long)((runner_task_now_ms() - t->started_ms) / 1000);

    return left > 0 ? left : 1;
}

/* A step ends the task: `rc` is what runner_task_run returns. */
bool runner_task_end(struct runner_task *t, int rc)
{
    t->rc = rc;
    return false;
}

/* Fill in the task's state and tell the heartbeat thread which task runs. */
static void runner_task_begin(struct runner_task *t, struct runner *r, struct mcpc *m,
                              const json_t *task)
{
    const json_t *project = json_object_get(task, "project");
    long timeout = (long)json_integer_value(json_object_get(task, "timeout_seconds"));

    memset(t, 0, sizeof(*t));
    t->r = r;
    t->m = m;
    t->task = task;
    t->rc = -1;
    runner_checks_init(&t->checks);
    t->started_ms = runner_task_now_ms();
    t->id = json_integer_value(json_object_get(task, "id"));
    t->epoch = json_integer_value(json_object_get(task, "lease_epoch"));
    t->attempt = json_integer_value(json_object_get(task, "attempt"));
    t->title = json_string_value(json_object_get(task, "title"));
    if (!t->title)
        t->title = "";
    t->url = json_string_value(json_object_get(project, "repoUrl"));
    t->base = json_string_value(json_object_get(task, "base_branch"));
    if (!t->base || !*t->base)
        t->base = json_string_value(json_object_get(project, "defaultBranch"));
    if (!t->base || !*t->base || json_is_false(json_object_get(task, "base_given")))
        t->base = NULL; /* neither task nor project names one: the clone step asks the remote */
    if (r->cfg.task_timeout_s > 0 && (timeout <= 0 || r->cfg.task_timeout_s < timeout))
        timeout = r->cfg.task_timeout_s;
    t->timeout_s = timeout > 0 ? timeout : RUNNER_TASK_DEFAULT_TIMEOUT;
    t->batch = json_array();
    t->batch_since = t->started_ms;
    runner_usage_base(&t->usage, json_object_get(task, "usage"));
    t->prefix = "";
    pthread_mutex_lock(&r->lock);
    r->task_id = t->id;
    r->cancelled = false;
    json_decref(r->usage);
    r->usage = NULL;
    pthread_mutex_unlock(&r->lock);
    t->git_env = NULL; /* built by the credential step, once the task's own token is known */
    snprintf(t->dir, sizeof(t->dir), "%s/task-%lld-%lld", r->cfg.workspace, (long long)t->id,
             (long long)t->epoch);
    snprintf(t->repo, sizeof(t->repo), "%s/repo", t->dir);
    snprintf(t->gitdir, sizeof(t->gitdir), "%s/git/.git", t->dir);
    snprintf(t->home, sizeof(t->home), "%s/home", t->dir);
}

/* Step: a fresh workspace directory for this attempt. */
static bool runner_task_workspace(struct runner_task *t, struct err *err)
{
    runner_task_rm(t->dir);
    /* 0711: a sandbox user reaches repo/ and home/ (handed to it), nothing else in here. */
    if (mkdir(t->dir, 0700) < 0 || chmod(t->dir, 0711) < 0)
        return runner_task_end(t, runner_task_fail(t, true, err, "cannot create workspace %s: %s",
                                                   t->dir, strerror(errno)));
    runner_task_log(t, "info", "drover-agent took task %lld (attempt %lld)", (long long)t->id,
                    (long long)t->attempt);
    return true;
}

/* Note the repository's instructions for coding agents (the coding command reads them). */
static void runner_task_note_instructions(struct runner_task *t)
{
    static const char *const notes[] = {"CLAUDE.md", "AGENTS.md"};

    for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++) {
        char p[1200];

        snprintf(p, sizeof(p), "%s/%s", t->repo, notes[i]);
        if (access(p, R_OK) == 0)
            runner_task_log(t, "info", "repository instructions: %s (read by the coding command)",
                            notes[i]);
    }
}

/* Step: the project's git credential (get_git_credential), then git's environment. */
static bool runner_task_credential(struct runner_task *t, struct err *err)
{
    if (t->url && runner_publish_fetch_credential(t->m, t->id, t->epoch, &t->git_token, err) < 0)
        return runner_task_end(
            t, runner_task_fail(t, true, err, "cannot get the git credential: %s", err->msg));
    t->git_env = runner_publish_env(&t->r->cfg, t->url, t->git_token, NULL, NULL);
    return true;
}

/* Step: a shallow clone of the base branch; base_sha is where it starts. */
static bool runner_task_clone(struct runner_task *t, struct err *err)
{
    char into[1100];
    struct proc_result pr;

    if (!t->url || !*t->url)
        return runner_task_end(t, runner_task_fail(t, false, err, "the task names no repository"));
    t->safe_url = text_url_redact(t->url);
    if (!t->base) {
        /* Neither the task nor its project names a base: the remote's default branch (a
         * `master` repository must work), found the way `git clone` finds it. */
        if (runner_git_default_branch(t->git_env, t->dir, t->url, t->found_base,
                                      sizeof(t->found_base), err) < 0) {
            /* As for the clone below: a repository that is not there will not appear on a
             * retry, a network failure may go away. */
            bool missing = err->code == ERR_NOT_FOUND || strstr(err->msg, "not found") ||
                           strstr(err->msg, "does not") || strstr(err->msg, "not appear") ||
                           strstr(err->msg, "no such repository");

            return runner_task_end(
                t, runner_task_fail(t, !missing, err,
                                    "cannot clone %s (no base branch given, the remote's "
                                    "default unknown): %s",
                                    t->safe_url, err->msg));
        }
        t->base = t->found_base;
        t->base_found = true;
        runner_task_log(t, "info", "no base branch given: the repository's default is %s", t->base);
    }
    /* The runner's own repository: outside the work tree, hidden from the sandbox. */
    snprintf(into, sizeof(into), "%s/git", t->dir);
    const char *clone[] = {
        "clone", "-q", "--no-checkout", "--depth", "1", "--single-branch", "--branch",
        t->base, "--", t->url,          into,      NULL};
    runner_task_log(t, "info", "cloning %s (branch %s, depth 1)", t->safe_url, t->base);
    t->prefix = "[git] ";
    if (runner_git(t->git_env, t->dir, clone, runner_task_on_line, t, &pr, err) < 0)
        return runner_task_end(t, -1);
    runner_task_flush(t);
    t->prefix = "";
    if (pr.exit_code != 0) {
        /* A repository that is not there will not appear on a retry; a network failure may go
         * away. */
        bool missing = strstr(pr.last_line, "not found") || strstr(pr.last_line, "does not") ||
                       strstr(pr.last_line, "not appear") || strstr(pr.last_line, "Remote branch");

        return runner_task_end(t,
                               runner_task_fail(t, !missing, err, "cannot clone %s (branch %s): %s",
                                                t->safe_url, t->base, pr.last_line));
    }
    if (runner_publish_adopt(&t->r->cfg, t->url, t->git_token, t->gitdir, t->repo, &t->git_env,
                             err) < 0 ||
        runner_git_head(t->git_env, t->repo, t->base_sha, err) < 0)
        return runner_task_end(t, runner_task_fail(t, true, err, "%s", err->msg));
    runner_task_note_instructions(t);
    return true;
}

/* The server names the branch (and has the forge create it from the base). Step semantics. */
static bool runner_task_name_branch(struct runner_task *t, struct err *err)
{
    json_t *args = json_pack("{s:I, s:I}", "task_id", (json_int_t)t->id, "lease_epoch",
                             (json_int_t)t->epoch),
           *res = NULL;
    const char *name;
    bool named = false;

    if (t->base_found) /* the server would otherwise start the branch from its own default */
        json_object_set_new(args, "base", json_string(t->base));

    if (mcpc_call(t->m, "create_branch", args, RUNNER_TASK_FORGE_TIMEOUT, &res, err) < 0) {
        runner_task_end(t, runner_task_fail(t, true, err, "create_branch failed: %s", err->msg));
        goto out;
    }
    name = json_string_value(json_object_get(res, "branch"));
    snprintf(t->branch, sizeof(t->branch), "%s", name ? name : "");
    if (!t->branch[0]) {
        runner_task_end(t, runner_task_fail(t, true, err, "create_branch returned no branch name"));
        goto out;
    }
    named = true;
out:
    json_decref(args);
    json_decref(res);
    return named;
}

/*
 * Step: the task's branch, checked out. An existing remote branch (a retried attempt's work in
 * progress) is continued; base_sha then moves to its head.
 */
static bool runner_task_branch(struct runner_task *t, struct err *err)
{
    char *src;
    struct proc_result pr;
    bool fetched;

    if (!runner_task_name_branch(t, err))
        return false;
    src = mem_printf("refs/heads/%s", t->branch);
    {
        const char *fetch[] = {"fetch", "-q", "--depth", "1", "origin", src, NULL};
        const char *co_fetched[] = {"checkout", "-q", "-B", t->branch, "FETCH_HEAD", NULL};
        const char *co_new[] = {"checkout", "-q", "-B", t->branch, NULL};

        fetched =
            runner_git(t->git_env, t->repo, fetch, NULL, NULL, &pr, err) == 0 && pr.exit_code == 0;
        free(src);
        if (runner_git(t->git_env, t->repo, fetched ? co_fetched : co_new, NULL, NULL, &pr, err) <
                0 ||
            pr.exit_code != 0)
            return runner_task_end(t,
                                   runner_task_fail(t, true, err, "git checkout of %s failed: %s",
                                                    t->branch, pr.last_line));
    }
    if (fetched) {
        char cloned[41];

        memcpy(cloned, t->base_sha, sizeof(cloned));
        if (runner_git_head(t->git_env, t->repo, t->base_sha, err) < 0)
            return runner_task_end(t, runner_task_fail(t, true, err, "%s", err->msg));
        fetched = strcmp(cloned, t->base_sha) != 0;
    }
    runner_task_log(t, "info", "working on branch %s%s", t->branch,
                    fetched ? " (continuing the work pushed by an earlier attempt)" : "");
    return true;
}

/* Step: the coding command's MCP config, prompt and environment. */
static bool runner_task_command_env(struct runner_task *t, struct err *err)
{
    /* The command's own repository and home; the sandbox user's when there is one. */
    if (mkdir(t->home, 0700) < 0 ||
        runner_publish_handoff(&t->r->cfg, t->gitdir, t->repo, t->branch, t->safe_url, err) < 0)
        return runner_task_end(t, runner_task_fail(t, true, err, "cannot prepare the work tree: %s",
                                                   err->msg[0] ? err->msg : strerror(errno)));
    if (runner_task_mcp_config(t, err) < 0 ||
        runner_sandbox_chown(t->r->sandbox, t->repo, err) < 0 ||
        runner_sandbox_chown(t->r->sandbox, t->home, err) < 0)
        return runner_task_end(t, runner_task_fail(t, true, err, "%s", err->msg));
    t->prompt = runner_prompt_build(t->task, t->branch);
    t->cmd_env = runner_task_cmd_env(t, t->prompt, t->mcp_config);
    return true;
}

/* Step: the repository's agent-setup.sh; a failure of its own is reported and ends the task. */
static bool runner_task_setup(struct runner_task *t, struct err *err)
{
    int s = runner_task_setup_script(t, runner_task_left(t), err);

    if (s < 0)
        return runner_task_end(t, -1);
    return s > 0 ? runner_task_end(t, 0) : true;
}

/* Step: the coding command, in the clone, for what is left of the time budget. */
static bool runner_task_code(struct runner_task *t, struct err *err)
{
    const char *inner[] = {"/bin/sh", "-c", t->r->cfg.coding_command, NULL};
    char **argv = runner_sandbox_argv(t->r->sandbox, &t->r->cfg, t->repo, t->home, inner);
    struct proc_opts o = {.argv = argv,
                          .cwd = t->repo,
                          .env = t->cmd_env,
                          .grace_s = t->r->cfg.stop_grace_s,
                          .should_stop = runner_task_should_stop,
                          .on_line = runner_task_on_line,
                          .ud = t};

    runner_task_log(t, "info", "running the coding command (timeout %ld s)", t->timeout_s);
    o.timeout_s = runner_task_left(t);
    if (proc_run(&o, &t->cmd, err) < 0) {
        runner_sandbox_argv_free(argv);
        runner_mcpd_stop(&t->mcpd);
        return runner_task_end(
            t, runner_task_fail(t, true, err, "cannot start the coding command: %s", err->msg));
    }
    runner_sandbox_argv_free(argv);
    runner_sandbox_reap(t->r->sandbox);
    /* What the model asked for through its tools is final once the command is gone. */
    runner_mcpd_stop(&t->mcpd);
    runner_task_flush(t);
    return true;
}

/* Step: commit what the command left (a WIP commit when it did not finish) and push it. */
static bool runner_task_publish(struct runner_task *t, struct err *err)
{
    const struct proc_result *pr = &t->cmd;
    char *msg = pr->stop || pr->exit_code != 0
                    ? mem_printf("WIP: %s\n\nDrover task %lld, attempt stopped (%s).", t->title,
                                 (long long)t->id,
                                 pr->stop == PROC_STOP_TIMEOUT     ? "timeout"
                                 : pr->stop == PROC_STOP_SHUTDOWN  ? "agent shutdown"
                                 : pr->stop == PROC_STOP_CANCELLED ? "cancelled"
                                                                   : "command failed")
                    : mem_printf("%s\n\nDrover task %lld.", t->title, (long long)t->id);
    int rc = runner_task_commit(t, msg, &t->changed, err);

    free(msg);
    if (rc < 0 || (t->changed && runner_task_push(t, err) < 0))
        return runner_task_end(t, runner_task_fail(t, true, err, "%s", err->msg));
    return true;
}

/* Flush the log, remove the workspace, tell the heartbeat thread the agent is idle. */
static void runner_task_finish(struct runner_task *t)
{
    runner_task_flush(t);
    if (t->dir[0])
        runner_task_rm(t->dir);
    pthread_mutex_lock(&t->r->lock);
    t->r->task_id = 0;
    t->r->cancelled = false;
    json_decref(t->r->usage);
    t->r->usage = NULL;
    pthread_mutex_unlock(&t->r->lock);
    runner_mcpd_clear(&t->mcpd);
    proc_env_free(t->git_env);
    proc_env_free(t->cmd_env);
    json_decref(t->batch);
    free(t->prompt);
    free(t->safe_url);
    free(t->final_words);
    t->final_words = NULL;
    runner_checks_clear(&t->checks);
    if (t->git_token) {
        memset(t->git_token, 0, strlen(t->git_token));
        free(t->git_token);
    }
}

/*
 * The steps of one attempt, in order. Each either hands over to the next (true) or ends the
 * task (false) after reporting the outcome, with t->rc set; the last one always ends it.
 */
static bool (*const runner_task_steps[])(struct runner_task *t, struct err *err) = {
    runner_task_workspace,   /* a fresh directory */
    runner_task_credential,  /* the project's git credential */
    runner_task_clone,       /* the base branch, shallow */
    runner_task_branch,      /* the task's branch, from the server */
    runner_task_command_env, /* MCP config, prompt, environment */
    runner_task_setup,       /* agent-setup.sh */
    runner_task_code,        /* the coding command */
    runner_task_publish,     /* commit and push */
    runner_report,           /* the final status (and the pull request): runner_report.c */
};

int runner_task_run(struct runner *r, struct mcpc *m, const json_t *task, struct err *err)
{
    struct runner_task t;

    runner_task_begin(&t, r, m, task);
    for (size_t i = 0; i < sizeof(runner_task_steps) / sizeof(runner_task_steps[0]); i++)
        if (!runner_task_steps[i](&t, err))
            break;
    runner_task_finish(&t);
    return t.rc;
}
