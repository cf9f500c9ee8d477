/*
 * droverd serve: the libwebsockets server. One service thread does all socket I/O; blocking
 * work runs on the worker pool (net/workers.h); the database's change feed reaches it through
 * server_post_event (the app's LISTEN thread, svc/svc_listen.h).
 * Endpoints: /mcp (MCP Streamable HTTP), /ws (the same JSON-RPC over WebSocket), /rpc,
 * /tools/call, /heartbeat (seed endpoints), /api/... (REST router), /health, /ready, /metrics,
 * and the embedded dashboard at / (the route table: net/route.c).
 */
#ifndef DROVER_NET_SERVER_H
#define DROVER_NET_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>

#include "core/cfg.h"

struct accesslog;
struct svc_env;
struct server;

/* Something changed in the database (the app's change feed says so). */
enum server_event {
    SERVER_EV_TASK_READY, /* tasks became claimable: wake held get_next_task polls */
    SERVER_EV_ACTIVITY,   /* activity rows were added: push to event streams */
    SERVER_EV_RESYNC,     /* the feed reconnected: events may be lost, look again at once */
};

/* Any thread: hand `ev` (seen `count` times) to the service thread and wake it. */
void server_post_event(struct server *s, enum server_event ev, int count);

/*
 * What droverd plugs into the transport (cmd/cmd_serve.c builds it). net/ never looks inside
 * `env`; it hands it to mcp/ where a check needs no database (the token cache on a WebSocket
 * upgrade).
 */
struct server_app {
    const struct svc_env *env;
    void *arg; /* handed to every function below */
    /* Each worker thread's own context (a struct svc_ctx with its database connection). */
    void *(*worker_open)(void *arg);
    void (*worker_close)(void *ctx);
    /* Set at shutdown: get_next_task hands out no task (the services read it too). */
    atomic_bool *claims_closed;
    /*
     * What the server waits for on SIGTERM before it stops serving: drain_begin() once, then
     * drain_done() on every pass of the service loop until it returns true (the pool's own
     * agents handing their tasks back). Service thread; NULL: nothing to wait for.
     */
    void (*drain_begin)(void *arg);
    bool (*drain_done)(void *arg);
    /*
     * The change feed: started once the server can take events (it calls server_post_event
     * with `s`), stopped before the server goes away. The main thread; NULL: no feed.
     */
    void *(*events_start)(void *arg, struct server *s);
    void (*events_stop)(void *handle);
    /* One line per HTTP request (core/accesslog.h); NULL: off. The service thread only queues. */
    struct accesslog *access;
};

/*
 * Run until SIGTERM/SIGINT, then shut down in order: (a) close claims (no task is handed out;
 * held get_next_task long-polls are answered {task: null} at once, later ones are held without
 * claiming), (b) keep serving everything else until app->drain_done says done, (c) stop
 * accepting, answer what is held, finish in-flight requests, return 0. `app` is copied.
 * Returns 1 when the server cannot start. Call from the main thread after migrations
 * ran; one server_run at a time (it owns the SIGTERM and SIGINT handlers while it runs).
 */
int server_run(const struct cfg *cfg, const struct server_app *app);

#endif
