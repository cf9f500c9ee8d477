/* The runner's own repository (see runner_publish.h). Main thread. */
#include "runner_publish.h"
#include "core/mem.h"
#include "core/proc.h"
#include "runner_fs.h"
#include "mcpc.h"
#include "runner_git.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNNER_PUBLISH_SET_MAX 32

/* Variables a caller's environment may hold that would point git somewhere else. */
static const char *const runner_publish_unset[] = {
    "GIT_DIR",           "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_*",   "GIT_CONFIG*",   "GIT_ASKPASS",    "SSH_ASKPASS",
    "GIT_SSH",           "GIT_SSH_*",     "GIT_EXEC_PATH",  "GIT_TEMPLATE_DIR",
    "GIT_PROXY_*",       "GIT_TOKEN*",    "DROVER_TOKEN*",  "GIT_NAMESPACE",
    "GIT_CEILING_*",     "GIT_TRACE*",    "GIT_CURL_*",     "GIT_REDIRECT_*",
    "GIT_EXTERNAL_DIFF", "GIT_PAGER",     "GIT_EDITOR",     NULL};

char *runner_publish_header_key(const char *url)
{
    const char *scheme = strstr(url, "://"), *at, *slash;

    /* http.<url>.* matches by scheme, host, port and path prefix; user info would have to
     * match too, so it is left out. */
    if (scheme) {
        at = strchr(scheme + 3, '@');
        slash = strchr(scheme + 3, '/');
        if (at && (!slash || at < slash))
            return mem_printf("http.%.*s%s.extraHeader", (int)(scheme + 3 - url), url, at + 1);
    }
    return mem_printf("http.%s.extraHeader", url);
}

bool runner_publish_token_allowed(const struct runner_cfg *cfg, const char *url)
{
    const char *s = cfg->git_token_allow;
    char *key, *norm;
    bool ok = false;

    if (!s || !*s)
        return true;
    /* Compare without user info, on a boundary: "https://git.corp/acme" is not
     * "https://git.corp/acme-evil". */
    key = runner_publish_header_key(url); /* "http.<url>.extraHeader" */
    norm = mem_printf("%.*s", (int)(strlen(key) - strlen("http.") - strlen(".extraHeader")),
                      key + strlen("http."));
    while (*s && !ok) {
        size_t n;

        s += strspn(s, ", \t");
        n = strcspn(s, ", \t");
        ok =
            n && strncmp(norm, s, n) == 0 && (s[n - 1] == '/' || norm[n] == '\0' || norm[n] == '/');
        s += n;
    }
    free(key);
    free(norm);
    return ok;
}

static char *runner_publish_basic(const char *token)
{
    char *cred = mem_printf("x-access-token:%s", token);
    size_t n = strlen(cred);
    unsigned char *b64 = mem_alloc(4 * ((n + 2) / 3) + 1);
    char *hdr;

    EVP_EncodeBlock(b64, (const unsigned char *)cred, (int)n);
    hdr = mem_printf("Authorization: Basic %s", (char *)b64);
    memset(cred, 0, n);
    memset(b64, 0, strlen((char *)b64));
    free(cred);
    free(b64);
    return hdr;
}

char **runner_publish_env(const struct runner_cfg *cfg, const char *url, const char *token,
                          const char *gitdir, const char *worktree)
{
    /* Configuration the command could have planted is never read: the global file (its
     * $HOME may be the agent's) is replaced by /dev/null, and these override the rest. */
    static const char *const fixed[][2] = {
        {"core.hooksPath", "/dev/null"},   {"core.fsmonitor", "false"},
        {"http.followRedirects", "false"}, {"credential.helper", ""},
        {"protocol.ext.allow", "never"},   {"submodule.recurse", "false"},
    };
    size_t nfixed = sizeof(fixed) / sizeof(fixed[0]), k = 0, nc = 0;
    char *set[RUNNER_PUBLISH_SET_MAX] = {0}, **env;

    set[k++] = mem_strdup("GIT_TERMINAL_PROMPT=0");
    set[k++] = mem_strdup("GIT_CONFIG_GLOBAL=/dev/null");
    set[k++] = mem_printf("GIT_AUTHOR_NAME=%s",
                          getenv("GIT_AUTHOR_NAME") ? getenv("GIT_AUTHOR_NAME") : "Drover Agent");
    set[k++] =
        mem_printf("GIT_AUTHOR_EMAIL=%s", getenv("GIT_AUTHOR_EMAIL") ? getenv("GIT_AUTHOR_EMAIL")
                                                                     : "agent@drover.invalid");
    set[k++] =
        mem_printf("GIT_COMMITTER_NAME=%s",
                   getenv("GIT_COMMITTER_NAME") ? getenv("GIT_COMMITTER_NAME") : "Drover Agent");
    set[k++] = mem_printf("GIT_COMMITTER_EMAIL=%s", getenv("GIT_COMMITTER_EMAIL")
                                                        ? getenv("GIT_COMMITTER_EMAIL")
                                                        : "agent@drover.invalid");
    if (gitdir)
        set[k++] = mem_printf("GIT_DIR=%s", gitdir);
    if (worktree)
        set[k++] = mem_printf("GIT_WORK_TREE=%s", worktree);
    for (size_t i = 0; i < nfixed; i++, nc++) {
        set[k++] = mem_printf("GIT_CONFIG_KEY_%zu=%s", nc, fixed[i][0]);
        set[k++] = mem_printf("GIT_CONFIG_VALUE_%zu=%s", nc, fixed[i][1]);
    }
    if (!token && cfg->git_token && url && runner_publish_token_allowed(cfg, url))
        token = cfg->git_token; /* the project's own credential (droverd bound it) wins */
    if (url && token) {
        /* Basic auth with the token as password (GitHub, GitLab, Gitea), for this URL only. */
        char *key = runner_publish_header_key(url), *hdr = runner_publish_basic(token);

        set[k++] = mem_printf("GIT_CONFIG_KEY_%zu=%s", nc, key);
        set[k++] = mem_printf("GIT_CONFIG_VALUE_%zu=%s", nc, hdr);
        nc++;
        memset(hdr, 0, strlen(hdr));
        free(hdr);
        free(key);
    }
    set[k++] = mem_printf("GIT_CONFIG_COUNT=%zu", nc);
    if (url && cfg->git_ssh_key)
        set[k++] = mem_printf("GIT_SSH_COMMAND=ssh -F /dev/null -i '%s' -o IdentitiesOnly=yes "
                              "-o StrictHostKeyChecking=accept-new",
                              cfg->git_ssh_key);
    env = proc_env_build(set, runner_publish_unset);
    for (size_t i = 0; i < k; i++) {
        memset(set[i], 0, strlen(set[i]));
        free(set[i]);
    }
    return env;
}

