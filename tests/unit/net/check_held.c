/*
 * Held long-polls re-run on task-ready notifications (net/held.c), driven as the service thread
 * drives them, with a real worker pool whose job only counts: how many claims a notification
 * sets off when the held polls are idle, and when they are all running (the case where every
 * claim that came back after any notification used to run again, without bound).
 */
#include <check.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "net/server_int.h"
#include "net/workers.h"
#include "testsuite.h"

#define NHELD 100

static atomic_int held_runs;

static void *held_open(void *arg)
{
    return arg;
}

static void held_close(void *ctx)
{
    (void)ctx;
}

/* A claim that finds nothing: keep holding (what work.c reports for an empty held claim). */
static void held_run(struct workers_worker *w, struct job *j, void *arg)
{
    (void)w;
    (void)arg;
    j->park_seconds = 1;
    atomic_fetch_add(&held_runs, 1);
}

static void held_wake_noop(void *arg)
{
    (void)arg;
}

static struct server srv;

static void setup(void)
{
    memset(&srv, 0, sizeof(srv));
    atomic_store(&held_runs, 0);
    srv.pool = workers_start(1, held_open, held_close, NULL, held_run, held_wake_noop, NULL);
    ck_assert_ptr_nonnull(srv.pool);
    /* NHELD WebSocket polls parked after an empty first claim (no notification meanwhile). */
    for (uint64_t i = 1; i <= NHELD; i++) {
        struct job *j = job_new(JOB_CLAIM, i);

        j->ws = true;
        j->park_seconds = 20;
        j->notify_seq = srv.notify_seq;
        held_park(&srv, j);
        job_free(j);
    }
    ck_assert_uint_eq(srv.nheld, NHELD);
}

static void teardown(void)
{
    struct job *j;

    workers_stop(srv.pool);
    while ((j = workers_done_pop(srv.pool)))
        job_free(j);
    workers_free(srv.pool);
    for (size_t i = 0; i < srv.nheld; i++)
        held_free(&srv.held[i]);
    free(srv.held);
}

/* Wait until the pool ran `n` claims in all, then hand every finished one back as the service
 * thread does (all popped first, so re-runs that finish meanwhile wait for the next call).
 * Returns how many came back. */
static int settle(int n)
{
    struct timespec ts = {0, 1000000};
    struct job *done[4 * NHELD];
    int back = 0;

    for (int i = 0; i < 5000 && atomic_load(&held_runs) < n; i++)
        nanosleep(&ts, NULL);
    ck_assert_int_eq(atomic_load(&held_runs), n);
    for (int i = 0; i < 5000 && workers_busy(srv.pool) > 0; i++)
        nanosleep(&ts, NULL);
    while (back < (int)(sizeof(done) / sizeof(done[0])) &&
           (done[back] = workers_done_pop(srv.pool)))
        back++;
    for (int i = 0; i < back; i++) {
        held_claim_done(&srv, done[i]);
        job_free(done[i]);
    }
    return back;
}

static size_t inflight(void)
{
    size_t n = 0;

    for (size_t i = 0; i < srv.nheld; i++)
        n += srv.held[i].inflight;
    return n;
}

START_TEST(a_notification_wakes_four_idle_polls)
{
    held_notified(&srv, 1);
    ck_assert_uint_eq(inflight(), 4);
    ck_assert_int_eq(settle(4), 4);
    ck_assert_uint_eq(inflight(), 0); /* nothing came meanwhile: nothing runs again */
    held_notified(&srv, 3);           /* a notification of three tasks */
    ck_assert_int_eq(settle(4 + 12), 12);
    ck_assert_uint_eq(srv.nheld, NHELD); /* still held, all of them */
}
END_TEST

START_TEST(claims_running_at_a_notification_rerun_within_its_credit)
{
    int runs;

    /* The recheck counted 25 claimable tasks: every held poll runs. */
    held_recheck_done(&srv, NHELD / 4);
    ck_assert_uint_eq(inflight(), NHELD);
    /* A task becomes ready while all of them run: none is idle to wake, so four of the claims
     * that may have looked before it committed run again, not all of them. */
    held_notified(&srv, 1);
    ck_assert_int_eq(settle(NHELD), NHELD);
    ck_assert_uint_eq(inflight(), 4);
    runs = NHELD + 4;
    /* Rounds of one notification each: four idle polls run per round, and the claims that were
     * running meanwhile find the credit spent, so nothing feeds on itself. */
    for (int round = 0; round < 5; round++) {
        size_t before = inflight();

        held_notified(&srv, 1);
        ck_assert_uint_eq(inflight(), before + 4);
        runs += 4;
        ck_assert_int_eq(settle(runs), (int)before + 4);
        ck_assert_uint_eq(inflight(), 0);
    }
    ck_assert_int_eq(atomic_load(&held_runs), NHELD + 4 + 5 * 4);
}
END_TEST

static Suite *held_suite(void)
{
    Suite *s = suite_create("held");
    TCase *tc = tcase_create("wake");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_notification_wakes_four_idle_polls);
    tcase_add_test(tc, claims_running_at_a_notification_rerun_within_its_credit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testsuite_run(held_suite());
}
