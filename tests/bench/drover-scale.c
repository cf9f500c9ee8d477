/*
 * drover-scale: many concurrent agents against droverd (issue 7, scale).
 *
 * One thread, epoll, raw non-blocking sockets, so 10,000 agents cost this process a few MB and
 * little CPU (a thread or a libcurl handle per agent, as drover-bench does, would not scale).
 * A fraction --ws of the agents use a WebSocket (GET /ws, subprotocol mcp; initialize, then
 * tools/call heartbeat as one text frame every interval); the rest use HTTP/1.1 keep-alive
 * connections sending the seed endpoint POST /heartbeat every interval. Agent i beats at
 * start + k * interval + i * interval / N, so the load is spread evenly over each interval.
 * An agent whose previous heartbeat is still unanswered when its turn comes skips that turn
 * (counted as "late"), as a real agent's single in-flight request would.
 *
 * With --poll W every agent also holds a get_next_task long-poll (wait_seconds W) all the time,
 * as an idle drover-agent does: a WebSocket agent multiplexes it with its heartbeats on its one
 * connection (JSON-RPC ids tell the replies apart); an HTTP agent holds it on a second
 * keep-alive connection with its own MCP session (POST /mcp initialize, then tools/call), as
 * drover-agent's poll and heartbeat clients do. An empty answer ({task:null} at the deadline)
 * is re-polled at once; a refused one after drover-agent's back-off (1 s doubling to 30 s). The
 * polls start spread over the first W seconds, as agents started at different times would. With
 * --tasks-per-s R (and the PG* environment pointing at droverd's database) tasks are inserted at
 * that rate during the run (titles scale-task-<n>); the agent whose held poll gets one completes it
 * (update_task_status completed) and polls again. Claim latency = the INSERT's commit to the task
 * arriving in an agent's poll answer.
 *
 *   drover-scale --host 127.0.0.1 --port P --tokens F --conns N [--ws FRACTION]
 *                --interval S --seconds S [--ramp-max M] [--poll W [--tasks-per-s R]]
 *
 * --tokens F: "AGENT_ID TOKEN" per line (as for drover-bench); agent i uses line i mod lines.
 * --conns N is the number of agents; with --poll an HTTP agent has two connections.
 * Prints progress on stderr and one JSON line on stdout: agents and connections opened/failed/
 * closed by the server, heartbeats sent/ok/failed/late, heartbeats/s, latency p50/p99/max (ms),
 * polls held at the end, polls answered empty/refused, tasks inserted/claimed/completed/claimed
 * twice, claim latency p50/p99/max (ms), client CPU.
 * Exit status 1 if fewer than all connections were established, any heartbeat or poll failed,
 * or any inserted task was not claimed exactly once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libpq-fe.h>
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

#include "core/clock.h"
#include "loadgen.h"
#include "wsframe.h"

/* One fixed Sec-WebSocket-Key for every connection: randomness buys a load generator nothing. */
#define SCALE_WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="

enum scale_state { SC_NONE, SC_CONNECTING, SC_UPGRADE, SC_INIT, SC_IDLE, SC_WAIT, SC_DEAD };

/* The long-poll side of an agent (on its WebSocket, or on an HTTP agent's second connection). */
enum scale_poll { PO_NONE, PO_HELD, PO_UPDATE, PO_BACKOFF };

/* JSON-RPC ids on a WebSocket: heartbeats count up from 1, polls and updates above these. */
#define SCALE_ID_POLL 1000000000LL
#define SCALE_ID_UPDATE 2000000000LL

struct scale_conn {
    int fd;
    bool ws;
    bool poller; /* an HTTP agent's long-poll connection (no heartbeats on it) */
    enum scale_state st;
    int tok;
    int poll;       /* index of the connection holding this agent's poll (itself for ws) */
    double sent_at; /* heartbeat in flight since */
    enum scale_poll pst;
    double poll_at; /* PO_BACKOFF: when to poll again */
    int backoff;    /* seconds before the next retry after a refusal (drover-agent's 1..30) */
    char sid[128];  /* HTTP poller: Mcp-Session-Id */
    char *rbuf;
    size_t rlen, rcap;
};

struct scale_tok {
    char agent[64], token[128];
};

struct scale_lat {
    double *v;
    long n, cap;
};

