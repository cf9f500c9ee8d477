/*
 * Held get_next_task long-polls. A claim that found nothing and may wait (park_seconds) is
 * kept here as {connection id, JSON-RPC id, agent, deadline}, claiming nothing while it waits.
 * It is re-run as a JOB_CLAIM when a task may have become claimable: up to
 * HELD_WAKE_PER_NOTIFY per task that a notification announces (idle held claims first, then
 * claims that were running when it came and so may have looked too early), and, because
 * NOTIFY is only a hint (and a back-off's run_after passes silently), as many as the periodic
 * count of claimable tasks says (the re-check backstop). At its deadline, on cancellation and at
 * shutdown it is answered {task: null}. Service thread only.
 */
#include "core/mem.h"
#include "mcp/mcp.h"
#include "core/clock.h"
#include "net/server_int.h"
#include "net/workers.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* While polls are held, ask this often how many tasks are claimable and wake that many.
 * (Re-running every held claim instead cost one claim statement per held poll per period:
 * 6,700/s at 10,000 agents.) */
#define HELD_RECHECK_MS 1500
#define HELD_WAKE_PER_NOTIFY 4 /* held claims re-run per task-ready notification */
#define HELD_CREDIT_MAX 4096   /* re-runs owed at most (a burst of notifications) */

void held_free(struct held *h)
{
    json_decref(h->jrpc_id);
    free(h->session);
}

/* Answer a held poll with {task:null} (deadline, cancellation of an HTTP poll, shutdown). */
static void held_answer_null(struct server *s, struct held *h)
{
    json_t *r =
        mcp_reply_held_empty(h->wrap == JOB_WRAP_TOOL, h->wrap == JOB_WRAP_MODERN, h->jrpc_id);
    char *txt = json_dumps(r, JSON_COMPACT);

    conn_deliver(s, h->conn_id, h->ws, 200, txt, strlen(txt), NULL);
    free(txt);
    json_decref(r);
}

static void held_remove(struct server *s, size_t i)
{
    held_free(&s->held[i]);
    s->held[i] = s->held[--s->nheld];
}

void held_drop_conn(struct server *s, uint64_t conn_id)
{
    for (size_t i = 0; i < s->nheld;) {
        if (s->held[i].conn_id == conn_id && !s->held[i].inflight) {
            held_remove(s, i);
            continue;
        }
        if (s->held[i].conn_id == conn_id)
            s->held[i].cancelled = true; /* its claim is running: drop what comes back */
        i++;
    }
}

static struct held *held_find_conn(struct server *s, uint64_t conn_id, const json_t *id)
{
    for (size_t i = 0; i < s->nheld; i++)
        if (s->held[i].conn_id == conn_id &&
            (id ? json_equal(s->held[i].jrpc_id, id) : !s->held[i].jrpc_id))
            return &s->held[i];
    return NULL;
}

/* Hand the held claim to a worker; false when the queue is full (the recheck tries again). */
static bool held_submit(struct server *s, struct held *h)
{
    struct job *j = job_new(JOB_CLAIM, h->conn_id);

    j->ws = h->ws;
    j->wrap = h->wrap;
    j->jrpc_id = h->jrpc_id ? json_incref(h->jrpc_id) : NULL;
    memcpy(j->agent_id, h->agent_id, sizeof(j->agent_id));
    j->deadline_ms = h->deadline_ms;
    j->notify_seq = s->notify_seq;
    if (workers_submit(s->pool, j) < 0) {
        job_free(j); /* busy: the next tick tries again */
        return false;
    }
    h->inflight = true;
    return true;
}

/* Claims a notification of this many tasks may set off. */
static long long held_credit_for(int nevents)
{
    return (long long)(nevents > 0 ? nevents : 1) * HELD_WAKE_PER_NOTIFY;
}

static void held_credit_cap(struct server *s)
{
    if (s->wake_credit > HELD_CREDIT_MAX)
        s->wake_credit = HELD_CREDIT_MAX;
}

/* Spend the wake credit on waiting claims, in order (oldest deadline first is good enough). */
static void held_wake(struct server *s)
{
    for (size_t i = 0; i < s->nheld && s->wake_credit > 0; i++) {
        if (!s->held[i].inflight && !s->held[i].cancelled) {
            if (!held_submit(s, &s->held[i]))
                return; /* the queue is full: the credit waits for the claims that return */
            s->wake_credit--;
        }
    }
}

/* A claim that ran while a task became ready: run it again if the credit allows. */
static void held_again(struct server *s, struct held *h, uint64_t seq)
{
    if (seq != s->notify_seq && s->wake_credit > 0 && held_submit(s, h))
        s->wake_credit--;
}

