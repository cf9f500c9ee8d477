/* Group commit for heartbeats: leader/follower over one queue. See svc_hbbatch.h. */
#include "svc/svc_hbbatch.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/hbbatch.h"
#include "store/queue.h"
#include "svc/svc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A heartbeat waiting for its batch, on its caller's stack. */
struct hb_wait {
    struct hbbatch_req req;
    bool taken, done, retry_alone;
    bool want_limits; /* svc_hbmem learns the budgets too: a batch of one runs hbbatch_exec */
    struct hb_wait *next;
};

/* Batches running at once: enough to keep both of PostgreSQL's cores busy; one alone
 * serialised every heartbeat of the replica behind one backend (measured slower than no
 * batching at all on the 2-core VM, 650 vs 980 heartbeats/s). */
#define HBBATCH_PARALLEL 2

struct hb_run {
    struct hb_wait **ws; /* NULL: slot free */
    size_t n;
};

struct svc_hbbatch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct hb_wait *head, **tail;
    struct hb_run run[HBBATCH_PARALLEL];
    int running;
    int max;
    long long batches, beats;
};

struct svc_hbbatch *svc_hbbatch_new(int max)
{
    struct svc_hbbatch *b = mem_calloc(1, sizeof(*b));

    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->tail = &b->head;
    b->max = max;
    return b;
}

void svc_hbbatch_set_max(struct svc_hbbatch *b, int max)
{
    pthread_mutex_lock(&b->mu);
    b->max = max;
    pthread_mutex_unlock(&b->mu);
}

void svc_hbbatch_free(struct svc_hbbatch *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
}

void svc_hbbatch_stats(struct svc_hbbatch *b, long long *batches, long long *beats)
{
    pthread_mutex_lock(&b->mu);
    *batches = b->batches;
    *beats = b->beats;
    pthread_mutex_unlock(&b->mu);
}

/* Is a heartbeat of `agent` in a running batch? (caller holds mu) */
static bool hbbatch_inflight(const struct svc_hbbatch *b, const char *agent)
{
    for (int k = 0; k < HBBATCH_PARALLEL; k++)
        for (size_t i = 0; b->run[k].ws && i < b->run[k].n; i++)
            if (strcasecmp(b->run[k].ws[i]->req.agent_id, agent) == 0)
                return true;
    return false;
}

/* Take up to max waiting heartbeats of distinct agents off the queue (caller holds mu). A
 * second heartbeat of an agent already taken, or in a running batch, waits for a later batch:
 * two statements never touch one agent's rows at once (no lock-order deadlock between them). */
static size_t hbbatch_take(struct svc_hbbatch *b, struct hb_wait **out, size_t cap)
{
    struct hb_wait **pp = &b->head;
    size_t n = 0;

    while (*pp && n < cap) {
        struct hb_wait *w = *pp;
        bool dup = hbbatch_inflight(b, w->req.agent_id);

        for (size_t i = 0; i < n && !dup; i++)
            dup = strcasecmp(out[i]->req.agent_id, w->req.agent_id) == 0;
        if (dup) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        w->next = NULL;
        w->taken = true;
        out[n++] = w;
    }
    b->tail = &b->head;
    while (*b->tail)
        b->tail = &(*b->tail)->next;
    return n;
}

/*
 * Run one batch as its leader: the statement, then every waiter's answer. false (nothing run)
 * when every waiting heartbeat belongs to an agent in a running batch. A batch of one is
 * queue_heartbeat's own statement: no JSON round trip for an idle server.
 */
