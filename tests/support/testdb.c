/* Per-binary test schemas. Main thread (setup/teardown) and test processes. */
#include "testdb.h"
#include "testsuite.h"
#include "store/migrate.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char testdb_schema_name[64];
static const char *testdb_base;

const char *testdb_dsn(void)
{
    return testdb_base ? testdb_base : "";
}

const char *testdb_schema(void)
{
    return testdb_schema_name;
}

static int testdb_required(void)
{
    const char *r = getenv("DROVER_TEST_REQUIRE_DB");

    return r && strcmp(r, "1") == 0;
}

void testdb_setup(void)
{
    struct db db;
    struct err err = {0};
    char sql[256], opts[128];

    testdb_base = getenv("DROVER_TEST_DSN");
    unsetenv("PGOPTIONS");
    if (db_open(&db, testdb_dsn(), &err) < 0) {
        if (testdb_required()) {
            fprintf(stderr, "FAIL: no database and DROVER_TEST_REQUIRE_DB=1: %s\n", err.msg);
            exit(1);
        }
        printf("SKIP: no database (%s)\n", err.msg);
        exit(77);
    }
    snprintf(testdb_schema_name, sizeof(testdb_schema_name), "t_%ld", (long)getpid());
    snprintf(sql, sizeof(sql),
             "SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s CASCADE; "
             "CREATE SCHEMA %s",
             testdb_schema_name, testdb_schema_name);
    if (db_command(&db, sql, &err) < 0) {
        fprintf(stderr, "FAIL: creating schema: %s\n", err.msg);
        exit(1);
    }
    db_close(&db);
    snprintf(opts, sizeof(opts), "-c search_path=%s -c client_min_messages=warning",
             testdb_schema_name);
    setenv("PGOPTIONS", opts, 1);
    if (db_open(&db, testdb_dsn(), &err) < 0 || migrate_apply(&db, migrate_files, NULL, &err) < 0) {
        fprintf(stderr, "FAIL: migrating the test schema: %s\n", err.msg);
        exit(1);
    }
    db_close(&db);
}

void testdb_teardown(void)
{
    struct db db;
    struct err err = {0};
    char sql[256];

    if (!testdb_schema_name[0])
        return;
    unsetenv("PGOPTIONS");
    if (db_open(&db, testdb_dsn(), &err) < 0)
        return;
    snprintf(sql, sizeof(sql),
             "SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s CASCADE",
             testdb_schema_name);
    if (db_command(&db, sql, &err) < 0)
        fprintf(stderr, "warning: dropping %s: %s\n", testdb_schema_name, err.msg);
    db_close(&db);
}

int testdb_run(Suite *s)
{
    int rc = testsuite_run(s);

    testdb_teardown();
    return rc;
}

void testdb_connect(struct db *db)
{
    struct err err = {0};

    if (db_open(db, testdb_dsn(), &err) < 0)
        ck_abort_msg("connecting to the test database: %s", err.msg);
}

void testdb_reset(struct db *db)
{
    struct err err = {0};

    if (db_command(db,
                   "TRUNCATE activity, api_tokens, mcp_sessions, tasks, agents, projects "
                   "RESTART IDENTITY CASCADE",
                   &err) < 0)
        ck_abort_msg("resetting the test database: %s", err.msg);
}

double testdb_slowdown(void)
{
    const char *s = getenv("DROVER_SANITIZED");

    return s && strcmp(s, "1") == 0 ? 3.0 : 1.0;
}

void testdb_svc(struct db *db, struct svc_env *env, struct svc_ctx *ctx)
{
    testdb_connect(db);
    svc_env_default(env);
    ctx->env = env;
    ctx->db = db;
}

void testdb_svc_close(struct db *db, struct svc_env *env)
{
    svc_env_clear(env);
    db_close(db);
}

long long testdb_scalar(struct db *db, const char *sql)
{
    PGresult *r = PQexec(db->conn, sql);
    long long v;

    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0, "%s: %s", sql,
                  PQerrorMessage(db->conn));
    v = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

void testdb_exec(struct db *db, const char *sql)
{
    PGresult *r = PQexec(db->conn, sql);

    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
                  "%s: %s", sql, PQerrorMessage(db->conn));
    PQclear(r);
}
