/* Child processes with process groups, line streaming, timeouts and stops. Main thread. */
#include "proc.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define PROC_LINE_MAX 16384

static long long proc_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool proc_env_dropped(const char *var, char *const *set, const char *const *unset)
{
    size_t nl = strcspn(var, "=");

    for (size_t i = 0; set && set[i]; i++)
        if (strncmp(set[i], var, nl + 1) == 0)
            return true;
    for (size_t i = 0; unset && unset[i]; i++) {
        size_t ul = strlen(unset[i]);
        if (ul && unset[i][ul - 1] == '*') {
            if (strncmp(var, unset[i], ul - 1) == 0)
                return true;
        } else if (ul == nl && strncmp(var, unset[i], nl) == 0) {
            return true;
        }
    }
    return false;
}

char **proc_env_build(char *const *set, const char *const *unset)
{
    size_t n = 0, ns = 0, k = 0;
    char **env;

    while (environ[n])
        n++;
    while (set && set[ns])
        ns++;
    env = mem_calloc(n + ns + 1, sizeof(*env));
    for (size_t i = 0; i < n; i++)
        if (!proc_env_dropped(environ[i], set, unset))
            env[k++] = mem_strdup(environ[i]);
    for (size_t i = 0; i < ns; i++)
        env[k++] = mem_strdup(set[i]);
    return env;
}

void proc_env_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++) {
        memset(env[i], 0, strlen(env[i])); /* some hold credentials */
        free(env[i]);
    }
    free(env);
}

static void proc_emit(const struct proc_opts *o, struct proc_result *res, char *line, size_t len)
{
    while (len && (line[len - 1] == '\r'))
        len--;
    line[len] = '\0';
    if (len)
        snprintf(res->last_line, sizeof(res->last_line), "%s", line);
    if (o->on_line)
        o->on_line(o->ud, line);
}

static void proc_feed(const struct proc_opts *o, struct proc_result *res, char *line, size_t *llen,
                      const char *chunk, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (chunk[i] == '\n') {
            proc_emit(o, res, line, *llen);
            *llen = 0;
        } else if (*llen < PROC_LINE_MAX) {
            line[(*llen)++] = chunk[i];
        }
    }
}

int proc_run(const struct proc_opts *o, struct proc_result *res, struct err *err)
{
    long long start = proc_now_ms(), term_at = 0;
    long grace = o->grace_s > 0 ? o->grace_s : 10;
    char *line = mem_alloc(PROC_LINE_MAX + 1), chunk[4096];
    size_t llen = 0;
    int pfd[2] = {-1, -1}, wst = 0, rc = -1;
    bool eof = false;
    pid_t pid;

    memset(res, 0, sizeof(*res));
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
        setpgid(0, 0);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        if (o->cwd && chdir(o->cwd) < 0)
            _exit(126);
        if (o->env)
            environ = (char **)o->env;
        execvp(o->argv[0], o->argv);
        dprintf(2, "cannot run %s: %s\n", o->argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* also from the parent, so the group exists before any kill */
    close(pfd[1]);
    pfd[1] = -1;
    for (;;) {
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        long long now = proc_now_ms();
        enum proc_stop why = PROC_STOP_NONE;
        ssize_t n;

        if (!res->stop) {
            if (o->timeout_s > 0 && now - start >= o->timeout_s * 1000LL)
                why = PROC_STOP_TIMEOUT;
            else if (o->should_stop)
                why = o->should_stop(o->ud);
            if (why) {
                res->stop = why;
                kill(-pid, SIGTERM);
                term_at = now;
            }
        } else if (term_at && now - term_at >= grace * 1000LL) {
            kill(-pid, SIGKILL);
            term_at = 0;
        }
        if (waitpid(pid, &wst, WNOHANG) == pid) {
            /* The child is gone: take what is buffered without blocking and finish, even if
             * a background grandchild still holds the pipe open. */
            fcntl(pfd[0], F_SETFL, fcntl(pfd[0], F_GETFL) | O_NONBLOCK);
            while (!eof && (n = read(pfd[0], chunk, sizeof(chunk))) > 0)
                proc_feed(o, res, line, &llen, chunk, (size_t)n);
            break;
        }
        if (eof) {
            usleep(50 * 1000);
            continue;
        }
        if (poll(&p, 1, 200) <= 0)
            continue;
        n = read(pfd[0], chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            eof = true;
        else
            proc_feed(o, res, line, &llen, chunk, (size_t)n);
    }
    if (llen)
        proc_emit(o, res, line, llen);
    /* Leave nothing of the group behind (background jobs the command started). */
    kill(-pid, SIGKILL);
    res->exit_code = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
    rc = 0;
out:
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (pfd[1] >= 0)
        close(pfd[1]);
    free(line);
    return rc;
}
