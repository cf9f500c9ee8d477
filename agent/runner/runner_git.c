/* git steps for the task thread. Main thread. */
#include "runner_git.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int runner_git(char **env, const char *cwd, const char *const *args,
               void (*on_line)(void *, const char *), void *ud, struct proc_result *res,
               struct err *err)
{
    const char *argv[32];
    size_t n = 0;
    struct proc_opts o = {.cwd = cwd, .env = env, .timeout_s = 600, .on_line = on_line, .ud = ud};

    argv[n++] = "git";
    for (size_t i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    o.argv = (char *const *)argv;
    return proc_run(&o, res, err);
}

static void runner_git_capture(void *ud, const char *line)
{
    char *sha = ud;

    if (strlen(line) == 40 && !sha[0])
        memcpy(sha, line, 41);
}

int runner_git_head(char **env, const char *cwd, char sha[41], struct err *err)
{
    static const char *const args[] = {"rev-parse", "HEAD", NULL};
    struct proc_result res;

    sha[0] = '\0';
    if (runner_git(env, cwd, args, runner_git_capture, sha, &res, err) < 0)
        return -1;
    if (res.exit_code != 0 || !sha[0])
        return err_set(err, ERR_INTERNAL, "git rev-parse HEAD failed: %s", res.last_line);
    return 0;
}

const char *runner_git_symref_branch(const char *line, size_t *len)
{
    static const char pre[] = "ref: refs/heads/";
    const char *b, *tab;

    if (strncmp(line, pre, sizeof(pre) - 1) != 0)
        return NULL;
    b = line + sizeof(pre) - 1;
    tab = strchr(b, '\t');
    if (!tab || tab == b || strcmp(tab + 1, "HEAD") != 0)
        return NULL;
    *len = (size_t)(tab - b);
    return b;
}

struct runner_git_symref {
    char *out;
    size_t n;
    bool found;
};

static void runner_git_symref_line(void *ud, const char *line)
{
    struct runner_git_symref *s = ud;
    size_t len;
    const char *b = runner_git_symref_branch(line, &len);

    if (b && !s->found && len < s->n) {
        memcpy(s->out, b, len);
        s->out[len] = '\0';
        s->found = true;
    }
}

int runner_git_default_branch(char **env, const char *cwd, const char *url, char *out, size_t n,
                              struct err *err)
{
    const char *args[] = {"ls-remote", "--symref", "--", url, "HEAD", NULL};
    struct runner_git_symref s = {out, n, false};
    struct proc_result res;

    out[0] = '\0';
    if (runner_git(env, cwd, args, runner_git_symref_line, &s, &res, err) < 0)
        return -1;
    if (res.exit_code != 0)
        return err_set(err, ERR_UNAVAILABLE, "git ls-remote failed: %s", res.last_line);
    if (!s.found)
        return err_set(err, ERR_NOT_FOUND, "the remote names no default branch (HEAD)");
    return 0;
}
