/*
 * Connects the create_branch / create_pull_request tools (through `forge_hooks`, forge.h) to
 * the backends in forge_backend.h: reads the task's project (kind, API URL, repository path),
 * finds its token, and calls the backend. Installed once at start-up, before workers run.
 */
#include "forge/forge_install.h"
#include "core/log.h"
#include "core/mem.h"
#include "forge/forge.h"
#include "forge/forge_backend.h"
#include "forge/forge_internal.h"
#include "store/forge_projects.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Set once by forge_install() before any worker thread starts; read-only afterwards. */
static char *forge_install_secrets;

/*
 * The forge of `task`'s project, with its settings in *project (owned, may stay NULL for a task
 * that names only a repository URL) and its token in *token (owned, may be NULL).
 */
static int forge_install_resolve(struct db *db, const json_t *task, struct forge *f,
                                 json_t **project, char **token, struct err *err)
{
    const json_t *tp = json_object_get(task, "project");
    json_int_t pid = json_integer_value(json_object_get(tp, "id"));

    memset(f, 0, sizeof(*f));
    *project = NULL;
    *token = NULL;
    f->kind = FORGE_GIT;
    f->repo_url = json_string_value(json_object_get(tp, "repoUrl"));
    f->timeout_s = 60;
    if (pid > 0) {
        if (forge_projects_get(db, pid, project, err) < 0)
            return -1;
        if (forge_backend_kind_parse(json_string_value(json_object_get(*project, "forge_kind")),
                                     &f->kind, err) < 0)
            return -1;
        f->api_url = json_string_value(json_object_get(*project, "forge_api_url"));
        f->repo_path = json_string_value(json_object_get(*project, "forge_repo_path"));
        if (forge_backend_token_lookup(json_string_value(json_object_get(*project, "name")),
                                       forge_install_secrets, token, err) < 0)
            return -1;
    }
    f->token = *token;
    if (!f->repo_url || !*f->repo_url)
        return err_set(err, ERR_INVALID, "the task names no repository");
    return 0;
}

static void forge_install_release(json_t *project, char *token)
{
    json_decref(project);
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
}

static const char *forge_install_base(const json_t *task)
{
    const char *b = json_string_value(json_object_get(task, "base_branch"));

    if (!b || !*b)
        b = json_string_value(json_object_get(json_object_get(task, "project"), "defaultBranch"));
    return b && *b ? b : "main";
}

/*
 * Forge settings and credentials belong to projects. A task that names only a repository URL
 * has neither, so its branch and pull request are only recorded (the agent pushes the branch).
 */
static bool forge_install_has_project(const json_t *task)
{
    return json_integer_value(json_object_get(json_object_get(task, "project"), "id")) > 0;
}

static int forge_install_create_branch(struct db *db, const json_t *task, const char *branch,
                                       struct err *err)
{
    struct forge f;
    json_t *project = NULL, *out = NULL;
    char *token = NULL;
    int rc = -1;

    if (!forge_install_has_project(task))
        return 0;

    if (forge_install_resolve(db, task, &f, &project, &token, err) < 0)
        goto out;
    if (forge_backend_create_branch(&f, branch, forge_install_base(task), &out, err) < 0)
        goto out;
    log_info("forge", "task=%lld branch=%s forge=%s created=%d",
             (long long)json_integer_value(json_object_get(task, "id")), branch,
             forge_backend_kind_name(f.kind), json_is_true(json_object_get(out, "created")));
    rc = 0;
out:
    json_decref(out);
    forge_install_release(project, token);
    return rc;
}

static int forge_install_create_pull_request(struct db *db, const json_t *task, json_t *pr,
                                             struct err *err)
{
    struct forge_pr_req req = {
        .head = json_string_value(json_object_get(pr, "head")),
        .base = json_string_value(json_object_get(pr, "base")),
        .title = json_string_value(json_object_get(pr, "title")),
        .body = json_string_value(json_object_get(pr, "body")),
    };
    struct forge f;
    json_t *project = NULL, *out = NULL;
    char *token = NULL;
    int rc = -1;

