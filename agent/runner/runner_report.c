/*
 * The last step of a task's attempt: tell the server how it ended — the pull request and
 * ready_to_test (or the status the model chose), completed without changes, needs_input (a
 * question or the time budget), failed — once the work is pushed. Main thread.
 */
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
#include <pthread.h>

/* The coding command ran past the time budget: the task waits for an answer to resume. */
static int runner_report_timeout(struct runner_task *t, struct err *err)
{
    char q[512];
    json_t *extra;
    int rc;

    snprintf(q, sizeof(q),
             "The coding command ran past the task timeout of %ld s. %s Answer to resume.",
             t->timeout_s,
             t->changed ? "Its work in progress is on the branch." : "It changed nothing.");
    runner_task_log(t, "warning", "timed out after %ld s", t->timeout_s);
    extra = json_pack("{s:s, s:s}", "reason", "timeout", "question", q);
    rc = runner_task_status(t, "needs_input", extra, err);
    json_decref(extra);
    return rc;
}

/* The model asked for a preview (trigger_preview_deploy): a failure is noted, not fatal. */
static void runner_report_preview(struct runner_task *t)
{
    json_t *args = json_pack("{s:I, s:I}", "task_id", (json_int_t)t->id, "lease_epoch",
                             (json_int_t)t->epoch),
           *res = NULL;
    struct err e = {0};

    if (mcpc_call(t->m, "trigger_preview_deploy", args, RUNNER_TASK_FORGE_TIMEOUT, &res, &e) < 0)
        runner_task_log(t, "warning", "the preview the model asked for failed: %s", e.msg);
    else
        runner_task_log(t, "info", "preview %s",
                        json_string_value(json_object_get(res, "preview_url"))
                            ? json_string_value(json_object_get(res, "preview_url"))
                            : "requested");
    json_decref(args);
    json_decref(res);
}

/* What the pull request says the change is: the files with their +/- counts, then the checks
 * the coding command ran. Owned. */
static char *runner_report_pr_body(const json_t *files, const struct runner_checks *checks)
{
    struct buf b;
    size_t i;
    json_t *f;

    buf_init(&b, 16384);
    buf_appendf(&b, "Files changed (%zu):\n", json_array_size(files));
    json_array_foreach(files, i, f)
    {
        const json_t *a = json_object_get(f, "added"), *r = json_object_get(f, "removed");

        if (json_is_integer(a))
            buf_appendf(&b, "- `%s` +%lld −%lld\n", json_string_value(json_object_get(f, "path")),
                        (long long)json_integer_value(a), (long long)json_integer_value(r));
        else
            buf_appendf(&b, "- `%s` (binary)\n", json_string_value(json_object_get(f, "path")));
    }
    buf_appendf(&b, "\n");
    runner_checks_markdown(checks, &b);
    return buf_take(&b, NULL);
}

/*
 * The command finished with changes: open the pull request (its body: the model's summary when
 * it called create_pull_request, else the one it gave update_task_status, else its final
 * message; then the files changed; droverd adds the task's link) and hand
 * the task over in the status the model chose (update_task_status), ready_to_test by default.
 */
/* The task's summary: the model's own (update_task_status), else its final message, or NULL. */
static const char *runner_report_summary(const struct runner_task *t)
{
    const char *said = t->mcpd.tools.intent.summary;

    return said ? said : t->final_words;
}