static struct scale_conn *scale_c;
static struct scale_tok *scale_t;
static int scale_ntok, scale_nconns;
static struct scale_lat scale_hb, scale_claim;
static long scale_sent, scale_ok, scale_fail, scale_late, scale_closed, scale_closed_ws,
    scale_connfail;
static long scale_polls, scale_polls_null, scale_polls_refused, scale_updates_failed;
static long long scale_next_id = 1;
static int scale_poll_wait;         /* --poll: wait_seconds; 0 = no long-polls */
static double *scale_ins_at;        /* task n: when its INSERT committed */
static unsigned char *scale_claims; /* task n: how many times it was handed out (0..255) */
static long scale_ntasks, scale_captasks, scale_claimed, scale_completed, scale_dup;
static int scale_ep;

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
    static const unsigned char mask[4] = {0, 0, 0, 0};
    unsigned char f[1024];
    size_t n = strlen(msg), h;

    if (n + WSFRAME_HEADER_MAX > sizeof(f))
        return -1;
    h = wsframe_header(f, WSFRAME_TEXT, true, n, mask);
    memcpy(f + h, msg, n);
    return scale_send(c, (const char *)f, h + n);
}

/* One JSON-RPC request to MCP: a ws text frame, or POST /mcp on an HTTP poller. */
static int scale_rpc(struct scale_conn *c, const char *msg)
{
    char req[2048];
    const struct scale_tok *t = &scale_t[c->tok];
    int n;

    if (c->ws)
        return scale_ws_send(c, msg);
    n = snprintf(req, sizeof(req),
                 "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                 "X-Agent-ID: %s\r\nContent-Type: application/json\r\n"
                 "Accept: application/json, text/event-stream\r\n"
                 "MCP-Protocol-Version: 2025-11-25\r\n%s%s%sContent-Length: %zu\r\n\r\n%s",
                 t->token, t->agent, c->sid[0] ? "Mcp-Session-Id: " : "", c->sid,
                 c->sid[0] ? "\r\n" : "", strlen(msg), msg);
    if (n < 0 || (size_t)n >= sizeof(req))
        return -1;
    return scale_send(c, req, (size_t)n);
}

static const char scale_init_msg[] =
    "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{"
    "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
    "\"clientInfo\":{\"name\":\"drover-scale\",\"version\":\"1\"}}}";

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
    c->pst = PO_NONE;
}

static void scale_record(struct scale_lat *l, double ms)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 65536;
        l->v = realloc(l->v, (size_t)l->cap * sizeof(double));
        if (!l->v)
            abort();
    }
    l->v[l->n++] = ms;
}

/* Send get_next_task on the agent's poll connection. */
static void scale_poll_send(struct scale_conn *c)
{
    char msg[256];

    snprintf(msg, sizeof(msg),
             "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"get_next_task\",\"arguments\":{\"wait_seconds\":%d}}}",
             SCALE_ID_POLL + scale_next_id++, scale_poll_wait);
    scale_polls++;
    c->pst = PO_HELD;
    if (scale_rpc(c, msg) < 0)
        scale_kill(c, true);
}

/* After a refusal ("server busy") wait as drover-agent does, 1 s doubling to 30 s, with 20 %
 * jitter so that refused agents do not come back in step. */
static void scale_poll_backoff(struct scale_conn *c, double now)
{
    c->backoff = c->backoff ? (c->backoff * 2 > 30 ? 30 : c->backoff * 2) : 1;
    c->pst = PO_BACKOFF;
    c->poll_at = now + c->backoff * (0.8 + 0.4 * (double)rand() / RAND_MAX);
}

