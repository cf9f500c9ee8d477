/* droverd serve. Main thread. */
#include "cmd/cmd_serve.h"
#include "core/accesslog.h"
#include "core/cfg.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/opscfg.h"
#include "net/server.h"
#include "pool/agentpool.h"
#include "store/db.h"
#include "store/migrate.h"
#include "store/queue.h"
#include "svc/svc.h"
#include "svc/svc_hbbatch.h"
#include "svc/svc_hbmem.h"
#include "svc/svc_listen.h"
#include "svc/svc_outbox.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the transport's callbacks need: the environment and where workers connect. */
struct cmd_serve_app {
    struct svc_env env;
    const char *dsn;
    struct agentpool *pool;
};

static void *cmd_serve_worker_open(void *arg)
{
    struct cmd_serve_app *a = arg;

    return svc_ctx_open(&a->env, a->dsn);
}

static void cmd_serve_worker_close(void *ctx)
{
    svc_ctx_close(ctx);
}

static void cmd_serve_drain_begin(void *arg)
{
    agentpool_drain(((struct cmd_serve_app *)arg)->pool);
}

static bool cmd_serve_drain_done(void *arg)
{
    return agentpool_drained(((struct cmd_serve_app *)arg)->pool);
}

/* The change feed reaches the transport's held polls and event streams. */
struct cmd_serve_feed {
    struct server *server;
    struct svc_listen *listen;
    struct svc_outbox *outbox; /* notifications out: a thread of its own, started alongside */
};

static void cmd_serve_heard(void *arg, const char *channel, int count)
{
    struct cmd_serve_feed *f = arg;

    server_post_event(f->server,
                      strcmp(channel, QUEUE_CHANNEL_READY) == 0 ? SERVER_EV_TASK_READY
                                                                : SERVER_EV_ACTIVITY,
                      count);
}

static void cmd_serve_resync(void *arg)
{
    server_post_event(((struct cmd_serve_feed *)arg)->server, SERVER_EV_RESYNC, 0);
}

static void *cmd_serve_events_start(void *arg, struct server *s)
{
    static const char *const channels[] = {QUEUE_CHANNEL_READY, QUEUE_CHANNEL_ACTIVITY, NULL};
    struct cmd_serve_app *a = arg;
    struct cmd_serve_feed *f = mem_calloc(1, sizeof(*f));
    struct svc_listen_cb cb = {.heard = cmd_serve_heard, .resync = cmd_serve_resync, .arg = f};

    f->server = s;
    f->listen = svc_listen_start(a->dsn, channels, &cb);
    f->outbox = svc_outbox_start(&a->env, a->dsn);
    return f;
}

static void cmd_serve_events_stop(void *handle)
{
    struct cmd_serve_feed *f = handle;

    if (!f)
        return;
    svc_listen_stop(f->listen);
    svc_outbox_stop(f->outbox);
    free(f);
}

/* Migrations run under an advisory lock, so replicas starting together are safe. */
static int cmd_serve_migrate(const char *dsn, struct err *err)
{
    struct db db;
    int applied = 0, rc;

    rc =
        db_open(&db, dsn, err) < 0 || migrate_apply(&db, migrate_files, &applied, err) < 0 ? -1 : 0;
    db_close(&db);
    if (rc == 0 && applied)
        log_info("main", "applied %d migration(s)", applied);
    return rc;
}

