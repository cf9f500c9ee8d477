/*
 * One PostgreSQL connection with lazily prepared statements and reconnect.
 * A `struct db` belongs to one thread at a time (each worker owns one).
 *
 * Statements are declared as static `struct db_stmt` tables next to the code that uses them;
 * db_exec() prepares a statement on first use on this connection (and again after a reconnect),
 * so every query goes through a prepared plan.
 */
#ifndef DROVER_STORE_DB_H
#define DROVER_STORE_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "core/err.h"

struct db_stmt {
    const char *name; /* unique across the program */
    const char *sql;
    int nparams;
};

struct db {
    PGconn *conn;
    char *dsn;                   /* owned; NULL = libpq's PG* environment */
    const struct db_stmt **prep; /* statements prepared on the current connection */
    size_t nprep, capprep;
};

/*
 * Connect. `dsn` is a libpq connection string or URI; NULL or "" uses the PG* environment.
 * Returns 0, or -1 with ERR_UNAVAILABLE (the message carries libpq's reason, never a password).
 */
int db_open(struct db *db, const char *dsn, struct err *err);
void db_close(struct db *db);

/*
 * Notice a connection the server closed while it sat idle (a restart, a terminated backend):
 * libpq's socket is non-blocking, so this reads only what already arrived, and the next
 * db_ensure reconnects instead of failing a request. Cheap; call before each request.
 */
void db_refresh(struct db *db);

/* Makes sure the connection is usable, resetting it when it was lost. 0 or -1. */
int db_ensure(struct db *db, struct err *err);

/*
 * Run a prepared statement with text parameters (NULL = SQL NULL). Returns a result with
 * status COMMAND_OK or TUPLES_OK that the caller PQclear()s, or NULL with `err` set: SQL
 * errors caused by the input (check, unique, not-null, bad text representation) become
 * ERR_INVALID, a lost connection ERR_UNAVAILABLE, anything else ERR_INTERNAL.
 */
PGresult *db_exec(struct db *db, const struct db_stmt *st, const char *const *params,
                  struct err *err);

/* db_exec for a statement whose rows do not matter (an UPDATE, a DELETE): 0 or -1. */
int db_run(struct db *db, const struct db_stmt *st, const char *const *params, struct err *err);

/*
 * db_exec for a statement that must return a row (the task, project or agent it names): a
 * result with no rows is ERR_NOT_FOUND with the message `fmt` and NULL, like any failure.
 */
PGresult *db_exec_found(struct db *db, const struct db_stmt *st, const char *const *params,
                        struct err *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* db_run for a statement that must touch a row (UPDATE/DELETE ... RETURNING): 0, or -1 with
 * ERR_NOT_FOUND and the message `fmt` when it touched none. */
int db_run_found(struct db *db, const struct db_stmt *st, const char *const *params,
                 struct err *err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Run a plain command (BEGIN, COMMIT, ...). 0 or -1. */
int db_command(struct db *db, const char *sql, struct err *err);

int db_begin(struct db *db, struct err *err);
int db_commit(struct db *db, struct err *err);
/* Roll back and ignore failures (used on error paths). */
void db_rollback(struct db *db);

/* The SQLSTATE of the last failed db_exec on this thread, or "" (for tests and mapping). */
const char *db_last_sqlstate(void);

/* Convenience readers over a result. */
const char *db_get(const PGresult *r, int row, const char *col);
long long db_get_ll(const PGresult *r, int row, const char *col);
bool db_is_null(const PGresult *r, int row, const char *col);

#endif