/* A reply to get_next_task: a task (complete it), none (poll again) or a refusal (back off). */
static void scale_poll_reply(struct scale_conn *c, const json_t *msg, int status, double now)
{
    const json_t *res = json_object_get(msg, "result");
    const json_t *task = json_object_get(json_object_get(res, "structuredContent"), "task");
    const char *title = json_string_value(json_object_get(task, "title"));
    char upd[320];
    long n;

    if (status != 200 || !json_is_object(res) || json_is_true(json_object_get(res, "isError"))) {
        if (scale_polls_refused++ < 5) {
            char *txt = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
            fprintf(stderr, "drover-scale: get_next_task refused (HTTP %d): %.200s\n", status,
                    txt ? txt : "(no JSON body)");
            free(txt);
        }
        scale_poll_backoff(c, now);
        return;
    }
    c->backoff = 0;
    if (!json_is_object(task)) {
        scale_polls_null++;
        scale_poll_send(c);
        return;
    }
    if (title && sscanf(title, "scale-task-%ld", &n) == 1 && n >= 0 && n < scale_ntasks) {
        if (scale_claims[n]++ == 0) {
            scale_claimed++;
            scale_record(&scale_claim, (now - scale_ins_at[n]) * 1000);
        } else {
            scale_dup++;
        }
    }
    snprintf(upd, sizeof(upd),
             "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"update_task_status\",\"arguments\":{\"task_id\":%lld,\"lease_epoch\":%lld,"
             "\"status\":\"completed\"}}}",
             SCALE_ID_UPDATE + scale_next_id++,
             (long long)json_integer_value(json_object_get(task, "id")),
             (long long)json_integer_value(json_object_get(task, "lease_epoch")));
    c->pst = PO_UPDATE;
    if (scale_rpc(c, upd) < 0)
        scale_kill(c, true);
}

static void scale_update_reply(struct scale_conn *c, const json_t *msg, int status, double now)
{
    const json_t *res = json_object_get(msg, "result");

    if (status != 200 || !json_is_object(res) || json_is_true(json_object_get(res, "isError"))) {
        if (scale_updates_failed++ < 5)
            fprintf(stderr, "drover-scale: update_task_status failed (HTTP %d)\n", status);
        scale_poll_backoff(c, now);
        return;
    }
    scale_completed++;
    scale_poll_send(c);
}

/* One complete HTTP response at the start of rbuf? Returns its length (0 = not yet), sets *st
 * and the length of the header block. */
static size_t scale_http_msg(struct scale_conn *c, int *status, size_t *hlen)
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
    *hlen = hl;
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

/* The value of header `name` ("mcp-session-id") in the response at the start of rbuf. */
static void scale_http_header(const struct scale_conn *c, size_t hl, const char *name, char *out,
                              size_t outsz)
{
    size_t nl = strlen(name);

    out[0] = 0;
    for (const char *p = c->rbuf; (p = memchr(p, '\n', hl - (size_t)(p - c->rbuf))); p++) {
        if ((size_t)(p + 1 - c->rbuf) + nl + 1 < hl && strncasecmp(p + 1, name, nl) == 0 &&
            p[1 + nl] == ':') {
            const char *v = p + 2 + nl;
            size_t n = 0;
            while (*v == ' ')
                v++;
            while (v[n] && v[n] != '\r' && n + 1 < outsz)
                n++;
            memcpy(out, v, n);
            out[n] = 0;
            return;
        }
    }
}

/* One complete server frame at the start of rbuf? Returns its length, sets opcode and payload. */
static size_t scale_ws_msg(struct scale_conn *c, int *op, const char **pl, size_t *pn)
{
    struct wsframe f;

    if (wsframe_parse((const unsigned char *)c->rbuf, c->rlen, &f) != 1 ||
        c->rlen < f.header_len + f.payload_len)
        return 0;
    *op = f.opcode;
    *pl = c->rbuf + f.header_len;
    *pn = (size_t)f.payload_len;
    return f.header_len + (size_t)f.payload_len;
}

static void scale_consume(struct scale_conn *c, size_t n)
{
    memmove(c->rbuf, c->rbuf + n, c->rlen - n);
    c->rlen -= n;
}

/* A WebSocket text message: the initialize answer, a heartbeat's, or a poll's/update's. */
static void scale_ws_text(struct scale_conn *c, const char *pl, size_t pn, double now)
{
    bool bad = memmem(pl, pn, "\"error\"", 7) || memmem(pl, pn, "\"isError\":true", 14);
    json_t *msg = NULL;
    long long id;

    if (c->st == SC_INIT) {
        if (bad) {
            scale_kill(c, false);
            return;
        }
        c->st = SC_IDLE;
        return;
    }
    if (scale_poll_wait > 0) {
        msg = json_loadb(pl, pn, 0, NULL);
        id = json_integer_value(json_object_get(msg, "id"));
        if (id >= SCALE_ID_UPDATE) {
            scale_update_reply(c, msg, 200, now);
            json_decref(msg);
            return;
        }
        if (id >= SCALE_ID_POLL) {
            scale_poll_reply(c, msg, 200, now);
            json_decref(msg);
            return;
        }
        json_decref(msg);
    }
    if (c->st == SC_WAIT) {
        if (bad) {
            if (scale_fail < 5)
                fprintf(stderr, "drover-scale: ws error reply: %.*s\n", (int)(pn < 200 ? pn : 200),
                        pl);
            scale_fail++;
        } else {
            scale_ok++;
            scale_record(&scale_hb, (now - c->sent_at) * 1000);
        }
        c->st = SC_IDLE;
    }
}

