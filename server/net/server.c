/*
 * server_run: start-up (lws context, workers, LISTEN thread), the completion hand-back from the
 * workers, the 250 ms tick and the ordered shutdown. Everything here runs on the lws service
 * thread (the main thread), except server_wake (any thread: it only calls lws_cancel_service)
 * and the signal handler (any thread that takes the signal).
 *
 * The pieces of the server: net/server_int.h lists them.
 */
#include "net/server.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/clock.h"
#include "net/evloop.h"
#include "net/server_int.h"
#include "net/workers.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SERVER_TICK_US (250 * LWS_US_PER_MS)
#define SERVER_DRAIN_MS 10000         /* longest wait for in-flight work at shutdown */
#define SERVER_WAIT_BACKSTOP_MS 60000 /* an HTTP request unanswered this long is dropped */
#define SERVER_LWS_FDS 16     /* lws's own descriptors besides connections (listeners, pipe) */
#define SERVER_FD_RESERVE 256 /* descriptors kept for everything that is not a connection */

/*
 * The running server, for the SIGTERM/SIGINT handler: a handler gets no argument, so this one
 * pointer is how it finds the server's stop flag and the context it wakes (everything else is
 * reached from the context). Atomic and lock-free, so a handler on any thread never sees it
 * half written; set once the context exists, cleared before it is destroyed.
 */
static _Atomic(struct server *) server_signalled;
_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "the signal handler needs a lock-free pointer");

