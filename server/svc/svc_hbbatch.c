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
    struct hb_wait *next;
};

struct svc_hbbatch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct hb_wait *head, **tail;
    bool running;
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

/* Take up to max waiting heartbeats of distinct agents off the queue (caller holds mu). A
 * second heartbeat of an agent already taken waits for the next batch. */
static size_t hbbatch_take(struct svc_hbbatch *b, struct hb_wait **out, size_t cap)
{
    struct hb_wait **pp = &b->head;
    size_t n = 0;

    while (*pp && n < cap) {
        struct hb_wait *w = *pp;
        bool dup = false;

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

/* Run one batch as its leader: the statement, then every waiter's answer. */
static void hbbatch_lead(struct svc_hbbatch *b, struct svc_ctx *c)
{
    size_t cap = b->max > 0 ? (size_t)b->max : 1, n;
    struct hb_wait **ws = mem_calloc(cap, sizeof(*ws));
    struct hbbatch_req *reqs;
    struct err err = {0};
    int rc;

    n = hbbatch_take(b, ws, cap);
    b->running = true;
    pthread_mutex_unlock(&b->mu);

    reqs = mem_calloc(n ? n : 1, sizeof(*reqs));
    for (size_t i = 0; i < n; i++)
        reqs[i] = ws[i]->req;
    rc = n ? hbbatch_exec(c->db, &c->env->qo, reqs, n, &err) : 0;
    if (rc < 0 && n > 1)
        log_warn("heartbeat", "a batch of %zu failed, each retries alone: %s", n, err.msg);

    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < n; i++) {
        ws[i]->req.out = reqs[i].out;
        ws[i]->req.rc = reqs[i].rc;
        ws[i]->req.err = reqs[i].err;
        if (rc < 0) {
            ws[i]->retry_alone = true;
            ws[i]->req.err = err;
        }
        ws[i]->done = true;
    }
    b->batches += n ? 1 : 0;
    b->beats += (long long)n;
    b->running = false;
    pthread_cond_broadcast(&b->cv);
    free(reqs);
    free(ws);
}

int svc_hbbatch_beat(struct svc_hbbatch *b, struct svc_ctx *c, const char *agent_id,
                     const char *status, const json_t *task_ids, const json_t *usage, json_t **out,
                     struct err *err)
{
    struct hb_wait w;

    *out = NULL;
    if (!b || b->max <= 1)
        return queue_heartbeat(c->db, &c->env->qo, agent_id, status, task_ids, usage, out, err);
    memset(&w, 0, sizeof(w));
    w.req.agent_id = agent_id;
    w.req.reported = status;
    w.req.task_ids = task_ids;
    w.req.usage = usage;
    pthread_mutex_lock(&b->mu);
    *b->tail = &w;
    b->tail = &w.next;
    while (!w.done) {
        if (!b->running)
            hbbatch_lead(b, c); /* returns with mu held; runs the batch w may be in */
        else
            pthread_cond_wait(&b->cv, &b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    if (w.retry_alone) /* the batch failed as a whole: nothing of it was written */
        return queue_heartbeat(c->db, &c->env->qo, agent_id, status, task_ids, usage, out, err);
    if (w.req.rc < 0) {
        *err = w.req.err;
        return -1;
    }
    *out = w.req.out;
    return 0;
}
