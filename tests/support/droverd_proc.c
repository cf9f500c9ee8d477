/* droverd child processes and a tiny WebSocket client for tests (framing: agent/lib/wsframe). */
#include "droverd_proc.h"
#include "core/clock.h"
#include "core/mem.h"
#include "wsframe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static bool droverd_port_free(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    bool ok;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

extern char **environ;

/*
 * Whether droverd inherits the variable `e` ("NAME=value") of the test's environment. Not
 * DATABASE_URL (it would win over the PG* settings and PGOPTIONS that put droverd in the test's
 * schema), droverd's own DROVER_* settings (the test passes what it wants as arguments) nor the
 * Kubernetes client's: the test depends on nothing of the caller's it does not set itself.
 */
static bool droverd_env_passes(const char *e)
{
    static const char *const keep[] = {"DROVER_BUILD_DIR=", "DROVER_SOURCE_DIR=", "DROVER_TEST_",
                                       "DROVER_SANITIZED=", "DROVER_PORT_RANGE="};
    static const char *const drop[] = {"DATABASE_URL=", "DROVER_", "KUBECONFIG=", "KUBERNETES_"};

    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
        if (strncmp(e, keep[i], strlen(keep[i])) == 0)
            return true;
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
        if (strncmp(e, drop[i], strlen(drop[i])) == 0)
            return false;
    return true;
}

static int droverd_try(struct droverd_proc *p, int port, const char *const *extra)
{
    const char *build = getenv("DROVER_BUILD_DIR");
    char exe[1024], listen[64], line[256];
    const char *argv[32];
    char **envp;
    size_t envc;
    int n = 0, pipefd[2];
    FILE *f;

    snprintf(exe, sizeof(exe), "%s/droverd", build ? build : "build");
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    argv[n++] = exe;
    argv[n++] = "serve";
    argv[n++] = "--listen";
    argv[n++] = listen;
    /* No agent pool unless a test asks for one (a later --pod-backend in `extra` wins). */
    argv[n++] = "--pod-backend";
    argv[n++] = "none";
    for (size_t i = 0; extra && extra[i] && n < 30; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    for (envc = 0; environ[envc]; envc++)
        ;
    envp = calloc(envc + 1, sizeof(*envp));
    if (!envp)
        return -1;
    for (size_t i = 0, k = 0; i < envc; i++)
        if (droverd_env_passes(environ[i]))
            envp[k++] = environ[i];
    if (pipe(pipefd) < 0) {
        free(envp);
        return -1;
    }
    p->pid = fork();
    if (p->pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        close(pipefd[1]);
        execve(exe, (char *const *)argv, envp);
        _exit(127);
    }
    free(envp);
    close(pipefd[1]);
    f = fdopen(pipefd[0], "r");
    while (fgets(line, sizeof(line), f)) {
        if (strstr(line, "droverd listening on")) {
            p->port = port;
            fclose(f); /* droverd's later stdout writes hit EPIPE, which it ignores */
            return 0;
        }
    }
    fclose(f);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
    return -1;
}

int droverd_proc_start(struct droverd_proc *p, const char *const *extra)
{
    const char *range = getenv("DROVER_PORT_RANGE");
    int lo = 18100, hi = 18199;

    if (range)
        sscanf(range, "%d-%d", &lo, &hi);
    memset(p, 0, sizeof(*p));
    for (int i = 0; i <= hi - lo; i++) {
        int port = lo + (int)((getpid() + i) % (hi - lo + 1));
        if (droverd_port_free(port) && droverd_try(p, port, extra) == 0)
            return 0;
    }
    return -1;
}

int droverd_proc_stop(struct droverd_proc *p)
{
    int st;

    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    if (waitpid(p->pid, &st, 0) < 0)
        return -1;
    p->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int ws_connect(int port, const char *path, const char *headers, const char *subprotocol,
               int *status)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    char resp[4096], key[25], host[32], *extra = NULL, *req;
    const char *lines[2] = {NULL, NULL};
    int fd = socket(AF_INET, SOCK_STREAM, 0), used = 0;
    long head = 0;
    bool accepted = false;

    *status = 0;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || wsframe_key(key, NULL) < 0) {
        close(fd);
        return -1;
    }
    if (headers && *headers) { /* "Name: value\r\n..." lines: one entry without the last CRLF */
        size_t n = strlen(headers);

        extra = mem_strdup(headers);
        while (n && (extra[n - 1] == '\n' || extra[n - 1] == '\r'))
            extra[--n] = '\0';
        lines[0] = extra;
    }
    snprintf(host, sizeof(host), "127.0.0.1:%d", port);
    req = wsframe_request(path, host, key, subprotocol, lines);
    free(extra);
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
        free(req);
        close(fd);
        return -1;
    }
    free(req);
    /* Read the response head byte by byte so no frame bytes are consumed. */
    while (head == 0 && used < (int)sizeof(resp)) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 3000) <= 0 || read(fd, resp + used, 1) != 1)
            break;
        used++;
        head = wsframe_response(resp, (size_t)used, key, status, &accepted);
    }
    if (head <= 0 || !accepted) {
        close(fd);
        return -1;
    }
    return fd;
}

static int ws_frame(int fd, int opcode, const char *data, size_t len)
{
    static const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    size_t n;
    unsigned char *frame = wsframe_encode(opcode, data, len, mask, &n);
    int rc = write(fd, frame, n) == (ssize_t)n ? 0 : -1;

    free(frame);
    return rc;
}

int ws_send(int fd, const char *text, size_t len)
{
    return ws_frame(fd, WSFRAME_TEXT, text, len);
}

static int ws_read_full(int fd, void *p, size_t n, long long deadline_ms)
{
    size_t got = 0;

    while (got < n) {
        long long now = clock_ms();
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ssize_t r;

        if (now >= deadline_ms || poll(&pfd, 1, (int)(deadline_ms - now)) <= 0)
            return -1;
        r = read(fd, (char *)p + got, n - got);
        if (r <= 0)
            return -2;
        got += (size_t)r;
    }
    return 0;
}

char *ws_recv(int fd, int timeout_ms, bool *closed)
{
    long long deadline = clock_ms() + timeout_ms;

    *closed = false;
    for (;;) {
        unsigned char h[WSFRAME_HEADER_MAX];
        struct wsframe f;
        char *data;
        int r;

        if ((r = ws_read_full(fd, h, 2, deadline)) < 0) {
            *closed = r == -2;
            return NULL;
        }
        if (wsframe_parse(h, 2, &f) == 0 &&
            (ws_read_full(fd, h + 2, f.header_len - 2, deadline) < 0 ||
             wsframe_parse(h, f.header_len, &f) != 1))
            return NULL;
        if (f.payload_len > 64 * 1024 * 1024)
            return NULL;
        data = malloc((size_t)f.payload_len + 1);
        if (ws_read_full(fd, data, (size_t)f.payload_len, deadline) < 0) {
            free(data);
            *closed = true;
            return NULL;
        }
        if (f.masked)
            wsframe_mask((unsigned char *)data, (size_t)f.payload_len, f.mask);
        data[f.payload_len] = '\0';
        if (f.opcode == WSFRAME_TEXT)
            return data;
        if (f.opcode == WSFRAME_CLOSE) {
            free(data);
            *closed = true;
            return NULL;
        }
        if (f.opcode == WSFRAME_PING)
            ws_frame(fd, WSFRAME_PONG, data, (size_t)f.payload_len);
        free(data);
    }
}
