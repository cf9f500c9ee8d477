/*
 * core/clock: the monotonic clock only moves forward and measures a sleep, its two units
 * agree, the wall clock is the epoch's, and clock_wall_in gives a normalised absolute deadline
 * that pthread_cond_timedwait honours.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "testsuite.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

START_TEST(monotonic_moves_forward_and_measures_a_sleep)
{
    long long prev = clock_ms(), t0, dt;

    for (int i = 0; i < 100000; i++) {
        long long now = clock_ms();

        ck_assert_int_ge(now, prev);
        prev = now;
    }
    t0 = clock_ms();
    sleep_ms(60);
    dt = clock_ms() - t0;
    ck_assert_int_ge(dt, 60);
    ck_assert_int_lt(dt, 10000); /* generous: a loaded CI machine */
}
END_TEST

START_TEST(seconds_and_milliseconds_agree)
{
    long long a = clock_ms();
    double s = clock_s();
    long long b = clock_ms();

    /* clock_s was read between a and b, on the same clock. */
    ck_assert(s * 1000.0 >= (double)a - 1.0);
    ck_assert(s * 1000.0 <= (double)b + 1.0);
    /* Sub-millisecond resolution: two reads a sleep apart differ by about the sleep. */
    s = clock_s();
    sleep_ms(20);
    ck_assert(clock_s() - s >= 0.020);
}
END_TEST

START_TEST(wall_clock_is_the_epoch)
{
    long long before = (long long)time(NULL) * 1000, w = clock_wall_ms();
    long long after = ((long long)time(NULL) + 1) * 1000;

    ck_assert_int_ge(w, before);
    ck_assert_int_le(w, after);
}
END_TEST

static const long long wall_in_cases[] = {0, 1, 999, 1000, 1001, 1500, 86400000LL, -1, -999};

START_TEST(wall_in_is_normalised)
{
    long long ms = wall_in_cases[_i];
    long long before = clock_wall_ms();
    struct timespec ts = clock_wall_in(ms);
    long long after = clock_wall_ms();
    long long at = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;

    ck_assert_int_ge(ts.tv_nsec, 0);
    ck_assert_int_lt(ts.tv_nsec, 1000000000L);
    ck_assert_int_ge(at, before + ms - 1);
    ck_assert_int_le(at, after + ms + 1);
}
END_TEST

START_TEST(wall_in_bounds_a_condition_wait)
{
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    struct timespec until;
    long long t0 = clock_ms(), dt;
    int rc;

    pthread_mutex_lock(&mu);
    until = clock_wall_in(150);
    do
        rc = pthread_cond_timedwait(&cv, &mu, &until);
    while (rc == 0); /* spurious wake-ups: wait on */
    pthread_mutex_unlock(&mu);
    dt = clock_ms() - t0;
    ck_assert_int_eq(rc, ETIMEDOUT);
    ck_assert_int_ge(dt, 140); /* the wall and monotonic clocks tick alike, to a few ms */
    ck_assert_int_lt(dt, 10000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("clock");

    tcase_add_test(tc, monotonic_moves_forward_and_measures_a_sleep);
    tcase_add_test(tc, seconds_and_milliseconds_agree);
    tcase_add_test(tc, wall_clock_is_the_epoch);
    tcase_add_loop_test(tc, wall_in_is_normalised, 0,
                        (int)(sizeof(wall_in_cases) / sizeof(wall_in_cases[0])));
    tcase_add_test(tc, wall_in_bounds_a_condition_wait);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
