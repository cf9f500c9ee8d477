/*
 * The plain-git backend: any remote droverd can push to. A branch is created by fetching the
 * base commit (depth 1) into a scratch bare repository and pushing it to the new ref; a "pull
 * request" is only a record Drover keeps on the task. Worker threads only (runs git).
 */
#include "core/mem.h"
#include "core/text.h"
#include "forge/forge_internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * The environment for git (forge_exec_run adds only PATH, HOME and the like): no prompts, no
 * global configuration, hooks off, redirects never followed, only the enabled protocols, and
 * the token as an HTTP header scoped to the repository URL, never argv.
 */
struct forge_git_env {
    char *vars[40];
};

static void forge_git_env_init(struct forge_git_env *e, const struct forge *f)
{
    static const char *const fixed[][2] = {
        {"core.hooksPath", "/dev/null"},   {"core.fsmonitor", "false"},
        {"http.followRedirects", "false"}, {"credential.helper", ""},
        {"protocol.ext.allow", "never"},
    };
    static const char *const protos[] = {"https", "ssh", "http", "git", "file"};
    size_t k = 0, nc = 0;

    memset(e, 0, sizeof(*e));
    e->vars[k++] = mem_strdup("GIT_TERMINAL_PROMPT=0");
    e->vars[k++] = mem_strdup("GIT_ASKPASS=/bin/false");
    e->vars[k++] = mem_strdup("GIT_CONFIG_GLOBAL=/dev/null");
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++, nc++) {
        e->vars[k++] = mem_printf("GIT_CONFIG_KEY_%zu=%s", nc, fixed[i][0]);
        e->vars[k++] = mem_printf("GIT_CONFIG_VALUE_%zu=%s", nc, fixed[i][1]);
    }
    if (f->protocols && *f->protocols) {
        e->vars[k++] = mem_printf("GIT_CONFIG_KEY_%zu=protocol.allow", nc);
        e->vars[k++] = mem_printf("GIT_CONFIG_VALUE_%zu=never", nc++);
        for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
            struct err ignored = {0};
            char probe[32];
            struct forge one = {.protocols = f->protocols};

            /* forge_cred_check on a sample URL says whether the list enables it. */
            snprintf(probe, sizeof(probe), "%s://h/r", protos[i]);
            if (forge_cred_check(&one, probe, false, &ignored) < 0)
                continue;
            e->vars[k++] = mem_printf("GIT_CONFIG_KEY_%zu=protocol.%s.allow", nc, protos[i]);
            e->vars[k++] = mem_printf("GIT_CONFIG_VALUE_%zu=always", nc++);
        }
    }
    if (f->token && *f->token && f->repo_url) {
        char *cred = mem_printf("x-access-token:%s", f->token);
        size_t n = strlen(cred);
        unsigned char *b64 = mem_alloc(4 * ((n + 2) / 3) + 1);

        EVP_EncodeBlock(b64, (const unsigned char *)cred, (int)n);
        e->vars[k++] = mem_printf("GIT_CONFIG_KEY_%zu=http.%s.extraHeader", nc, f->repo_url);
        e->vars[k++] =
            mem_printf("GIT_CONFIG_VALUE_%zu=Authorization: Basic %s", nc++, (char *)b64);
        memset(cred, 0, n);
        memset(b64, 0, strlen((char *)b64));
        free(cred);
        free(b64);
    }
    e->vars[k++] = mem_printf("GIT_CONFIG_COUNT=%zu", nc);
}

static void forge_git_env_clear(struct forge_git_env *e)
{
    for (size_t i = 0; i < sizeof(e->vars) / sizeof(e->vars[0]); i++)
        if (e->vars[i]) {
            memset(e->vars[i], 0, strlen(e->vars[i]));
            free(e->vars[i]);
        }
}

