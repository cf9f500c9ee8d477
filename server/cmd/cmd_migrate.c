/* `droverd migrate`: apply (or count) the pending migrations compiled into droverd. Main thread. */
#include "cmd/cmd_migrate.h"
#include "cmd/cmd_db.h"
#include "core/err.h"
#include "store/db.h"
#include "store/migrate.h"

#include <getopt.h>
#include <stdio.h>

int cmd_migrate(int argc, char **argv)
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
    if (db_open(&db, cmd_database_url(url), &err) < 0) {
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
