/*
 * Runs git for the git backend on the shared process runner (core/proc): the current
 * environment plus the backend's variables, output captured, bounded in time (SIGKILL to the
 * child's process group at the timeout). Worker threads only (blocking).
 */
#include "core/buf.h"
#include "core/proc.h"
#include "forge/forge_internal.h"

#include <stdlib.h>

#define FORGE_EXEC_MAX_OUTPUT (64u << 10)

int forge_exec_run(char *const *argv, char *const *extra_env, long timeout_s, int *status,
                   char **output, struct err *err)
{
    struct buf out;
    /* Built before the fork: the child must not allocate. */
    char **env = proc_env_build(extra_env, NULL);
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