static int runner_report_ready(struct runner_task *t, struct err *err)
{
    const struct runner_intent *in = &t->mcpd.tools.intent;
    const char *summary = runner_report_summary(t);
    const char *said = in->pr_body ? in->pr_body : summary;
    json_t *args = NULL, *res = NULL, *extra = NULL, *prj, *files = NULL;
    char *diff = NULL, *body = NULL, *listed = NULL;
    const char *purl, *status = in->status ? in->status : "ready_to_test";
    int cut = 0, rc;

    /* The change itself, for the reviewers (runner_diff.h); best effort. */
    if (runner_diff(t->git_env, t->repo, t->base, &files, &diff, &cut) == 0)
        listed = runner_report_pr_body(files, &t->checks);
    if (said && listed)
        body = mem_printf("%s\n\n%s", said, listed);
    else if (said || listed)
        body = mem_strdup(said ? said : listed);
    args = json_pack("{s:I, s:I, s:s, s:s}", "task_id", (json_int_t)t->id, "lease_epoch",
                     (json_int_t)t->epoch, "title", in->pr_title ? in->pr_title : t->title, "body",
                     body ? body : t->prompt);
    free(listed);
    if (t->base_found)
        json_object_set_new(args, "base", json_string(t->base));

    if (mcpc_call(t->m, "create_pull_request", args, RUNNER_TASK_FORGE_TIMEOUT, &res, err) < 0) {
        rc = runner_task_fail(t, true, err, "create_pull_request failed: %s", err->msg);
        goto out;
    }
    prj = json_object_get(res, "pull_request");
    purl = json_string_value(json_object_get(prj, "url"));
    runner_task_log(t, "info", "pull request %s%s", purl ? purl : "recorded",
                    in->pr_title ? " (the model's title and summary)" : "");
    if (in->preview)
        runner_report_preview(t);
    extra = json_pack("{s:{s:s, s:s, s:O}}", "result", "branch", t->branch, "commit", t->head_sha,
                      "pull_request", prj ? prj : json_null());
    if (summary)
        json_object_set_new(json_object_get(extra, "result"), "summary", json_string(summary));
    if (files) {
        json_t *r = json_object_get(extra, "result");

        json_object_set(r, "files", files);
        json_object_set_new(r, "diff", json_string(diff));
        if (cut)
            json_object_set_new(r, "diff_truncated", json_true());
    }
    pthread_mutex_lock(&t->r->lock);
    if (t->r->usage)
        json_object_set(json_object_get(extra, "result"), "usage", t->r->usage);
    pthread_mutex_unlock(&t->r->lock);
    rc = runner_task_status(t, status, extra, err);
out:
    json_decref(args);
    json_decref(res);
    json_decref(extra);
    json_decref(files);
    free(diff);
    free(body);
    return rc;
}

/* Step: tell the server how the attempt ended (the work, if any, is pushed by now). */
bool runner_report(struct runner_task *t, struct err *err)
{
    const struct proc_result *pr = &t->cmd;
    const struct runner_intent *in = &t->mcpd.tools.intent;
    json_t *extra;
    int rc;

    switch (pr->stop) {
    case PROC_STOP_CANCELLED:
        /* The server ended the task (cancelled, timed out, lease lost): its work in progress is
         * pushed so nothing is lost; the task is no longer ours to update. */
        log_info("agent", "task %lld: stopped the coding command: the server ended the task%s",
                 (long long)t->id, t->changed ? " (work in progress pushed)" : "");
        return runner_task_end(t, 0);
    case PROC_STOP_SHUTDOWN:
        return runner_task_end(
            t, runner_task_fail(t, true, err,
                                "agent shut down mid-task (SIGTERM); %s; handing the task back",
                                t->changed ? "work in progress pushed" : "no changes yet"));
    case PROC_STOP_TIMEOUT:
        return runner_task_end(t, runner_report_timeout(t, err));
    case PROC_STOP_NONE:
        break;
    }
    if (in->question) {
        /* The model parked its task (ask_user_question): its status stands, whatever the
         * command's exit; the work so far is pushed for the attempt that gets the answer. */
        runner_task_log(t, "notice", "the model asked: %s", in->question);
        extra = json_pack("{s:s, s:s}", "reason", "question", "question", in->question);
        rc = runner_task_status(t, "needs_input", extra, err);
        json_decref(extra);
        return runner_task_end(t, rc);
    }
    if (pr->exit_code == 127 && !t->model_error[0]) {
        /* The shell could not find the command: every task would fail the same way, so the
         * agent stops taking them and says why (runner.h, unusable). */
        pthread_mutex_lock(&t->r->lock);
        if (!t->r->cfg.unusable)
            t->r->cfg.unusable = mem_printf("the coding command cannot start: %s", pr->last_line);
        pthread_mutex_unlock(&t->r->lock);
    }
    if (pr->exit_code != 0 || t->model_error[0])
        return runner_task_end(
            t, runner_task_fail(t, true, err, "the coding command exited with status %d: %s",
                                pr->exit_code, t->model_error[0] ? t->model_error : pr->last_line));
    if (!t->changed) {
        runner_task_log(t, "notice", "the coding command finished without changing anything");
        extra = json_pack("{s:{s:s, s:b}}", "result", "branch", t->branch, "changes", false);
        if (runner_report_summary(t))
            json_object_set_new(json_object_get(extra, "result"), "summary",
                                json_string(runner_report_summary(t)));
        rc = runner_task_status(t, "completed", extra, err);
        json_decref(extra);
        return runner_task_end(t, rc);
    }
    return runner_task_end(t, runner_report_ready(t, err));
}
