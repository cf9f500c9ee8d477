/*
 * The autoscaler policy, table-driven: the seed formula at every boundary, stabilisation,
 * scale-up rate limits and the starting cap, never-below-busy, idle-only deletion, the crash
 * back-off and circuit breaker, pinned targets and their expiry.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool/policy.h"
#include "testsuite.h"

static const char *const ids[] = {"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9",
                                  "b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9"};

/* A snapshot whose idle agents are ids[0..idle). */
static struct policy_snapshot snap(long long backlog, long long busy, long long idle,
                                   long long starting, struct policy_agent *buf)
{
    struct policy_snapshot s = {
        .backlog = backlog, .busy = busy, .idle = idle, .starting = starting, .agents = buf};

    for (long long i = 0; i < idle && i < 20; i++)
        buf[i] = (struct policy_agent){.id = ids[i], .idle = true};
    s.nagents = (size_t)(idle < 20 ? idle : 20);
    return s;
}

/* What each test starts from (setup): the default settings, no history. */
static struct policy_settings cfg;
static struct policy_history h;
static struct policy_decision d;
static struct policy_agent buf[20];
static struct policy_snapshot s;

static void setup(void)
{
    policy_settings_default(&cfg);
    memset(&h, 0, sizeof(h));
    memset(&d, 0, sizeof(d));
}

static const struct {
    int min, max, cap;
    long long backlog, busy;
    int raw, target;
} seed_rows[] = {
    /* min 2, max 10: backlog boundaries */
    {2, 10, 50, 0, 0, 2, 2},
    {2, 10, 50, 1, 0, 2, 2},
    {2, 10, 50, 2, 0, 2, 2},
    {2, 10, 50, 3, 0, 3, 3},
    {2, 10, 50, 9, 0, 9, 9},
    {2, 10, 50, 10, 0, 10, 10},
    {2, 10, 50, 11, 0, 10, 10},
    {2, 10, 50, 30, 0, 10, 10},
    /* busy + 1 boundaries */
    {2, 10, 50, 0, 1, 2, 2},
    {2, 10, 50, 0, 2, 3, 3},
    {2, 10, 50, 0, 9, 10, 10},
    {2, 10, 50, 0, 10, 10, 10},
    {2, 10, 50, 3, 5, 6, 6},
    {2, 10, 50, 7, 5, 7, 7},
    /* never below busy, even when max was lowered under it */
    {2, 4, 50, 0, 6, 4, 6},
    {0, 0, 50, 0, 3, 0, 3},
    /* min 0 still keeps one spare above busy */
    {0, 10, 50, 0, 0, 1, 1},
    {0, 0, 50, 5, 0, 0, 0},
    /* min == max */
    {5, 5, 50, 0, 0, 5, 5},
    {5, 5, 50, 40, 0, 5, 5},
    /* the hard cap wins over max_agents and min_agents */
    {3, 10, 4, 30, 0, 4, 4},
    {8, 10, 4, 0, 0, 4, 4},
    /* min > max is read as max */
    {8, 4, 50, 0, 0, 4, 4},
};

START_TEST(test_seed_formula)
{
    cfg.min_agents = seed_rows[_i].min;
    cfg.max_agents = seed_rows[_i].max;
    cfg.hard_cap = seed_rows[_i].cap;
    s = snap(seed_rows[_i].backlog, seed_rows[_i].busy, 0, 0, buf);
    policy_decide(&s, &cfg, 1000, &h, &d);
    ck_assert_msg(d.raw == seed_rows[_i].raw && d.target == seed_rows[_i].target,
                  "row %d: raw %d target %d, want %d %d (%s)", _i, d.raw, d.target,
                  seed_rows[_i].raw, seed_rows[_i].target, d.reason);
    ck_assert_int_eq(d.ndeletes, 0);
}
END_TEST

