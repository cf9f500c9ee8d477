/*
 * Schema migrations: sql/NNN_name.sql files compiled into the binary, applied in order, each
 * in its own transaction, under a PostgreSQL advisory lock so replicas starting together do not
 * race. Worker threads or the main thread (blocking).
 */
#ifndef DROVER_STORE_MIGRATE_H
#define DROVER_STORE_MIGRATE_H

#include "core/err.h"
#include "store/db.h"

struct migrate_file {
    const char *name; /* "001_init.sql" */
    const char *sql;
};

/* The embedded migrations, terminated by {NULL, NULL} (generated from sql/). */
extern const struct migrate_file migrate_files[];

/*
 * Apply every file of `files` not yet recorded in schema_migrations. `*applied` (may be NULL)
 * receives how many were applied. A failing file is rolled back whole: the schema is left as
 * it was and `err` carries the file name and PostgreSQL's message.
 */
int migrate_apply(struct db *db, const struct migrate_file *files, int *applied, struct err *err);

/* How many of `files` are not yet applied (0 = current). For /ready. */
int migrate_pending(struct db *db, const struct migrate_file *files, int *pending, struct err *err);

/* The version number of a file name ("007_x.sql" -> 7), or -1 when it has none. */
int migrate_version(const char *name);

#endif
