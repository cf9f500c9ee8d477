/*
 * Migrations. Blocking; any thread that owns the `struct db`.
 */
#include "store/migrate.h"
#include "core/log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One key per schema: replicas sharing a schema serialise, separate test schemas do not. */
#define MIGRATE_LOCK "hashtext('drover.migrate.' || current_schema())"

int migrate_version(const char *name)
{
    char *end;
    long v;

    if (!name || !isdigit((unsigned char)name[0]))
        return -1;
    v = strtol(name, &end, 10);
    if (*end != '_' || v <= 0 || v > 99999)
        return -1;
    return (int)v;
}

static int migrate_exec(struct db *db, const char *sql, const char *file, struct err *err)
{
    PGresult *r = PQexec(db->conn, sql);
    int rc = 0;

    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);

        rc = err_set(err, PQstatus(db->conn) == CONNECTION_BAD ? ERR_UNAVAILABLE : ERR_INTERNAL,
                     "%s%s%s: %s (SQLSTATE %s)", file ? "migration " : "", file ? file : "",
                     file ? " failed" : "sql failed", m ? m : PQerrorMessage(db->conn),
                     st ? st : "?");
    }
    PQclear(r);
    return rc;
}

static int migrate_is_applied(struct db *db, int version, bool *yes, struct err *err)
{
    char v[16];
    const char *params[1] = {v};
    PGresult *r;

    snprintf(v, sizeof(v), "%d", version);
    r = PQexecParams(db->conn, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, NULL,
                     params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        err_set(err, ERR_INTERNAL, "reading schema_migrations: %s", PQerrorMessage(db->conn));
        PQclear(r);
        return -1;
    }
    *yes = PQntuples(r) > 0;
    PQclear(r);
    return 0;
}

static int migrate_one(struct db *db, const struct migrate_file *f, int version, struct err *err)
{
    char v[16];
    const char *params[2] = {v, f->name};
    PGresult *r;

    snprintf(v, sizeof(v), "%d", version);
    if (migrate_exec(db, "BEGIN", NULL, err) < 0)
        return -1;
    if (migrate_exec(db, f->sql, f->name, err) < 0)
        goto fail;
    r = PQexecParams(db->conn, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
                     NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        err_set(err, ERR_INTERNAL, "recording %s: %s", f->name, PQerrorMessage(db->conn));
        PQclear(r);
        goto fail;
    }
    PQclear(r);
    if (migrate_exec(db, "COMMIT", NULL, err) < 0)
        goto fail;
    log_info("migrate", "applied %s", f->name);
    return 0;
fail:
    PQclear(PQexec(db->conn, "ROLLBACK"));
    return -1;
}

int migrate_apply(struct db *db, const struct migrate_file *files, int *applied, struct err *err)
{
    int n = 0, rc = -1;
    bool locked = false;

    if (applied)
        *applied = 0;
    if (db_ensure(db, err) < 0)
        return -1;
    /* The DO block keeps the server from printing "already exists" NOTICEs at every start. */
    if (migrate_exec(db,
                     "DO $$ BEGIN IF to_regclass('schema_migrations') IS NULL THEN"
                     " CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version integer PRIMARY KEY, name text NOT NULL,"
                     " applied_at timestamptz NOT NULL DEFAULT now()); END IF; END $$",
                     NULL, err) < 0) {
        /* Two replicas may race on the very first CREATE; the loser simply retries once. */
        if (migrate_exec(db, "SELECT 1 FROM schema_migrations LIMIT 0", NULL, err) < 0)
            return -1;
    }
    if (migrate_exec(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", NULL, err) < 0)
        return -1;
    locked = true;
    for (const struct migrate_file *f = files; f->name; f++) {
        int version = migrate_version(f->name);
        bool done = false;

        if (version < 0) {
            err_set(err, ERR_INTERNAL, "migration file %s has no NNN_ version prefix", f->name);
            goto out;
        }
        if (migrate_is_applied(db, version, &done, err) < 0)
            goto out;
        if (done)
            continue;
        if (migrate_one(db, f, version, err) < 0)
            goto out;
        n++;
    }
    rc = 0;
out:
    if (locked)
        PQclear(PQexec(db->conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")"));
    if (applied)
        *applied = n;
    return rc;
}

int migrate_pending(struct db *db, const struct migrate_file *files, int *pending, struct err *err)
{
    int n = 0;
    PGresult *r;

    *pending = 0;
    if (db_ensure(db, err) < 0)
        return -1;
    r = PQexec(db->conn, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        err_set(err, ERR_UNAVAILABLE, "database unavailable: %s", PQerrorMessage(db->conn));
        PQclear(r);
        return -1;
    }
    if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
        PQclear(r);
        for (const struct migrate_file *f = files; f->name; f++)
            n++;
        *pending = n;
        return 0;
    }
    PQclear(r);
    for (const struct migrate_file *f = files; f->name; f++) {
        bool done = false;

        if (migrate_is_applied(db, migrate_version(f->name), &done, err) < 0)
            return -1;
        if (!done)
            n++;
    }
    *pending = n;
    return 0;
}