void held_cancel(struct server *s, const struct job *j)
{
    for (size_t i = 0; i < s->nheld; i++) {
        struct held *h = &s->held[i];
        bool same = j->ws ? (h->ws && h->conn_id == j->conn_id)
                          : (h->session && j->session && strcmp(h->session, j->session) == 0);

        if (!same || !json_equal(h->jrpc_id, j->cancel_id))
            continue;
        if (h->inflight) {
            h->cancelled = true; /* answered when its claim comes back */
            return;
        }
        /* HTTP: the held POST must be answered; ws: a cancelled request is not answered. */
        if (!h->ws)
            held_answer_null(s, h);
        held_remove(s, i);
        return;
    }
}

void held_park(struct server *s, const struct job *j)
{
    struct held h = {.conn_id = j->conn_id, .ws = j->ws, .wrap = j->wrap};

    h.jrpc_id = j->jrpc_id ? json_incref(j->jrpc_id) : NULL;
    memcpy(h.agent_id, j->agent_id, sizeof(h.agent_id));
    h.session = j->session ? mem_strdup(j->session) : NULL;
    h.deadline_ms = clock_ms() + (long long)j->park_seconds * 1000;
    conn_note_who(s, j); /* the answer comes later, from a job that does not authenticate */
    if (s->stopping) {
        held_answer_null(s, &h);
        held_free(&h);
        return;
    }
    if (s->nheld == s->capheld) {
        s->capheld = s->capheld ? s->capheld * 2 : 64;
        s->held = mem_realloc(s->held, s->capheld * sizeof(*s->held));
    }
    s->held[s->nheld++] = h;
    held_again(s, &s->held[s->nheld - 1], j->notify_seq); /* a task became ready meanwhile */
    if (!j->ws) {
        struct lws *wsi = conn_get(s, j->conn_id);
        if (wsi) /* held: the tick answers at the deadline, not the waiting backstop */
            fifo_del(lws_wsi_user(wsi));
    }
}

bool held_claim_done(struct server *s, const struct job *j)
{
    struct held *h = held_find_conn(s, j->conn_id, j->jrpc_id);

    if (!h)
        return false;
    h->inflight = false;
    if (j->park_seconds > 0) {
        if (h->cancelled || s->stopping) {
            if (!h->ws || s->stopping)
                held_answer_null(s, h);
            held_remove(s, (size_t)(h - s->held));
        } else {
            held_again(s, h, j->notify_seq); /* a task became ready while this claim ran */
        }
        return false;
    }
    held_remove(s, (size_t)(h - s->held)); /* the caller answers: task or null */
    return true;
}

void held_notified(struct server *s, int nevents)
{
    s->notify_seq++;
    s->wake_credit += held_credit_for(nevents);
    held_credit_cap(s);
    held_wake(s);
}

void held_resync(struct server *s)
{
    s->notify_seq++;
    s->last_recheck_ms = 0; /* notifications may have been lost: count at the next tick */
}

void held_recheck_done(struct server *s, int claimable)
{
    s->recheck_pending = false;
    /* Not a reset: a notification may have come after the count was taken. */
    if (claimable > 0 && s->wake_credit < held_credit_for(claimable))
        s->wake_credit = held_credit_for(claimable);
    held_credit_cap(s);
    held_wake(s);
}

void held_release_all(struct server *s)
{
    for (size_t i = 0; i < s->nheld;) {
        if (!s->held[i].inflight) {
            held_answer_null(s, &s->held[i]);
            held_remove(s, i);
            continue;
        }
        i++;
    }
}

void held_expire(struct server *s, long long now)
{
    for (size_t i = 0; i < s->nheld;) {
        struct held *h = &s->held[i];
        if (!h->inflight && now >= h->deadline_ms) {
            held_answer_null(s, h);
            held_remove(s, i);
            continue;
        }
        i++;
    }
}

void held_recheck(struct server *s, long long now)
{
    struct job *j;

    if (s->nheld == 0 || s->recheck_pending || s->stopping ||
        now - s->last_recheck_ms < HELD_RECHECK_MS)
        return;
    j = job_new(JOB_RECHECK, 0);
    s->last_recheck_ms = now;
    /* No more than the held polls are worth counting (net/job.h); capped so that the answer
     * times HELD_WAKE_PER_NOTIFY cannot overflow. */
    j->nevents =
        s->nheld > INT_MAX / HELD_WAKE_PER_NOTIFY ? INT_MAX / HELD_WAKE_PER_NOTIFY : (int)s->nheld;
    if (workers_submit(s->pool, j) < 0)
        job_free(j); /* busy: the next tick asks again */
    else
        s->recheck_pending = true;
}
