/* Heartbeats answered from memory, written by group commit each tick. See svc_hbmem.h. */
#include "svc/svc_hbmem.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/model.h"
#include "store/hbbatch.h"
#include "svc/svc_listen.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Buckets of the agent table: a power of two; chains stay short up to ~100k agents. */
#define HBMEM_BUCKETS 16384
/* The flusher must have succeeded this recently for memory to answer: a database that is down
 * must not be hidden behind answers that say the lease was extended. At least 2 s, 10 ticks. */
#define HBMEM_STALE_MIN_MS 2000
#define HBMEM_STALE_TICKS 10

struct hb_ent {
    char agent[40]; /* lower case: NOTIFY payloads are uuid::text */
    struct hb_ent *next;
    /* The cached answer (NULL: none; the next heartbeat goes to the database). */
    json_t *answer;
    int64_t *ids; /* the task ids reported with it, sorted and distinct */
    size_t nids;
    bool has_tok, has_usd, over;
    double tok, usd;
    uint64_t dropped; /* the generation of the last drop */
    /* The heartbeat to write at the next flush; inflight while a flush writes one. */
    bool pending, inflight;
    bool superseded; /* a synchronous heartbeat came while inflight: a failed flush drops it */
    char *status;
    json_t *task_ids, *usage;
};

struct svc_hbmem {
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* the flusher's sleep; signalled at stop */
    pthread_cond_t flushed; /* a flush finished: inflight entries are settled */
    struct hb_ent *buckets[HBMEM_BUCKETS];
    struct hb_ent **pend; /* entries with pending set, in arrival order */
    size_t npend, cappend;
    uint64_t gen, all_dropped;
    bool listening;
    long long flush_ok_ms; /* clock_ms when a flush last wrote everything it took */
    int tick_ms, chunk;
    struct svc_hbmem_stats st;
    /* The threads (svc_hbmem_start). */
    bool running, stop;
    pthread_t flusher;
    struct svc_listen *listen;
    char *dsn;
    const struct queue_opts *o;
};

struct svc_hbmem *svc_hbmem_new(int tick_ms, int chunk)
{
    struct svc_hbmem *m = mem_calloc(1, sizeof(*m));

    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    pthread_cond_init(&m->flushed, NULL);
    m->tick_ms = tick_ms > 0 ? tick_ms : SVC_HBMEM_TICK_DEFAULT;
    m->chunk = chunk > 1 ? chunk : 1;
    m->flush_ok_ms = clock_ms();
    return m;
}

static void hbmem_clear_pending(struct hb_ent *e)
{
    e->pending = false;
    free(e->status);
    e->status = NULL;
    json_decref(e->task_ids);
    json_decref(e->usage);
    e->task_ids = e->usage = NULL;
}

static void hbmem_clear_answer(struct hb_ent *e)
{
    json_decref(e->answer);
    e->answer = NULL;
    free(e->ids);
    e->ids = NULL;
    e->nids = 0;
}

void svc_hbmem_free(struct svc_hbmem *m)
{
    if (!m)
        return;
    svc_hbmem_stop(m);
    for (size_t b = 0; b < HBMEM_BUCKETS; b++) {
        struct hb_ent *e = m->buckets[b], *n;

        for (; e; e = n) {
            n = e->next;
            hbmem_clear_pending(e);
            hbmem_clear_answer(e);
            free(e);
        }
    }
    free(m->pend);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    pthread_cond_destroy(&m->flushed);
    free(m);
}

/* Lower-case `agent` into key; false when it cannot be an agent id (too long). */
static bool hbmem_key(const char *agent, char key[40])
{
    size_t n = agent ? strlen(agent) : 0;

    if (n == 0 || n >= 40)
        return false;
    for (size_t i = 0; i <= n; i++)
        key[i] = (char)tolower((unsigned char)agent[i]);
    return true;
}

static size_t hbmem_hash(const char *key)
{
    size_t h = 5381;

    for (; *key; key++)
        h = h * 33 + (unsigned char)*key;
    return h & (HBMEM_BUCKETS - 1);
}

/* The entry of `key`, made when `make` (caller holds mu). */
static struct hb_ent *hbmem_find(struct svc_hbmem *m, const char *key, bool make)
{
    size_t h = hbmem_hash(key);
    struct hb_ent *e = m->buckets[h];

    for (; e; e = e->next)
        if (strcmp(e->agent, key) == 0)
            return e;
    if (!make)
        return NULL;
    e = mem_calloc(1, sizeof(*e));
    memcpy(e->agent, key, strlen(key) + 1);
    e->next = m->buckets[h];
    m->buckets[h] = e;
    return e;
}

