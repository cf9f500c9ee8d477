/* The task's MCP endpoint over HTTP; see runner_mcpd.h. Its own thread. */
#include "runner_mcpd.h"
#include "core/text.h"
#include "core/log.h"
#include "core/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define RUNNER_MCPD_HEAD_MAX 16384
#define RUNNER_MCPD_BODY_MAX (1 << 20)
#define RUNNER_MCPD_IO_TIMEOUT_S 10
#define RUNNER_MCPD_FORWARD_TIMEOUT_S 30

static int runner_mcpd_forward(void *ud, const char *tool, const json_t *args, json_t **result,
                               struct err *err)
{
    struct runner_mcpd *d = ud;

    if (!d->m_init) {
        if (mcpc_init(&d->m, d->cfg->server_url, d->cfg->token, err) < 0)
            return -1;
        d->m_init = true;
    }
    if (!d->m_ready) {
        if (mcpc_initialize(&d->m, "drover-agent-task", "0.1.0", err) < 0)
            return -1;
        d->m_ready = true;
    }
    return mcpc_call(&d->m, tool, args, RUNNER_MCPD_FORWARD_TIMEOUT_S, result, err);
}

static void runner_mcpd_write(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void runner_mcpd_respond(int fd, int code, const char *reason, const char *extra,
                                const char *body)
{
    char head[512];
    size_t n = body ? strlen(body) : 0;
    int h = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s%s\r\n", code,
                     reason, n, body && n ? "Content-Type: application/json\r\n" : "",
                     extra ? extra : "");

    runner_mcpd_write(fd, head, (size_t)h);
    if (n)
        runner_mcpd_write(fd, body, n);
}

/* The value of header `name` in `head` (NUL-terminated, CRLF lines), copied into out. */
static bool runner_mcpd_header(const char *head, const char *name, char *out, size_t n)
{
    size_t len = strlen(name);

    for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2, *end = strstr(line, "\r\n");

        if (end && strncasecmp(line, name, len) == 0 && line[len] == ':') {
            const char *v = line + len + 1;
            size_t k;

            while (*v == ' ' || *v == '\t')
                v++;
            k = (size_t)(end - v);
            while (k && (v[k - 1] == ' ' || v[k - 1] == '\t'))
                k--;
            snprintf(out, n, "%.*s", (int)k, v);
            return true;
        }
    }
    return false;
}

static bool runner_mcpd_secret_ok(const struct runner_mcpd *d, const char *auth)
{
    const char *want = d->secret;
    unsigned diff = 0;
    size_t n = strlen(want);

    if (strncmp(auth, "Bearer ", 7) != 0 || strlen(auth + 7) != n)
        return false;
    for (size_t i = 0; i < n; i++) /* constant time: no early exit */
        diff |= (unsigned)(auth[7 + i] ^ want[i]);
    return diff == 0;
}

/* The JSON-RPC body: one message or a batch. The reply text (owned), or NULL: 202. */
static char *runner_mcpd_dispatch(struct runner_mcpd *d, const char *body, size_t n, int *code)
{
    json_error_t je;
    json_t *msg = json_loadb(body, n, 0, &je), *out = NULL, *one;
    char *text = NULL;
    size_t i;

    *code = 200;
    if (!msg) {
        out = json_pack("{s:s, s:n, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", "error", "code", -32700,
                        "message", "parse error");
        *code = 400;
    } else if (json_is_array(msg)) {
        out = json_array();
        json_array_foreach(msg, i, one)
        {
            json_t *r = runner_mcptools_handle(&d->tools, one);

            if (r)
                json_array_append_new(out, r);
        }
        if (json_array_size(out) == 0) {
            json_decref(out);
            out = NULL;
        }
    } else {
        out = runner_mcptools_handle(&d->tools, msg);
    }
    if (out)
        text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    json_decref(msg);
    return text;
}

