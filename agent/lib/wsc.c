/* RFC 6455 client over a blocking TCP socket. The thread that owns the `struct wsc`. */
#include "wsc.h"
#include "core/clock.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WSC_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
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
    unsigned char hdr[14], mask[4], *frame;
    size_t h = 0;
    int rc;

    hdr[h++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        hdr[h++] = (unsigned char)(0x80 | len);
    } else if (len <= 0xffff) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (unsigned char)(len >> 8);
        hdr[h++] = (unsigned char)len;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    if (RAND_bytes(mask, 4) != 1)
        return err_set(err, ERR_INTERNAL, "no randomness for the websocket mask");
    memcpy(hdr + h, mask, 4);
    h += 4;
    frame = mem_alloc(h + len);
    memcpy(frame, hdr, h);
    for (size_t i = 0; i < len; i++)
        frame[h + i] = ((const unsigned char *)data)[i] ^ mask[i & 3];
    rc = wsc_write_all(w->fd, frame, h + len, err);
    free(frame);
    return rc;
}

int wsc_send(struct wsc *w, const char *data, size_t len, struct err *err)
{
    if (w->fd < 0)
        return err_set(err, ERR_UNAVAILABLE, "websocket is not connected");
    return wsc_send_frame(w, 0x1, data, len, err);
}

int wsc_connect(struct wsc *w, const char *url, const char *subprotocol, const char *const *headers,
                long timeout_s, struct err *err)
{
    char host[256], port[8] = "80", *req = NULL, key[32], expect[64], resp[8192];
    unsigned char nonce[16], sha[SHA_DIGEST_LENGTH];
    const char *p = url + 5, *path, *colon, *end;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    long long deadline = clock_ms() + (timeout_s > 0 ? timeout_s : 30) * 1000LL;
    size_t rlen = 0, hl;
    char *accept_concat;
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
    if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
        err_set(err, ERR_INTERNAL, "no randomness for the websocket key");
        goto out;
    }
    EVP_EncodeBlock((unsigned char *)key, nonce, sizeof(nonce));
    req = mem_printf("GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n%s%s%s",
                     path, host, port, key, subprotocol ? "Sec-WebSocket-Protocol: " : "",
                     subprotocol ? subprotocol : "", subprotocol ? "\r\n" : "");
    for (size_t i = 0; headers && headers[i]; i++) {
        char *n = mem_printf("%s%s\r\n", req, headers[i]);
        memset(req, 0, strlen(req));
        free(req);
        req = n;
    }
    {
        char *n = mem_printf("%s\r\n", req);
        memset(req, 0, strlen(req));
        free(req);
        req = n;
    }
    w->fd = fd;
    if (wsc_write_all(fd, req, strlen(req), err) < 0)
        goto out;
    /* Read the response head byte by byte-ish: frames may follow it in the same segment. */
    while (rlen < sizeof(resp) - 1) {
        ssize_t k = wsc_read_some(w, resp + rlen, sizeof(resp) - 1 - rlen, deadline, NULL, err);
        char *eoh;
        if (k < 0)
            goto out;
        rlen += (size_t)k;
        resp[rlen] = '\0';
        if ((eoh = strstr(resp, "\r\n\r\n"))) {
            size_t head = (size_t)(eoh + 4 - resp);
            if (rlen > head) { /* early frame bytes: keep them */
                w->rx = mem_alloc(rlen - head + 4096);
                w->rx_cap = rlen - head + 4096;
                memcpy(w->rx, resp + head, rlen - head);
                w->rx_len = rlen - head;
            }
            *eoh = '\0';
            break;
        }
    }
    if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1) {
        err_set(err, ERR_UNAVAILABLE, "no HTTP answer to the websocket upgrade");
        goto out;
    }
    if (status != 101) {
        err_set(err,
                status == 401   ? ERR_UNAUTHORIZED
                : status == 403 ? ERR_FORBIDDEN
                                : ERR_UNAVAILABLE,
                "websocket upgrade refused: HTTP %d", status);
        goto out;
    }
    accept_concat = mem_printf("%s" WSC_GUID, key);
    SHA1((const unsigned char *)accept_concat, strlen(accept_concat), sha);
    free(accept_concat);
    EVP_EncodeBlock((unsigned char *)expect, sha, sizeof(sha));
    {
        char *a = strcasestr(resp, "\r\nsec-websocket-accept:");
        char got[64] = "";
        if (a)
            sscanf(a + strlen("\r\nsec-websocket-accept:"), " %63s", got);
        if (strcmp(got, expect) != 0) {
            err_set(err, ERR_UNAVAILABLE, "websocket upgrade: bad Sec-WebSocket-Accept");
            goto out;
        }
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
        size_t h = 2, plen;
        int fin, op;
        bool masked;
        unsigned char mask[4] = {0};

        if (wsc_fill(w, 2, deadline, abort_flag, err) < 0)
            goto out;
        fin = w->rx[0] & 0x80;
        op = w->rx[0] & 0x0f;
        masked = w->rx[1] & 0x80;
        plen = w->rx[1] & 0x7f;
        if (plen == 126) {
            if (wsc_fill(w, 4, deadline, abort_flag, err) < 0)
                goto out;
            plen = ((size_t)w->rx[2] << 8) | w->rx[3];
            h = 4;
        } else if (plen == 127) {
            if (wsc_fill(w, 10, deadline, abort_flag, err) < 0)
                goto out;
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = (plen << 8) | w->rx[2 + i];
            h = 10;
        }
        if (plen > w->max_message || acc_len + plen > w->max_message) {
            err_set(err, ERR_TOO_LARGE, "websocket message too large");
            goto out;
        }
        if (masked) {
            if (wsc_fill(w, h + 4, deadline, abort_flag, err) < 0)
                goto out;
            memcpy(mask, w->rx + h, 4);
            h += 4;
        }
        if (wsc_fill(w, h + plen, deadline, abort_flag, err) < 0)
            goto out;
        if (masked)
            for (size_t i = 0; i < plen; i++)
                w->rx[h + i] ^= mask[i & 3];
        if (op == 0x9) { /* ping -> pong with the same payload */
            if (wsc_send_frame(w, 0xA, w->rx + h, plen, err) < 0)
                goto out;
        } else if (op == 0x8) {
            wsc_send_frame(w, 0x8, w->rx + h, plen < 2 ? plen : 2, err);
            err_set(err, ERR_UNAVAILABLE, "websocket closed by the server");
            close(w->fd);
            w->fd = -1;
            goto out;
        } else if (op == 0x0 || op == 0x1 || op == 0x2) {
            acc = mem_realloc(acc, acc_len + plen + 1);
            memcpy(acc + acc_len, w->rx + h, plen);
            acc_len += plen;
            if (fin) {
                wsc_consume(w, h + plen);
                acc[acc_len] = '\0';
                *msg = (char *)acc;
                *len = acc_len;
                acc = NULL;
                rc = 0;
                goto out;
            }
        } /* pong and unknown control frames are ignored */
        wsc_consume(w, h + plen);
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
        wsc_send_frame(w, 0x8, code, 2, &ignored);
        close(w->fd);
    }
    free(w->rx);
    memset(w, 0, sizeof(*w));
    w->fd = -1;
}