/* Scale-up: +max(2, 100 %) per evaluation, at most K starting, starting counts as capacity. */
static const struct {
    long long backlog, busy, idle, starting;
    int k;
    int creates;
    int limited;
} up_rows[] = {
    {30, 0, 0, 0, 20, 2, 1},  /* from nothing: +2 */
    {30, 0, 1, 0, 20, 2, 1},  /* 1 -> +2 */
    {30, 0, 2, 0, 20, 2, 1},  /* 2 -> +2 = 4 */
    {30, 0, 4, 0, 20, 4, 1},  /* 4 -> +4 = 8 */
    {30, 0, 8, 0, 20, 2, 0},  /* 8 -> 10 (target reached) */
    {30, 0, 10, 0, 20, 0, 0}, /* at max */
    {30, 0, 4, 0, 3, 3, 1},   /* K = 3 */
    {30, 0, 2, 2, 4, 2, 1},   /* 2 starting count as capacity; K room = 2 */
    {30, 0, 2, 4, 4, 0, 1},   /* K full */
    {3, 0, 2, 1, 4, 0, 0},    /* the starting pod already covers the backlog */
    {0, 3, 0, 0, 20, 1, 0},   /* busy 3 + 1 spare: +1 */
};

START_TEST(test_scale_up_limits)
{
    cfg.max_starting = up_rows[_i].k;
    s = snap(up_rows[_i].backlog, up_rows[_i].busy, up_rows[_i].idle, up_rows[_i].starting, buf);
    policy_decide(&s, &cfg, 1000, &h, &d);
    ck_assert_msg(d.creates == up_rows[_i].creates, "row %d: creates %d (%s)", _i, d.creates,
                  d.reason);
    ck_assert_msg(d.rate_limited == (up_rows[_i].limited != 0), "row %d: limited %d (%s)", _i,
                  d.rate_limited, d.reason);
}
END_TEST

START_TEST(test_ramp_two_to_ten)
{
    /* 30 tasks from a pool of 2 with instant starts: 2 -> 4 -> 8 -> 10 in three evaluations. */
    long long pool = 2;
    int steps = 0;

    cfg.max_starting = 10;
    while (pool < 10 && steps < 10) {
        s = snap(30, 0, pool, 0, buf);
        policy_decide(&s, &cfg, 1000 + steps, &h, &d);
        ck_assert_int_eq(d.target, 10);
        pool += d.creates;
        steps++;
    }
    ck_assert_int_eq(pool, 10);
    ck_assert_int_eq(steps, 3);
}
END_TEST

START_TEST(test_stabilization)
{
    cfg.stabilization_seconds = 300;
    s = snap(10, 0, 10, 0, buf);
    policy_decide(&s, &cfg, 0, &h, &d);
    ck_assert_int_eq(d.target, 10);

    /* The backlog empties: raw drops to 2 but the window still remembers 10. */
    s = snap(0, 0, 10, 0, buf);
    policy_decide(&s, &cfg, 100, &h, &d);
    ck_assert_int_eq(d.raw, 2);
    ck_assert_int_eq(d.target, 10);
    ck_assert_int_eq(d.ndeletes, 0);
    ck_assert_ptr_nonnull(strstr(d.reason, "stabilised"));

    policy_decide(&s, &cfg, 300, &h, &d);
    ck_assert_int_eq(d.target, 10);
    /* 10 was in force until t=100, so the dip has lasted a whole window only at t=400. */
    policy_decide(&s, &cfg, 399, &h, &d);
    ck_assert_int_eq(d.target, 10);
    ck_assert_int_eq(d.ndeletes, 0);

    /* A spike to 6 inside the window: the pool goes to 6 now and stays there a window. */
    s = snap(6, 0, 10, 0, buf);
    policy_decide(&s, &cfg, 401, &h, &d);
    ck_assert_int_eq(d.target, 6);
    ck_assert_int_eq(d.ndeletes, 4);

    s = snap(0, 0, 6, 0, buf);
    policy_decide(&s, &cfg, 500, &h, &d);
    ck_assert_int_eq(d.target, 6);
    policy_decide(&s, &cfg, 799, &h, &d);
    ck_assert_int_eq(d.target, 6); /* 6 held until t=500 */
    policy_decide(&s, &cfg, 802, &h, &d);
    ck_assert_int_eq(d.target, 2);
    ck_assert_int_eq(d.ndeletes, 4);
    ck_assert_str_eq(d.deletes[0], "a0");
    ck_assert_str_eq(d.deletes[3], "a3");
}
END_TEST

