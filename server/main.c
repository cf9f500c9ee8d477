/*
 * droverd: the Drover server. Subcommands: serve, migrate, token, selftest.
 * Main thread: parses arguments, then runs the subcommand.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/agents.h"
#include "core/cfg.h"
#include "core/err.h"
#include "core/log.h"
#include "cmd/cmd_project.h"
#include "forge/forge_install.h"
#include "store/agents.h"
#include "store/db.h"
#include "store/migrate.h"
#include "net/server.h"
#include "pool/agentpool.h"
#include "store/queue.h"
#include "store/tokens.h"

#define DROVER_VERSION "0.1.0"

struct droverd_cmd {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
};

static void droverd_usage(FILE *f);

/* The database URL from --database-url, else DATABASE_URL, else NULL (libpq's PG* env). */
static const char *droverd_database_url(const char *flag)
{
    const char *env = getenv("DATABASE_URL");

    if (flag && *flag)
        return flag;
    return env && *env ? env : NULL;
}

static int cmd_migrate(int argc, char **argv)
{
    static const struct option opts[] = {{"database-url", required_argument, NULL, 'd'},
                                         {"status", no_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *url = NULL;
    int c, applied = 0, pending = 0, status_only = 0, rc = 1;
    struct db db;
    struct err err = {0};

    optind = 1;
    while ((c = getopt_long(argc, argv, "d:sh", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            url = optarg;
            break;
        case 's':
            status_only = 1;
            break;
        case 'h':
            printf("usage: droverd migrate [--database-url URL] [--status]\n\n"
                   "Applies the pending sql/NNN_*.sql migrations compiled into droverd, each in\n"
                   "its own transaction, under an advisory lock. Re-running is a no-op.\n"
                   "--status prints how many are pending and exits 0 when none are.\n"
                   "The database comes from --database-url, else DATABASE_URL, else the\n"
                   "PG* environment variables.\n");
            return 0;
        default:
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "droverd migrate: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (db_open(&db, droverd_database_url(url), &err) < 0) {
        fprintf(stderr, "droverd migrate: %s\n", err.msg);
        return 1;
    }
    if (status_only) {
        if (migrate_pending(&db, migrate_files, &pending, &err) < 0) {
            fprintf(stderr, "droverd migrate: %s\n", err.msg);
            goto out;
        }
        printf("%d pending migration(s)\n", pending);
        rc = pending ? 1 : 0;
        goto out;
    }
    if (migrate_apply(&db, migrate_files, &applied, &err) < 0) {
        fprintf(stderr, "droverd migrate: %s\n", err.msg);
        goto out;
    }
    printf("migrations applied: %d\n", applied);
    rc = 0;
out:
    db_close(&db);
    return rc;
}

/*
 * One enqueue -> claim -> complete round trip through the real queue functions, printed step by
 * step: proves a database is migrated and the queue works. The task and agent it creates are
 * marked as such and left in place (they are history like any other).
 */
static int cmd_selftest(int argc, char **argv)
{
    const char *url = argc > 2 && strcmp(argv[1], "--database-url") == 0 ? argv[2] : NULL;
    struct queue_new_task nt = {.title = "droverd selftest",
                                .description = "round trip check made by droverd selftest",
                                .repo_url = "selftest://none",
                                .priority = 1000};
    struct queue_counts counts;
    struct queue_opts qo;
    struct db db;
    struct err err = {0};
    json_t *task = NULL, *claimed = NULL, *done = NULL;
    char agent[37];
    int rc = 1;

    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || (!url && argc > 1))) {
        printf("usage: droverd selftest [--database-url URL]\n\n"
               "Enqueues a task, registers an agent, claims the task and completes it.\n");
        return strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    queue_opts_default(&qo);
    if (db_open(&db, droverd_database_url(url), &err) < 0) {
        fprintf(stderr, "droverd selftest: %s\n", err.msg);
        return 1;
    }
    /* Never take real work: run only when nothing else is runnable. */
    if (queue_counts(&db, &counts, &err) < 0)
        goto fail;
    if (counts.backlog > 0) {
        err_set(&err, ERR_CONFLICT, "%lld task(s) are runnable; selftest needs an idle queue",
                counts.backlog);
        goto fail;
    }
    if (queue_enqueue(&db, &nt, &task, NULL, &err) < 0)
        goto fail;
    printf("enqueued  task %lld (%s)\n", (long long)json_integer_value(json_object_get(task, "id")),
           json_string_value(json_object_get(task, "state")));
    if (agents_create(&db, "selftest", "none", agent, &err) < 0)
        goto fail;
    printf("registered agent %s\n", agent);
    if (queue_claim(&db, &qo, agent, &claimed, &err) < 0)
        goto fail;
    if (!claimed || !json_equal(json_object_get(claimed, "id"), json_object_get(task, "id"))) {
        /* Only possible if another task became runnable since the check above. */
        err_set(&err, ERR_CONFLICT, "another task was claimed instead; re-run on an idle queue");
        goto fail;
    }
    printf("claimed   task %lld (%s, attempt %lld, lease epoch %lld)\n",
           (long long)json_integer_value(json_object_get(claimed, "id")),
           json_string_value(json_object_get(claimed, "state")),
           (long long)json_integer_value(json_object_get(claimed, "attempt")),
           (long long)json_integer_value(json_object_get(claimed, "lease_epoch")));
    if (queue_update_status(&db, &qo, agent, json_integer_value(json_object_get(claimed, "id")),
                            json_integer_value(json_object_get(claimed, "lease_epoch")),
                            "completed", NULL, &done, &err) < 0)
        goto fail;
    printf("completed task %lld (%s)\n", (long long)json_integer_value(json_object_get(done, "id")),
           json_string_value(json_object_get(done, "state")));
    if (agents_mark_offline(&db, agent, "selftest finished", &err) < 0)
        goto fail;
    printf("selftest ok\n");
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "droverd selftest: %s\n", err.msg);
out:
    json_decref(task);
    json_decref(claimed);
    json_decref(done);
    db_close(&db);
    return rc;
}

/* droverd serve: migrate, then run the server until SIGTERM. */
/* GET /api/agents/{id}/logs reads the agent's own output through the pool's backend. */
static int serve_agent_logs(const struct api_env *env, const char *agent_id, const char *pod_name,
                            int tail, char **text, size_t *len, struct err *err)
{
    (void)env;
    return agentpool_logs(agent_id, pod_name, tail, text, len, err);
}

/* The server's shutdown hooks (net/server.h): the pool's own agents hand their tasks back. */
static void serve_drain_begin(void *arg)
{
    (void)arg;
    agentpool_drain();
}

static bool serve_drain_done(void *arg)
{
    (void)arg;
    return agentpool_drained();
}

static int cmd_serve(int argc, char **argv)
{
    struct cfg cfg;
    struct agentpool_cfg pcfg;
    struct err err = {0};
    struct db db;
    int r, applied = 0;

    /* The agent pool's settings are a table of their own (pool/agentpool.c): take them out of
     * argv first, then the server's parser sees only its own. */
    agentpool_cfg_default(&pcfg);
    if (agentpool_cfg_env(&pcfg, &err) < 0 || agentpool_cfg_args(&pcfg, &argc, argv, &err) < 0) {
        fprintf(stderr, "droverd serve: %s\n(see droverd serve --help)\n", err.msg);
        return 2;
    }
    r = cfg_parse(&cfg, argc, argv, &err);
    if (r != 0) {
        if (r < 0)
            fprintf(stderr, "droverd serve: %s\n(see droverd serve --help)\n", err.msg);
        else
            agentpool_usage(stdout);
        cfg_free(&cfg);
        return r < 0 ? 2 : 0;
    }
    /* After cfg_parse (the log level), before anything starts: a missing agent program is a
     * start-up error, not a pool of agents exiting 127. */
    if (agentpool_cfg_resolve(&pcfg, &err) < 0) {
        fprintf(stderr, "droverd serve: %s\n", err.msg);
        cfg_free(&cfg);
        return 1;
    }
    /* Migrations run under an advisory lock, so replicas starting together are safe. */
    if (db_open(&db, cfg.database_url, &err) < 0 ||
        migrate_apply(&db, migrate_files, &applied, &err) < 0) {
        fprintf(stderr, "droverd serve: %s\n", err.msg);
        db_close(&db);
        cfg_free(&cfg);
        return 1;
    }
    db_close(&db);
    if (applied)
        log_info("main", "applied %d migration(s)", applied);
    curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread: libcurl's rule */
    /* Forge backends behind create_branch / create_pull_request (tokens: DROVER_FORGE_TOKEN_*,
     * or the file named by DROVER_FORGE_SECRETS). */
    forge_install(getenv("DROVER_FORGE_SECRETS"));
    if (!pcfg.server_url[0])
        snprintf(pcfg.server_url, sizeof(pcfg.server_url), "http://%s:%d",
                 strcmp(cfg.listen_host, "0.0.0.0") == 0 ? "127.0.0.1" : cfg.listen_host,
                 cfg.listen_port);
    /* The pool thread has its own connections; only the advisory-lock holder acts. */
    if (agentpool_start(&pcfg, cfg.database_url, &err) < 0) {
        fprintf(stderr, "droverd serve: agent pool: %s\n", err.msg);
        curl_global_cleanup();
        cfg_free(&cfg);
        return 1;
    }
    agents_api_logs_hook = serve_agent_logs;
    /* On SIGTERM the server keeps serving until the agents this droverd started have handed
     * their tasks back (or --shutdown-grace ran out and they were killed). */
    r = server_run(&cfg, &(struct server_app){.drain_begin = serve_drain_begin,
                                              .drain_done = serve_drain_done});
    agentpool_stop();
    curl_global_cleanup();
    cfg_free(&cfg);
    return r;
}

static void cmd_token_usage(FILE *f)
{
    fprintf(f, "usage: droverd token create --scope agent|operator|admin --name NAME\n"
               "       droverd token revoke <id|name>\n\n"
               "create prints the token alone on stdout (it is shown only once). With\n"
               "--scope agent it also registers a new agent and prints AGENT_ID=... and\n"
               "DROVER_TOKEN=... lines instead, so `eval \"$(droverd token create ...)\"` works.\n"
               "Options: --database-url URL (else DATABASE_URL, else the PG* environment),\n"
               "--backend NAME (agent tokens: the agent's backend label, default none).\n");
}

static int cmd_token(int argc, char **argv)
{
    static const struct option opts[] = {{"scope", required_argument, NULL, 's'},
                                         {"name", required_argument, NULL, 'n'},
                                         {"database-url", required_argument, NULL, 'd'},
                                         {"backend", required_argument, NULL, 'b'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *scope_s = NULL, *name = NULL, *url = NULL, *backend = "none", *sub;
    enum tokens_scope scope;
    char token[TOKENS_LEN], agent[37];
    struct err err = {0};
    struct db db;
    long long id = 0;
    int c, rc = 1, revoked = 0;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cmd_token_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    sub = argv[1];
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "s:n:d:b:h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            scope_s = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'd':
            url = optarg;
            break;
        case 'b':
            backend = optarg;
            break;
        case 'h':
            cmd_token_usage(stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (strcmp(sub, "create") == 0) {
        if (!scope_s || !name || optind < argc - 1) {
            fprintf(stderr, "droverd token create: --scope and --name are required\n");
            return 2;
        }
        if (tokens_scope_parse(scope_s, &scope, &err) < 0) {
            fprintf(stderr, "droverd token create: %s\n", err.msg);
            return 2;
        }
    } else if (strcmp(sub, "revoke") == 0) {
        if (optind != argc - 2) {
            fprintf(stderr, "droverd token revoke: name the token (its id or name)\n");
            return 2;
        }
    } else {
        fprintf(stderr, "droverd token: unknown subcommand '%s' (create or revoke)\n", sub);
        return 2;
    }
    if (db_open(&db, droverd_database_url(url), &err) < 0) {
        fprintf(stderr, "droverd token: %s\n", err.msg);
        return 1;
    }
    if (strcmp(sub, "revoke") == 0) {
        if (tokens_revoke(&db, argv[optind + 1], &revoked, &err) < 0)
            goto fail;
        fprintf(stderr, "revoked %d token(s)\n", revoked);
        rc = 0;
        goto out;
    }
    if (scope == TOKENS_SCOPE_AGENT) {
        /* The agent row and its token in one transaction: no agent without a token. */
        if (db_begin(&db, &err) < 0 || agents_create(&db, name, backend, agent, &err) < 0 ||
            tokens_create(&db, scope, name, agent, token, &id, &err) < 0 ||
            db_commit(&db, &err) < 0) {
            db_rollback(&db);
            goto fail;
        }
        printf("AGENT_ID=%s\nDROVER_TOKEN=%s\n", agent, token);
    } else {
        if (tokens_create(&db, scope, name, NULL, token, &id, &err) < 0)
            goto fail;
        printf("%s\n", token);
    }
    fprintf(stderr, "created %s token %lld (%s); it is not shown again\n", scope_s, id, name);
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "droverd token %s: %s\n", sub, err.msg);
out:
    db_close(&db);
    return rc;
}

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    droverd_usage(stdout);
    return 0;
}

static const struct droverd_cmd droverd_cmds[] = {
    {"serve", cmd_serve, "run the server (MCP, WebSocket, REST); --help lists its settings"},
    {"migrate", cmd_migrate, "apply pending database migrations"},
    {"token", cmd_token, "create or revoke API tokens (create --scope S --name N | revoke ID)"},
    {"project", cmd_project, "create or update a project (project add --name N --repo-url U)"},
    {"selftest", cmd_selftest, "enqueue, claim and complete one task (a queue round trip)"},
    {"help", cmd_help, "show this help"},
};

static void droverd_usage(FILE *f)
{
    fprintf(f, "usage: droverd <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(droverd_cmds) / sizeof(droverd_cmds[0]); i++)
        fprintf(f, "  %-10s %s\n", droverd_cmds[i].name, droverd_cmds[i].help);
    fprintf(f, "\n'droverd <command> --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
    const char *lvl = getenv("DROVER_LOG_LEVEL");

    if (lvl && log_level_parse(lvl, &log_threshold) < 0) {
        fprintf(stderr, "droverd: DROVER_LOG_LEVEL must be error, warn, info or debug\n");
        return 2;
    }
    if (argc < 2) {
        droverd_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(argc, argv);
    if (strcmp(argv[1], "--version") == 0) {
        printf("droverd %s\n", DROVER_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(droverd_cmds) / sizeof(droverd_cmds[0]); i++)
        if (strcmp(argv[1], droverd_cmds[i].name) == 0)
            return droverd_cmds[i].run(argc - 1, argv + 1);
    fprintf(stderr, "droverd: unknown command '%s'\n", argv[1]);
    droverd_usage(stderr);
    return 2;
}