/* An HTTP poller's response: initialize (keep the session), or a poll's/update's. */
static void scale_poller_http(struct scale_conn *c, int status, size_t hl, size_t n, double now)
{
    json_t *msg = json_loadb(c->rbuf + hl, n - hl, 0, NULL);

    if (c->st == SC_INIT) {
        scale_http_header(c, hl, "mcp-session-id", c->sid, sizeof(c->sid));
        if (status != 200 || !c->sid[0]) {
            fprintf(stderr, "drover-scale: /mcp initialize refused: HTTP %d\n", status);
            scale_kill(c, false);
        } else {
            c->st = SC_IDLE;
        }
    } else if (c->pst == PO_UPDATE) {
        scale_update_reply(c, msg, status, now);
    } else if (c->pst == PO_HELD) {
        scale_poll_reply(c, msg, status, now);
    }
    json_decref(msg);
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
    while (c->st != SC_DEAD) {
        size_t n, hl = 0;
        int status = 0, op = 0;
        const char *pl = NULL;
        size_t pn = 0;

        if (c->st == SC_UPGRADE) {
            bool accepted = false;
            long head = wsframe_response(c->rbuf, c->rlen, SCALE_WS_KEY, &status, &accepted);

            if (head == 0)
                return;
            n = head > 0 ? (size_t)head : c->rlen;
            if (!accepted) {
                fprintf(stderr, "drover-scale: /ws upgrade refused: HTTP %d\n", status);
                scale_kill(c, false);
                return;
            }
            scale_consume(c, n);
            c->st = SC_INIT;
            if (scale_ws_send(c, scale_init_msg) < 0) {
                scale_kill(c, false);
                return;
            }
            continue;
        }
        if (c->ws) {
            if (!(n = scale_ws_msg(c, &op, &pl, &pn)))
                return;
            if (op == WSFRAME_TEXT)
                scale_ws_text(c, pl, pn, now); /* before the payload is consumed */
            scale_consume(c, n);
            if (op == WSFRAME_CLOSE) {
                scale_kill(c, true);
                return;
            }
            if (op == WSFRAME_PING) { /* lws pings idle WebSockets: answer as a real client does */
                static const unsigned char zero[4] = {0, 0, 0, 0};
                unsigned char pong[WSFRAME_HEADER_MAX];
                size_t pl_n = wsframe_header(pong, WSFRAME_PONG, true, 0, zero);

                if (scale_send(c, (const char *)pong, pl_n) < 0) {
                    scale_kill(c, true);
                    return;
                }
            }
            continue;
        }
        if (!(n = scale_http_msg(c, &status, &hl)))
            return;
        if (c->poller) {
            scale_poller_http(c, status, hl, n, now);
        } else if (c->st == SC_WAIT) {
            if (status == 200) {
                scale_ok++;
                scale_record(&scale_hb, (now - c->sent_at) * 1000);
            } else {
                if (scale_fail < 5)
                    fprintf(stderr, "drover-scale: heartbeat HTTP %d: %.200s\n", status, c->rbuf);
                scale_fail++;
            }
            c->st = SC_IDLE;
        }
        if (c->st != SC_DEAD)
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
    if (c->poller) { /* an MCP session first */
        c->st = SC_INIT;
        if (scale_rpc(c, scale_init_msg) < 0)
            scale_kill(c, false);
        return;
    }
    if (!c->ws) {
        c->st = SC_IDLE;
        return;
    }
    char auth[sizeof(scale_t[0].token) + 32], agent[sizeof(scale_t[0].agent) + 16], *req;
    const char *hdrs[] = {auth, agent, NULL};

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", scale_t[c->tok].token);
    snprintf(agent, sizeof(agent), "X-Agent-ID: %s", scale_t[c->tok].agent);
    req = wsframe_request("/ws", "127.0.0.1", SCALE_WS_KEY, "mcp", hdrs);
    c->st = SC_UPGRADE;
    if (scale_send(c, req, strlen(req)) < 0)
        scale_kill(c, false);
    free(req);
}

static double scale_pct(const struct scale_lat *l, double p)
{
    if (!l->n)
        return 0;
    long i = (long)(p * (double)(l->n - 1) + 0.5);
    return l->v[i];
}

static void scale_events(struct epoll_event *evs, int k)
{
    double now = clock_s();

    for (int i = 0; i < k; i++) {
        struct scale_conn *c = evs[i].data.ptr;
        if (c->st != SC_DEAD)
            scale_readable(c, now);
    }
}

/* Insert task n; its commit time is when claim latency starts. */
static int scale_insert(PGconn *pg, long n)
{
    char title[64];
    const char *params[1] = {title};
    PGresult *r;
    int rc;

    snprintf(title, sizeof(title), "scale-task-%ld", n);
    r = PQexecParams(pg,
                     "INSERT INTO tasks (title, description, repo_url) VALUES ($1, 'drover-scale', "
                     "'https://git.example/scale.git')",
                     1, NULL, params, NULL, NULL, 0);
    rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc < 0)
        fprintf(stderr, "drover-scale: insert: %s", PQerrorMessage(pg));
    PQclear(r);
    scale_ins_at[n] = clock_s();
    return rc;
}

