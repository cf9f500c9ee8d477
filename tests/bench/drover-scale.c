/*
 * drover-scale: many concurrent agent connections heartbeating against droverd (issue 7, scale).
 *
 * One thread, epoll, raw non-blocking sockets, so 10,000 connections cost this process a few MB
 * and little CPU (a thread or a libcurl handle per agent, as drover-bench does, would not scale).
 * A fraction --ws of the connections are WebSockets (GET /ws, subprotocol mcp; initialize, then
 * tools/call heartbeat as one text frame every interval); the rest are HTTP/1.1 keep-alive
 * connections sending the seed endpoint POST /heartbeat every interval. Connection i sends at
 * start + k * interval + i * interval / N, so the load is spread evenly over each interval.
 * A connection whose previous heartbeat is still unanswered when its turn comes skips that turn
 * (counted as "late"), as a real agent's single in-flight request would.
 *
 *   drover-scale --host 127.0.0.1 --port P --tokens F --conns N [--ws FRACTION]
 *                --interval S --seconds S [--ramp-max M]
 *
 * --tokens F: "AGENT_ID TOKEN" per line (as for drover-bench); connection i uses line i mod lines.
 * Prints progress on stderr and one JSON line on stdout: connections opened/failed/closed by the
 * server, heartbeats sent/ok/failed/late, heartbeats/s, latency p50/p99/max (ms), client CPU.
 * Exit status 1 if fewer than all N connections were established or any heartbeat failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum scale_state { SC_NONE, SC_CONNECTING, SC_UPGRADE, SC_INIT, SC_IDLE, SC_WAIT, SC_DEAD };

struct scale_conn {
    int fd;
    bool ws;
    enum scale_state st;
    int tok;
    double sent_at;
    char *rbuf;
    size_t rlen, rcap;
};

struct scale_tok {
    char agent[64], token[128];
};

static struct scale_conn *scale_c;
static struct scale_tok *scale_t;
static int scale_ntok;
static double *scale_lat;
static long scale_nlat, scale_caplat;
static long scale_sent, scale_ok, scale_fail, scale_late, scale_closed, scale_closed_ws,
    scale_connfail;
static int scale_ep;

static double scale_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double scale_cpu(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int scale_load_tokens(const char *path)
{
    FILE *f = fopen(path, "r");
    int cap = 0;

    if (!f) {
        perror(path);
        return -1;
    }
    for (;;) {
        struct scale_tok t;
        if (fscanf(f, "%63s %127s", t.agent, t.token) != 2)
            break;
        if (scale_ntok == cap) {
            cap = cap ? cap * 2 : 1024;
            scale_t = realloc(scale_t, (size_t)cap * sizeof(*scale_t));
            if (!scale_t)
                abort();
        }
        scale_t[scale_ntok++] = t;
    }
    fclose(f);
    return scale_ntok > 0 ? 0 : -1;
}

/* Best effort: a short write of a small request on a fresh socket buffer does not happen in
 * practice; treat it as a failure of that connection rather than buffering. */
static int scale_send(struct scale_conn *c, const char *p, size_t n)
{
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

    return w == (ssize_t)n ? 0 : -1;
}

/* A masked text frame (mask key 0: the payload goes as is, which RFC 6455 allows). */
static int scale_ws_send(struct scale_conn *c, const char *msg)
{
    char f[1024];
    size_t n = strlen(msg), h;

    f[0] = (char)0x81;
    if (n < 126) {
        f[1] = (char)(0x80 | n);
        h = 2;
    } else {
        f[1] = (char)(0x80 | 126);
        f[2] = (char)(n >> 8);
        f[3] = (char)(n & 0xff);
        h = 4;
    }
    memset(f + h, 0, 4);
    h += 4;
    if (h + n > sizeof(f))
        return -1;
    memcpy(f + h, msg, n);
    return scale_send(c, f, h + n);
}