/* The first "fatal:" line of git's output, else its last line, for error messages. */
static void forge_git_last_line(const char *out, char *line, size_t sz)
{
    const char *fatal = strstr(out, "fatal: "), *end, *start;

    if (fatal) {
        fatal += strlen("fatal: ");
        snprintf(line, sz, "%.*s", (int)strcspn(fatal, "\n"), fatal);
        return;
    }
    end = out + strlen(out);
    while (end > out && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    start = end;
    while (start > out && start[-1] != '\n')
        start--;
    snprintf(line, sz, "%.*s", (int)(end - start), start);
}

/* Classify a failed git network command by what it printed. */
static int forge_git_fail(const char *what, const char *url, const char *out, struct err *err)
{
    char line[200], *safe = text_url_redact(url);
    enum err_code code = ERR_NOT_FOUND;
    const char *o = out ? out : "";

    forge_git_last_line(o, line, sizeof(line));
    if (strcasestr(o, "authentication failed") || strcasestr(o, "could not read username") ||
        strcasestr(o, "could not read password") || strcasestr(o, "error: 403") ||
        strcasestr(o, "returned error: 401") || strcasestr(o, "permission denied"))
        code = ERR_UNAUTHORIZED;
    else if (strcasestr(o, "not found") || strcasestr(o, "does not appear to be a git") ||
             strcasestr(o, "no such"))
        code = ERR_NOT_FOUND;
    else if (strcasestr(o, "could not resolve") || strcasestr(o, "connection refused") ||
             strcasestr(o, "unable to connect") || strcasestr(o, "timed out") ||
             strcasestr(o, "unable to access") || strcasestr(o, "unable to look up"))
        code = ERR_UNAVAILABLE;
    err_set(err, code, "%s %s failed: %s", what, safe, line);
    free(safe);
    return -1;
}

/* Look up refs/heads/<a> and <b> on the remote; each sha[] is "" when absent. */
static int forge_git_ls_remote(const struct forge *f, struct forge_git_env *e, const char *a,
                               const char *b, char sha_a[41], char sha_b[41], struct err *err)
{
    char *ra = mem_printf("refs/heads/%s", a), *rb = mem_printf("refs/heads/%s", b);
    char *argv[] = {"git", "ls-remote", "--", (char *)f->repo_url, ra, rb, NULL};
    char *out = NULL, *line, *save = NULL;
    int st, rc = -1;

    sha_a[0] = sha_b[0] = '\0';
    if (forge_exec_run(argv, e->vars, f->timeout_s, &st, &out, err) < 0)
        goto out;
    if (st != 0) {
        forge_git_fail("git ls-remote", f->repo_url, out, err);
        goto out;
    }
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(line, '\t');
        if (!tab || tab - line != 40)
            continue;
        if (strcmp(tab + 1, ra) == 0)
            snprintf(sha_a, 41, "%.40s", line);
        else if (strcmp(tab + 1, rb) == 0)
            snprintf(sha_b, 41, "%.40s", line);
    }
    rc = 0;
out:
    free(out);
    free(ra);
    free(rb);
    return rc;
}

/* The checks a branch or pull request makes first (a URL; credentials if the forge needs
 * them), then forge_git_ls_remote. */
static int forge_git_remote(const struct forge *f, struct forge_git_env *e, const char *a,
                            const char *b, char sha_a[41], char sha_b[41], struct err *err)
{
    if (!f->repo_url || !*f->repo_url)
        return err_set(err, ERR_INVALID, "the project has no repository URL");
    if (forge_cred_check(f, f->repo_url, f->token && *f->token, err) < 0)
        return -1;
    return forge_git_ls_remote(f, e, a, b, sha_a, sha_b, err);
}

static json_t *forge_git_branch_json(const char *name, const char *sha, bool created)
{
    return json_pack("{s:s, s:s, s:b}", "name", name, "sha", sha, "created", created);
}

int forge_git_create_branch(const struct forge *f, const char *name, const char *base, json_t **out,
                            struct err *err)
{
    char sha[41], base_sha[41], tmpl[] = "/tmp/drover-forge-XXXXXX", *tmp = NULL;
    char *gout = NULL, *dst = mem_printf("FETCH_HEAD:refs/heads/%s", name);
    char *src = mem_printf("refs/heads/%s", base);
    struct forge_git_env e;
    int st, rc = -1;