static int hbmem_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* The reported task ids as a sorted set: 0, or -1 when they are not an array of integers
 * (the synchronous path answers that error). *ids owned. */
static int hbmem_ids(const json_t *task_ids, int64_t **ids, size_t *n)
{
    size_t k = 0, cnt = task_ids ? json_array_size(task_ids) : 0;

    *ids = NULL;
    *n = 0;
    if (task_ids && !json_is_array(task_ids))
        return -1;
    if (cnt == 0)
        return 0;
    *ids = mem_calloc(cnt, sizeof(**ids));
    for (size_t i = 0; i < cnt; i++) {
        const json_t *v = json_array_get(task_ids, i);

        if (!json_is_integer(v)) {
            free(*ids);
            *ids = NULL;
            return -1;
        }
        (*ids)[i] = (int64_t)json_integer_value(v);
    }
    qsort(*ids, cnt, sizeof(**ids), hbmem_cmp_i64);
    for (size_t i = 0; i < cnt; i++)
        if (k == 0 || (*ids)[k - 1] != (*ids)[i])
            (*ids)[k++] = (*ids)[i];
    *n = k;
    return 0;
}

/* Would this usage pass a cached budget (or is one already past)? Then budget_enforce must
 * see it now: the stop acts on the first heartbeat past the budget. */
static bool hbmem_crosses(const struct hb_ent *e, const json_t *usage)
{
    const json_t *t, *u;

    if (!usage || json_is_null(usage))
        return false;
    if (e->over)
        return true;
    t = json_object_get(usage, "tokens");
    u = json_object_get(usage, "usd");
    if (e->has_tok && json_is_number(t) && json_number_value(t) > e->tok)
        return true;
    if (e->has_usd && json_is_number(u) && json_number_value(u) > e->usd)
        return true;
    return false;
}

static bool hbmem_status_ok(const char *status)
{
    return !status || strcmp(status, "idle") == 0 || strcmp(status, "busy") == 0 ||
           strcmp(status, "initializing") == 0;
}

/* Is memory to be trusted at all now? (caller holds mu) */
static bool hbmem_trusted(const struct svc_hbmem *m)
{
    long long stale = (long long)m->tick_ms * HBMEM_STALE_TICKS;

    if (stale < HBMEM_STALE_MIN_MS)
        stale = HBMEM_STALE_MIN_MS;
    return m->listening && clock_ms() - m->flush_ok_ms < stale;
}

static void hbmem_push_pending(struct svc_hbmem *m, struct hb_ent *e)
{
    if (e->pending)
        return;
    if (m->npend == m->cappend) {
        m->cappend = m->cappend ? m->cappend * 2 : 256;
        m->pend = mem_realloc(m->pend, m->cappend * sizeof(*m->pend));
    }
    m->pend[m->npend++] = e;
    e->pending = true;
}

bool svc_hbmem_answer(struct svc_hbmem *m, const char *agent, const char *status,
                      const json_t *task_ids, const json_t *usage, json_t **out, uint64_t *gen)
{
    int64_t *ids = NULL;
    size_t nids = 0;
    struct hb_ent *e;
    char key[40];
    bool hit = false, shape_ok;

    *out = NULL;
    *gen = 0;
    if (!m || !hbmem_key(agent, key))
        return false;
    /* Outside the lock: parsing is the caller's own data. */
    shape_ok = hbmem_status_ok(status) && hbmem_ids(task_ids, &ids, &nids) == 0 &&
               (!usage || json_is_null(usage) || model_usage_check(usage, NULL) == 0);

    pthread_mutex_lock(&m->mu);
    e = hbmem_find(m, key, true); /* made now, so a drop while the caller reads is recorded */
    *gen = m->gen;
    if (shape_ok && e->answer && hbmem_trusted(m) && nids == e->nids &&
        (nids == 0 || memcmp(ids, e->ids, nids * sizeof(*ids)) == 0) && !hbmem_crosses(e, usage)) {
        *out = json_deep_copy(e->answer);
        free(e->status);
        json_decref(e->task_ids);
        json_decref(e->usage);
        e->status = status ? mem_strdup(status) : NULL;
        e->task_ids = task_ids ? json_deep_copy(task_ids) : NULL;
        e->usage = usage && !json_is_null(usage) ? json_deep_copy(usage) : NULL;
        hbmem_push_pending(m, e);
        m->st.memory++;
        hit = true;
    } else {
        /* The synchronous heartbeat carries the latest status, ids and usage: it supersedes a
         * queued one (left in m->pend with pending false; the flusher skips it). */
        if (e->pending)
            hbmem_clear_pending(e);
        /* And it must land after any older one a flush is writing now: an offline or unusable
         * status written first would be undone by that flush's busy. */
        e->superseded = e->inflight;
        while (e->inflight)
            pthread_cond_wait(&m->flushed, &m->mu);
        *gen = m->gen;
        m->st.fallback++;
    }
    pthread_mutex_unlock(&m->mu);
    free(ids);
    return hit;
}