static int scale_heartbeat(struct scale_conn *c, long id)
{
    char req[1024];
    int n;

    if (c->ws) {
        snprintf(req, sizeof(req),
                 "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"tools/call\",\"params\":{\"name\":"
                 "\"heartbeat\",\"arguments\":{\"status\":\"idle\"}}}",
                 id);
        return scale_ws_send(c, req);
    }
    char body[160];
    snprintf(body, sizeof(body), "{\"agentId\":\"%s\",\"status\":\"idle\"}", scale_t[c->tok].agent);
    n = snprintf(
        req, sizeof(req),
        "POST /heartbeat HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
        "X-Agent-ID: %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
        scale_t[c->tok].token, scale_t[c->tok].agent, strlen(body), body);
    return scale_send(c, req, (size_t)n);
}

static void scale_kill(struct scale_conn *c, bool by_server)
{
    if (c->st == SC_DEAD)
        return;
    if (c->st == SC_WAIT)
        scale_fail++;
    if (by_server) {
        scale_closed++;
        scale_closed_ws += c->ws;
    } else if (c->st == SC_CONNECTING || c->st == SC_UPGRADE || c->st == SC_INIT)
        scale_connfail++;
    epoll_ctl(scale_ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->st = SC_DEAD;
}

static void scale_record(double ms)
{
    if (scale_nlat == scale_caplat) {
        scale_caplat = scale_caplat ? scale_caplat * 2 : 65536;
        scale_lat = realloc(scale_lat, (size_t)scale_caplat * sizeof(double));
        if (!scale_lat)
            abort();
    }
    scale_lat[scale_nlat++] = ms;
}

/* One complete HTTP response at the start of rbuf? Returns its length (0 = not yet), sets *st. */
static size_t scale_http_msg(struct scale_conn *c, int *status)
{
    char *end, *cl;
    size_t hl, bl = 0;

    if (c->rlen < 12)
        return 0;
    c->rbuf[c->rlen] = 0;
    end = strstr(c->rbuf, "\r\n\r\n");
    if (!end)
        return 0;
    hl = (size_t)(end - c->rbuf) + 4;
    *status = atoi(c->rbuf + 9);
    for (cl = c->rbuf; (cl = strchr(cl, '\n')) && cl < end; cl++) {
        if (strncasecmp(cl + 1, "content-length:", 15) == 0)
            bl = strtoul(cl + 16, NULL, 10);
        else if (strncasecmp(cl + 1, "transfer-encoding: chunked", 26) == 0) {
            char *z = strstr(end, "\r\n0\r\n\r\n");
            return z ? (size_t)(z - c->rbuf) + 7 : 0;
        }
    }
    return c->rlen >= hl + bl ? hl + bl : 0;
}

/* One complete server frame at the start of rbuf? Returns its length, sets opcode and payload. */
static size_t scale_ws_msg(struct scale_conn *c, int *op, const char **pl, size_t *pn)
{
    const unsigned char *b = (const unsigned char *)c->rbuf;
    size_t n, h = 2;

    if (c->rlen < 2)
        return 0;
    *op = b[0] & 0x0f;
    n = b[1] & 0x7f;
    if (n == 126) {
        if (c->rlen < 4)
            return 0;
        n = ((size_t)b[2] << 8) | b[3];
        h = 4;
    } else if (n == 127) {
        if (c->rlen < 10)
            return 0;
        n = 0;
        for (int i = 0; i < 8; i++)
            n = (n << 8) | b[2 + i];
        h = 10;
    }
    if (c->rlen < h + n)
        return 0;
    *pl = c->rbuf + h;
    *pn = n;
    return h + n;
}

static void scale_consume(struct scale_conn *c, size_t n)
{
    memmove(c->rbuf, c->rbuf + n, c->rlen - n);
    c->rlen -= n;
}

static void scale_readable(struct scale_conn *c, double now)
{
    for (;;) {
        if (c->rcap - c->rlen < 4096) {
            c->rcap = c->rcap ? c->rcap * 2 : 8192;
            c->rbuf = realloc(c->rbuf, c->rcap + 1);
            if (!c->rbuf)
                abort();
        }
        ssize_t r = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
        if (r == 0) {
            scale_kill(c, true);
            return;
        }
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            scale_kill(c, true);
            return;
        }
        c->rlen += (size_t)r;
    }
    for (;;) {
        size_t n;
        int status = 0, op = 0;
        const char *pl = NULL;
        size_t pn = 0;

        if (c->st == SC_UPGRADE) {
            if (!(n = scale_http_msg(c, &status)))
                return;
            if (status != 101) {
                fprintf(stderr, "drover-scale: /ws upgrade refused: HTTP %d\n", status);
                scale_kill(c, false);
                return;
            }
            scale_consume(c, n);
            c->st = SC_INIT;
            if (scale_ws_send(
                    c, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{"
                       "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
                       "\"clientInfo\":{\"name\":\"drover-scale\",\"version\":\"1\"}}}") < 0) {
                scale_kill(c, false);
                return;
            }
            continue;
        }
        if (c->ws) {
            if (!(n = scale_ws_msg(c, &op, &pl, &pn)))
                return;
            bool bad = op == 1 &&
                       (memmem(pl, pn, "\"error\"", 7) || memmem(pl, pn, "\"isError\":true", 14));
            if (bad && scale_fail < 5) /* before the payload is consumed */
                fprintf(stderr, "drover-scale: ws error reply: %.*s\n", (int)(pn < 200 ? pn : 200),
                        pl);
            scale_consume(c, n);
            if (op == 8) {
                scale_kill(c, true);
                return;
            }
            if (op == 9) { /* lws pings idle WebSockets: answer as a real client does */
                static const char pong[6] = {(char)0x8a, (char)0x80, 0, 0, 0, 0};
                if (scale_send(c, pong, sizeof(pong)) < 0) {
                    scale_kill(c, true);
                    return;
                }
            }
            if (op != 1)
                continue; /* ping/pong */
            if (c->st == SC_INIT) {
                if (bad) {
                    scale_kill(c, false);
                    return;
                }
                c->st = SC_IDLE;
            } else if (c->st == SC_WAIT) {
                if (bad) {
                    scale_fail++;
                } else {
                    scale_ok++;
                    scale_record((now - c->sent_at) * 1000);
                }
                c->st = SC_IDLE;
            }
            continue;
        }
        if (!(n = scale_http_msg(c, &status)))
            return;
        if (c->st == SC_WAIT) {
            if (status == 200) {
                scale_ok++;
                scale_record((now - c->sent_at) * 1000);
            } else {
                if (scale_fail < 5)
                    fprintf(stderr, "drover-scale: heartbeat HTTP %d: %.200s\n", status, c->rbuf);
                scale_fail++;
            }
            c->st = SC_IDLE;
        }
        scale_consume(c, n);
    }
}

static void scale_connected(struct scale_conn *c)
{
    int e = 0;
    socklen_t l = sizeof(e);

    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l);
    if (e) {
        if (scale_connfail < 5)
            fprintf(stderr, "drover-scale: connect: %s\n", strerror(e));
        scale_kill(c, false);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(scale_ep, EPOLL_CTL_MOD, c->fd, &ev);
    if (!c->ws) {
        c->st = SC_IDLE;
        return;
    }
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mcp\r\n"
                     "Authorization: Bearer %s\r\nX-Agent-ID: %s\r\n\r\n",
                     scale_t[c->tok].token, scale_t[c->tok].agent);
    c->st = SC_UPGRADE;
    if (scale_send(c, req, (size_t)n) < 0)
        scale_kill(c, false);
}