START_TEST(test_never_delete_busy)
{
    struct policy_agent agents[6] = {{"busy1", false}, {"idle1", true},  {"busy2", false},
                                     {"idle2", true},  {"busy3", false}, {"idle3", true}};

    s = (struct policy_snapshot){
        .backlog = 0, .busy = 3, .idle = 3, .agents = agents, .nagents = 6};
    cfg.stabilization_seconds = 0;
    cfg.min_agents = 0;
    cfg.max_agents = 2; /* asks for 2 while 3 are busy */
    policy_decide(&s, &cfg, 10, &h, &d);
    ck_assert_int_eq(d.target, 3);
    ck_assert_int_eq(d.ndeletes, 3);
    for (size_t i = 0; i < d.ndeletes; i++)
        ck_assert_msg(strncmp(d.deletes[i], "idle", 4) == 0, "deleted %s", d.deletes[i]);
    ck_assert_ptr_nonnull(strstr(d.reason, "held at busy"));

    /* Only idle agents are candidates, even when fewer than wanted. */
    s.idle = 1;
    agents[3].idle = agents[5].idle = false;
    s.busy = 5;
    cfg.max_agents = 0;
    policy_decide(&s, &cfg, 20, &h, &d);
    ck_assert_int_eq(d.target, 5);
    ck_assert_int_eq(d.ndeletes, 1);
    ck_assert_str_eq(d.deletes[0], "idle1");
}
END_TEST

START_TEST(test_breaker)
{
    /* The defaults: back-off 10 s doubling, breaker at 3. */
    s = snap(5, 0, 0, 0, buf);
    s.start_failures = 1;
    s.failure_reason = "exit code 1";
    policy_decide(&s, &cfg, 100, &h, &d);
    ck_assert_int_eq(d.creates, 0);
    ck_assert(!d.breaker_open);
    ck_assert_ptr_nonnull(strstr(d.reason, "exit code 1"));
    s.start_failures = 0;
    policy_decide(&s, &cfg, 109, &h, &d);
    ck_assert_int_eq(d.creates, 0);
    policy_decide(&s, &cfg, 110, &h, &d);
    ck_assert_int_eq(d.creates, 2);

    /* Two more failures: 3 in a row open the breaker with a 40 s back-off. */
    s.start_failures = 2;
    s.failure_reason = "ImagePullBackOff";
    policy_decide(&s, &cfg, 120, &h, &d);
    ck_assert(d.breaker_open);
    ck_assert_int_eq(d.creates, 0);
    ck_assert_ptr_nonnull(strstr(d.reason, "circuit breaker open"));
    ck_assert_ptr_nonnull(strstr(d.reason, "ImagePullBackOff"));
    s.start_failures = 0;
    policy_decide(&s, &cfg, 159, &h, &d);
    ck_assert_int_eq(d.creates, 0);
    /* Half-open: a single probe, and none while the probe is starting. */
    policy_decide(&s, &cfg, 160, &h, &d);
    ck_assert(d.breaker_open);
    ck_assert_int_eq(d.creates, 1);
    ck_assert_ptr_nonnull(strstr(d.reason, "half-open"));
    s = snap(5, 0, 0, 1, buf);
    policy_decide(&s, &cfg, 161, &h, &d);
    ck_assert_int_eq(d.creates, 0);

    /* Back-off is capped. */
    s.start_failures = 20;
    policy_decide(&s, &cfg, 200, &h, &d);
    s.start_failures = 0;
    policy_decide(&s, &cfg, 499, &h, &d);
    ck_assert_int_eq(d.creates, 0);
    s = snap(5, 0, 0, 0, buf);
    policy_decide(&s, &cfg, 500, &h, &d);
    ck_assert_int_eq(d.creates, 1);

    /* The probe came up: the breaker closes and scale-up resumes at full rate. */
    s = snap(5, 0, 1, 0, buf);
    s.start_successes = 1;
    policy_decide(&s, &cfg, 510, &h, &d);
    ck_assert(!d.breaker_open);
    ck_assert_int_eq(d.creates, 2);
    ck_assert_int_eq(h.consecutive_failures, 0);
}
END_TEST

