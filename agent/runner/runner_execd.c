/* The exec service (see runner_execd.h). Main thread; one connection at a time. */
#include "runner_execd.h"
#include "core/clock.h"
#include "core/log.h"
#include "runner_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void runner_execd_refuse(int conn, const char *why)
{
    json_t *o = json_pack("{s:s}", "error", why);

    (void)runner_exec_send(conn, o, NULL, 0, NULL);
    json_decref(o);
    log_warn("exec", "request refused: %s", why);
}

static void runner_execd_say(const char *s)
{
    ssize_t r = write(2, s, strlen(s));

    (void)r;
}

/* The command, between fork and exec. */
static void runner_execd_child(const struct runner_exec_req *req, const int *fds)
{
    setpgid(0, 0);
    umask(007);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    for (int i = 0; i < RUNNER_EXEC_FDS; i++)
        if (dup2(fds[i], i) < 0)
            _exit(126);
    if (chdir(req->cwd) < 0) {
        runner_execd_say("exec service: cannot enter the work tree\n");
        _exit(126);
    }
    environ = req->env;
    execvp(req->argv[0], req->argv);
    runner_execd_say("exec service: cannot run ");
    runner_execd_say(req->argv[0]);
    runner_execd_say("\n");
    _exit(127);
}

/* Everything of this uid but this process: what escaped the command's group. */
static void runner_execd_sweep(pid_t pgrp)
{
    kill(-pgrp, SIGKILL);
    kill(-1, SIGKILL);
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

/* A frame from the runner while the command runs: a kill ask. false when the runner is gone
 * (or sent nonsense): the group is killed then. */
static bool runner_execd_control(int conn, pid_t pid)
{
    struct err err = {0};
    json_t *o = NULL;
    const char *k;
    int r = runner_exec_recv(conn, &o, NULL, 0, NULL, &err);

    if (r != 0) {
        if (r < 0)
            log_warn("exec", "runner connection: %s", err.msg);
        kill(-pid, SIGKILL);
        return false;
    }
    k = json_string_value(json_object_get(o, "kill"));
    if (k && strcmp(k, "TERM") == 0)
        kill(-pid, SIGTERM);
    else
        kill(-pid, SIGKILL); /* KILL, or anything else */
    json_decref(o);
    return true;
}

/* Wait for the leader, serving kill asks; its wait status. */
static int runner_execd_watch(int conn, pid_t pid, long timeout_s, bool *gone)
{
    long long start = clock_ms();
    int wst = 0;

    for (;;) {
        struct pollfd p = {.fd = conn, .events = POLLIN};

        if (waitpid(pid, &wst, WNOHANG) == pid)
            return wst;
        if (timeout_s > 0 && clock_ms() - start >= timeout_s * 1000LL) {
            kill(-pid, SIGKILL);
            timeout_s = 0;
        }
        if (*gone) {
            usleep(50 * 1000);
            continue;
        }
        if (poll(&p, 1, 100) > 0 && !runner_execd_control(conn, pid))
            *gone = true;
    }
}

void runner_execd_conn(int conn, uid_t peer_uid)
{
    struct err err = {0};
    struct runner_exec_req req = {0};
    int fds[RUNNER_EXEC_FDS] = {-1, -1, -1};
    size_t nfds = 0;
    json_t *o = NULL;
    char *body = NULL;
    bool gone = false;
    pid_t pid;
    int wst;

    if (runner_exec_peer_check(conn, peer_uid, &err) < 0) {
        runner_execd_refuse(conn, err.msg);
        goto out;
    }
    if (runner_exec_recv(conn, &o, fds, RUNNER_EXEC_FDS, &nfds, &err) != 0) {
        runner_execd_refuse(conn, err.msg[0] ? err.msg : "no request");
        goto out;
    }
    if (nfds != RUNNER_EXEC_FDS) {
        runner_execd_refuse(conn, "the request must carry exactly 3 descriptors (stdin, stdout, "
                                  "stderr)");
        goto out;
    }
    body = json_dumps(o, JSON_COMPACT);
    if (runner_exec_req_parse(body, strlen(body), &req, &err) < 0) {
        runner_execd_refuse(conn, err.msg);
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        runner_execd_refuse(conn, "fork failed");
        goto out;
    }
    if (pid == 0)
        runner_execd_child(&req, fds);
    setpgid(pid, pid); /* also here, so the group exists before any kill */
    for (int i = 0; i < RUNNER_EXEC_FDS; i++) {
        close(fds[i]);
        fds[i] = -1;
    }
    json_decref(o);
    o = json_pack("{s:I}", "started", (json_int_t)pid);
    if (runner_exec_send(conn, o, NULL, 0, NULL) < 0) {
        kill(-pid, SIGKILL);
        gone = true;
    }
    log_info("exec", "started pid=%d argv0=%s", (int)pid, req.argv[0]);
    wst = runner_execd_watch(conn, pid, req.timeout_s, &gone);
    runner_execd_sweep(pid);
    json_decref(o);
    o = json_pack("{s:i, s:i}", "exit", WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst),
                  "signal", WIFSIGNALED(wst) ? WTERMSIG(wst) : 0);
    if (!gone)
        (void)runner_exec_send(conn, o, NULL, 0, NULL);
    log_info("exec", "pid=%d ended status=%d%s", (int)pid, wst, gone ? " (runner gone)" : "");
out:
    for (int i = 0; i < RUNNER_EXEC_FDS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    runner_exec_req_clear(&req);
    if (body) {
        memset(body, 0, strlen(body));
        free(body);
    }
    json_decref(o);
    close(conn);
}

/* Bind the socket: a stale socket of ours is replaced, anything else at the path refused. */
static int runner_execd_listen(const char *path, struct err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    int s;

    if (strlen(path) >= sizeof(sa.sun_path))
        return err_set(err, ERR_INVALID, "socket path too long: %s", path);
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
            return err_set(err, ERR_INVALID, "%s exists and is not a socket of ours: refusing it",
                           path);
        unlink(path);
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return err_set(err, ERR_INTERNAL, "socket: %s", strerror(errno));
    if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 4) < 0) {
        err_set(err, ERR_INVALID, "cannot listen on %s: %s", path, strerror(errno));
        close(s);
        return -1;
    }
    /* Anyone may connect: SO_PEERCRED decides (the runner's uid differs from ours by design,
     * and a shared volume's group is not always the runner's). */
    chmod(path, 0666);
    return s;
}