/* Install what the database answered (caller holds mu). An answer naming a task not live for
 * the agent is not cached: the agent acts on it and stops reporting the task, and a task
 * claimed again under the same id must not read as cancelled from an old answer. */
static void hbmem_learn_locked(struct svc_hbmem *m, struct hb_ent *e, uint64_t gen,
                               const json_t *task_ids, const json_t *answer, const json_t *limits)
{
    const json_t *tasks = json_object_get(answer, "tasks"), *t, *v;
    const char *as = json_string_value(json_object_get(json_object_get(answer, "agent"), "status"));
    size_t i;

    if (e->dropped > gen || m->all_dropped > gen)
        return; /* read before a drop: may be stale */
    hbmem_clear_answer(e);
    if (!json_is_array(tasks) || !json_is_object(limits) || !as ||
        (strcmp(as, "idle") != 0 && strcmp(as, "busy") != 0 && strcmp(as, "draining") != 0))
        return;
    json_array_foreach(tasks, i, t)
    {
        if (!json_is_false(json_object_get(t, "cancelled")))
            return;
    }
    if (hbmem_ids(task_ids, &e->ids, &e->nids) < 0)
        return;
    v = json_object_get(limits, "tokens");
    e->has_tok = json_is_number(v);
    e->tok = e->has_tok ? json_number_value(v) : 0;
    v = json_object_get(limits, "usd");
    e->has_usd = json_is_number(v);
    e->usd = e->has_usd ? json_number_value(v) : 0;
    e->over = json_is_true(json_object_get(limits, "over"));
    e->answer = json_deep_copy(answer);
}

void svc_hbmem_learn(struct svc_hbmem *m, const char *agent, uint64_t gen, const json_t *task_ids,
                     const json_t *answer, const json_t *limits)
{
    char key[40];

    if (!m || !hbmem_key(agent, key))
        return;
    pthread_mutex_lock(&m->mu);
    hbmem_learn_locked(m, hbmem_find(m, key, true), gen, task_ids, answer, limits);
    pthread_mutex_unlock(&m->mu);
}

void svc_hbmem_forget(struct svc_hbmem *m, const char *agent)
{
    struct hb_ent *e;
    char key[40];

    if (!m || !hbmem_key(agent, key))
        return;
    pthread_mutex_lock(&m->mu);
    e = hbmem_find(m, key, false);
    if (e) {
        e->dropped = ++m->gen;
        if (e->answer)
            m->st.dropped++;
        hbmem_clear_answer(e);
    }
    pthread_mutex_unlock(&m->mu);
}

void svc_hbmem_forget_all(struct svc_hbmem *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->all_dropped = ++m->gen;
    for (size_t b = 0; b < HBMEM_BUCKETS; b++)
        for (struct hb_ent *e = m->buckets[b]; e; e = e->next)
            hbmem_clear_answer(e);
    pthread_mutex_unlock(&m->mu);
}

void svc_hbmem_set_listening(struct svc_hbmem *m, bool up)
{
    pthread_mutex_lock(&m->mu);
    m->listening = up;
    pthread_mutex_unlock(&m->mu);
}

void svc_hbmem_stats(struct svc_hbmem *m, struct svc_hbmem_stats *s)
{
    pthread_mutex_lock(&m->mu);
    *s = m->st;
    s->queued = (long long)m->npend;
    pthread_mutex_unlock(&m->mu);
}

/* A heartbeat taken off the table for a flush (owns its copies). */
struct hb_take {
    struct hb_ent *e;
    char *status;
    json_t *task_ids, *usage;
};

/* The database took a chunk: memory stays trusted while a long flush makes progress (a flush
 * of thousands of heartbeats may take longer than the staleness bound as a whole). */
static void hbmem_progress(struct svc_hbmem *m)
{
    pthread_mutex_lock(&m->mu);
    m->flush_ok_ms = clock_ms();
    pthread_mutex_unlock(&m->mu);
}

/* Run one chunk; on a failed statement (a deadlock with another replica's batch, a lost
 * connection) each heartbeat again alone. Returns how many could not be written. */
