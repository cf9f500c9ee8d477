/*
 * Test databases: each test binary gets a schema of its own (t_<pid>) in the database named by
 * DROVER_TEST_DSN (or the PG* environment), with every migration applied, so binaries can run
 * in parallel against one cluster. PGOPTIONS carries the search_path, so every connection the
 * process (and its children, e.g. a droverd under test) opens lands in that schema.
 */
#ifndef DROVER_TESTDB_H
#define DROVER_TESTDB_H

#include <check.h>

#include "store/db.h"
#include "svc/svc.h"

/*
 * Create and migrate the schema. Without a reachable database: exits 77 (CTest "skipped"),
 * or exits 1 when DROVER_TEST_REQUIRE_DB=1 so CI can never silently skip.
 * Call once from main() before running the suite.
 */
void testdb_setup(void);

/* Drop the schema (call at the end of main()). */
void testdb_teardown(void);

/*
 * The end of a database suite's main(): run every test of `s` (CK_ENV: CK_VERBOSITY chooses
 * the output, normal by default), free the runner, testdb_teardown, and return the exit status
 * (EXIT_FAILURE when a test failed).
 */
int testdb_run(Suite *s);

/* Open a connection to the test schema; aborts the test on failure. */
void testdb_connect(struct db *db);

/*
 * testdb_connect(db), and a service environment with its defaults (env) and a context over
 * that connection (ctx), as a worker has. Undo with testdb_svc_close.
 */
void testdb_svc(struct db *db, struct svc_env *env, struct svc_ctx *ctx);
void testdb_svc_close(struct db *db, struct svc_env *env);

/* Empty every table (RESTART IDENTITY) so each test starts clean. */
void testdb_reset(struct db *db);

/* The DSN to use for extra connections ("" = PG* environment). */
const char *testdb_dsn(void);

/*
 * How much slower than a plain build this one runs: 3 under ASan+UBSan (scripts/test.sh sets
 * DROVER_SANITIZED=1 there), else 1. Tests that wait for something asynchronous (a pool tick,
 * a process start) multiply their deadlines by it; the plain run keeps the strict bounds.
 */
double testdb_slowdown(void);

/* The schema name. */
const char *testdb_schema(void);

/* The first column of the first row of `sql` as an integer; any error fails the test. */
long long testdb_scalar(struct db *db, const char *sql);

/* Run `sql` (a command or a query); any error fails the test. */
void testdb_exec(struct db *db, const char *sql);

#endif
