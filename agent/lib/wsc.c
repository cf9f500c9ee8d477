/*
 * RFC 6455 client over a blocking TCP socket; the framing and the handshake are wsframe's.
 * The thread that owns the `struct wsc`.
 */
#include "wsc.h"
#include "core/clock.h"
#include "core/mem.h"
#include "wsframe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WSC_MAX_MESSAGE (16u << 20)

/* Write everything or fail. */
static int wsc_write_all(int fd, const void *p, size_t n, struct err *err)
{
    const char *c = p;

    while (n) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return err_set(err, ERR_UNAVAILABLE, "websocket send: %s", strerror(errno));
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Read up to n bytes with a deadline. Returns bytes read (>0), or -1 (err set). */
static ssize_t wsc_read_some(struct wsc *w, void *p, size_t n, long long deadline,
                             volatile const int *abort_flag, struct err *err)
{
    for (;;) {
        struct pollfd pf = {.fd = w->fd, .events = POLLIN};
        long long left = deadline - clock_ms();
        ssize_t k;

        if (abort_flag && *abort_flag)
            return err_set(err, ERR_UNAVAILABLE, "websocket receive abandoned");
        if (left <= 0)
            return err_set(err, ERR_UNAVAILABLE, "websocket receive timed out");
        if (poll(&pf, 1, (int)(left > 200 ? 200 : left)) <= 0)
            continue;
        k = recv(w->fd, p, n, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k == 0)
            return err_set(err, ERR_UNAVAILABLE, "websocket closed by the server");
        if (k < 0)
            return err_set(err, ERR_UNAVAILABLE, "websocket receive: %s", strerror(errno));
        return k;
    }
}

/* Make sure rx holds at least n bytes. */
static int wsc_fill(struct wsc *w, size_t n, long long deadline, volatile const int *abort_flag,
                    struct err *err)
{
    while (w->rx_len < n) {
        ssize_t k;
        if (w->rx_cap < n + 4096) {
            w->rx_cap = n + 4096;
            w->rx = mem_realloc(w->rx, w->rx_cap);
        }
        k = wsc_read_some(w, w->rx + w->rx_len, w->rx_cap - w->rx_len, deadline, abort_flag, err);
        if (k < 0)
            return -1;
        w->rx_len += (size_t)k;
    }
    return 0;
}

static void wsc_consume(struct wsc *w, size_t n)
{
    memmove(w->rx, w->rx + n, w->rx_len - n);
    w->rx_len -= n;
}

static int wsc_send_frame(struct wsc *w, int opcode, const void *data, size_t len, struct err *err)
{
    unsigned char mask[4], *frame;
    size_t n;
    int rc;

    if (wsframe_random_mask(mask, err) < 0)
        return -1;
    frame = wsframe_encode(opcode, data, len, mask, &n);
    rc = wsc_write_all(w->fd, frame, n, err);
    free(frame);
    return rc;
}

int wsc_send(struct wsc *w, const char *data, size_t len, struct err *err)
{
    if (w->fd < 0)
        return err_set(err, ERR_UNAVAILABLE, "websocket is not connected");
    return wsc_send_frame(w, WSFRAME_TEXT, data, len, err);
}

/* Read the upgrade response's head; bytes after it (early frames) stay in rx. */
static int wsc_read_head(struct wsc *w, const char *key, long long deadline, int *status,
                         bool *accepted, struct err *err)
{
    char resp[8192];
    size_t rlen = 0;
    long head = 0;

    while (head == 0) {
        ssize_t k;

        if (rlen == sizeof(resp))
            return err_set(err, ERR_UNAVAILABLE, "websocket upgrade: response head too large");
        k = wsc_read_some(w, resp + rlen, sizeof(resp) - rlen, deadline, NULL, err);
        if (k < 0)
            return -1;
        rlen += (size_t)k;
        head = wsframe_response(resp, rlen, key, status, accepted);
    }
    if (head < 0)
        return err_set(err, ERR_UNAVAILABLE, "no HTTP answer to the websocket upgrade");
    if (rlen > (size_t)head) { /* early frame bytes: keep them */
        w->rx_cap = rlen - (size_t)head + 4096;
        w->rx = mem_alloc(w->rx_cap);
        memcpy(w->rx, resp + head, rlen - (size_t)head);
        w->rx_len = rlen - (size_t)head;
    }
    return 0;
}

int wsc_connect(struct wsc *w, const char *url, const char *subprotocol, const char *const *headers,
                long timeout_s, struct err *err)
{
    char host[256], port[8] = "80", hostport[270], *req = NULL, key[25];
    const char *p = url + 5, *path, *colon, *end;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    long long deadline = clock_ms() + (timeout_s > 0 ? timeout_s : 30) * 1000LL;
    size_t hl;
    bool accepted = false;
    int fd = -1, rc = -1, status = 0;

    memset(w, 0, sizeof(*w));
    w->fd = -1;
    w->max_message = WSC_MAX_MESSAGE;
    if (strncmp(url, "ws://", 5) != 0)
        return err_set(err, ERR_INVALID, "only ws:// URLs are supported (got %.40s)", url);
    path = strchr(p, '/');
    end = path ? path : p + strlen(p);
    colon = memchr(p, ':', (size_t)(end - p));
    hl = (size_t)((colon ? colon : end) - p);
    if (hl == 0 || hl >= sizeof(host))
        return err_set(err, ERR_INVALID, "bad websocket URL %.80s", url);
    memcpy(host, p, hl);
    host[hl] = '\0';
    if (colon)
        snprintf(port, sizeof(port), "%.*s", (int)(end - colon - 1), colon + 1);
    if (!path)
        path = "/";
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
        return err_set(err, ERR_UNAVAILABLE, "cannot resolve %s", host);
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        err_set(err, ERR_UNAVAILABLE, "connect to %s:%s: %s", host, port, strerror(errno));
        goto out;
    }
    if (wsframe_key(key, err) < 0)
        goto out;
    snprintf(hostport, sizeof(hostport), "%s:%s", host, port);
    req = wsframe_request(path, hostport, key, subprotocol, headers);
    w->fd = fd;
    if (wsc_write_all(fd, req, strlen(req), err) < 0 ||
        wsc_read_head(w, key, deadline, &status, &accepted, err) < 0)
        goto out;
    if (status != 101) {
        err_set(err,
                status == 401   ? ERR_UNAUTHORIZED
                : status == 403 ? ERR_FORBIDDEN
                                : ERR_UNAVAILABLE,
                "websocket upgrade refused: HTTP %d", status);
        goto out;
    }
    if (!accepted) {
        err_set(err, ERR_UNAVAILABLE, "websocket upgrade: bad Sec-WebSocket-Accept");
        goto out;
    }
    rc = 0;
out:
    if (req) {
        memset(req, 0, strlen(req));
        free(req);
    }
    if (ai)
        freeaddrinfo(ai);
    if (rc < 0) {
        if (fd >= 0)
            close(fd);
        w->fd = -1;
        free(w->rx);
        w->rx = NULL;
        w->rx_len = w->rx_cap = 0;
    }
    return rc;
}

