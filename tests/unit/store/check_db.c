/*
 * db_exec against a real PostgreSQL: a statement that loses a deadlock, being its own
 * transaction, is retried and succeeds; inside an explicit transaction it fails as it must.
 * db_exec_found / db_run_found turn "no row" into ERR_NOT_FOUND.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"
#include "testdb.h"

static struct db db;
static PGconn *other;

/* Locks row 2, then row 1: the opposite order of the test's other session. */
static const struct db_stmt st_cross = {
    "check_db_cross",
    "WITH a AS (UPDATE dl SET v = v + 1 WHERE id = 2 RETURNING v),"
    " b AS (UPDATE dl SET v = v + 10 WHERE id = 1 AND (SELECT count(*) FROM a) > 0 RETURNING v)"
    " SELECT count(*) FROM b",
    0};

struct cross_run {
    int rc;
    struct err err;
};

static void *cross_thread(void *arg)
{
    struct cross_run *c = arg;
    PGresult *r = db_exec(&db, &st_cross, NULL, &c->err);

    c->rc = r ? 0 : -1;
    PQclear(r);
    return NULL;
}

static void must(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);

    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
                  "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
}

static long long value(int id)
{
    char sql[64];
    PGresult *r;
    long long v;

    snprintf(sql, sizeof(sql), "SELECT v FROM dl WHERE id = %d", id);
    r = PQexec(other, sql);
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

static void setup(void)
{
    testdb_connect(&db);
    other = PQconnectdb(testdb_dsn());
    ck_assert_int_eq(PQstatus(other), CONNECTION_OK);
    must(other, "DROP TABLE IF EXISTS dl");
    must(other, "CREATE TABLE dl (id int PRIMARY KEY, v int NOT NULL)");
    must(other, "INSERT INTO dl VALUES (1, 0), (2, 0)");
}

static void teardown(void)
{
    must(other, "DROP TABLE IF EXISTS dl");
    PQfinish(other);
    db_close(&db);
}

/*
 * The other session holds row 1 and then asks for row 2, which the statement holds while it
 * waits for row 1: a deadlock. The statement waited first, so its deadlock check (after
 * deadlock_timeout, 1 s by default) is the one that finds the cycle: it is the victim.
 */
START_TEST(deadlock_victim_statement_is_retried)
{
    struct cross_run c = {0};
    pthread_t t;

    must(other, "BEGIN");
    must(other, "UPDATE dl SET v = v + 100 WHERE id = 1");
    ck_assert_int_eq(pthread_create(&t, NULL, cross_thread, &c), 0);
    usleep(300 * 1000); /* the statement now holds row 2 and waits for row 1 */
    must(other, "UPDATE dl SET v = v + 100 WHERE id = 2"); /* returns once the victim is gone */
    must(other, "COMMIT");
    pthread_join(t, NULL);
    ck_assert_msg(c.rc == 0, "the deadlocked statement was not retried: %s", c.err.msg);
    /* Both sessions' updates landed once each. */
    ck_assert_int_eq(value(1), 110);
    ck_assert_int_eq(value(2), 101);
}
END_TEST

/* Inside BEGIN ... COMMIT the transaction is lost: no retry, the error reaches the caller. */
START_TEST(deadlock_inside_a_transaction_is_not_retried)
{
    struct cross_run c = {0};
    struct err err = {0};
    pthread_t t;

    ck_assert_int_eq(db_begin(&db, &err), 0);
    must(other, "BEGIN");
    must(other, "UPDATE dl SET v = v + 100 WHERE id = 1");
    ck_assert_int_eq(pthread_create(&t, NULL, cross_thread, &c), 0);
    usleep(300 * 1000);
    must(other, "UPDATE dl SET v = v + 100 WHERE id = 2");
    must(other, "COMMIT");
    pthread_join(t, NULL);
    ck_assert_int_eq(c.rc, -1);
    db_rollback(&db);
    ck_assert_int_eq(value(1), 100);
    ck_assert_int_eq(value(2), 100);
}
END_TEST

static const struct db_stmt st_bump = {"check_db_bump",
                                       "UPDATE dl SET v = v + 1 WHERE id = $1::int RETURNING v", 1};

/* A statement that must name a row: a missing one is ERR_NOT_FOUND with the caller's words. */
START_TEST(found_helpers_say_not_found)
{
    const char *one[1] = {"1"}, *none[1] = {"7"};
    struct err err = {0};
    PGresult *r = db_exec_found(&db, &st_bump, one, &err, "row %d does not exist", 1);

    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "1");
    PQclear(r);
    ck_assert_ptr_null(db_exec_found(&db, &st_bump, none, &err, "row %d does not exist", 7));
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
    ck_assert_str_eq(err.msg, "row 7 does not exist");
    err_clear(&err);
    ck_assert_int_eq(db_run_found(&db, &st_bump, one, &err, "row %d is gone", 1), 0);
    ck_assert_int_eq(value(1), 2);
    ck_assert_int_eq(db_run_found(&db, &st_bump, none, &err, "row %d is gone", 7), -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
    ck_assert_str_eq(err.msg, "row 7 is gone");
    /* A failure of the statement itself stays what db_exec made of it. */
    none[0] = "x";
    ck_assert_int_eq(db_run_found(&db, &st_bump, none, &err, "row is gone"), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("db");

    testdb_setup();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, deadlock_victim_statement_is_retried);
    tcase_add_test(tc, deadlock_inside_a_transaction_is_not_retried);
    tcase_add_test(tc, found_helpers_say_not_found);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
