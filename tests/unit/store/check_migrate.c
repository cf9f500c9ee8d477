/* Migrations against a real PostgreSQL: idempotent, serialised by the lock, atomic per file. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/migrate.h"
#include "testdb.h"

static void use_schema(struct db *db, const char *schema, int fresh)
{
    char sql[256];
    struct err err = {0};

    testdb_connect(db);
    if (fresh) {
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema,
                 schema);
        ck_assert_msg(db_command(db, sql, &err) == 0, "%s", err.msg);
    }
    snprintf(sql, sizeof(sql), "SET search_path = %s", schema);
    ck_assert_msg(db_command(db, sql, &err) == 0, "%s", err.msg);
}

static long long scalar(struct db *db, const char *sql)
{
    PGresult *r = PQexec(db->conn, sql);
    long long v;

    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(db->conn));
    v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

static int nfiles(void)
{
    int n = 0;

    for (const struct migrate_file *f = migrate_files; f->name; f++)
        n++;
    return n;
}

START_TEST(rerun_is_noop)
{
    struct db db;
    struct err err = {0};
    int applied = -1, pending = -1;

    testdb_connect(&db);
    ck_assert_int_eq(migrate_apply(&db, migrate_files, &applied, &err), 0);
    ck_assert_int_eq(applied, 0);
    ck_assert_int_eq(migrate_pending(&db, migrate_files, &pending, &err), 0);
    ck_assert_int_eq(pending, 0);
    ck_assert_int_eq(scalar(&db, "SELECT count(*) FROM schema_migrations"), nfiles());
    db_close(&db);
}
END_TEST

struct racer {
    char schema[64];
    int applied;
    char error[256];
};

static void *racer_run(void *arg)
{
    struct racer *r = arg;
    struct db db;
    struct err err = {0};
    char sql[128];

    if (db_open(&db, testdb_dsn(), &err) < 0)
        goto fail;
    snprintf(sql, sizeof(sql), "SET search_path = %s", r->schema);
    if (db_command(&db, sql, &err) < 0 || migrate_apply(&db, migrate_files, &r->applied, &err) < 0)
        goto fail;
    db_close(&db);
    return NULL;
fail:
    snprintf(r->error, sizeof(r->error), "%s", err.msg);
    db_close(&db);
    return NULL;
}

START_TEST(concurrent_replicas_apply_each_file_once)
{
    struct racer rs[4];
    pthread_t th[4];
    struct db db;
    char schema[64];
    int total = 0;

    snprintf(schema, sizeof(schema), "race_%ld", (long)getpid());
    use_schema(&db, schema, 1);
    for (int i = 0; i < 4; i++) {
        memset(&rs[i], 0, sizeof(rs[i]));
        snprintf(rs[i].schema, sizeof(rs[i].schema), "%s", schema);
        pthread_create(&th[i], NULL, racer_run, &rs[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(rs[i].error[0] == '\0', "replica %d: %s", i, rs[i].error);
        total += rs[i].applied;
    }
    ck_assert_int_eq(total, nfiles());
    ck_assert_int_eq(scalar(&db, "SELECT count(*) FROM schema_migrations"), nfiles());
    ck_assert_int_eq(scalar(&db, "SELECT count(*) FROM pool_settings"), 1);
    db_close(&db);
}
END_TEST

static const struct migrate_file good_then_bad[] = {
    {"001_a.sql", "CREATE TABLE a (x int); INSERT INTO a VALUES (1);"},
    {"002_b.sql", "CREATE TABLE b (x int); INSERT INTO b VALUES (1); SELECT no_such_function();"},
    {NULL, NULL}};
static const struct migrate_file good_then_fixed[] = {
    {"001_a.sql", "CREATE TABLE a (x int); INSERT INTO a VALUES (1);"},
    {"002_b.sql", "CREATE TABLE b (x int); INSERT INTO b VALUES (1);"},
    {NULL, NULL}};

START_TEST(failed_migration_leaves_schema_unchanged)
{
    struct db db;
    struct err err = {0};
    char schema[64];
    int applied = -1;

    snprintf(schema, sizeof(schema), "bad_%ld", (long)getpid());
    use_schema(&db, schema, 1);
    ck_assert_int_eq(migrate_apply(&db, good_then_bad, &applied, &err), -1);
    ck_assert_int_eq(applied, 1);
    ck_assert_ptr_nonnull(strstr(err.msg, "002_b.sql"));
    ck_assert_ptr_nonnull(strstr(err.msg, "no_such_function"));
    ck_assert_int_eq(scalar(&db, "SELECT count(*) FROM schema_migrations"), 1);
    ck_assert_int_eq(scalar(&db, "SELECT count(*) FROM a"), 1);
    ck_assert_int_eq(scalar(&db, "SELECT (to_regclass('b') IS NULL)::int"), 1);
    ck_assert_int_eq(migrate_apply(&db, good_then_fixed, &applied, &err), 0);
    ck_assert_int_eq(applied, 1);
    ck_assert_int_eq(scalar(&db, "SELECT count(*) FROM b"), 1);
    db_close(&db);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("migrate");
    TCase *tc = tcase_create("migrate");

    testdb_setup();
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, rerun_is_noop);
    tcase_add_test(tc, concurrent_replicas_apply_each_file_once);
    tcase_add_test(tc, failed_migration_leaves_schema_unchanged);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