static const struct lws_protocols server_protocols[] = {
    {"http", http_cb, sizeof(struct http_txn), 0, 0, NULL, 0},
    {"mcp", ws_cb, sizeof(struct ws_sess), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Every path goes to http_cb; the ws upgrade on /ws is handled before mounts apply. */
static const struct lws_http_mount server_mount = {
    .mountpoint = "/",
    .mountpoint_len = 1,
    .origin_protocol = LWSMPRO_CALLBACK,
    .protocol = "http",
};

/* Clients that send no Sec-WebSocket-Protocol are bound to "mcp" too. */
static const struct lws_protocol_vhost_options server_pvo_default = {NULL, NULL, "default", ""};
static const struct lws_protocol_vhost_options server_pvo = {NULL, &server_pvo_default, "mcp", ""};

/* No WebSocket ping/hang-up timer: lws would keep one per connection in its sorted timeout
 * list (see struct txn_fifo), re-inserted at every message. Dead peers are found by TCP
 * keepalive instead (info.ka_*), live agents heartbeat anyway. */
static const lws_retry_bo_t server_retry = {
    .secs_since_valid_ping = 0,
    .secs_since_valid_hangup = 0,
};

/* ---- the hand-back from workers ---- */

int server_submit(struct server *s, struct job *j)
{
    j->notify_seq = s->notify_seq;
    if (workers_submit(s->pool, j) < 0)
        return -1;
    s->inflight++;
    return 0;
}

/*
 * A job that calls an external service (a forge, a webhook) came back untouched from a
 * database worker: it runs again on the slow workers, so a forge that takes a minute holds one
 * of those and never the workers heartbeats and claims need. true: `j` was taken over.
 */
static bool server_reroute(struct server *s, struct job *j)
{
    j->reroute = false;
    j->slow = true;
    j->status = 0;
    if (workers_submit(s->slow, j) == 0)
        return true;
    job_reply_error(j, ERR_BUSY, NULL, "server busy, retry shortly");
    return false;
}

/* Handle one finished job; true when it was handed on (not to be freed). */
static bool server_complete(struct server *s, struct job *j)
{
    if (j->reroute && server_reroute(s, j))
        return true;
    switch (j->kind) {
    case JOB_EV_READY:
        held_notified(s, j->nevents);
        return false;
    case JOB_EV_RESYNC:
        held_resync(s);
        return false;
    case JOB_RECHECK:
        held_recheck_done(s, j->nevents);
        return false;
    case JOB_EV_ACTIVITY:
        sse_activity(s);
        return false;
    case JOB_SSE_FETCH:
        sse_fetched(s, j);
        return false;
    case JOB_SWEEP:
        s->sweep_pending = false;
        return false;
    default:
        break;
    }
    if (j->kind != JOB_CLAIM)
        s->inflight--;
    if (j->cancel_id)
        held_cancel(s, j);
    if (j->ws && j->kind != JOB_CLAIM)
        ws_job_done(s, j->conn_id);
    if (j->kind == JOB_CLAIM) {
        if (!held_claim_done(s, j))
            return false;
    } else if (j->park_seconds > 0) {
        held_park(s, j);
        return false;
    }
    if (j->is_stream) {
        sse_open(s, j);
        return false;
    }
    if (j->status == 0 && !j->close_ws)
        return false;
    conn_deliver(s, j->conn_id, j->ws, j->status, j->out, j->out_len, j);
    return false;
}

void server_completions(struct server *s)
{
    struct job *j;

    while ((j = workers_done_pop(s->pool)) || (s->slow && (j = workers_done_pop(s->slow)))) {
        if (!server_complete(s, j))
            job_free(j);
    }
}

/* ---- the periodic tick: deadlines, the re-check backstop, the sweep ---- */

static void server_tick(lws_sorted_usec_list_t *sul)
{
    struct server *s = lws_container_of(sul, struct server, tick);
    long long now = clock_ms();

    held_expire(s, now);
    sse_tick(s, now);
    fifo_expire(&s->idle, now, NULL);
    fifo_expire(&s->waiting, now, "no reply from a worker within 60 s");
    held_recheck(s, now);
    if (!s->sweep_pending && !s->stopping &&
        now - s->last_sweep_ms >= (long long)s->cfg->sweep_interval * 1000) {
        struct job *j = job_new(JOB_SWEEP, 0);
        s->last_sweep_ms = now;
        if (workers_submit(s->pool, j) < 0)
            job_free(j);
        else
            s->sweep_pending = true;
    }
    lws_sul_schedule(s->ctx, 0, &s->tick, server_tick, SERVER_TICK_US);
}

/* ---- start ---- */

static void server_signal(int sig)
{
    struct server *s = atomic_load(&server_signalled);

    (void)sig;
    if (s) {
        atomic_store(&s->stop_requested, true);
        lws_cancel_service(s->ctx);
    }
}

static void server_wake(void *arg)
{
    struct server *s = arg;

    if (s->ctx)
        lws_cancel_service(s->ctx);
}

void server_post_event(struct server *s, enum server_event ev, int count)
{
    static const enum job_kind kinds[] = {
        [SERVER_EV_TASK_READY] = JOB_EV_READY,
        [SERVER_EV_ACTIVITY] = JOB_EV_ACTIVITY,
        [SERVER_EV_RESYNC] = JOB_EV_RESYNC,
    };
    struct job *j = job_new(kinds[ev], 0);

    j->nevents = count;
    workers_post_done(s->pool, j); /* wakes the service thread */
}

/*
 * lws's own lines, at most SERVER_LWS_LOG_PER_S a second: an error that repeats per event (an
 * accept failing for want of descriptors) must not write megabytes a second. What was held
 * back is counted in the next line that passes. lws's log hook carries no context, so the
 * budget is this file's (the service thread is the only caller that logs at a rate).
 */
#define SERVER_LWS_LOG_PER_S 20
static struct {
    long long window_ms;
    int lines;
    long long dropped;
} server_lws_budget;

static void server_lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    long long now = clock_ms();

    if (now - server_lws_budget.window_ms >= 1000) {
        server_lws_budget.window_ms = now;
        server_lws_budget.lines = 0;
    }
    if (++server_lws_budget.lines > SERVER_LWS_LOG_PER_S) {
        server_lws_budget.dropped++;
        return;
    }
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (server_lws_budget.dropped) {
        log_warn("lws", "%lld lines suppressed (more than %d a second)", server_lws_budget.dropped,
                 SERVER_LWS_LOG_PER_S);
        server_lws_budget.dropped = 0;
    }
    if (level & LLL_ERR)
        log_warn("lws", "%.*s", (int)n, line);
    else
        log_debug("lws", "%.*s", (int)n, line);
}

/*
 * lws carries on without a listener when the address is not one of this host's, so try the
 * bind first and refuse to start with a clear message instead. 0 or -1.
 */
static int server_check_bind(const char *host, int port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res = NULL;
    char ps[16];
    int fd, one = 1, rc = -1;

    snprintf(ps, sizeof(ps), "%d", port);
    if (getaddrinfo(host, ps, &hints, &res) != 0 || !res) {
        log_error("server", "cannot resolve listen host '%s'", host);
        return -1;
    }
    fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        rc = bind(fd, res->ai_addr, res->ai_addrlen);
        if (rc < 0)
            log_error("server", "cannot listen on %s:%d: %s", host, port, strerror(errno));
        close(fd);
    }
    freeaddrinfo(res);
    return rc < 0 ? -1 : 0;
}

