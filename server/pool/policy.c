/* The autoscaler's pure policy (see policy.h for the rules). Any thread. */
#include "pool/policy.h"

#include <stdio.h>
#include <string.h>

void policy_settings_default(struct policy_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->min_agents = 2;
    s->max_agents = 10;
    s->hard_cap = 50;
    s->pinned_target = -1;
    s->max_starting = 4;
    s->stabilization_seconds = 300;
    s->breaker_threshold = 3;
    s->backoff_base_seconds = 10;
    s->backoff_max_seconds = 300;
}

static long long policy_max(long long a, long long b)
{
    return a > b ? a : b;
}

static long long policy_min(long long a, long long b)
{
    return a < b ? a : b;
}

/* Remember this evaluation's raw recommendation; the ring drops the oldest. */
static void policy_history_push(struct policy_history *h, double now, int raw)
{
    h->recs[h->head].at = now;
    h->recs[h->head].raw = raw;
    h->head = (h->head + 1) % POLICY_HISTORY;
    if (h->nrecs < POLICY_HISTORY)
        h->nrecs++;
}

/*
 * The highest raw recommendation in force during [now - window, now] (HPA's scale-down rule).
 * A recommendation holds until the next evaluation, so the last one made before the window
 * opened counts too: evaluations may be irregular (ticks, notifications), and a dip must have
 * lasted a whole window whatever the sampling.
 */
static int policy_window_max(const struct policy_history *h, double now, double window)
{
    int best = 0, before = 0;
    double before_at = -1e300;

    for (size_t i = 0; i < h->nrecs; i++) {
        if (h->recs[i].at >= now - window) {
            if (h->recs[i].raw > best)
                best = h->recs[i].raw;
        } else if (h->recs[i].at > before_at) {
            before_at = h->recs[i].at;
            before = h->recs[i].raw;
        }
    }
    return before > best ? before : best;
}

/* How long creation waits after `n` consecutive failures: base * 2^(n-1), capped. */
static double policy_backoff(const struct policy_settings *cfg, int n)
{
    double wait = cfg->backoff_base_seconds;

    for (int i = 1; i < n && wait < cfg->backoff_max_seconds; i++)
        wait *= 2;
    return wait < cfg->backoff_max_seconds ? wait : cfg->backoff_max_seconds;
}

void policy_decide(const struct policy_snapshot *s, const struct policy_settings *cfg, double now,
                   struct policy_history *h, struct policy_decision *d)
{
    long long cap, lo, hi, raw, current, target, stab, room, step, creates, want_del;
    const char *why;
    char extra[160] = "";

    memset(d, 0, sizeof(*d));
    cap = policy_max(cfg->hard_cap, 0);
    hi = policy_min(policy_max(cfg->max_agents, 0), cap);
    lo = policy_min(policy_max(cfg->min_agents, 0), hi);

    /* Failure bookkeeping first: one success closes the breaker, failures extend back-off. */
    if (s->start_successes > 0)
        h->consecutive_failures = 0;
    if (s->start_failures > 0) {
        h->consecutive_failures += s->start_failures;
        h->last_failure_at = now;
        snprintf(h->failure_reason, sizeof(h->failure_reason), "%s",
                 s->failure_reason ? s->failure_reason : "start failure");
    }

    /* Rule 1: the seed formula, or an unexpired pin. */
    if (cfg->pinned_target >= 0 && now < cfg->pinned_until) {
        raw = policy_min(cfg->pinned_target, cap);
        d->pinned = true;
        why = "pinned target";
    } else {
        raw = policy_max(policy_max(lo, s->backlog), s->busy + 1);
        raw = policy_min(raw, hi);
        if (raw == hi && hi > lo)
            why = "max_agents reached";
        else if (raw == lo && lo >= s->backlog && lo >= s->busy + 1)
            why = "min_agents";
        else if (s->backlog >= s->busy + 1)
            why = "backlog";
        else
            why = "busy + 1 spare";
    }
    d->raw = (int)raw;
    policy_history_push(h, now, (int)raw);

    current = s->idle + s->busy + s->starting;
    d->current = (int)current;

    /* Rule 2: scale down only to the highest recommendation of the window; a pin is explicit
     * operator intent and applies at once. */
    stab = raw;
    if (!d->pinned && raw < current && cfg->stabilization_seconds > 0) {
        stab = policy_window_max(h, now, cfg->stabilization_seconds);
        if (stab > current)
            stab = current;
        if (stab > raw)
            snprintf(extra, sizeof(extra), "; scale-down stabilised at %lld (window %.0f s)", stab,
                     cfg->stabilization_seconds);
    }
    d->stabilized = (int)stab;

    /* Rule 3: never below busy. */
    target = policy_max(stab, s->busy);
    if (target > stab)
        snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), "; held at busy=%lld",
                 s->busy);
    d->target = (int)target;

    /* Rules 4 and 5: how many to create now. */
    creates = policy_max(target - current, 0);
    if (creates > 0) {
        step = policy_max(2, current);
        if (creates > step) {
            creates = step;
            d->rate_limited = true;
        }
        room = policy_max(cfg->max_starting - s->starting, 0);
        if (creates > room) {
            creates = room;
            d->rate_limited = true;
        }
        if (h->consecutive_failures > 0) {
            double wait = policy_backoff(cfg, h->consecutive_failures);
            bool open = h->consecutive_failures >= cfg->breaker_threshold;

            d->breaker_open = open;
            if (now < h->last_failure_at + wait) {
                creates = 0;
                d->rate_limited = true;
                snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
                         "; %s after %d start failure(s) (%.40s), next try in %.0f s",
                         open ? "circuit breaker open" : "back-off", h->consecutive_failures,
                         h->failure_reason, h->last_failure_at + wait - now);
            } else if (open) {
                /* Half-open: one probe at a time until an agent comes up. */
                creates = policy_min(creates, policy_max(1 - s->starting, 0));
                snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
                         "; circuit breaker half-open after %d failures (%.40s): one probe",
                         h->consecutive_failures, h->failure_reason);
            }
        }
    }
    d->creates = (int)creates;

    /* Rule 6: delete only idle agents. */
    want_del = policy_max(current - target, 0);
    for (size_t i = 0; i < s->nagents && (long long)d->ndeletes < want_del; i++) {
        if (!s->agents[i].idle || !s->agents[i].id || d->ndeletes >= POLICY_MAX_AGENTS)
            continue;
        snprintf(d->deletes[d->ndeletes], sizeof(d->deletes[0]), "%s", s->agents[i].id);
        d->ndeletes++;
    }

    snprintf(d->reason, sizeof(d->reason),
             "%s: raw=%lld target=%lld current=%lld (busy=%lld idle=%lld starting=%lld "
             "backlog=%lld)%s",
             why, raw, target, current, s->busy, s->idle, s->starting, s->backlog, extra);
}
