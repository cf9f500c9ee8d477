/*
 * droverd: the Drover server. Subcommands: serve, migrate, token, enqueue (a smoke helper).
 * Main thread: parses arguments, then runs the subcommand.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "store/agents.h"
#include "store/db.h"
#include "store/migrate.h"
#include "store/queue.h"

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

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    droverd_usage(stdout);
    return 0;
}

static const struct droverd_cmd droverd_cmds[] = {
    {"migrate", cmd_migrate, "apply pending database migrations"},
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