static size_t hbmem_run(struct svc_hbmem *m, struct db *db, const struct queue_opts *o,
                        struct hb_take *tk, struct hbbatch_req *reqs, size_t n, bool *failed,
                        struct err *err)
{
    size_t bad = 0;

    for (size_t i = 0; i < n; i++)
        reqs[i] = (struct hbbatch_req){.agent_id = tk[i].e->agent,
                                       .reported = tk[i].status,
                                       .task_ids = tk[i].task_ids,
                                       .usage = tk[i].usage,
                                       .deferred = true};
    if (hbbatch_exec(db, o, reqs, n, err) == 0) {
        hbmem_progress(m);
        return 0;
    }
    log_warn("heartbeat", "a flush of %zu failed, each retries alone: %s", n, err->msg);
    for (size_t i = 0; i < n; i++) {
        struct err e1 = {0};

        if (hbbatch_exec(db, o, &reqs[i], 1, &e1) < 0) {
            failed[i] = true;
            reqs[i].rc = -1;
            *err = e1;
            bad++;
        }
    }
    return bad;
}

int svc_hbmem_flush(struct svc_hbmem *m, struct db *db, const struct queue_opts *o, struct err *err)
{
    struct hb_take *tk = NULL;
    struct hbbatch_req *reqs = NULL;
    bool *failed = NULL;
    size_t n = 0, bad = 0;
    long long t0 = clock_ms();
    uint64_t gen;
    int rc = 0;

    pthread_mutex_lock(&m->mu);
    tk = mem_calloc(m->npend + 1, sizeof(*tk));
    for (size_t i = 0; i < m->npend; i++) {
        struct hb_ent *e = m->pend[i];

        if (!e->pending)
            continue; /* superseded by a synchronous heartbeat */
        tk[n].e = e;
        tk[n].status = e->status;
        tk[n].task_ids = e->task_ids;
        tk[n].usage = e->usage;
        e->status = NULL;
        e->task_ids = e->usage = NULL;
        e->pending = false;
        e->inflight = true;
        n++;
    }
    m->npend = 0;
    gen = m->gen;
    pthread_mutex_unlock(&m->mu);

    reqs = mem_calloc(n + 1, sizeof(*reqs));
    failed = mem_calloc(n + 1, sizeof(*failed));
    for (size_t k = 0; k < n; k += (size_t)m->chunk) {
        size_t c = n - k < (size_t)m->chunk ? n - k : (size_t)m->chunk;

        bad += hbmem_run(m, db, o, tk + k, reqs + k, c, failed + k, err);
    }

    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < n; i++) {
        struct hb_ent *e = tk[i].e;

        e->inflight = false;
        if (failed[i]) {
            /* Not written: queue it again unless a newer one is queued or was written
             * synchronously meanwhile (the latest wins). */
            if (!e->pending && !e->superseded) {
                e->status = tk[i].status;
                e->task_ids = tk[i].task_ids;
                e->usage = tk[i].usage;
                tk[i].status = NULL;
                tk[i].task_ids = tk[i].usage = NULL;
                hbmem_push_pending(m, e);
            }
        } else if (reqs[i].rc == 0) {
            hbmem_learn_locked(m, e, gen, tk[i].task_ids, reqs[i].out, reqs[i].limits);
        } else {
            hbmem_clear_answer(e); /* refused (an agent deleted meanwhile): ask the database */
        }
        e->superseded = false;
        json_decref(reqs[i].out);
        json_decref(reqs[i].limits);
        free(tk[i].status);
        json_decref(tk[i].task_ids);
        json_decref(tk[i].usage);
    }
    if (n) {
        m->st.flushes++;
        m->st.flushed += (long long)(n - bad);
        if (clock_ms() - t0 > m->st.flush_ms_max)
            m->st.flush_ms_max = clock_ms() - t0;
    }
    if (bad == 0)
        m->flush_ok_ms = clock_ms();
    else
        rc = -1;
    pthread_cond_broadcast(&m->flushed);
    pthread_mutex_unlock(&m->mu);
    free(tk);
    free(reqs);
    free(failed);
    return rc;
}

