/* The runner's exec client (see runner_execc.h). Main thread. */
#include "runner_execc.h"
#include "runner_exec.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t runner_execc_signals;

static void runner_execc_on_signal(int sig)
{
    (void)sig;
    runner_execc_signals++;
}

static int runner_execc_connect(const char *path, struct err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    uid_t uid;
    int s;

    if (strlen(path) >= sizeof(sa.sun_path))
        return err_set(err, ERR_INVALID, "socket path too long: %s", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return err_set(err, ERR_INTERNAL, "socket: %s", strerror(errno));
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        err_set(err, ERR_UNAVAILABLE, "cannot connect to the exec service at %s: %s", path,
                strerror(errno));
        close(s);
        return -1;
    }
    if (runner_exec_peer_uid(s, &uid, err) < 0 || uid == geteuid() || uid == 0) {
        if (uid == geteuid() || uid == 0)
            err_set(err, ERR_INVALID,
                    "the exec service at %s runs as uid %u: the coding command would %s; run "
                    "it as a uid of its own",
                    path, (unsigned)uid,
                    uid == 0 ? "run as root" : "share the agent's user and read its credentials");
        close(s);
        return -1;
    }
    return s;
}

/* Wait for the service's answers, forwarding signals; the exit status. */
static int runner_execc_wait(int s, struct err *err)
{
    int asked = 0;

    for (;;) {
        struct pollfd p = {.fd = s, .events = POLLIN};
        json_t *o;
        int r;

        if (runner_execc_signals > asked) {
            json_t *k = json_pack("{s:s}", "kill", asked == 0 ? "TERM" : "KILL");

            asked = runner_execc_signals;
            (void)runner_exec_send(s, k, NULL, 0, NULL);
            json_decref(k);
        }
        if (poll(&p, 1, 200) <= 0)
            continue;
        r = runner_exec_recv(s, &o, NULL, 0, NULL, err);
        if (r != 0) {
            if (r > 0)
                err_set(err, ERR_UNAVAILABLE, "the exec service closed the connection");
            return -1;
        }
        if (json_object_get(o, "error")) {
            err_set(err, ERR_INVALID, "the exec service refused: %s",
                    json_string_value(json_object_get(o, "error")));
            json_decref(o);
            return -1;
        }
        if (json_object_get(o, "exit")) {
            int code = (int)json_integer_value(json_object_get(o, "exit"));
            int sig = (int)json_integer_value(json_object_get(o, "signal"));

            json_decref(o);
            if (sig > 0 && sig < 64) { /* die the same way, so proc_run sees the signal */
                signal(sig, SIG_DFL);
                raise(sig);
            }
            return code & 0xff;
        }
        json_decref(o); /* "started" */
    }
}

/* The service checks the peer before it reads, so a refusal (wrong uid) can be written and the
 * connection closed while the request is still being sent: the send then fails with a broken
 * pipe, and the reason waits in the socket. Report that reason instead, when there is one. */
static void runner_execc_refusal(int s, struct err *err)
{
    struct pollfd p = {.fd = s, .events = POLLIN};
    struct err why = {0};
    json_t *o = NULL;
    const char *msg;

    if (poll(&p, 1, 1000) <= 0 || runner_exec_recv(s, &o, NULL, 0, NULL, &why) != 0)
        return;
    msg = json_string_value(json_object_get(o, "error"));
    if (msg)
        err_set(err, ERR_INVALID, "the exec service refused: %s", msg);
    json_decref(o);
}

int runner_execc_main(int argc, char **argv)
{
    struct err err = {0};
    struct sigaction sa;
    char cwd[4096];
    json_t *req;
    int s, rc, fds[RUNNER_EXEC_FDS] = {0, 1, 2};

    if (argc < 6 || strcmp(argv[2], "--socket") != 0 || strcmp(argv[4], "--") != 0) {
        fprintf(stderr, "usage: drover-agent exec-run --socket PATH -- PROGRAM [ARG...]\n");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = runner_execc_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!getcwd(cwd, sizeof(cwd))) {
        fprintf(stderr, "drover-agent exec-run: getcwd: %s\n", strerror(errno));
        return 125;
    }
    s = runner_execc_connect(argv[3], &err);
    if (s < 0) {
        fprintf(stderr, "drover-agent exec-run: %s\n", err.msg);
        return 125;
    }
    req = runner_exec_req_json(argv + 5, environ, cwd, 0);
    rc = runner_exec_send(s, req, fds, RUNNER_EXEC_FDS, &err);
    json_decref(req);
    if (rc == 0)
        rc = runner_execc_wait(s, &err);
    else
        runner_execc_refusal(s, &err);
    close(s);
    if (rc < 0) {
        fprintf(stderr, "drover-agent exec-run: %s\n", err.msg);
        return 125;
    }
    return rc;
}