    forge_git_env_init(&e, f);
    if (forge_git_remote(f, &e, name, base, sha, base_sha, err) < 0)
        goto out;
    if (sha[0]) {
        *out = forge_git_branch_json(name, sha, false);
        rc = 0;
        goto out;
    }
    if (!base_sha[0]) {
        char *safe = text_url_redact(f->repo_url);
        err_set(err, ERR_NOT_FOUND, "base branch '%s' not found in %s", base, safe);
        free(safe);
        goto out;
    }
    if (!(tmp = mkdtemp(tmpl))) {
        err_set(err, ERR_INTERNAL, "cannot create a scratch directory in /tmp");
        goto out;
    }
    {
        char *init[] = {"git", "init", "-q", "--bare", tmp, NULL};
        char *fetch[] = {"git", "-C", tmp, "fetch", "-q", "--depth", "1", "--", (char *)f->repo_url,
                         src,   NULL};
        char *push[] = {"git", "-C", tmp, "push", "-q", "--", (char *)f->repo_url, dst, NULL};

        if (forge_exec_run(init, e.vars, f->timeout_s, &st, NULL, err) < 0)
            goto out;
        if (st != 0) {
            err_set(err, ERR_INTERNAL, "git init of a scratch repository failed");
            goto out;
        }
        if (forge_exec_run(fetch, e.vars, f->timeout_s, &st, &gout, err) < 0)
            goto out;
        if (st != 0) {
            forge_git_fail("git fetch from", f->repo_url, gout, err);
            goto out;
        }
        free(gout);
        gout = NULL;
        if (forge_exec_run(push, e.vars, f->timeout_s, &st, &gout, err) < 0)
            goto out;
    }
    if (st != 0) {
        /* Lost a race with another creator? Then the branch exists now: adopt it. */
        struct err e2 = {0};
        if (forge_git_ls_remote(f, &e, name, base, sha, base_sha, &e2) == 0 && sha[0]) {
            *out = forge_git_branch_json(name, sha, false);
            rc = 0;
            goto out;
        }
        forge_git_fail("git push to", f->repo_url, gout, err);
        goto out;
    }
    /* FETCH_HEAD is the commit pushed; read it back for the result. */
    {
        char *rev[] = {"git", "-C", tmp, "rev-parse", "FETCH_HEAD", NULL};
        free(gout);
        gout = NULL;
        if (forge_exec_run(rev, e.vars, f->timeout_s, &st, &gout, err) < 0)
            goto out;
        snprintf(sha, sizeof(sha), "%.40s", st == 0 ? gout : base_sha);
    }
    *out = forge_git_branch_json(name, sha, true);
    rc = 0;
out:
    if (tmp) {
        char *rm[] = {"rm", "-rf", "--", tmp, NULL};
        int rst;
        struct err ignored = {0};
        forge_exec_run(rm, NULL, 30, &rst, NULL, &ignored);
    }
    forge_git_env_clear(&e);
    free(gout);
    free(dst);
    free(src);
    return rc;
}

int forge_git_create_pull_request(const struct forge *f, const struct forge_pr_req *req,
                                  json_t **out, struct err *err)
{
    char head_sha[41], base_sha[41];
    struct forge_git_env e;
    int rc = -1;

    forge_git_env_init(&e, f);
    if (forge_git_remote(f, &e, req->head, req->base, head_sha, base_sha, err) < 0)
        goto out;
    if (!head_sha[0] || !base_sha[0]) {
        err_set(err, ERR_NOT_FOUND, "branch '%s' is not on the remote",
                head_sha[0] ? req->base : req->head);
        goto out;
    }
    *out = json_pack("{s:s, s:n, s:n, s:s, s:s, s:s, s:s, s:s, s:b}", "forge", "git", "number",
                     "url", "state", "open", "head", req->head, "base", req->base, "title",
                     req->title, "head_sha", head_sha, "created", true);
    rc = 0;
out:
    forge_git_env_clear(&e);
    return rc;
}

int forge_git_probe(const struct forge *f, const char *base, json_t **out, struct err *err)
{
    struct forge_git_env e;
    char sha[41], unused[41];
    int rc;

    forge_git_env_init(&e, f);
    rc = forge_git_ls_remote(f, &e, base, base, sha, unused, err);
    forge_git_env_clear(&e);
    if (rc < 0)
        return -1;
    *out = json_pack("{s:s,s:b,s:s}", "base", base, "base_exists", sha[0] != '\0', "sha", sha);
    return 0;
}