/*
 * A pin until t=100 and what follows as it changes, then expires. Each step sets the pin, the
 * hard cap and the stabilisation window, then decides for a pool with no backlog; -1: not
 * checked, reason NULL: not checked.
 */
static const struct {
    int pin, cap, window;
    long long busy, idle;
    double now;
    int target, creates, ndeletes, pinned;
    const char *reason;
} pin_steps[] = {
    /* The pin applies, still rate-limited. */
    {7, 50, 300, 0, 2, 50, 7, 2, -1, 1, "pinned"},
    /* A pin below the current size applies at once (no stabilisation), idle agents only. */
    {1, 50, 300, 0, 7, 60, 1, -1, 6, -1, NULL},
    /* ... but never below busy. */
    {0, 50, 300, 2, 1, 61, 2, -1, 1, -1, NULL},
    /* Pins are capped by the hard cap. */
    {500, 12, 300, 0, 12, 70, 12, 0, -1, -1, NULL},
    /* Expired: back to the seed formula (stabilised, since the pin kept 12 alive). */
    {500, 50, 0, 0, 12, 100, 2, -1, 10, 0, NULL},
};

START_TEST(test_pinned_target)
{
    cfg.pinned_until = 100;
    for (size_t i = 0; i < sizeof(pin_steps) / sizeof(pin_steps[0]); i++) {
        cfg.pinned_target = pin_steps[i].pin;
        cfg.hard_cap = pin_steps[i].cap;
        cfg.stabilization_seconds = pin_steps[i].window;
        s = snap(0, pin_steps[i].busy, pin_steps[i].idle, 0, buf);
        policy_decide(&s, &cfg, pin_steps[i].now, &h, &d);
        ck_assert_msg(d.target == pin_steps[i].target, "step %zu: target %d (%s)", i, d.target,
                      d.reason);
        if (pin_steps[i].creates >= 0)
            ck_assert_msg(d.creates == pin_steps[i].creates, "step %zu: creates %d (%s)", i,
                          d.creates, d.reason);
        if (pin_steps[i].ndeletes >= 0)
            ck_assert_msg(d.ndeletes == (size_t)pin_steps[i].ndeletes, "step %zu: deletes %zu (%s)",
                          i, d.ndeletes, d.reason);
        if (pin_steps[i].pinned >= 0)
            ck_assert_msg(d.pinned == (pin_steps[i].pinned == 1), "step %zu: pinned %d", i,
                          d.pinned);
        if (pin_steps[i].reason)
            ck_assert_msg(strstr(d.reason, pin_steps[i].reason), "step %zu: %s", i, d.reason);
    }
}
END_TEST

static Suite *policy_suite(void)
{
    Suite *suite = suite_create("policy");
    TCase *tc = tcase_create("policy");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_loop_test(tc, test_seed_formula, 0, (int)(sizeof(seed_rows) / sizeof(seed_rows[0])));
    tcase_add_loop_test(tc, test_scale_up_limits, 0, (int)(sizeof(up_rows) / sizeof(up_rows[0])));
    tcase_add_test(tc, test_ramp_two_to_ten);
    tcase_add_test(tc, test_stabilization);
    tcase_add_test(tc, test_never_delete_busy);
    tcase_add_test(tc, test_breaker);
    tcase_add_test(tc, test_pinned_target);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return testsuite_run(policy_suite());
}