int runner_publish_adopt(const struct runner_cfg *cfg, const char *url, const char *token,
                         const char *gitdir, const char *worktree, char ***env, struct err *err)
{
    static const char *const reset[] = {"reset", "-q", "--hard", NULL};
    struct proc_result res;

    proc_env_free(*env);
    *env = runner_publish_env(cfg, url, token, gitdir, worktree);
    if (runner_fs_private_dir(worktree, 0700, err) < 0)
        return -1;
    if (runner_git(*env, worktree, reset, NULL, NULL, &res, err) < 0)
        return -1;
    if (res.exit_code != 0)
        return err_set(err, ERR_INTERNAL, "git checkout of the clone failed: %s", res.last_line);
    return 0;
}

static int runner_publish_git(char **env, const char *cwd, const char *const *args, struct err *err)
{
    struct proc_result res;

    if (runner_git(env, cwd, args, NULL, NULL, &res, err) < 0)
        return -1;
    if (res.exit_code != 0)
        return err_set(err, ERR_INTERNAL, "git %s failed: %s", args[0], res.last_line);
    return 0;
}

int runner_publish_handoff(const struct runner_cfg *cfg, const char *gitdir, const char *worktree,
                           const char *branch, const char *safe_url, struct err *err)
{
    /* No credential and no GIT_DIR: these run in the command's new repository, before the
     * command exists, and fetch from the runner's repository on disk. */
    char **env = runner_publish_env(cfg, NULL, NULL, NULL, NULL);
    char *ref = mem_printf("refs/heads/%s", branch);
    const char *init[] = {"init", "-q", "-b", branch, NULL};
    const char *fetch[] = {"fetch", "-q", "--no-tags", "--depth", "1", "--", gitdir, ref, NULL};
    const char *reset[] = {"reset", "-q", "FETCH_HEAD", NULL};
    const char *remote[] = {"remote", "add", "origin", safe_url, NULL};
    int rc = -1;

    if (runner_publish_git(env, worktree, init, err) < 0 ||
        runner_publish_git(env, worktree, fetch, err) < 0 ||
        runner_publish_git(env, worktree, reset, err) < 0 ||
        runner_publish_git(env, worktree, remote, err) < 0)
        goto out;
    rc = 0;
out:
    free(ref);
    proc_env_free(env);
    return rc;
}

int runner_publish_fetch_credential(struct mcpc *m, long long task_id, long long epoch,
                                    char **token, struct err *err)
{
    json_t *args = json_pack("{s:I, s:I}", "task_id", (json_int_t)task_id, "lease_epoch",
                             (json_int_t)epoch),
           *res = NULL;
    const char *t;
    int rc;

    *token = NULL;
    rc = mcpc_call(m, "get_git_credential", args, 60, &res, err);
    json_decref(args);
    if (rc < 0) {
        /* A droverd without the tool: the agent's own GIT_TOKEN, as before. */
        bool unknown = strstr(err->msg, "unknown tool") || strstr(err->msg, "Unknown tool") ||
                       strstr(err->msg, "not found: get_git_credential");

        json_decref(res);
        if (unknown) {
            memset(err, 0, sizeof(*err));
            return 0;
        }
        return -1;
    }
    t = json_string_value(json_object_get(res, "token"));
    if (t && *t)
        *token = mem_strdup(t);
    /* The answer held the secret: wipe it before it is freed. */
    if (t)
        memset((char *)t, 0, strlen(t));
    json_decref(res);
    return 0;
}
