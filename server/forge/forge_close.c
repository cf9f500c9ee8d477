/*
 * Closing a pull (merge) request without merging it, as a fan-out's accept does to the
 * siblings it superseded: Gitea/Forgejo PATCH repos/{owner}/{repo}/pulls/{index} and GitHub
 * PATCH repos/{owner}/{repo}/pulls/{number} with {"state": "closed"}, GitLab PUT
 * projects/:id/merge_requests/:iid with {"state_event": "close"}. Blocking; worker threads.
 */
#include "core/http.h"
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <stdlib.h>

int forge_backend_close_pull_request(const struct forge *f, long long number, struct err *err)
{
    const char *method = "PATCH";
    json_t *b = NULL;
    char *path = NULL, *id = NULL;
    int rc;

    if (f->kind == FORGE_GIT)
        return err_set(err, ERR_INVALID, "a plain git repository has no pull request to close");
    if (number <= 0)
        return err_set(err, ERR_INVALID, "closing a pull request needs its number");
    if (f->kind == FORGE_GITLAB) {
        id = http_escape(f->repo_path ? f->repo_path : "");
        path = mem_printf("/projects/%s/merge_requests/%lld", id, number);
        method = "PUT";
        b = json_pack("{s:s}", "state_event", "close");
    } else {
        path = mem_printf("/repos/%s/pulls/%lld", f->repo_path ? f->repo_path : "", number);
        b = json_pack("{s:s}", "state", "closed");
    }
    /* GitHub and GitLab answer 200, Gitea 201, each with the updated pull request. */
    rc = forge_http_send(f, method, path, b, "closing the pull request", err);
    json_decref(b);
    free(path);
    free(id);
    return rc;
}
