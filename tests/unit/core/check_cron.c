/* The 5-field cron parser and its next-slot search (pure; no database). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cron.h"
#include "testsuite.h"

/* Seconds since the epoch for a UTC date. */
static time_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {0};

    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return timegm(&tm);
}

static time_t next_of(const char *expr, time_t after)
{
    struct cron c;
    struct err err = {0};
    time_t n = 0;

    ck_assert_msg(cron_parse(expr, &c, &err) == 0, "%s: %s", expr, err.msg);
    ck_assert_msg(cron_next(&c, after, &n) == 0, "%s: no next slot", expr);
    return n;
}

START_TEST(every_minute)
{
    time_t t = utc(2026, 3, 1, 10, 0) + 30;

    ck_assert_int_eq(next_of("* * * * *", t), utc(2026, 3, 1, 10, 1));
    /* strictly after: an exact slot moves to the next one */
    ck_assert_int_eq(next_of("* * * * *", utc(2026, 3, 1, 10, 1)), utc(2026, 3, 1, 10, 2));
}
END_TEST

START_TEST(steps_ranges_lists)
{
    time_t t = utc(2026, 3, 1, 10, 7);

    ck_assert_int_eq(next_of("*/15 * * * *", t), utc(2026, 3, 1, 10, 15));
    ck_assert_int_eq(next_of("5,35 * * * *", t), utc(2026, 3, 1, 10, 35));
    ck_assert_int_eq(next_of("0 9-17/4 * * *", t), utc(2026, 3, 1, 13, 0));
    ck_assert_int_eq(next_of("10/20 * * * *", t), utc(2026, 3, 1, 10, 10));
    ck_assert_int_eq(next_of("10/20 * * * *", utc(2026, 3, 1, 10, 51)), utc(2026, 3, 1, 11, 10));
    ck_assert_int_eq(next_of("0 0 * * *", t), utc(2026, 3, 2, 0, 0));
    ck_assert_int_eq(next_of("30 2 1 * *", t), utc(2026, 4, 1, 2, 30));
}
END_TEST

START_TEST(names_and_weekdays)
{
    /* 2026-03-01 is a Sunday */
    time_t sun = utc(2026, 3, 1, 12, 0);

    ck_assert_int_eq(next_of("0 3 * * mon-fri", sun), utc(2026, 3, 2, 3, 0));
    ck_assert_int_eq(next_of("0 3 * * 1-5", sun), utc(2026, 3, 2, 3, 0));
    ck_assert_int_eq(next_of("0 0 * * 7", sun), utc(2026, 3, 8, 0, 0)); /* 7 = Sunday */
    ck_assert_int_eq(next_of("0 0 * * SUN", sun), utc(2026, 3, 8, 0, 0));
    ck_assert_int_eq(next_of("0 0 1 jan *", sun), utc(2027, 1, 1, 0, 0));
    ck_assert_int_eq(next_of("0 12 * DEC *", sun), utc(2026, 12, 1, 12, 0));
}
END_TEST

START_TEST(day_or_semantics)
{
    /* Both day fields restricted: either matches (the 15th, or any Monday). */
    time_t t = utc(2026, 3, 3, 0, 0); /* Tuesday the 3rd */

    ck_assert_int_eq(next_of("0 0 15 * mon", t), utc(2026, 3, 9, 0, 0));
    ck_assert_int_eq(next_of("0 0 15 * mon", utc(2026, 3, 13, 0, 0)), utc(2026, 3, 15, 0, 0));
    /* Only one restricted: both must match ("*" weekday), so the 15th. */
    ck_assert_int_eq(next_of("0 0 15 * *", t), utc(2026, 3, 15, 0, 0));
}
END_TEST

START_TEST(leap_day_and_impossible)
{
    struct cron c;
    struct err err = {0};
    time_t n;

    ck_assert_int_eq(next_of("0 0 29 2 *", utc(2026, 3, 1, 0, 0)), utc(2028, 2, 29, 0, 0));
    ck_assert_int_eq(cron_parse("0 0 30 2 *", &c, &err), 0);
    ck_assert_int_eq(cron_next(&c, utc(2026, 1, 1, 0, 0), &n), -1);
}
END_TEST

START_TEST(matches)
{
    struct cron c;

    ck_assert_int_eq(cron_parse("*/5 8 * * *", &c, NULL), 0);
    ck_assert(cron_matches(&c, utc(2026, 5, 5, 8, 10) + 59));
    ck_assert(!cron_matches(&c, utc(2026, 5, 5, 8, 11)));
    ck_assert(!cron_matches(&c, utc(2026, 5, 5, 9, 10)));
}
END_TEST

START_TEST(rejects_bad_expressions)
{
    static const char *const bad[] = {"",
                                      "* * * *",
                                      "* * * * * *",
                                      "60 * * * *",
                                      "* 24 * * *",
                                      "* * 0 * *",
                                      "* * 32 * *",
                                      "* * * 13 *",
                                      "* * * * 8",
                                      "5-1 * * * *",
                                      "*/0 * * * *",
                                      "a * * * *",
                                      "1,,2 * * * *",
                                      "1- * * * *",
                                      "*/ * * * *",
                                      "* * * foo *",
                                      "01234 * * * *",
                                      "-1 * * * *",
                                      "* * * * mon-",
                                      "1/100 * * * *"};
    struct cron c;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err err = {0};

        ck_assert_msg(cron_parse(bad[i], &c, &err) == -1, "'%s' was accepted", bad[i]);
        ck_assert_int_eq(err.code, ERR_INVALID);
        ck_assert_msg(strstr(err.msg, "cron") != NULL, "'%s': %s", bad[i], err.msg);
    }
    ck_assert_int_eq(cron_parse(NULL, &c, NULL), -1);
}
END_TEST

START_TEST(whitespace_tolerated)
{
    time_t t = utc(2026, 3, 1, 10, 7);

    ck_assert_int_eq(next_of("  0   12\t* * *  ", t), utc(2026, 3, 1, 12, 0));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cron");
    TCase *tc = tcase_create("cron");

    tcase_add_test(tc, every_minute);
    tcase_add_test(tc, steps_ranges_lists);
    tcase_add_test(tc, names_and_weekdays);
    tcase_add_test(tc, day_or_semantics);
    tcase_add_test(tc, leap_day_and_impossible);
    tcase_add_test(tc, matches);
    tcase_add_test(tc, rejects_bad_expressions);
    tcase_add_test(tc, whitespace_tolerated);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
