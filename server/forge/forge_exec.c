/*
 * Runs git for the git backend: fork + execvp with a prepared environment, output captured,
 * bounded in time. Worker threads only. The child does nothing but dup2/exec between fork and
 * exec, so forking from a threaded server is safe.
 */
#include "core/buf.h"
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define FORGE_EXEC_MAX_OUTPUT (64u << 10)

static long long forge_exec_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int forge_exec_run(char *const *argv, char *const *extra_env, long timeout_s, int *status,
                   char **output, struct err *err)
{
    size_t nenv = 0, nextra = 0, k = 0;
    long long deadline = forge_exec_now_ms() + (timeout_s > 0 ? timeout_s : 60) * 1000LL;
    char **envp = NULL, chunk[4096];
    int pfd[2] = {-1, -1}, wst = 0, killed = 0, rc = -1;
    struct buf out;
    pid_t pid;

    *status = -1;
    if (output)
        *output = NULL;
    buf_init(&out, FORGE_EXEC_MAX_OUTPUT);
    while (environ[nenv])
        nenv++;
    while (extra_env && extra_env[nextra])
        nextra++;
    /* Built before fork: the child must not allocate. */
    envp = mem_calloc(nenv + nextra + 1, sizeof(*envp));
    for (size_t i = 0; i < nextra; i++)
        envp[k++] = extra_env[i];
    for (size_t i = 0; i < nenv; i++) {
        size_t nl = strcspn(environ[i], "=");
        int shadowed = 0;
        for (size_t j = 0; j < nextra && !shadowed; j++)
            shadowed = strncmp(extra_env[j], environ[i], nl + 1) == 0;
        if (!shadowed)
            envp[k++] = environ[i];
    }
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        err_set(err, ERR_INTERNAL, "pipe: %s", strerror(errno));
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        err_set(err, ERR_INTERNAL, "fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        environ = envp;
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    pfd[1] = -1;
    for (;;) {
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        long long left = deadline - forge_exec_now_ms();
        ssize_t n;
        if (left <= 0) {
            kill(pid, SIGKILL);
            killed = 1;
            break;
        }
        if (poll(&p, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
            continue;
        n = read(pfd[0], chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        (void)buf_append(&out, chunk, (size_t)n); /* beyond the cap: dropped, still drained */
    }
    while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
        ;
    *status = killed ? -1 : WIFEXITED(wst) ? WEXITSTATUS(wst) : -1;
    if (output)
        *output = buf_take(&out, NULL);
    rc = 0;
out:
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (pfd[1] >= 0)
        close(pfd[1]);
    buf_clear(&out);
    free(envp);
    return rc;
}
