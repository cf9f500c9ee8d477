/*
 * Child processes with process groups, line streaming, raw capture, timeouts and stops (see
 * core/proc.h). Any thread: everything the child needs is prepared before fork.
 */
#include "core/proc.h"
#include "core/clock.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

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

void proc_feed(const struct proc_opts *o, struct proc_result *res, char *line, size_t *llen,
               const char *chunk, size_t n)
{
    if (!chunk) { /* the end of the output: a last line without '\n' */
        if (*llen)
            proc_emit(o, res, line, *llen);
        *llen = 0;
        return;
    }
    if (o->capture && o->capture->len < o->capture->limit) { /* past the cap: drained only */
        size_t room = o->capture->limit - o->capture->len;

        (void)buf_append(o->capture, chunk, n < room ? n : room);
    }
    for (size_t i = 0; i < n; i++) {
        if (chunk[i] == '\n') {
            proc_emit(o, res, line, *llen);
            *llen = 0;
        } else if (*llen < PROC_LINE_MAX) {
            line[(*llen)++] = chunk[i];
        }
    }
}

/* strerror is not async-signal-safe (it may translate); the few reasons exec fails for. */
static const char *proc_exec_reason(int e)
{
    switch (e) {
    case ENOENT:
        return "No such file or directory";
    case EACCES:
        return "Permission denied";
    case ENOEXEC:
        return "Exec format error";
    case ENOTDIR:
        return "Not a directory";
    case ELOOP:
        return "Too many levels of symbolic links";
    case ENAMETOOLONG:
        return "File name too long";
    case E2BIG:
        return "Argument list too long";
    case ENOMEM:
        return "Cannot allocate memory";
    default:
        return "exec failed";
    }
}

static void proc_say(const char *s)
{
    ssize_t r = write(2, s, strlen(s));

    (void)r;
}

/* The child, between fork and exec: async-signal-safe calls only. */
static void proc_child(const struct proc_opts *o, int out_fd)
{
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    const char *why;

    setpgid(0, 0);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (devnull >= 0)
        dup2(devnull, 0);
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    if (o->cwd && chdir(o->cwd) < 0)
        _exit(126);
    if (o->env)
        environ = (char **)o->env;
    execvp(o->argv[0], o->argv);
    why = proc_exec_reason(errno);
    proc_say("cannot run ");
    proc_say(o->argv[0]);
    proc_say(": ");
    proc_say(why);
    proc_say("\n");
    _exit(127);
}

/* A stop that is due: the timeout first, then the caller's test. */
static enum proc_stop proc_due(const struct proc_opts *o, long long start, long long now)
{
    if (o->timeout_s > 0 && now - start >= o->timeout_s * 1000LL)
        return PROC_STOP_TIMEOUT;
    return o->should_stop ? o->should_stop(o->ud) : PROC_STOP_NONE;
}

/* Read the child's output until it has exited (stopping it when due); its wait status. */
static int proc_watch(const struct proc_opts *o, pid_t pid, int fd, struct proc_result *res,
                      char *line, size_t *llen)
{
    long long start = clock_ms(), term_at = 0;
    long grace = o->grace_s > 0 ? o->grace_s : o->grace_s < 0 ? 0 : 10;
    useconds_t nap = 1000;
    char chunk[4096];
    bool eof = false;
    int wst = 0;

    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        long long now = clock_ms();
        enum proc_stop why;
        ssize_t n;

        if (!res->stop && (why = proc_due(o, start, now))) {
            res->stop = why;
            kill(-pid, grace ? SIGTERM : SIGKILL);
            term_at = grace ? now : 0;
        } else if (term_at && now - term_at >= grace * 1000LL) {
            kill(-pid, SIGKILL);
            term_at = 0;
        }
        if (waitpid(pid, &wst, WNOHANG) == pid) {
            /* The child is gone: take what is buffered without blocking and finish, even if
             * a background grandchild still holds the pipe open. */
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            while (!eof && (n = read(fd, chunk, sizeof(chunk))) > 0)
                proc_feed(o, res, line, llen, chunk, (size_t)n);
            return wst;
        }
        if (eof) { /* output closed, the child about to exit: short naps, growing */
            usleep(nap);
            nap = nap < 50000 ? nap * 2 : 50000;
            continue;
        }
        if (poll(&p, 1, 200) <= 0)
            continue;
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            eof = true;
        else
            proc_feed(o, res, line, llen, chunk, (size_t)n);
    }
}

int proc_run(const struct proc_opts *o, struct proc_result *res, struct err *err)
{
    char *line = mem_alloc(PROC_LINE_MAX + 1);
    size_t llen = 0;
    int pfd[2] = {-1, -1}, wst, rc = -1;
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
    if (pid == 0)
        proc_child(o, pfd[1]);
    setpgid(pid, pid); /* also from the parent, so the group exists before any kill */
    close(pfd[1]);
    pfd[1] = -1;
    wst = proc_watch(o, pid, pfd[0], res, line, &llen);
    proc_feed(o, res, line, &llen, NULL, 0);
    /* Leave nothing of the group behind (background jobs the command started). */
    kill(-pid, SIGKILL);
    res->term_signal = WIFSIGNALED(wst) ? WTERMSIG(wst) : 0;
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