int runner_execd_serve(const struct runner_execd_opts *opts, struct err *err)
{
    int s, served = 0;

    if (geteuid() == 0)
        return err_set(err, ERR_INVALID,
                       "exec-serve refuses to run as root: it kills every "
                       "process of its uid after each command");
    if (opts->peer_uid == geteuid())
        return err_set(err, ERR_INVALID,
                       "exec-serve runs as uid %u, the runner's: the coding command would "
                       "share the agent's user; run it as a uid of its own",
                       (unsigned)geteuid());
    s = runner_execd_listen(opts->socket_path, err);
    if (s < 0)
        return -1;
    log_info("exec", "serving %s for uid %u as uid %u", opts->socket_path, (unsigned)opts->peer_uid,
             (unsigned)geteuid());
    while (!(opts->stop && *opts->stop)) {
        struct pollfd p = {.fd = s, .events = POLLIN};
        int c;

        while (waitpid(-1, NULL, WNOHANG) > 0) /* orphans, when we are a container's init */
            ;
        if (poll(&p, 1, 500) <= 0)
            continue;
        c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        runner_execd_conn(c, opts->peer_uid);
        if (opts->max_conns > 0 && ++served >= opts->max_conns)
            break;
    }
    close(s);
    unlink(opts->socket_path);
    return 0;
}

static volatile sig_atomic_t runner_execd_stopped;

static void runner_execd_on_signal(int sig)
{
    (void)sig;
    runner_execd_stopped = 1;
}

int runner_execd_main(int argc, char **argv)
{
    struct runner_execd_opts o = {.stop = &runner_execd_stopped};
    struct err err = {0};
    struct sigaction sa;
    const char *uid = NULL;
    char *end;
    long v;

    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--socket") == 0)
            o.socket_path = argv[i + 1];
        else if (strcmp(argv[i], "--peer-uid") == 0)
            uid = argv[i + 1];
        else
            break;
    }
    if (!o.socket_path || !uid || argc % 2 != 0) {
        fprintf(stderr, "usage: drover-agent exec-serve --socket PATH --peer-uid UID\n");
        return 2;
    }
    errno = 0;
    v = strtol(uid, &end, 10);
    if (errno || *end || end == uid || v < 0) {
        fprintf(stderr, "drover-agent exec-serve: --peer-uid must be a number (not %s)\n", uid);
        return 2;
    }
    o.peer_uid = (uid_t)v;
    memset(&sa, 0, sizeof(sa));
    /* SIGTERM (the pod ending): finish the command in hand (the runner stops it and commits),
     * accept no other. */
    sa.sa_handler = runner_execd_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (runner_execd_serve(&o, &err) < 0) {
        fprintf(stderr, "drover-agent exec-serve: %s\n", err.msg);
        return 2;
    }
    return 0;
}