static long scale_count_polls(enum scale_poll st)
{
    long n = 0;

    for (int i = 0; i < scale_nconns; i++)
        n += scale_c[i].st != SC_DEAD && scale_c[i].pst == st;
    return n;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *tokens = NULL;
    int port = 0, conns = 100, ramp = 256;
    double wsfrac = 0.5, interval = 1, seconds = 30, tps = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    struct rlimit rl;
    PGconn *pg = NULL;
    const struct loadgen_opt opts[] = {
        {"host", LOADGEN_STR, &host, NULL, 0},
        {"port", LOADGEN_INT, &port, NULL, 0},
        {"tokens", LOADGEN_STR, &tokens, NULL, 0},
        {"conns", LOADGEN_INT, &conns, NULL, 0},
        {"ws", LOADGEN_DOUBLE, &wsfrac, NULL, 0},
        {"interval", LOADGEN_DOUBLE, &interval, NULL, 0},
        {"seconds", LOADGEN_DOUBLE, &seconds, NULL, 0},
        {"ramp-max", LOADGEN_INT, &ramp, NULL, 0},
        {"poll", LOADGEN_INT, &scale_poll_wait, NULL, 0},
        {"tasks-per-s", LOADGEN_DOUBLE, &tps, NULL, 0},
        {NULL, 0, NULL, NULL, 0},
    };

    if (loadgen_parse(argc, argv, 1, opts) != 0) {
        fprintf(stderr, "usage: drover-scale --port P --tokens F --conns N [--ws FRAC] "
                        "[--interval S] [--seconds S] [--ramp-max M] [--poll W "
                        "[--tasks-per-s R]]\n");
        return 2;
    }
    if (port <= 0 || !tokens || conns < 1 || interval <= 0 || seconds <= 0 || ramp < 1 ||
        wsfrac < 0 || wsfrac > 1 || scale_poll_wait < 0 || tps < 0 ||
        (tps > 0 && scale_poll_wait == 0) || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "drover-scale: bad arguments (--port, --tokens, an IPv4 --host; "
                        "--tasks-per-s needs --poll)\n");
        return 2;
    }
    sa.sin_port = htons((unsigned short)port);
    if (scale_load_tokens(tokens) < 0) {
        fprintf(stderr, "drover-scale: no tokens in %s\n", tokens);
        return 2;
    }
    if (tps > 0) {
        pg = PQconnectdb(""); /* the PG* environment: droverd's database */
        if (PQstatus(pg) != CONNECTION_OK) {
            fprintf(stderr, "drover-scale: database: %s", PQerrorMessage(pg));
            PQfinish(pg);
            return 2;
        }
        scale_captasks = (long)(tps * seconds) + 1;
        scale_ins_at = calloc((size_t)scale_captasks, sizeof(double));
        scale_claims = calloc((size_t)scale_captasks, 1);
        if (!scale_ins_at || !scale_claims)
            abort();
    }
    int nws = (int)(conns * wsfrac + 0.5);
    int nhttp = conns - nws;
    scale_nconns = conns + (scale_poll_wait > 0 ? nhttp : 0);
    /* One descriptor per connection, plus a few. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)scale_nconns + 64) {
        rl.rlim_cur =
            rl.rlim_max < (rlim_t)scale_nconns + 64 ? rl.rlim_max : (rlim_t)scale_nconns + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    scale_c = calloc((size_t)scale_nconns, sizeof(*scale_c));
    scale_ep = epoll_create1(0);
    if (!scale_c || scale_ep < 0)
        return 1;
    /* Agents 0..conns-1 own connections 0..conns-1 (their WebSocket or heartbeat connection);
     * with --poll each HTTP agent's poller follows at conns + k. WebSockets are spread evenly
     * among the HTTP agents. */
    for (int i = 0, k = conns; i < conns; i++) {
        struct scale_conn *c = &scale_c[i];
        c->ws = (long)(i + 1) * nws / conns > (long)i * nws / conns;
        c->tok = i % scale_ntok;
        c->poll = i;
        if (!c->ws && scale_poll_wait > 0) {
            c->poll = k;
            scale_c[k].poller = true;
            scale_c[k].tok = c->tok;
            scale_c[k].poll = k;
            k++;
        }
    }

    /* Ramp up: at most --ramp-max connections (or handshakes) in progress at once, so the
     * server's listen backlog is not flooded. */
    double t0 = clock_s();
    int next = 0, pending = 0, estab = 0;
    struct epoll_event evs[512];
    while (next < scale_nconns || pending > 0) {
        while (next < scale_nconns && pending < ramp) {
            struct scale_conn *c = &scale_c[next];
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
                scale_readable(c, clock_s());
            if (before != SC_IDLE && before != SC_DEAD && (c->st == SC_IDLE || c->st == SC_DEAD))
                pending--;
            if (before != SC_IDLE && c->st == SC_IDLE)
                estab++;
        }
        if (clock_s() - t0 > 120) {
            fprintf(stderr, "drover-scale: ramp-up did not finish in 120 s\n");
            break;
        }
    }
    double ramp_s = clock_s() - t0;
    fprintf(stderr, "drover-scale: %d of %d connections up (%d agents, %d WebSocket) in %.1f s\n",
            estab, scale_nconns, conns, nws, ramp_s);

    /* Steady state: agent i heartbeats at start + k * interval + i * interval / conns, and
     * starts its long-poll at its first turn. Tasks go in at --tasks-per-s until 5 s before
     * the end (so the last ones are claimed within the run). */
    double start = clock_s(), end = start + seconds, c0 = loadgen_cpu_s(), last = start;
    double next_task = start + (tps > 0 ? 1 / tps : 0), last_scan = start;
    long long turn = 0;
    long held_mid = -1;
    int pstart = 0;
    for (;;) {
        double now = clock_s();
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
        /* Polls start spread over the first poll wait, then are held all the time; so the
         * empty answers at the deadline, each followed by a new poll, come evenly too (as from
         * agents that started at different times), not as one burst every wait. */
        while (scale_poll_wait > 0 && pstart < conns &&
               start + (double)pstart * scale_poll_wait / conns <= now) {
            struct scale_conn *pc = &scale_c[scale_c[pstart++].poll];
            if (pc->pst == PO_NONE && (pc->st == SC_IDLE || pc->st == SC_WAIT))
                scale_poll_send(pc);
        }
        while (pg && now >= next_task && now < end - 5 && scale_ntasks < scale_captasks) {
            if (scale_insert(pg, scale_ntasks) == 0)
                scale_ntasks++;
            next_task += 1 / tps;
            now = clock_s();
        }
        if (scale_poll_wait > 0 && now - last_scan >= 0.1) { /* refused polls: retry */
            last_scan = now;
            for (int i = 0; i < scale_nconns; i++)
                if (scale_c[i].pst == PO_BACKOFF && scale_c[i].poll_at <= now &&
                    scale_c[i].st != SC_DEAD)
                    scale_poll_send(&scale_c[i]);
        }
        int k = epoll_wait(scale_ep, evs, 512, 2);
        scale_events(evs, k);
        now = clock_s();
        if (scale_poll_wait > 0 && held_mid < 0 && now - start >= seconds / 2)
            held_mid = scale_count_polls(PO_HELD);
        if (now - last >= 10) {
            last = now;
            long held = scale_poll_wait > 0 ? scale_count_polls(PO_HELD) : 0;
            fprintf(stderr,
                    "drover-scale: t=%.0fs sent %ld ok %ld failed %ld late %ld closed %ld "
                    "polls held %ld refused %ld tasks %ld claimed %ld\n",
                    now - start, scale_sent, scale_ok, scale_fail, scale_late, scale_closed, held,
                    scale_polls_refused, scale_ntasks, scale_claimed);
        }
    }
    long held_end = scale_poll_wait > 0 ? scale_count_polls(PO_HELD) : 0;
    /* Let the heartbeats in flight and the last tasks' hand-overs come back (up to 5 s). */
    double drain_end = clock_s() + 5;
    for (;;) {
        int inflight = 0;
        for (int i = 0; i < conns; i++)
            inflight += scale_c[i].st == SC_WAIT;
        if ((!inflight && scale_claimed >= scale_ntasks) || clock_s() >= drain_end)
            break;
        int k = epoll_wait(scale_ep, evs, 512, 50);
        scale_events(evs, k);
    }
    double cpu = loadgen_cpu_s() - c0;
    long open_at_end = 0, unanswered = 0;
    for (int i = 0; i < scale_nconns; i++) {
        open_at_end += scale_c[i].st == SC_IDLE || scale_c[i].st == SC_WAIT;
        unanswered += scale_c[i].st == SC_WAIT;
    }
    if (scale_hb.n) /* qsort(NULL, 0, ...) is undefined */
        qsort(scale_hb.v, (size_t)scale_hb.n, sizeof(double), loadgen_cmp_double);
    if (scale_claim.n)
        qsort(scale_claim.v, (size_t)scale_claim.n, sizeof(double), loadgen_cmp_double);
    printf("{\"conns\":%d,\"agents\":%d,\"connections\":%d,\"ws_conns\":%d,\"established\":%d,"
           "\"connect_failed\":%ld,\"open_at_end\":%ld,\"closed_by_server\":%ld,\"closed_ws\":%ld,"
           "\"ramp_s\":%.2f,\"interval_s\":%g,\"seconds\":%g,\"heartbeats_sent\":%ld,"
           "\"heartbeats_ok\":%ld,\"heartbeats_failed\":%ld,\"unanswered\":%ld,\"late\":%ld,"
           "\"heartbeats_per_s\":%.1f,\"hb_p50_ms\":%.3f,\"hb_p99_ms\":%.3f,\"hb_max_ms\":%.3f,"
           "\"poll_wait_s\":%d,\"polls_sent\":%ld,\"polls_held_mid\":%ld,\"polls_held_end\":%ld,"
           "\"polls_empty\":%ld,\"polls_refused\":%ld,\"tasks_inserted\":%ld,"
           "\"tasks_claimed\":%ld,\"tasks_completed\":%ld,\"tasks_claimed_twice\":%ld,"
           "\"updates_failed\":%ld,\"claim_p50_ms\":%.3f,\"claim_p99_ms\":%.3f,"
           "\"claim_max_ms\":%.3f,\"client_cpu_s\":%.2f}\n",
           conns, conns, scale_nconns, nws, estab, scale_connfail, open_at_end, scale_closed,
           scale_closed_ws, ramp_s, interval, seconds, scale_sent, scale_ok, scale_fail, unanswered,
           scale_late, (double)scale_ok / seconds, scale_pct(&scale_hb, 0.5),
           scale_pct(&scale_hb, 0.99), scale_hb.n ? scale_hb.v[scale_hb.n - 1] : 0, scale_poll_wait,
           scale_polls, held_mid, held_end, scale_polls_null, scale_polls_refused, scale_ntasks,
           scale_claimed, scale_completed, scale_dup, scale_updates_failed,
           scale_pct(&scale_claim, 0.5), scale_pct(&scale_claim, 0.99),
           scale_claim.n ? scale_claim.v[scale_claim.n - 1] : 0, cpu);
    for (int i = 0; i < scale_nconns; i++)
        if (scale_c[i].st != SC_DEAD)
            close(scale_c[i].fd);
    PQfinish(pg);
    return estab == scale_nconns && scale_fail == 0 && unanswered == 0 &&
                   scale_polls_refused == 0 && scale_updates_failed == 0 && scale_dup == 0 &&
                   scale_claimed == scale_ntasks
               ? 0
               : 1;
}