/* One request on `fd`, then close. */
static void runner_mcpd_serve(struct runner_mcpd *d, int fd)
{
    struct timeval tv = {RUNNER_MCPD_IO_TIMEOUT_S, 0};
    char *buf = mem_alloc(RUNNER_MCPD_HEAD_MAX + 1), *body = NULL, *eoh = NULL, *reply = NULL;
    char method[16] = "", path[256] = "", val[512];
    size_t got = 0, blen = 0, have;
    long long clen = -1;
    int code;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    while (!eoh && got < RUNNER_MCPD_HEAD_MAX) {
        ssize_t r = recv(fd, buf + got, RUNNER_MCPD_HEAD_MAX - got, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto out;
        got += (size_t)r;
        buf[got] = '\0';
        eoh = strstr(buf, "\r\n\r\n");
    }
    if (!eoh) {
        runner_mcpd_respond(fd, 431, "Request Header Fields Too Large", NULL, NULL);
        goto out;
    }
    eoh[2] = '\0'; /* keep the last header's CRLF for runner_mcpd_header */
    if (sscanf(buf, "%15s %255s", method, path) != 2) {
        runner_mcpd_respond(fd, 400, "Bad Request", NULL, NULL);
        goto out;
    }
    if (strcmp(path, "/mcp") != 0) {
        runner_mcpd_respond(fd, 404, "Not Found", NULL, NULL);
        goto out;
    }
    if (runner_mcpd_header(buf, "Origin", val, sizeof(val))) {
        runner_mcpd_respond(fd, 403, "Forbidden", NULL, NULL);
        goto out;
    }
    if (!runner_mcpd_header(buf, "Authorization", val, sizeof(val)) ||
        !runner_mcpd_secret_ok(d, val)) {
        runner_mcpd_respond(fd, 401, "Unauthorized", "WWW-Authenticate: Bearer\r\n", NULL);
        goto out;
    }
    if (strcmp(method, "POST") != 0) {
        /* No server-to-client stream and no session to end: the client then sends requests
         * only (MCP Streamable HTTP allows 405 for both). */
        runner_mcpd_respond(fd, 405, "Method Not Allowed", "Allow: POST\r\n", NULL);
        goto out;
    }
    if (runner_mcpd_header(buf, "Transfer-Encoding", val, sizeof(val))) {
        runner_mcpd_respond(fd, 411, "Length Required", NULL, NULL);
        goto out;
    }
    if (runner_mcpd_header(buf, "Content-Length", val, sizeof(val))) {
        char *end;

        clen = strtoll(val, &end, 10);
        if (*end || clen < 0)
            clen = -2;
    }
    if (clen < 0 || clen > RUNNER_MCPD_BODY_MAX) {
        runner_mcpd_respond(fd, clen == -1 ? 411 : 413,
                            clen == -1 ? "Length Required" : "Content Too Large", NULL, NULL);
        goto out;
    }
    blen = (size_t)clen;
    body = mem_alloc(blen + 1);
    have = got - (size_t)(eoh + 4 - buf);
    if (have > blen)
        have = blen;
    memcpy(body, eoh + 4, have);
    while (have < blen) {
        ssize_t r = recv(fd, body + have, blen - have, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto out;
        have += (size_t)r;
    }
    reply = runner_mcpd_dispatch(d, body, blen, &code);
    if (!reply)
        runner_mcpd_respond(fd, 202, "Accepted", NULL, NULL);
    else
        runner_mcpd_respond(fd, code, code == 200 ? "OK" : "Bad Request", NULL, reply);
out:
    free(reply);
    free(body);
    free(buf);
    close(fd);
}

static void *runner_mcpd_main(void *ud)
{
    struct runner_mcpd *d = ud;

    while (!atomic_load(&d->stop)) {
        struct pollfd p = {.fd = d->fd, .events = POLLIN};
        int c;

        if (poll(&p, 1, 100) <= 0)
            continue;
        c = accept(d->fd, NULL, NULL);
        if (c >= 0)
            runner_mcpd_serve(d, c);
    }
    return NULL;
}

static int runner_mcpd_random_hex(char *out, size_t bytes, struct err *err)
{
    unsigned char raw[32];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, raw, bytes) : -1;

    if (fd >= 0)
        close(fd);
    if (n != (ssize_t)bytes)
        return err_set(err, ERR_INTERNAL, "cannot read /dev/urandom");
    text_hex(raw, bytes, out);
    memset(raw, 0, sizeof(raw));
    return 0;
}

int runner_mcpd_start(struct runner_mcpd *d, const struct runner_cfg *cfg, int64_t task_id,
                      int64_t epoch, bool autonomy, const char *cwd, struct err *err)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int e;

    memset(d, 0, sizeof(*d));
    d->fd = -1;
    d->cfg = cfg;
    d->tools.task_id = task_id;
    d->tools.epoch = epoch;
    d->tools.forward = runner_mcpd_forward;
    d->tools.ud = d;
    atomic_init(&d->stop, false);
    d->tools.stop = &d->stop;
    d->tools.autonomy = autonomy;
    d->tools.cwd = cwd;
    if (runner_mcpd_random_hex(d->secret, 32, err) < 0)
        return -1;
    d->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (d->fd < 0 || bind(d->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(d->fd, 16) < 0 ||
        getsockname(d->fd, (struct sockaddr *)&a, &alen) < 0)
        return err_set(err, ERR_INTERNAL, "the task's MCP endpoint cannot listen: %s",
                       strerror(errno));
    snprintf(d->url, sizeof(d->url), "http://127.0.0.1:%d/mcp", ntohs(a.sin_port));
    e = pthread_create(&d->thread, NULL, runner_mcpd_main, d);
    if (e)
        return err_set(err, ERR_INTERNAL, "pthread_create: %s", strerror(e));
    d->running = true;
    return 0;
}

void runner_mcpd_stop(struct runner_mcpd *d)
{
    if (!d->running)
        return;
    atomic_store(&d->stop, true);
    pthread_join(d->thread, NULL);
    d->running = false;
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
}

void runner_mcpd_clear(struct runner_mcpd *d)
{
    if (!d->cfg) /* never started */
        return;
    runner_mcpd_stop(d);
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
    if (d->m_init)
        mcpc_clear(&d->m);
    runner_intent_clear(&d->tools.intent);
    memset(d->secret, 0, sizeof(d->secret));
    d->m_init = d->m_ready = false;
}
