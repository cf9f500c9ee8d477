/* forge_backend_probe: one credentialed read per forge, for diagnostics. Worker threads. */
#include "core/http.h"
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <stdlib.h>

int forge_backend_probe(const struct forge *f, const char *base, json_t **out, struct err *err)
{
    json_t *repo = NULL;
    char *path, *esc;
    int r;

    *out = NULL;
    if (f->kind == FORGE_GIT)
        return forge_git_probe(f, base, out, err);
    if (!f->repo_path || !*f->repo_path)
        return err_set(err, ERR_INVALID, "the project names no forge repository (forge_repo_path)");
    if (f->kind == FORGE_GITLAB) {
        esc = http_escape(f->repo_path);
        path = mem_printf("/projects/%s", esc);
        free(esc);
    } else {
        path = mem_printf("/repos/%s", f->repo_path);
    }
    r = forge_http_get_json(f, path, JSON_OBJECT, "reading the repository", &repo, err);
    free(path);
    if (r != 0)
        return -1;
    *out = json_pack("{s:O?,s:b}", "default_branch", json_object_get(repo, "default_branch"),
                     "authenticated", f->token && *f->token);
    json_decref(repo);
    return 0;
}