static bool hbbatch_lead(struct svc_hbbatch *b, struct svc_ctx *c)
{
    size_t cap = b->max > 0 ? (size_t)b->max : 1, n;
    struct hb_wait **ws = mem_calloc(cap, sizeof(*ws));
    struct hbbatch_req *reqs;
    struct err err = {0};
    int rc, slot = 0;

    n = hbbatch_take(b, ws, cap);
    if (n == 0) {
        free(ws);
        return false;
    }
    while (b->run[slot].ws)
        slot++;
    b->run[slot].ws = ws;
    b->run[slot].n = n;
    b->running++;
    pthread_mutex_unlock(&b->mu);

    reqs = mem_calloc(n, sizeof(*reqs));
    for (size_t i = 0; i < n; i++)
        reqs[i] = ws[i]->req;
    if (n == 1 && !ws[0]->want_limits) {
        struct hbbatch_req *q = &reqs[0];

        q->rc = queue_heartbeat(c->db, &c->env->qo, q->agent_id, q->reported, q->task_ids, q->usage,
                                &q->out, &q->err);
        rc = 0;
    } else {
        rc = hbbatch_exec(c->db, &c->env->qo, reqs, n, &err);
        if (rc < 0)
            log_warn("heartbeat", "a batch of %zu failed, each retries alone: %s", n, err.msg);
    }

    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < n; i++) {
        ws[i]->req.out = reqs[i].out;
        ws[i]->req.limits = reqs[i].limits;
        ws[i]->req.rc = reqs[i].rc;
        ws[i]->req.err = reqs[i].err;
        if (rc < 0) {
            ws[i]->retry_alone = true;
            ws[i]->req.err = err;
        }
        ws[i]->done = true;
    }
    b->batches++;
    b->beats += (long long)n;
    b->run[slot].ws = NULL;
    b->run[slot].n = 0;
    b->running--;
    pthread_cond_broadcast(&b->cv);
    free(reqs);
    free(ws);
    return true;
}

/* One heartbeat on the caller's own connection: queue_heartbeat's statement, or a batch of one
 * when the caller wants the budgets too (only hbbatch_exec answers them). */
static int hbbatch_alone(struct svc_ctx *c, const char *agent_id, const char *status,
                         const json_t *task_ids, const json_t *usage, json_t **out, json_t **limits,
                         struct err *err)
{
    struct hbbatch_req q = {
        .agent_id = agent_id, .reported = status, .task_ids = task_ids, .usage = usage};

    if (!limits)
        return queue_heartbeat(c->db, &c->env->qo, agent_id, status, task_ids, usage, out, err);
    if (hbbatch_exec(c->db, &c->env->qo, &q, 1, err) < 0)
        return -1;
    if (q.rc < 0) {
        *err = q.err;
        return -1;
    }
    *out = q.out;
    *limits = q.limits;
    return 0;
}

int svc_hbbatch_beat(struct svc_hbbatch *b, struct svc_ctx *c, const char *agent_id,
                     const char *status, const json_t *task_ids, const json_t *usage, json_t **out,
                     json_t **limits, struct err *err)
{
    struct hb_wait w;

    *out = NULL;
    if (limits)
        *limits = NULL;
    if (!b || b->max <= 1)
        return hbbatch_alone(c, agent_id, status, task_ids, usage, out, limits, err);
    memset(&w, 0, sizeof(w));
    w.req.agent_id = agent_id;
    w.req.reported = status;
    w.req.task_ids = task_ids;
    w.req.usage = usage;
    w.want_limits = limits != NULL;
    pthread_mutex_lock(&b->mu);
    *b->tail = &w;
    b->tail = &w.next;
    while (!w.done) {
        /* hbbatch_lead returns with mu held; the batch it ran may hold w or not. */
        if (b->running >= HBBATCH_PARALLEL || !hbbatch_lead(b, c))
            pthread_cond_wait(&b->cv, &b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    if (w.retry_alone) /* the batch failed as a whole: nothing of it was written */
        return hbbatch_alone(c, agent_id, status, task_ids, usage, out, limits, err);
    if (w.req.rc < 0) {
        json_decref(w.req.limits);
        *err = w.req.err;
        return -1;
    }
    *out = w.req.out;
    if (limits)
        *limits = w.req.limits;
    else
        json_decref(w.req.limits);
    return 0;
}
