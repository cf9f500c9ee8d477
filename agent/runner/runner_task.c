/* The life of one task in drover-agent. Main thread. */
#include "runner_task.h"
#include "core/log.h"
#include "core/mem.h"
#include "runner_git.h"
#include "runner_hb.h"
#include "runner_usage.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RUNNER_TASK_BATCH 50      /* log lines per log_activity call */
#define RUNNER_TASK_FLUSH_MS 1000 /* ... or this old */
#define RUNNER_TASK_LINE_MAX 4000 /* characters kept of one output line */

struct runner_task {
    struct runner *r;
    struct mcpc *m;
    int64_t id, epoch, attempt;
    const char *title;
    char dir[1024], repo[1100], branch[256], base_sha[41], head_sha[41];
    char **git_env, **cmd_env;
    json_t *batch; /* pending log entries */
    long long batch_since;
    const char *prefix; /* "" or "[setup] " */
    /* Usage from Claude Code's stream-json: running totals and the final result event. */
    struct runner_usage usage;
    bool stop_logged;
};

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

static void runner_task_log(struct runner_task *t, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A line from the agent itself (not the command), flushed at once so order is kept. */
static void runner_task_log(struct runner_task *t, const char *level, const char *fmt, ...)
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
    char *msg;

    if (!*line)
        return;
    runner_task_usage(t, line);
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
static int runner_task_status(struct runner_task *t, const char *status, json_t *extra,
                              struct err *err)
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

static int runner_task_fail(struct runner_task *t, bool retry, struct err *err, const char *fmt,
                            ...) __attribute__((format(printf, 4, 5)));

static int runner_task_fail(struct runner_task *t, bool retry, struct err *err, const char *fmt,
                            ...)
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

/* The prompt the coding command gets: title, description, answers given so far. Owned. */
static char *runner_task_prompt(const json_t *task, const char *branch)
{
    const char *title = json_string_value(json_object_get(task, "title"));
    const char *desc = json_string_value(json_object_get(task, "description"));
    const json_t *ctx = json_object_get(task, "context"), *c;
    char *p = mem_printf("%s\n\n%s", title ? title : "", desc ? desc : ""), *q;
    size_t i;

    if (json_array_size(ctx)) {
        q = mem_printf("%s\n\nAnswers and notes from earlier attempts:", p);
        free(p);
        p = q;
        json_array_foreach(ctx, i, c)
        {
            char *s =
                json_is_string(c) ? mem_strdup(json_string_value(c)) : json_dumps(c, JSON_COMPACT);
            q = mem_printf("%s\n- %s", p, s);
            free(s);
            free(p);
            p = q;
        }
    }
    q = mem_printf("%s\n\n(Drover: you are on branch %s; commit or leave your changes in the "
                   "working tree, the runner commits and pushes them.)",
                   p, branch);
    free(p);
    return q;
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
    const char *push[] = {"push", "-q", "origin", ref, NULL};
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
    static const char *const unset[] = {"GIT_TOKEN",   "GIT_SSH_KEY_FILE", "GIT_CONFIG_*",
                                        "GIT_ASKPASS", "GIT_SSH_COMMAND",  NULL};
    char *set[10];
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
    set[k] = NULL;
    env = proc_env_build(set, unset);
    for (size_t i = 0; i < k; i++)
        free(set[i]);
    return env;
}

/*
 * The MCP config for Claude Code: droverd over HTTP, the token by ${DROVER_TOKEN} expansion so
 * it is never written to disk.
 */
static int runner_task_mcp_config(struct runner_task *t, char *path, size_t sz, struct err *err)
{
    json_t *cfg = json_pack("{s:{s:{s:s, s:s, s:{s:s}}}}", "mcpServers", "drover", "type", "http",
                            "url", t->m->url, "headers", "Authorization", "Bearer ${DROVER_TOKEN}");
    int rc;

    snprintf(path, sz, "%s/mcp.json", t->dir);
    rc = json_dump_file(cfg, path, JSON_INDENT(2));
    json_decref(cfg);
    return rc == 0 ? 0 : err_set(err, ERR_INTERNAL, "cannot write %s", path);
}

/* Run the repository's agent-setup.sh when present. 0 ok/absent, 1 failed (reported), -1. */
static int runner_task_setup(struct runner_task *t, long timeout_s, struct err *err)
{
    char script[1200];
    char *argv[] = {"bash", "agent-setup.sh", NULL};
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
    if (access(script, F_OK) != 0)
        return 0;
    runner_task_log(t, "info", "running agent-setup.sh");
    t->prefix = "[setup] ";
    rc = proc_run(&o, &res, err);
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

int runner_task_run(struct runner *r, struct mcpc *m, const json_t *task, struct err *err)
{
    struct runner_task t;
    const json_t *project = json_object_get(task, "project");
    const char *url = json_string_value(json_object_get(project, "repoUrl"));
    const char *base = json_string_value(json_object_get(task, "base_branch"));
    long timeout = (long)json_integer_value(json_object_get(task, "timeout_seconds"));
    long long started = runner_task_now_ms();
    char *prompt = NULL, *safe_url = NULL, *commit_msg = NULL, mcp_config[1200];
    json_t *res = NULL, *args = NULL, *extra = NULL;
    struct proc_result pr;
    bool changed = false;
    int rc = -1;

    memset(&t, 0, sizeof(t));
    t.r = r;
    t.m = m;
    t.id = json_integer_value(json_object_get(task, "id"));
    t.epoch = json_integer_value(json_object_get(task, "lease_epoch"));
    t.attempt = json_integer_value(json_object_get(task, "attempt"));
    t.title = json_string_value(json_object_get(task, "title"));
    if (!t.title)
        t.title = "";
    t.batch = json_array();
    t.batch_since = started;
    t.prefix = "";
    if (!base || !*base)
        base = json_string_value(json_object_get(project, "defaultBranch"));
    if (!base || !*base)
        base = "main";
    if (r->cfg.task_timeout_s > 0 && (timeout <= 0 || r->cfg.task_timeout_s < timeout))
        timeout = r->cfg.task_timeout_s;
    if (timeout <= 0)
        timeout = 7200;
    pthread_mutex_lock(&r->lock);
    r->task_id = t.id;
    r->cancelled = false;
    json_decref(r->usage);
    r->usage = NULL;
    pthread_mutex_unlock(&r->lock);
    t.git_env = runner_git_env(&r->cfg);
    snprintf(t.dir, sizeof(t.dir), "%s/task-%lld-%lld", r->cfg.workspace, (long long)t.id,
             (long long)t.epoch);
    snprintf(t.repo, sizeof(t.repo), "%s/repo", t.dir);
    runner_task_rm(t.dir);
    if (mkdir(t.dir, 0700) < 0) {
        rc = runner_task_fail(&t, true, err, "cannot create workspace %s: %s", t.dir,
                              strerror(errno));
        goto out;
    }
    runner_task_log(&t, "info", "drover-agent took task %lld (attempt %lld)", (long long)t.id,
                    (long long)json_integer_value(json_object_get(task, "attempt")));
    if (!url || !*url) {
        rc = runner_task_fail(&t, false, err, "the task names no repository");
        goto out;
    }
    safe_url = runner_git_redact(url);
    runner_task_log(&t, "info", "cloning %s (branch %s, depth 1)", safe_url, base);
    {
        const char *clone[] = {"clone", "-q", "--depth", "1", "--single-branch", "--branch", base,
                               "--",    url,  t.repo,    NULL};
        t.prefix = "[git] ";
        if (runner_git(t.git_env, t.dir, clone, runner_task_on_line, &t, &pr, err) < 0)
            goto out;
        runner_task_flush(&t);
        t.prefix = "";
        if (pr.exit_code != 0) {
            /* A repository that is not there will not appear on a retry; a network
             * failure may go away. */
            bool missing = strstr(pr.last_line, "not found") || strstr(pr.last_line, "does not") ||
                           strstr(pr.last_line, "not appear") ||
                           strstr(pr.last_line, "Remote branch");
            rc = runner_task_fail(&t, !missing, err, "cannot clone %s (branch %s): %s", safe_url,
                                  base, pr.last_line);
            goto out;
        }
    }
    if (runner_git_head(t.git_env, t.repo, t.base_sha, err) < 0) {
        rc = runner_task_fail(&t, true, err, "%s", err->msg);
        goto out;
    }
    {
        static const char *const notes[] = {"CLAUDE.md", "AGENTS.md"};
        for (size_t i = 0; i < 2; i++) {
            char p[1200];
            snprintf(p, sizeof(p), "%s/%s", t.repo, notes[i]);
            if (access(p, R_OK) == 0)
                runner_task_log(&t, "info",
                                "repository instructions: %s (read by the coding "
                                "command)",
                                notes[i]);
        }
    }
    /* The branch: the server names it (and has the forge create it from the base). */
    args = json_pack("{s:I, s:I}", "task_id", (json_int_t)t.id, "lease_epoch", (json_int_t)t.epoch);
    if (mcpc_call(m, "create_branch", args, 120, &res, err) < 0) {
        rc = runner_task_fail(&t, true, err, "create_branch failed: %s", err->msg);
        goto out;
    }
    snprintf(t.branch, sizeof(t.branch), "%s",
             json_string_value(json_object_get(res, "branch"))
                 ? json_string_value(json_object_get(res, "branch"))
                 : "");
    if (!t.branch[0]) {
        rc = runner_task_fail(&t, true, err, "create_branch returned no branch name");
        goto out;
    }
    {
        char *src = mem_printf("refs/heads/%s", t.branch);
        const char *fetch[] = {"fetch", "-q", "--depth", "1", "origin", src, NULL};
        const char *co_fetched[] = {"checkout", "-q", "-B", t.branch, "FETCH_HEAD", NULL};
        const char *co_new[] = {"checkout", "-q", "-B", t.branch, NULL};
        int f = runner_git(t.git_env, t.repo, fetch, NULL, NULL, &pr, err);
        /* An existing remote branch (a retried attempt's work in progress) is continued. */
        bool fetched = f == 0 && pr.exit_code == 0;
        free(src);
        if (runner_git(t.git_env, t.repo, fetched ? co_fetched : co_new, NULL, NULL, &pr, err) <
                0 ||
            pr.exit_code != 0) {
            rc = runner_task_fail(&t, true, err, "git checkout of %s failed: %s", t.branch,
                                  pr.last_line);
            goto out;
        }
        if (fetched) {
            char cloned[41];
            memcpy(cloned, t.base_sha, sizeof(cloned));
            if (runner_git_head(t.git_env, t.repo, t.base_sha, err) < 0) {
                rc = runner_task_fail(&t, true, err, "%s", err->msg);
                goto out;
            }
            fetched = strcmp(cloned, t.base_sha) != 0;
        }
        runner_task_log(&t, "info", "working on branch %s%s", t.branch,
                        fetched ? " (continuing the work pushed by an earlier attempt)" : "");
    }
    if (runner_task_mcp_config(&t, mcp_config, sizeof(mcp_config), err) < 0) {
        rc = runner_task_fail(&t, true, err, "%s", err->msg);
        goto out;
    }
    prompt = runner_task_prompt(task, t.branch);
    t.cmd_env = runner_task_cmd_env(&t, prompt, mcp_config);
    {
        long left = timeout - (long)((runner_task_now_ms() - started) / 1000);
        int s = runner_task_setup(&t, left > 0 ? left : 1, err);
        if (s < 0)
            goto out;
        if (s > 0) {
            rc = 0;
            goto out;
        }
    }
    runner_task_log(&t, "info", "running the coding command (timeout %ld s)", timeout);
    {
        char *argv[] = {"/bin/sh", "-c", r->cfg.coding_command, NULL};
        long left = timeout - (long)((runner_task_now_ms() - started) / 1000);
        struct proc_opts o = {.argv = argv,
                              .cwd = t.repo,
                              .env = t.cmd_env,
                              .timeout_s = left > 0 ? left : 1,
                              .grace_s = r->cfg.stop_grace_s,
                              .should_stop = runner_task_should_stop,
                              .on_line = runner_task_on_line,
                              .ud = &t};
        if (proc_run(&o, &pr, err) < 0) {
            rc = runner_task_fail(&t, true, err, "cannot start the coding command: %s", err->msg);
            goto out;
        }
        runner_task_flush(&t);
    }
    commit_msg = pr.stop || pr.exit_code != 0
                     ? mem_printf("WIP: %s\n\nDrover task %lld, attempt stopped (%s).", t.title,
                                  (long long)t.id,
                                  pr.stop == PROC_STOP_TIMEOUT     ? "timeout"
                                  : pr.stop == PROC_STOP_SHUTDOWN  ? "agent shutdown"
                                  : pr.stop == PROC_STOP_CANCELLED ? "cancelled"
                                                                   : "command failed")
                     : mem_printf("%s\n\nDrover task %lld.", t.title, (long long)t.id);
    if (runner_task_commit(&t, commit_msg, &changed, err) < 0) {
        rc = runner_task_fail(&t, true, err, "%s", err->msg);
        goto out;
    }
    if (changed && runner_task_push(&t, err) < 0) {
        rc = runner_task_fail(&t, true, err, "%s", err->msg);
        goto out;
    }
    if (pr.stop == PROC_STOP_CANCELLED) {
        /* The server ended the task (cancelled, timed out, lease lost): its work in progress is
         * pushed above so nothing is lost; the task is no longer ours to update. */
        log_info("agent", "task %lld: stopped the coding command: the server ended the task%s",
                 (long long)t.id, changed ? " (work in progress pushed)" : "");
        rc = 0;
        goto out;
    }
    if (pr.stop == PROC_STOP_SHUTDOWN) {
        rc = runner_task_fail(&t, true, err,
                              "agent shut down mid-task (SIGTERM); %s; handing the task back",
                              changed ? "work in progress pushed" : "no changes yet");
        goto out;
    }
    if (pr.stop == PROC_STOP_TIMEOUT) {
        char q[512];
        snprintf(q, sizeof(q),
                 "The coding command ran past the task timeout of %ld s. %s Answer to resume.",
                 timeout,
                 changed ? "Its work in progress is on the branch." : "It changed nothing.");
        runner_task_log(&t, "warning", "timed out after %ld s", timeout);
        extra = json_pack("{s:s, s:s}", "reason", "timeout", "question", q);
        rc = runner_task_status(&t, "needs_input", extra, err);
        goto out;
    }
    if (pr.exit_code != 0) {
        rc = runner_task_fail(&t, true, err, "the coding command exited with status %d: %s",
                              pr.exit_code, pr.last_line);
        goto out;
    }
    if (!changed) {
        runner_task_log(&t, "notice", "the coding command finished without changing anything");
        extra = json_pack("{s:{s:s, s:b}}", "result", "branch", t.branch, "changes", false);
        rc = runner_task_status(&t, "completed", extra, err);
        goto out;
    }
    json_decref(args);
    json_decref(res);
    res = NULL;
    args = json_pack("{s:I, s:I, s:s, s:s}", "task_id", (json_int_t)t.id, "lease_epoch",
                     (json_int_t)t.epoch, "title", t.title, "body", prompt);
    if (mcpc_call(m, "create_pull_request", args, 120, &res, err) < 0) {
        rc = runner_task_fail(&t, true, err, "create_pull_request failed: %s", err->msg);
        goto out;
    }
    {
        json_t *prj = json_object_get(res, "pull_request");
        const char *purl = json_string_value(json_object_get(prj, "url"));
        runner_task_log(&t, "info", "pull request %s", purl ? purl : "recorded");
        extra = json_pack("{s:{s:s, s:s, s:O}}", "result", "branch", t.branch, "commit", t.head_sha,
                          "pull_request", prj ? prj : json_null());
    }
    pthread_mutex_lock(&r->lock);
    if (r->usage)
        json_object_set(json_object_get(extra, "result"), "usage", r->usage);
    pthread_mutex_unlock(&r->lock);
    rc = runner_task_status(&t, "ready_to_test", extra, err);
out:
    runner_task_flush(&t);
    if (t.dir[0])
        runner_task_rm(t.dir);
    pthread_mutex_lock(&r->lock);
    r->task_id = 0;
    r->cancelled = false;
    json_decref(r->usage);
    r->usage = NULL;
    pthread_mutex_unlock(&r->lock);
    proc_env_free(t.git_env);
    proc_env_free(t.cmd_env);
    json_decref(t.batch);
    json_decref(args);
    json_decref(res);
    json_decref(extra);
    free(prompt);
    free(safe_url);
    free(commit_msg);
    return rc;
}