/* Make sure rx holds the whole frame at its start; *f describes it. */
static int wsc_next_frame(struct wsc *w, struct wsframe *f, long long deadline,
                          volatile const int *abort_flag, struct err *err)
{
    int r;

    if (wsc_fill(w, 2, deadline, abort_flag, err) < 0)
        return -1;
    while ((r = wsframe_parse(w->rx, w->rx_len, f)) == 0)
        if (wsc_fill(w, f->header_len, deadline, abort_flag, err) < 0)
            return -1;
    if (r < 0 || f->payload_len > w->max_message)
        return err_set(err, ERR_TOO_LARGE, "websocket message too large");
    if (wsc_fill(w, f->header_len + (size_t)f->payload_len, deadline, abort_flag, err) < 0)
        return -1;
    if (f->masked)
        wsframe_mask(w->rx + f->header_len, (size_t)f->payload_len, f->mask);
    return 0;
}

int wsc_recv(struct wsc *w, long timeout_ms, volatile const int *abort_flag, char **msg,
             size_t *len, struct err *err)
{
    long long deadline = clock_ms() + timeout_ms;
    unsigned char *acc = NULL;
    size_t acc_len = 0;
    int rc = -1;

    *msg = NULL;
    *len = 0;
    if (w->fd < 0)
        return err_set(err, ERR_UNAVAILABLE, "websocket is not connected");
    for (;;) {
        struct wsframe f;
        unsigned char *pl;
        size_t plen;

        if (wsc_next_frame(w, &f, deadline, abort_flag, err) < 0)
            goto out;
        pl = w->rx + f.header_len;
        plen = (size_t)f.payload_len;
        if (acc_len + plen > w->max_message) {
            err_set(err, ERR_TOO_LARGE, "websocket message too large");
            goto out;
        }
        if (f.opcode == WSFRAME_PING) { /* pong with the same payload */
            if (wsc_send_frame(w, WSFRAME_PONG, pl, plen, err) < 0)
                goto out;
        } else if (f.opcode == WSFRAME_CLOSE) {
            wsc_send_frame(w, WSFRAME_CLOSE, pl, plen < 2 ? plen : 2, err);
            err_set(err, ERR_UNAVAILABLE, "websocket closed by the server");
            close(w->fd);
            w->fd = -1;
            goto out;
        } else if (f.opcode == WSFRAME_CONT || f.opcode == WSFRAME_TEXT ||
                   f.opcode == WSFRAME_BINARY) {
            acc = mem_realloc(acc, acc_len + plen + 1);
            memcpy(acc + acc_len, pl, plen);
            acc_len += plen;
            if (f.fin) {
                wsc_consume(w, f.header_len + plen);
                acc[acc_len] = '\0';
                *msg = (char *)acc;
                *len = acc_len;
                acc = NULL;
                rc = 0;
                goto out;
            }
        } /* pong and unknown control frames are ignored */
        wsc_consume(w, f.header_len + plen);
    }
out:
    free(acc);
    return rc;
}

void wsc_close(struct wsc *w)
{
    if (!w)
        return;
    if (w->fd >= 0) {
        struct err ignored;
        unsigned char code[2] = {0x03, 0xe8}; /* 1000 normal closure */
        wsc_send_frame(w, WSFRAME_CLOSE, code, 2, &ignored);
        close(w->fd);
    }
    free(w->rx);
    memset(w, 0, sizeof(*w));
    w->fd = -1;
}