    if (!forge_install_has_project(task))
        return 0;
    if (!req.head)
        req.head = json_string_value(json_object_get(task, "branch"));
    if (!req.base)
        req.base = forge_install_base(task);
    if (forge_install_resolve(db, task, &f, &project, &token, err) < 0)
        goto out;
    if (forge_backend_create_pull_request(&f, &req, &out, err) < 0)
        goto out;
    /* What the forge answered goes onto the record the tool stores on the task. */
    json_object_set(pr, "forge", json_object_get(out, "forge"));
    json_object_set(pr, "number", json_object_get(out, "number"));
    json_object_set(pr, "url", json_object_get(out, "url"));
    json_object_set(pr, "state", json_object_get(out, "state"));
    log_info("forge", "task=%lld pull_request head=%s forge=%s created=%d",
             (long long)json_integer_value(json_object_get(task, "id")), req.head,
             forge_backend_kind_name(f.kind), json_is_true(json_object_get(out, "created")));
    rc = 0;
out:
    json_decref(out);
    forge_install_release(project, token);
    return rc;
}

void forge_install(const char *secrets_file)
{
    free(forge_install_secrets);
    forge_install_secrets = secrets_file && *secrets_file ? mem_strdup(secrets_file) : NULL;
    forge_hooks.create_branch = forge_install_create_branch;
    forge_hooks.create_pull_request = forge_install_create_pull_request;
}

int forge_install_preview(struct db *db, const json_t *task, json_t **out, struct err *err)
{
    json_int_t pid = json_integer_value(json_object_get(json_object_get(task, "project"), "id"));
    json_int_t tid = json_integer_value(json_object_get(task, "id"));
    const char *hook, *url = NULL;
    struct forge_http_resp r = {0};
    struct forge f = {.kind = FORGE_GIT, .timeout_s = 30};
    json_t *project = NULL, *body = NULL;
    char *text = NULL;
    int rc = -1;

    *out = NULL;
    if (pid <= 0) {
        err_set(err, ERR_INVALID, "the task has no project, so no preview webhook");
        goto out;
    }
    if (forge_projects_get(db, pid, &project, err) < 0)
        goto out;
    hook =
        json_string_value(json_object_get(json_object_get(project, "settings"), "preview_webhook"));
    if (!hook || (strncmp(hook, "http://", 7) != 0 && strncmp(hook, "https://", 8) != 0)) {
        err_set(err, ERR_INVALID,
                "project '%s' has no preview_webhook (an http(s) URL) in its "
                "settings",
                json_string_value(json_object_get(project, "name")));
        goto out;
    }
    f.api_url = hook;
    body =
        json_pack("{s:I, s:O, s:O}", "task", tid, "branch",
                  json_object_get(task, "branch") ? json_object_get(task, "branch") : json_null(),
                  "pull_request",
                  json_object_get(task, "pull_request") ? json_object_get(task, "pull_request")
                                                        : json_null());
    if (forge_http_request(&f, "POST", "", body, &r, err) < 0)
        goto out;
    if (r.status < 200 || r.status > 299) {
        forge_http_fail(&r, "the preview webhook", err);
        goto out;
    }
    /* The webhook answers {"url": ...} / {"preview_url": ...} or the URL as plain text. */
    url = json_string_value(json_object_get(r.json, "url"));
    if (!url)
        url = json_string_value(json_object_get(r.json, "preview_url"));
    if (!url && !r.json && r.body) {
        text = mem_strndup(r.body, strcspn(r.body, "\r\n"));
        url = text;
    }
    if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
        strlen(url) > 2048) {
        err_set(err, ERR_INVALID, "the preview webhook answered no http(s) URL");
        goto out;
    }
    if (forge_projects_set_preview_url(db, tid, url, err) < 0)
        goto out;
    *out = json_pack("{s:I, s:s}", "task_id", tid, "preview_url", url);
    rc = 0;
out:
    forge_http_resp_clear(&r);
    json_decref(project);
    json_decref(body);
    free(text);
    return rc;
}