int svc_hbmem_settle(struct svc_hbmem *m, struct db *db, const struct queue_opts *o,
                     const char *agent, struct err *err)
{
    struct hbbatch_req q = {0};
    struct hb_take tk = {0};
    struct hb_ent *e;
    char key[40];
    uint64_t gen;
    int rc = 0;

    if (!m || !hbmem_key(agent, key))
        return 0;
    pthread_mutex_lock(&m->mu);
    e = hbmem_find(m, key, false);
    while (e && e->inflight) /* a flush is writing it: that is the order we need anyway */
        pthread_cond_wait(&m->flushed, &m->mu);
    if (!e || !e->pending) {
        pthread_mutex_unlock(&m->mu);
        return 0;
    }
    tk = (struct hb_take){e, e->status, e->task_ids, e->usage};
    e->status = NULL;
    e->task_ids = e->usage = NULL;
    e->pending = false;
    e->inflight = true;
    gen = m->gen;
    pthread_mutex_unlock(&m->mu);

    q = (struct hbbatch_req){.agent_id = e->agent,
                             .reported = tk.status,
                             .task_ids = tk.task_ids,
                             .usage = tk.usage,
                             .deferred = true};
    rc = hbbatch_exec(db, o, &q, 1, err);

    pthread_mutex_lock(&m->mu);
    e->inflight = false;
    if (rc == 0 && q.rc == 0) {
        hbmem_learn_locked(m, e, gen, tk.task_ids, q.out, q.limits);
        m->st.flushed++;
    } else if (rc < 0 && !e->pending) { /* not written: the next flush tries again */
        e->status = tk.status;
        e->task_ids = tk.task_ids;
        e->usage = tk.usage;
        tk.status = NULL;
        tk.task_ids = tk.usage = NULL;
        hbmem_push_pending(m, e);
    }
    pthread_cond_broadcast(&m->flushed);
    pthread_mutex_unlock(&m->mu);
    json_decref(q.out);
    json_decref(q.limits);
    free(tk.status);
    json_decref(tk.task_ids);
    json_decref(tk.usage);
    return rc;
}

static void *hbmem_flusher(void *arg)
{
    struct svc_hbmem *m = arg;
    struct db db;
    struct err err = {0};
    bool stop = false;

    if (db_open(&db, m->dsn, &err) < 0)
        log_warn("heartbeat", "flusher: %s (will retry)", err.msg);
    while (!stop) {
        long long t0;

        pthread_mutex_lock(&m->mu);
        if (!m->stop) {
            struct timespec ts = clock_wall_in(m->tick_ms);

            pthread_cond_timedwait(&m->cv, &m->mu, &ts);
        }
        stop = m->stop;
        pthread_mutex_unlock(&m->mu);
        t0 = clock_ms();
        memset(&err, 0, sizeof(err));
        db_refresh(&db);
        if (db_ensure(&db, &err) < 0 || svc_hbmem_flush(m, &db, m->o, &err) < 0)
            log_warn("heartbeat", "flush: %s (queued heartbeats kept for the next tick)", err.msg);
        if (clock_ms() - t0 > (long long)m->o->lease_seconds * 250)
            log_warn("heartbeat", "a flush took %lld ms, over a quarter of the lease",
                     clock_ms() - t0);
    }
    db_close(&db);
    return NULL;
}

static void hbmem_heard_each(void *arg, const char *channel, const char *payload)
{
    if (strcmp(channel, QUEUE_CHANNEL_HB_AGENT) == 0 && payload)
        svc_hbmem_forget(arg, payload);
}

static void hbmem_resync(void *arg)
{
    svc_hbmem_forget_all(arg); /* notifications may have been missed */
}

static void hbmem_up(void *arg, bool up)
{
    /* Whatever happened while deaf is unknown: nothing cached before counts. */
    svc_hbmem_forget_all(arg);
    svc_hbmem_set_listening(arg, up);
}

void svc_hbmem_start(struct svc_hbmem *m, const char *dsn, const struct queue_opts *o)
{
    static const char *const channels[] = {QUEUE_CHANNEL_HB_AGENT, NULL};
    struct svc_listen_cb cb = {
        .resync = hbmem_resync, .arg = m, .each = hbmem_heard_each, .up = hbmem_up};

    if (m->running)
        return;
    m->dsn = dsn && *dsn ? mem_strdup(dsn) : NULL;
    m->o = o;
    m->stop = false;
    m->flush_ok_ms = clock_ms();
    if (pthread_create(&m->flusher, NULL, hbmem_flusher, m) != 0) {
        log_error("heartbeat", "cannot start the heartbeat flusher");
        abort();
    }
    m->listen = svc_listen_start(m->dsn, channels, &cb);
    m->running = true;
}

void svc_hbmem_stop(struct svc_hbmem *m)
{
    if (!m || !m->running)
        return;
    /* The change feed first: nothing answers from memory while the last flush runs. */
    svc_listen_stop(m->listen);
    m->listen = NULL;
    svc_hbmem_set_listening(m, false);
    pthread_mutex_lock(&m->mu);
    m->stop = true;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->flusher, NULL);
    free(m->dsn);
    m->dsn = NULL;
    m->running = false;
}
