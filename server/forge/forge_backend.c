/* Backend dispatch, branch-name rules and credential lookup. Any thread. */
#include "forge/forge_backend.h"
#include "core/model.h"
#include "core/mem.h"
#include "core/text.h"
#include "forge/forge_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const forge_backend_kind_names[] = {"git", "gitea", "gitlab", "github"};

int forge_backend_kind_parse(const char *s, enum forge_kind *out, struct err *err)
{
    if (s && strcmp(s, "forgejo") == 0) {
        *out = FORGE_GITEA;
        return 0;
    }
    for (size_t i = 0;
         s && i < sizeof(forge_backend_kind_names) / sizeof(forge_backend_kind_names[0]); i++)
        if (strcmp(s, forge_backend_kind_names[i]) == 0) {
            *out = (enum forge_kind)i;
            return 0;
        }
    return err_set(err, ERR_INVALID,
                   "unknown forge kind '%s' (git, gitea, forgejo, gitlab, github)", s ? s : "");
}

const char *forge_backend_kind_name(enum forge_kind k)
{
    return (unsigned)k < 4 ? forge_backend_kind_names[k] : "unknown";
}

/*
 * A conservative subset of git check-ref-format: ASCII letters, digits and "._/-", no empty
 * component, no component starting with '.' or ending in ".lock", no "..", no leading '-'.
 * Narrower than git on purpose: the name also travels in URLs and forge API paths.
 */
json_t *forge_backend_branch_record(const char *name, const char *sha, const char *url,
                                    bool created)
{
    json_t *o =
        json_pack("{s:s, s:s, s:b}", "name", name, "sha", sha ? sha : "", "created", created);

    if (url && *url)
        json_object_set_new(o, "url", json_string(url));
    return o;
}

json_t *forge_backend_pr_record(enum forge_kind k, json_int_t number, const char *url,
                                const char *state, const struct forge_pr_req *req, bool created)
{
    return json_pack("{s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:b}", "forge",
                     forge_backend_kind_name(k), "number",
                     number > 0 ? json_integer(number) : json_null(), "url",
                     url && *url ? json_string(url) : json_null(), "state", state ? state : "open",
                     "head", req->head, "base", req->base, "title", req->title, "created", created);
}

/* owner/repo or group/sub/project: the path goes into API URLs unescaped (GitLab escapes it). */
static bool forge_backend_repo_path_valid(const char *p)
{
    if (!p || !*p || p[0] == '/' || strstr(p, "..") || !strchr(p, '/'))
        return false;
    for (; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._/-", *p))
            return false;
    return true;
}

int forge_backend_create_branch(const struct forge *f, const char *name, const char *base,
                                json_t **out, struct err *err)
{
    *out = NULL;
    if (!model_branch_name_valid(name))
        return err_set(err, ERR_INVALID, "invalid branch name '%s'", name ? name : "");
    if (!model_branch_name_valid(base))
        return err_set(err, ERR_INVALID, "invalid base branch '%s'", base ? base : "");
    if (f->kind != FORGE_GIT && !forge_backend_repo_path_valid(f->repo_path))
        return err_set(err, ERR_INVALID, "the %s forge needs a valid forge_repo_path (owner/repo)",
                       forge_backend_kind_name(f->kind));
    switch (f->kind) {
    case FORGE_GIT:
        return forge_git_create_branch(f, name, base, out, err);
    case FORGE_GITEA:
        return forge_gitea_create_branch(f, name, base, out, err);
    case FORGE_GITLAB:
        return forge_gitlab_create_branch(f, name, base, out, err);
    case FORGE_GITHUB:
        return forge_github_create_branch(f, name, base, out, err);
    }
    return err_set(err, ERR_INVALID, "unknown forge kind");
}

int forge_backend_create_pull_request(const struct forge *f, const struct forge_pr_req *req,
                                      json_t **out, struct err *err)
{
    *out = NULL;
    if (!model_branch_name_valid(req->head) || !model_branch_name_valid(req->base))
        return err_set(err, ERR_INVALID, "invalid head or base branch");
    if (strcmp(req->head, req->base) == 0)
        return err_set(err, ERR_INVALID, "head and base are the same branch '%s'", req->head);
    if (!req->title || !*req->title)
        return err_set(err, ERR_INVALID, "a pull request needs a title");
    if (f->kind != FORGE_GIT && !forge_backend_repo_path_valid(f->repo_path))
        return err_set(err, ERR_INVALID, "the %s forge needs a valid forge_repo_path (owner/repo)",
                       forge_backend_kind_name(f->kind));
    switch (f->kind) {
    case FORGE_GIT:
        return forge_git_create_pull_request(f, req, out, err);
    case FORGE_GITEA:
        return forge_gitea_create_pull_request(f, req, out, err);
    case FORGE_GITLAB:
        return forge_gitlab_create_pull_request(f, req, out, err);
    case FORGE_GITHUB:
        return forge_github_create_pull_request(f, req, out, err);
    }
    return err_set(err, ERR_INVALID, "unknown forge kind");
}

static char *forge_backend_trim(char *s)
{
    size_t n;

    while (isspace((unsigned char)*s))
        s++;
    n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int forge_backend_token_lookup_file(const char *project, const char *secrets_file, char **token,
                                    struct err *err)
{
    char line[4096];
    FILE *fp;

    *token = NULL;
    fp = fopen(secrets_file, "r");
    if (!fp)
        return err_set(err, ERR_INTERNAL, "cannot read forge secrets file %s: %s", secrets_file,
                       strerror(errno));
    while (fgets(line, sizeof(line), fp)) {
        char *s = forge_backend_trim(line), *sep;
        if (!*s || *s == '#')
            continue;
        sep = strpbrk(s, " \t=");
        if (!sep)
            continue;
        *sep = '\0';
        if (project && strcmp(s, project) == 0) {
            char *t = forge_backend_trim(sep + 1);
            if (*t == '=')
                t = forge_backend_trim(t + 1);
            if (*t)
                *token = mem_strdup(t);
            break;
        }
    }
    memset(line, 0, sizeof(line));
    fclose(fp);
    return 0;
}

int forge_backend_token_lookup(const char *project, const char *secrets_file, char **token,
                               struct err *err)
{
    char var[160];
    const char *v;

    *token = NULL;
    text_env_name("DROVER_FORGE_TOKEN_", project, var, sizeof(var));
    if ((v = getenv(var)) && *v) {
        *token = mem_strdup(v);
        return 0;
    }
    if (secrets_file && *secrets_file) {
        if (forge_backend_token_lookup_file(project, secrets_file, token, err) < 0)
            return -1;
        if (*token)
            return 0;
    }
    if ((v = getenv("DROVER_FORGE_TOKEN")) && *v)
        *token = mem_strdup(v);
    return 0;
}