/* The lws context's settings, and the FIFO durations that go with them. */
static void server_info(struct server *s, struct lws_context_creation_info *info)
{
    const struct cfg *cfg = s->cfg;

    memset(info, 0, sizeof(*info));
    info->port = cfg->listen_port;
    /* lws takes an address or an interface name here; "localhost" would be read as the latter */
    info->iface = strcmp(cfg->listen_host, "localhost") == 0 ? "127.0.0.1" : cfg->listen_host;
    info->protocols = server_protocols;
    info->mounts = &server_mount;
    info->pvo = &server_pvo;
    info->user = s;
    info->options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
    if (strchr(cfg->listen_host, ':'))
        info->options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
    info->timeout_secs = (unsigned)cfg->idle_timeout;
    /* An agent's keep-alive connection idles for a heartbeat interval between requests: closing
     * it at the same moment the next heartbeat is sent fails that heartbeat (seen at 10,000
     * agents with both at 30 s). Keep idle connections past one interval, with slack. */
    info->keepalive_timeout = cfg->idle_timeout > 2 * cfg->heartbeat_interval + 15
                                  ? cfg->idle_timeout
                                  : 2 * cfg->heartbeat_interval + 15;
    info->timeout_secs_ah_idle = (unsigned)cfg->idle_timeout; /* headers dribbled in */
    info->retry_and_idle_policy = &server_retry;
    /* A peer that vanished (no FIN, no RST) is found by the kernel: probes after 60 s idle,
     * every 10 s, closed after 3 unanswered (~90 s). */
    info->ka_time = 60;
    info->ka_probes = 3;
    info->ka_interval = 10;
    s->idle.limit_ms = (long long)info->keepalive_timeout * 1000;
    s->waiting.limit_ms = SERVER_WAIT_BACKSTOP_MS;
    info->max_http_header_data = 8192;
    info->pt_serv_buf_size = 32768;
}

static struct server *server_new(const struct cfg *cfg, const struct server_app *app)
{
    struct server *s = mem_calloc(1, sizeof(*s));

    s->cfg = cfg;
    s->app = *app;
    connlimit_init(&s->per_addr,
                   cfg->max_conns_per_addr > 0 ? cfg->max_conns_per_addr : cfg->max_conns / 2);
    ratelimit_init(&s->rate, cfg->rate_limit, cfg->rate_burst);
    return s;
}

/* Everything server_run started, in reverse; any part may be missing. */
static void server_free(struct server *s)
{
    if (s->app.events_stop)
        s->app.events_stop(s->events);
    workers_stop(s->slow);
    workers_stop(s->pool);
    if (s->ctx) {
        lws_sul_cancel(&s->tick);
        atomic_store(&server_signalled, NULL);
        lws_context_destroy(s->ctx);
    }
    evloop_destroy(s->ev);
    workers_free(s->slow);
    workers_free(s->pool);
    for (size_t i = 0; i < s->nheld; i++)
        held_free(&s->held[i]);
    free(s->held);
    for (size_t i = 0; i < s->nsse; i++)
        free(s->sse[i].token);
    free(s->sse);
    conn_free_all(s);
    connlimit_free(&s->per_addr);
    free(s);
}

/*
 * lws 4.1 initializes its protocols from a timer just after the context is created, and only
 * then makes "mcp" the default protocol of WebSocket upgrades that name none. On the libev
 * loop that timer waits while connections keep the loop busy, so a droverd started under load
 * bound such upgrades to the http protocol, where nobody checked or answered them. Let the
 * init run before saying we listen. (Bounded: the timer is due at once; http_cb refuses
 * whatever still comes early.)
 */
static void server_await_protocols(struct server *s)
{
    for (int i = 0; i < 100 && !s->protocols_ready; i++)
        if (evloop_run_once(s->ctx, s->ev) < 0)
            break;
    if (!s->protocols_ready)
        log_warn("server", "lws has not initialized its protocols yet");
}

static void server_listening(struct server *s)
{
    struct sigaction sa;
    struct lws_vhost *vh = lws_get_vhost_by_name(s->ctx, "default");
    int port = vh ? lws_get_vhost_listen_port(vh) : s->cfg->listen_port;

    atomic_store(&server_signalled, s);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = server_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    log_info("server", "listening on %s:%d workers=%d auth=%s", s->cfg->listen_host, port,
             s->cfg->workers, s->cfg->auth ? "on" : "off");
    /* Tests start with port 0 and read the real one from this line on stdout. */
    printf("droverd listening on %s:%d\n", s->cfg->listen_host, port);
    fflush(stdout);
}

/* ---- run and stop ---- */

/* SIGTERM: agents this droverd started hand their tasks back through it, so keep serving them
 * (but hand out no new task) until app.drain_done says they are gone. Waiting polls get
 * {task: null} now; later ones are held, claiming nothing, until stopping. */
