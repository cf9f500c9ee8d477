/*
 * A comment on a forge issue or pull request (Drover linking a task back to the issue that
 * asked for it, or saying why it closes a superseded pull request): Gitea/Forgejo and GitHub
 * POST repos/{owner}/{repo}/issues/{n}/comments (a pull request is an issue there), GitLab
 * POST projects/:id/issues/:iid/notes or projects/:id/merge_requests/:iid/notes, each
 * {"body": ...}. Blocking; worker threads and the outbox thread.
 */
#include "core/http.h"
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <stdbool.h>
#include <stdlib.h>

static int forge_comment_post(const struct forge *f, bool on_pr, long long number, const char *body,
                              struct err *err)
{
    json_t *b;
    char *path, *id = NULL;
    int rc;

    if (f->kind == FORGE_GIT)
        return err_set(err, ERR_INVALID, "a plain git repository has no issues to comment on");
    if (number <= 0 || !body || !*body)
        return err_set(err, ERR_INVALID, "a comment needs an issue number and a body");
    if (f->kind == FORGE_GITLAB) {
        id = http_escape(f->repo_path ? f->repo_path : "");
        path = mem_printf("/projects/%s/%s/%lld/notes", id, on_pr ? "merge_requests" : "issues",
                          number);
    } else {
        path =
            mem_printf("/repos/%s/issues/%lld/comments", f->repo_path ? f->repo_path : "", number);
    }
    b = json_pack("{s:s}", "body", body);
    rc = forge_http_send(f, "POST", path, b,
                         on_pr ? "commenting on the pull request" : "commenting on the issue", err);
    json_decref(b);
    free(path);
    free(id);
    return rc;
}

int forge_backend_comment(const struct forge *f, long long number, const char *body,
                          struct err *err)
{
    return forge_comment_post(f, false, number, body, err);
}

int forge_backend_comment_pull_request(const struct forge *f, long long number, const char *body,
                                       struct err *err)
{
    return forge_comment_post(f, true, number, body, err);
}
