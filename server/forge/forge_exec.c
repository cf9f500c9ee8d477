/*
 * Runs git for the git backend on the shared process runner (core/proc): a minimal
 * environment (never droverd's own: it holds DATABASE_URL, PGPASSWORD and every forge token)
 * plus the backend's variables, output captured, bounded in time (SIGKILL to the child's
 * process group at the timeout). Worker threads only (blocking).
 */
#include "core/buf.h"
#include "core/mem.h"
#include "core/proc.h"
#include "forge/forge_internal.h"

#include <stdlib.h>
#include <string.h>

#define FORGE_EXEC_MAX_OUTPUT (64u << 10)

/* What git needs from droverd's environment: finding programs, certificates, proxies. */
static const char *const forge_exec_keep[] = {"PATH",
                                              "HOME",
                                              "LANG",
                                              "LC_ALL",
                                              "TZ",
                                              "TMPDIR",
                                              "SSL_CERT_FILE",
                                              "SSL_CERT_DIR",
                                              "GIT_SSL_CAINFO",
                                              "GIT_SSH_COMMAND",
                                              "SSH_AUTH_SOCK",
                                              "http_proxy",
                                              "https_proxy",
                                              "no_proxy",
                                              "HTTP_PROXY",
                                              "HTTPS_PROXY",
                                              "NO_PROXY",
                                              NULL};

static char **forge_exec_env(char *const *extra)
{
    size_t n = 0, k = 0;
    char **env;

    while (extra && extra[n])
        n++;
    env = mem_calloc(n + sizeof(forge_exec_keep) / sizeof(forge_exec_keep[0]) + 1, sizeof(*env));
    for (size_t i = 0; forge_exec_keep[i]; i++) {
        const char *v = getenv(forge_exec_keep[i]);

        if (v)
            env[k++] = mem_printf("%s=%s", forge_exec_keep[i], v);
    }
    for (size_t i = 0; i < n; i++)
        env[k++] = mem_strdup(extra[i]);
    return env;
}

int forge_exec_run(char *const *argv, char *const *extra_env, long timeout_s, int *status,
                   char **output, struct err *err)
{
    struct buf out;
    /* Built before the fork: the child must not allocate. */
    char **env = forge_exec_env(extra_env);
    struct proc_opts o = {.argv = argv,
                          .env = env,
                          .timeout_s = timeout_s > 0 ? timeout_s : 60,
                          .grace_s = -1,
                          .capture = &out};
    struct proc_result res;
    int rc = -1;

    *status = -1;
    if (output)
        *output = NULL;
    buf_init(&out, FORGE_EXEC_MAX_OUTPUT);
    if (proc_run(&o, &res, err) < 0)
        goto out;
    /* Killed at the timeout or by a signal: no exit code. */
    *status = res.stop || res.term_signal ? -1 : res.exit_code;
    if (output)
        *output = buf_take(&out, NULL);
    rc = 0;
out:
    buf_clear(&out);
    proc_env_free(env);
    return rc;
}
