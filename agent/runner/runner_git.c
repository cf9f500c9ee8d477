/* git steps for the task thread. Main thread. */
#include "runner_git.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *runner_git_redact(const char *url)
{
    const char *scheme = strstr(url, "://"), *at, *slash;

    if (!scheme)
        return mem_strdup(url);
    at = strchr(scheme + 3, '@');
    slash = strchr(scheme + 3, '/');
    if (!at || (slash && slash < at))
        return mem_strdup(url);
    return mem_printf("%.*s***%s", (int)(scheme + 3 - url), url, at);
}

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