static int scale_cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static double scale_pct(double p)
{
    if (!scale_nlat)
        return 0;
    long i = (long)(p * (double)(scale_nlat - 1) + 0.5);
    return scale_lat[i];
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"host", required_argument, NULL, 'h'},
                                         {"port", required_argument, NULL, 'p'},
                                         {"tokens", required_argument, NULL, 't'},
                                         {"conns", required_argument, NULL, 'n'},
                                         {"ws", required_argument, NULL, 'w'},
                                         {"interval", required_argument, NULL, 'i'},
                                         {"seconds", required_argument, NULL, 's'},
                                         {"ramp-max", required_argument, NULL, 'r'},
                                         {NULL, 0, NULL, 0}};
    const char *host = "127.0.0.1", *tokens = NULL;
    int port = 0, conns = 100, ramp = 256, opt;
    double wsfrac = 0.5, interval = 1, seconds = 30;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    struct rlimit rl;

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            host = optarg;
            break;
        case 'p':
            port = atoi(optarg);
            break;
        case 't':
            tokens = optarg;
            break;
        case 'n':
            conns = atoi(optarg);
            break;
        case 'w':
            wsfrac = atof(optarg);
            break;
        case 'i':
            interval = atof(optarg);
            break;
        case 's':
            seconds = atof(optarg);
            break;
        case 'r':
            ramp = atoi(optarg);
            break;
        default:
            fprintf(stderr, "usage: drover-scale --port P --tokens F --conns N [--ws FRAC] "
                            "[--interval S] [--seconds S] [--ramp-max M]\n");
            return 2;
        }
    }
    if (port <= 0 || !tokens || conns < 1 || interval <= 0 || seconds <= 0 || ramp < 1 ||
        wsfrac < 0 || wsfrac > 1 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "drover-scale: bad arguments (--port, --tokens, an IPv4 --host)\n");
        return 2;
    }
    sa.sin_port = htons((unsigned short)port);
    if (scale_load_tokens(tokens) < 0) {
        fprintf(stderr, "drover-scale: no tokens in %s\n", tokens);
        return 2;
    }
    /* One descriptor per connection, plus a few. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)conns + 64) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)conns + 64 ? rl.rlim_max : (rlim_t)conns + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    scale_c = calloc((size_t)conns, sizeof(*scale_c));
    scale_ep = epoll_create1(0);
    if (!scale_c || scale_ep < 0)
        return 1;
    int nws = (int)(conns * wsfrac + 0.5);

    /* Ramp up: at most --ramp-max connections (or WebSocket handshakes) in progress at once, so
     * the server's listen backlog is not flooded. */
    double t0 = scale_now();
    int next = 0, pending = 0, estab = 0;
    struct epoll_event evs[512];
    while (next < conns || pending > 0) {
        while (next < conns && pending < ramp) {
            struct scale_conn *c = &scale_c[next];
            /* Spread the WebSockets evenly among the HTTP connections. */
            c->ws = (long)(next + 1) * nws / conns > (long)next * nws / conns;
            c->tok = next % scale_ntok;
            c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            next++;
            if (c->fd < 0) {
                if (scale_connfail < 5)
                    fprintf(stderr, "drover-scale: socket: %s\n", strerror(errno));
                scale_connfail++;
                c->st = SC_DEAD;
                continue;
            }
            int one = 1;
            setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            c->st = SC_CONNECTING;
            if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
                scale_kill(c, false);
                continue;
            }
            struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
            epoll_ctl(scale_ep, EPOLL_CTL_ADD, c->fd, &ev);
            pending++;
        }
        int k = epoll_wait(scale_ep, evs, 512, 100);
        for (int i = 0; i < k; i++) {
            struct scale_conn *c = evs[i].data.ptr;
            enum scale_state before = c->st;
            if (c->st == SC_CONNECTING)
                scale_connected(c);
            else if (c->st != SC_DEAD)
                scale_readable(c, scale_now());
            if (before != SC_IDLE && before != SC_DEAD && (c->st == SC_IDLE || c->st == SC_DEAD))
                pending--;
            if (before != SC_IDLE && c->st == SC_IDLE)
                estab++;
        }
        if (scale_now() - t0 > 120) {
            fprintf(stderr, "drover-scale: ramp-up did not finish in 120 s\n");
            break;
        }
    }
    double ramp_s = scale_now() - t0;
    fprintf(stderr, "drover-scale: %d of %d connections up (%d WebSocket) in %.1f s\n", estab,
            conns, nws, ramp_s);

    /* Steady state: connection i heartbeats at start + k * interval + i * interval / conns. */
    double start = scale_now(), end = start + seconds, c0 = scale_cpu(), last = start;
    long long turn = 0;
    for (;;) {
        double now = scale_now();
        if (now >= end)
            break;
        while (start + (double)(turn / conns) * interval +
                   (double)(turn % conns) * interval / conns <=
               now) {
            struct scale_conn *c = &scale_c[turn % conns];
            if (c->st == SC_IDLE) {
                c->sent_at = now;
                c->st = SC_WAIT;
                scale_sent++;
                if (scale_heartbeat(c, (long)(turn / conns) + 1) < 0)
                    scale_kill(c, true);
            } else if (c->st == SC_WAIT) {
                scale_late++;
            }
            turn++;
        }
        int k = epoll_wait(scale_ep, evs, 512, 2);
        now = scale_now();
        for (int i = 0; i < k; i++) {
            struct scale_conn *c = evs[i].data.ptr;
            if (c->st != SC_DEAD)
                scale_readable(c, now);
        }
        if (now - last >= 10) {
            last = now;
            fprintf(stderr,
                    "drover-scale: t=%.0fs sent %ld ok %ld failed %ld late %ld closed %ld\n",
                    now - start, scale_sent, scale_ok, scale_fail, scale_late, scale_closed);
        }
    }
    /* Let the heartbeats in flight come back (up to 5 s) so they count as answered. */
    double drain_end = scale_now() + 5;
    for (;;) {
        int inflight = 0;
        for (int i = 0; i < conns; i++)
            inflight += scale_c[i].st == SC_WAIT;
        if (!inflight || scale_now() >= drain_end)
            break;
        int k = epoll_wait(scale_ep, evs, 512, 50);
        for (int i = 0; i < k; i++) {
            struct scale_conn *c = evs[i].data.ptr;
            if (c->st != SC_DEAD)
                scale_readable(c, scale_now());
        }
    }
    double cpu = scale_cpu() - c0;
    long open_at_end = 0, unanswered = 0;
    for (int i = 0; i < conns; i++) {
        open_at_end += scale_c[i].st == SC_IDLE || scale_c[i].st == SC_WAIT;
        unanswered += scale_c[i].st == SC_WAIT;
    }
    qsort(scale_lat, (size_t)scale_nlat, sizeof(double), scale_cmp);
    printf("{\"conns\":%d,\"ws_conns\":%d,\"established\":%d,\"connect_failed\":%ld,"
           "\"open_at_end\":%ld,\"closed_by_server\":%ld,\"closed_ws\":%ld,\"ramp_s\":%.2f,"
           "\"interval_s\":%g,"
           "\"seconds\":%g,\"heartbeats_sent\":%ld,\"heartbeats_ok\":%ld,\"heartbeats_failed\":%ld,"
           "\"unanswered\":%ld,\"late\":%ld,\"heartbeats_per_s\":%.1f,\"hb_p50_ms\":%.3f,"
           "\"hb_p99_ms\":%.3f,\"hb_max_ms\":%.3f,\"client_cpu_s\":%.2f}\n",
           conns, nws, estab, scale_connfail, open_at_end, scale_closed, scale_closed_ws, ramp_s,
           interval, seconds, scale_sent, scale_ok, scale_fail, unanswered, scale_late,
           (double)scale_ok / seconds, scale_pct(0.5), scale_pct(0.99),
           scale_nlat ? scale_lat[scale_nlat - 1] : 0, cpu);
    for (int i = 0; i < conns; i++)
        if (scale_c[i].st != SC_DEAD)
            close(scale_c[i].fd);
    return estab == conns && scale_fail == 0 && unanswered == 0 ? 0 : 1;
}
