/* droverd child processes and a tiny WebSocket client for tests. */
#include "droverd_proc.h"

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
    char req[2048], resp[4096];
    int fd = socket(AF_INET, SOCK_STREAM, 0), n, used = 0;

    *status = 0;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    n = snprintf(req, sizeof(req),
                 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Version: 13\r\n%s%s%s%s\r\n",
                 path, port, subprotocol ? "Sec-WebSocket-Protocol: " : "",
                 subprotocol ? subprotocol : "", subprotocol ? "\r\n" : "", headers ? headers : "");
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    /* Read the response head byte by byte so no frame bytes are consumed. */
    while (used < (int)sizeof(resp) - 1) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 3000) <= 0 || read(fd, resp + used, 1) != 1)
            break;
        used++;
        resp[used] = '\0';
        if (used >= 4 && memcmp(resp + used - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    resp[used] = '\0';
    if (sscanf(resp, "HTTP/1.1 %d", status) != 1 || *status != 101) {
        close(fd);
        return -1;
    }
    return fd;
}

static int ws_frame(int fd, int opcode, const char *data, size_t len)
{
    unsigned char hdr[14], mask[4] = {0x12, 0x34, 0x56, 0x78};
    size_t h = 0;
    char *buf;
    int rc;

    hdr[h++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        hdr[h++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (unsigned char)(len >> 8);
        hdr[h++] = (unsigned char)len;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    memcpy(hdr + h, mask, 4);
    h += 4;
    buf = malloc(h + len);
    memcpy(buf, hdr, h);
    for (size_t i = 0; i < len; i++)
        buf[h + i] = (char)(data[i] ^ mask[i % 4]);
    rc = write(fd, buf, h + len) == (ssize_t)(h + len) ? 0 : -1;
    free(buf);
    return rc;
}

int ws_send(int fd, const char *text, size_t len)
{
    return ws_frame(fd, 1, text, len);
}

static int ws_read_full(int fd, void *p, size_t n, long long deadline_ms)
{
    size_t got = 0;

    while (got < n) {
        struct timespec ts;
        long long now;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ssize_t r;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
    struct timespec ts;
    long long deadline;

    *closed = false;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    deadline = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
    for (;;) {
        unsigned char h[2], ext[8];
        uint64_t len;
        char *data;
        int op, r;

        if ((r = ws_read_full(fd, h, 2, deadline)) < 0) {
            *closed = r == -2;
            return NULL;
        }
        op = h[0] & 0x0f;
        len = h[1] & 0x7f;
        if (len == 126) {
            if (ws_read_full(fd, ext, 2, deadline) < 0)
                return NULL;
            len = ((uint64_t)ext[0] << 8) | ext[1];
        } else if (len == 127) {
            if (ws_read_full(fd, ext, 8, deadline) < 0)
                return NULL;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = (len << 8) | ext[i];
        }
        if (len > 64 * 1024 * 1024)
            return NULL;
        data = malloc(len + 1);
        if (ws_read_full(fd, data, len, deadline) < 0) {
            free(data);
            *closed = true;
            return NULL;
        }
        data[len] = '\0';
        if (op == 1)
            return data;
        if (op == 8) {
            free(data);
            *closed = true;
            return NULL;
        }
        if (op == 9)
            ws_frame(fd, 10, data, len);
        free(data);
    }
}
