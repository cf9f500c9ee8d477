/*
 * PostgreSQL connections and prepared statements. The thread that owns the `struct db`.
 */
#include "store/db.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DB_RETRIES 3 /* tries of a statement that lost a deadlock or serialization conflict */

static _Thread_local char db_sqlstate[6];

static void db_forget_prepared(struct db *db)
{
    db->nprep = 0;
}

static int db_connect(struct db *db, struct err *err)
{
    const char *dsn = db->dsn ? db->dsn : "";

    db->conn = PQconnectdb(dsn);
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        /* libpq's message names host and reason; it never echoes the password. */
        err_set(err, ERR_UNAVAILABLE, "database unavailable: %s",
                db->conn ? PQerrorMessage(db->conn) : "out of memory");
        char *nl = err ? strchr(err->msg, '\n') : NULL;
        if (nl)
            *nl = '\0';
        PQfinish(db->conn);
        db->conn = NULL;
        return -1;
    }
    db_forget_prepared(db);
    return 0;
}

int db_open(struct db *db, const char *dsn, struct err *err)
{
    memset(db, 0, sizeof(*db));
    if (dsn && *dsn)
        db->dsn = mem_strdup(dsn);
    return db_connect(db, err);
}

void db_close(struct db *db)
{
    if (!db)
        return;
    PQfinish(db->conn);
    free(db->dsn);
    free(db->prep);
    memset(db, 0, sizeof(*db));
}

void db_refresh(struct db *db)
{
    for (int i = 0; i < 2 && db->conn && PQstatus(db->conn) == CONNECTION_OK; i++)
        PQconsumeInput(db->conn); /* twice: the FATAL message, then the end of the stream */
}

int db_ensure(struct db *db, struct err *err)
{
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
        return 0;
    if (db->conn) {
        PQreset(db->conn);
        db_forget_prepared(db);
        if (PQstatus(db->conn) == CONNECTION_OK) {
            log_info("db", "reconnected to the database");
            return 0;
        }
        PQfinish(db->conn);
        db->conn = NULL;
    }
    return db_connect(db, err);
}

static bool db_is_prepared(const struct db *db, const struct db_stmt *st)
{
    for (size_t i = 0; i < db->nprep; i++)
        if (db->prep[i] == st)
            return true;
    return false;
}

static int db_map_error(struct db *db, PGresult *r, struct err *err)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    snprintf(db_sqlstate, sizeof(db_sqlstate), "%s", state ? state : "");
    if (!msg)
        msg = PQerrorMessage(db->conn);
    if (PQstatus(db->conn) == CONNECTION_BAD || (state && strncmp(state, "08", 2) == 0) ||
        (state && strcmp(state, "57P01") == 0))
        return err_set(err, ERR_UNAVAILABLE, "database unavailable: %s", msg);
    /* Class 22 (data exception) and 23 (integrity) are caused by the input. */
    if (state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0))
        return err_set(err, ERR_INVALID, "%s", msg);
    if (state && strcmp(state, "40001") == 0)
        return err_set(err, ERR_BUSY, "serialization failure, retry: %s", msg);
    return err_set(err, ERR_INTERNAL, "database error %s: %s", state ? state : "?", msg);
}

PGresult *db_exec(struct db *db, const struct db_stmt *st, const char *const *params,
                  struct err *err)
{
    PGresult *r = NULL;
    ExecStatusType s;

    db_sqlstate[0] = '\0';
    if (db_ensure(db, err) < 0)
        return NULL;
    if (!db_is_prepared(db, st)) {
        r = PQprepare(db->conn, st->name, st->sql, st->nparams, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            db_map_error(db, r, err);
            PQclear(r);
            return NULL;
        }
        PQclear(r);
        if (db->nprep == db->capprep) {
            db->capprep = db->capprep ? db->capprep * 2 : 32;
            db->prep = mem_realloc(db->prep, db->capprep * sizeof(*db->prep));
        }
        db->prep[db->nprep++] = st;
    }
    for (int attempt = 1;; attempt++) {
        const char *code;

        r = PQexecPrepared(db->conn, st->name, st->nparams, params, NULL, NULL, 0);
        s = PQresultStatus(r);
        if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
            return r;
        /* A deadlock or serialization victim that was its own transaction was rolled back
         * whole: running it again is the same as a fresh request. (Inside BEGIN ... COMMIT the
         * caller's transaction is aborted and must fail.) */
        code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (attempt < DB_RETRIES && code &&
            (strcmp(code, "40P01") == 0 || strcmp(code, "40001") == 0) &&
            PQtransactionStatus(db->conn) == PQTRANS_IDLE) {
            log_warn("db", "%s: %s, retrying (attempt %d)", st->name,
                     strcmp(code, "40P01") == 0 ? "deadlock" : "serialization failure", attempt);
            PQclear(r);
            usleep((useconds_t)(1000 + rand() % 9000)); /* 1-10 ms, apart from the other party */
            continue;
        }
        db_map_error(db, r, err);
        PQclear(r);
        return NULL;
    }
}

int db_run(struct db *db, const struct db_stmt *st, const char *const *params, struct err *err)
{
    PGresult *r = db_exec(db, st, params, err);

    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

PGresult *db_exec_found(struct db *db, const struct db_stmt *st, const char *const *params,
                        struct err *err, const char *fmt, ...)
{
    PGresult *r = db_exec(db, st, params, err);
    va_list ap;

    if (!r || PQntuples(r) > 0)
        return r;
    PQclear(r);
    va_start(ap, fmt);
    err_vdetail(err, ERR_NOT_FOUND, NULL, fmt, ap);
    va_end(ap);
    return NULL;
}

int db_run_found(struct db *db, const struct db_stmt *st, const char *const *params,
                 struct err *err, const char *fmt, ...)
{
    PGresult *r = db_exec(db, st, params, err);
    int n = r ? PQntuples(r) : -1;
    va_list ap;

    PQclear(r);
    if (n != 0)
        return n > 0 ? 0 : -1;
    va_start(ap, fmt);
    err_vdetail(err, ERR_NOT_FOUND, NULL, fmt, ap);
    va_end(ap);
    return -1;
}

int db_command(struct db *db, const char *sql, struct err *err)
{
    PGresult *r;
    int rc = 0;

    if (db_ensure(db, err) < 0)
        return -1;
    r = PQexec(db->conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = db_map_error(db, r, err);
    PQclear(r);
    return rc;
}

int db_begin(struct db *db, struct err *err)
{
    return db_command(db, "BEGIN", err);
}

int db_commit(struct db *db, struct err *err)
{
    return db_command(db, "COMMIT", err);
}

void db_rollback(struct db *db)
{
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK &&
        PQtransactionStatus(db->conn) != PQTRANS_IDLE)
        PQclear(PQexec(db->conn, "ROLLBACK"));
}

const char *db_last_sqlstate(void)
{
    return db_sqlstate;
}

const char *db_get(const PGresult *r, int row, const char *col)
{
    int c = PQfnumber(r, col);

    if (c < 0 || row >= PQntuples(r) || PQgetisnull(r, row, c))
        return NULL;
    return PQgetvalue(r, row, c);
}

long long db_get_ll(const PGresult *r, int row, const char *col)
{
    const char *v = db_get(r, row, col);

    return v ? strtoll(v, NULL, 10) : 0;
}

bool db_is_null(const PGresult *r, int row, const char *col)
{
    return db_get(r, row, col) == NULL;
}
