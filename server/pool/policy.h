/*
 * The autoscaler's policy: a pure function from (snapshot of the pool and queue, settings,
 * clock, history) to a decision (target size, how many agents to create, which idle agents to
 * delete, and why). No I/O, no globals, no clock reads: the loop (pool/loop.c) gathers the
 * inputs and applies the decision; the tests drive it with tables.
 * Any thread; a `struct policy_history` belongs to one caller.
 *
 * Rules, in order:
 *  1. raw = min(max(min_agents, backlog, busy + 1), max_agents)            (the seed formula)
 *     or the pinned target while `now < pinned_until`; both capped by the hard cap.
 *  2. Scale-down is stabilised (HPA's behaviour): the target is the highest raw recommendation
 *     seen within the last `stabilization_seconds`, so a dip must last a whole window.
 *  3. Never below busy: busy agents are never deleted, so the target is at least `busy`.
 *  4. Scale-up is rate-limited to +max(2, 100 % of current capacity) per evaluation, and at
 *     most `max_starting` agents may be starting at once (starting agents count as capacity).
 *  5. Crash-loop back-off: after n consecutive start failures (an agent that died or never
 *     heartbeated within the start-up deadline), creation waits min(base * 2^(n-1), max);
 *     after `breaker_threshold` failures the breaker opens: once the back-off has passed only
 *     one probe agent may be starting (half-open). One successful start closes it.
 *  6. Scale-down deletes only idle agents, the first ones in snapshot order.
 */
#ifndef DROVER_POOL_POLICY_H
#define DROVER_POOL_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#define POLICY_MAX_AGENTS 256 /* the largest pool the policy reasons about */
#define POLICY_HISTORY 64     /* raw recommendations remembered for stabilisation */
#define POLICY_REASON_MAX 256

struct policy_settings {
    int min_agents; /* 0 <= min <= max */
    int max_agents;
    int hard_cap;        /* configured ceiling no setting or pin may exceed */
    int pinned_target;   /* < 0: none */
    double pinned_until; /* epoch seconds; the pin applies while now < pinned_until */
    int max_starting;    /* at most this many agents starting at once (K) */
    double stabilization_seconds;
    int breaker_threshold;       /* consecutive start failures that open the breaker */
    double backoff_base_seconds; /* first back-off after a start failure */
    double backoff_max_seconds;  /* cap of the back-off */
};

/* Fills in the defaults: 2..10, hard cap 50, K = 4, 300 s, breaker 3, back-off 10 s..300 s. */
void policy_settings_default(struct policy_settings *s);

/* One live agent as the policy sees it. */
struct policy_agent {
    const char *id; /* borrowed; copied into the decision */
    bool idle;      /* idle agents are the only deletion candidates */
};

struct policy_snapshot {
    long long backlog;                 /* runnable tasks */
    long long busy;                    /* agents holding a task */
    long long idle;                    /* agents ready to claim */
    long long starting;                /* created, not yet heartbeating (initializing) */
    const struct policy_agent *agents; /* the idle agents, in deletion-preference order */
    size_t nagents;
    int start_failures;         /* start failures observed since the previous evaluation */
    int start_successes;        /* agents that came up (first heartbeat) since the previous one */
    const char *failure_reason; /* the latest failure's reason, or NULL */
};

/* What the policy remembers between evaluations; zero-initialise before the first one. */
struct policy_history {
    struct {
        double at;
        int raw;
    } recs[POLICY_HISTORY];
    size_t nrecs, head;
    int consecutive_failures;
    double last_failure_at;
    char failure_reason[128];
};

struct policy_decision {
    int raw;         /* rule 1 */
    int stabilized;  /* after rule 2 */
    int target;      /* what the pool converges to (after rule 3) */
    int current;     /* idle + busy + starting */
    int creates;     /* agents to create now (after rules 4-5) */
    size_t ndeletes; /* idle agents to drain and delete now */
    char deletes[POLICY_MAX_AGENTS][37];
    bool pinned;
    bool breaker_open;
    bool rate_limited; /* creates were held back by rule 4 or 5: evaluate again soon */
    char reason[POLICY_REASON_MAX];
};

/*
 * Evaluate. Records the raw recommendation and the failure counters in `h`, which is the only
 * state carried between calls. Never fails: bad settings are clamped (max < min is read as
 * max = min, values past the hard cap as the cap).
 */
void policy_decide(const struct policy_snapshot *s, const struct policy_settings *cfg, double now,
                   struct policy_history *h, struct policy_decision *d);

#endif
