/*
 * A comment on a forge issue or pull request (Drover linking a task back to the issue that
 * asked for it): Gitea/Forgejo and GitHub POST repos/{owner}/{repo}/issues/{n}/comments,
 * GitLab POST projects/:id/issues/:iid/notes, each {"body": ...}. Blocking; the outbox thread.
 */
#include "core/http.h"
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <stdlib.h>

int forge_backend_comment(const struct forge *f, long long number, const char *body,
                          struct err *err)
{
    struct forge_http_resp r = {0};
    json_t *b;
    char *path, *id = NULL;
    int rc = -1;

    if (f->kind == FORGE_GIT)
        return err_set(err, ERR_INVALID, "a plain git repository has no issues to comment on");
    if (number <= 0 || !body || !*body)
        return err_set(err, ERR_INVALID, "a comment needs an issue number and a body");
    if (f->kind == FORGE_GITLAB) {
        id = http_escape(f->repo_path ? f->repo_path : "");
        path = mem_printf("/projects/%s/issues/%lld/notes", id, number);
    } else {
        path =
            mem_printf("/repos/%s/issues/%lld/comments", f->repo_path ? f->repo_path : "", number);
    }
    b = json_pack("{s:s}", "body", body);
    if (forge_http_request(f, "POST", path, b, &r, err) < 0)
        goto out;
    if (r.status != 201 && r.status != 200) {
        forge_http_fail(&r, "commenting on the issue", err);
        goto out;
    }
    rc = 0;
out:
    forge_http_resp_clear(&r);
    json_decref(b);
    free(path);
    free(id);
    return rc;
}