int cmd_serve(int argc, char **argv)
{
    struct cmd_serve_app a = {0};
    struct server_app app = {0};
    atomic_bool claims_closed = false;
    struct agentpool_cfg pcfg;
    struct opt_group groups[2];
    struct opscfg ocfg;
    struct err err = {0};
    struct cfg cfg;
    int r;

    /* The agent pool contributes its rows to the settings table: one parser, one --help. */
    agentpool_cfg_default(&pcfg);
    opscfg_default(&ocfg);
    groups[0] = agentpool_opt_group(&pcfg);
    groups[1] = opscfg_opt_group(&ocfg);
    r = cfg_parse_with(&cfg, groups, 2, argc, argv, &err);
    if (r != 0) {
        if (r < 0)
            fprintf(stderr, "droverd serve: %s\n(see droverd serve --help)\n", err.msg);
        cfg_free(&cfg);
        return r < 0 ? 2 : 0;
    }
    /* After cfg_parse (the log level), before anything starts: a missing agent program is a
     * start-up error, not a pool of agents exiting 127. */
    if (agentpool_cfg_resolve(&pcfg, &err) < 0 || cmd_serve_migrate(cfg.database_url, &err) < 0) {
        fprintf(stderr, "droverd serve: %s\n", err.msg);
        cfg_free(&cfg);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread: libcurl's rule */
    if (!pcfg.server_url[0])
        snprintf(pcfg.server_url, sizeof(pcfg.server_url), "http://%s:%d",
                 strcmp(cfg.listen_host, "0.0.0.0") == 0 ? "127.0.0.1" : cfg.listen_host,
                 cfg.listen_port);
    /* The pool thread has its own connections; only the advisory-lock holder acts. */
    if (agentpool_start(&pcfg, cfg.database_url, &a.pool, &err) < 0) {
        fprintf(stderr, "droverd serve: agent pool: %s\n", err.msg);
        curl_global_cleanup();
        cfg_free(&cfg);
        return 1;
    }
    svc_env_default(&a.env);
    a.env.cfg = &cfg;
    a.env.ops = &ocfg;
    a.env.qo.lease_seconds = cfg.lease_seconds;
    a.env.qo.max_tasks_per_agent = cfg.max_tasks_per_agent;
    svc_hbbatch_set_max(a.env.hbbatch, cfg.heartbeat_batch);
    /* Heartbeats answered from memory, written each tick on the flusher's own connection. */
    if (cfg.heartbeat_tick > 0) {
        a.env.hbmem = svc_hbmem_new(cfg.heartbeat_tick, cfg.heartbeat_batch);
        svc_hbmem_start(a.env.hbmem, cfg.database_url, &a.env.qo);
    }
    /* Forge tokens: DROVER_FORGE_TOKEN_<PROJECT>, or the file named by DROVER_FORGE_SECRETS. */
    a.env.forge_secrets = getenv("DROVER_FORGE_SECRETS");
    /* Links in pull requests Drover opens: the dashboard's task page and its transcript. */
    a.env.public_url = getenv("DROVER_PUBLIC_URL");
    /* Where forge tokens may go, and which repository URLs droverd's own git may use: https
     * and ssh unless enabled (file, http and git are for demos and tests). */
    a.env.forge_allow = getenv("DROVER_FORGE_ALLOW");
    a.env.git_secrets = getenv("DROVER_GIT_SECRETS");
    a.env.github_app_id = getenv("DROVER_GITHUB_APP_ID");
    a.env.github_app_key = getenv("DROVER_GITHUB_APP_KEY_FILE");
    a.env.repo_protocols = getenv("DROVER_REPO_PROTOCOLS") && *getenv("DROVER_REPO_PROTOCOLS")
                               ? getenv("DROVER_REPO_PROTOCOLS")
                               : "https,ssh";
    a.env.pool = a.pool;
    a.env.claims_closed = &claims_closed;
    a.dsn = cfg.database_url;
    app.env = &a.env;
    app.arg = &a;
    app.worker_open = cmd_serve_worker_open;
    app.worker_close = cmd_serve_worker_close;
    app.claims_closed = &claims_closed;
    /* On SIGTERM the server keeps serving until the agents this droverd started have handed
     * their tasks back (or --shutdown-grace ran out and they were killed). */
    app.drain_begin = cmd_serve_drain_begin;
    app.drain_done = cmd_serve_drain_done;
    app.events_start = cmd_serve_events_start;
    app.events_stop = cmd_serve_events_stop;
    /* On by default; the service thread only queues records, the log's own thread writes. */
    if (ocfg.access_log &&
        !(app.access = accesslog_start(ocfg.access_log_format == OPSCFG_JSON ? ACCESSLOG_JSON
                                                                             : ACCESSLOG_LOGFMT,
                                       stderr, &err)))
        log_warn("main", "no access log: %s", err.msg);
    r = server_run(&cfg, &app);
    /* The workers are gone: the last flush writes what memory answered (a clean stop loses no
     * heartbeat). */
    svc_hbmem_stop(a.env.hbmem);
    accesslog_stop(app.access);
    {
        long long batches = 0, beats = 0;

        svc_hbbatch_stats(a.env.hbbatch, &batches, &beats);
        log_info("serve",
                 "heartbeat batches=%lld heartbeats=%lld (group commit, --heartbeat-batch %d)",
                 batches, beats, cfg.heartbeat_batch);
        if (a.env.hbmem) {
            struct svc_hbmem_stats st;

            svc_hbmem_stats(a.env.hbmem, &st);
            log_info("serve",
                     "heartbeats from memory=%lld synchronous=%lld flushed=%lld in %lld flushes"
                     " (--heartbeat-tick %d ms, longest %lld ms), answers dropped by NOTIFY=%lld",
                     st.memory, st.fallback, st.flushed, st.flushes, cfg.heartbeat_tick,
                     st.flush_ms_max, st.dropped);
        }
    }
    agentpool_stop(a.pool);
    svc_env_clear(&a.env);
    curl_global_cleanup();
    cfg_free(&cfg);
    return r;
}