static void server_close_claims(struct server *s)
{
    log_info("server", "stopping: no new claims; waiting for this droverd's own agents");
    s->closing = true;
    if (s->app.claims_closed)
        atomic_store(s->app.claims_closed, true);
    held_release_all(s);
    if (s->app.drain_begin)
        s->app.drain_begin(s->app.arg);
}

/* New requests get 503 + close from here on. (lws_context_deprecate would close the listener,
 * but it also drops connections whose replies are still queued.) */
static void server_stop_serving(struct server *s)
{
    log_info("server", "stopping: refusing new requests, finishing in-flight ones");
    s->stopping = true;
    sse_close_all(s);
}

/* Stopping: true once nothing is in flight, held or being written (or the drain time ran out). */
static bool server_drained(struct server *s, long long drain_until)
{
    server_completions(s);
    held_release_all(s);
    return (s->inflight <= 0 && s->nheld == 0 && s->writing <= 0 && workers_busy(s->pool) == 0 &&
            workers_busy(s->slow) == 0) ||
           clock_ms() > drain_until;
}

static void server_loop(struct server *s)
{
    long long drain_until = 0;

    while (evloop_run_once(s->ctx, s->ev) >= 0) {
        if (atomic_load(&s->stop_requested) && !s->closing)
            server_close_claims(s);
        if (s->closing && !s->stopping && s->app.drain_done && !s->app.drain_done(s->app.arg))
            continue;
        if (s->closing && !s->stopping) {
            server_stop_serving(s);
            drain_until = clock_ms() + SERVER_DRAIN_MS;
        }
        if (s->stopping && server_drained(s, drain_until))
            break;
    }
    /* Let the last replies reach their sockets. Each pass would otherwise wait for the next
     * event or tick (lws_service ignores its timeout, EVRUN_ONCE blocks): up to 5 s spent for
     * nothing at exit. */
    for (int i = 0; i < 20; i++) {
        lws_cancel_service(s->ctx);
        evloop_run_once(s->ctx, s->ev);
    }
}

int server_run(const struct cfg *cfg, const struct server_app *app)
{
    struct lws_context_creation_info info;
    struct server *s = server_new(cfg, app);
    int rc = 1;

    /*
     * lws sizes its connection table from the descriptor limit it sees at context creation
     * and stops accepting (takes the listener out of the poll set) one short of it. So the
     * limit at creation is the connections plus lws's own few descriptors; right after, it is
     * raised by a reserve for everything else (the workers' and the LISTEN thread's database
     * sockets, the pool's, files, curl). Then accept() never fails with EMFILE while the
     * listener is still polled, which made lws retry it in a loop at a full core, logging
     * each failure (issue 13: 3.3 million lines in 5 s). A descriptor numbered past lws's
     * table (others hold low numbers) is refused and closed by lws, one per attempt.
     */
    evloop_set_fd_limit(cfg->max_conns + SERVER_LWS_FDS);
    lws_set_log_level(LLL_ERR | (log_threshold >= LOG_DEBUG ? LLL_WARN | LLL_NOTICE : 0),
                      server_lws_log);
    server_info(s, &info);
    if (server_check_bind(info.iface, cfg->listen_port) < 0)
        goto out;
    /* Workers before the context: they only need a wake function that tolerates ctx == NULL. */
    s->pool = workers_start(cfg->workers, s->app.worker_open, s->app.worker_close, s->app.arg,
                            work_run, server_wake, s);
    s->slow = workers_start(cfg->slow_workers, s->app.worker_open, s->app.worker_close, s->app.arg,
                            work_run, server_wake, s);
    s->ctx = evloop_create(&info, cfg->event_loop_poll, &s->ev);
    if (!s->ctx) {
        log_error("server", "cannot listen on %s:%d (address in use or not available?)",
                  cfg->listen_host, cfg->listen_port);
        goto out;
    }
    evloop_set_fd_limit(cfg->max_conns + SERVER_LWS_FDS + SERVER_FD_RESERVE +
                        2 * (cfg->workers + cfg->slow_workers));
    if (s->app.events_start)
        s->events = s->app.events_start(s->app.arg, s);
    /* Before the loop first runs: on libev, lws arms its timer for the earliest one only from
     * inside the loop (after an event), so one scheduled later could wait for the next. */
    s->last_sweep_ms = clock_ms();
    lws_sul_schedule(s->ctx, 0, &s->tick, server_tick, SERVER_TICK_US);
    server_await_protocols(s);
    server_listening(s);
    server_loop(s);
    rc = 0;
out:
    server_free(s);
    return rc;
}
