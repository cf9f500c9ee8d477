/*
 * Worker threads and the two queues (in: mutex + condvar; done: mutex, drained by the service
 * thread). Any thread may submit or post; only the service thread pops done jobs.
 */
#include "net/workers.h"
#include "core/counters.h"
#include "core/log.h"
#include "core/mem.h"

#include <pthread.h>
#include <stdlib.h>

struct workers {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *in_head, *in_tail;
    int in_len, running;
    bool stopping;
    struct job *done_head, *done_tail;
    pthread_mutex_t done_mu;
    workers_run_fn run;
    workers_wake_fn wake;
    workers_close_fn close;
    void *arg;
    int n;
    pthread_t *threads;
    struct workers_worker *workers;
};

static void *pool_main(void *argp)
{
    struct workers_worker *w = argp;
    struct workers *p = w->pool;

    for (;;) {
        struct job *j;

        pthread_mutex_lock(&p->mu);
        while (!p->in_head && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        j = p->in_head;
        if (!j) { /* stopping and drained */
            pthread_mutex_unlock(&p->mu);
            break;
        }
        p->in_head = j->next;
        if (!p->in_head)
            p->in_tail = NULL;
        p->in_len--;
        p->running++;
        counters_db_pool(p->n, p->running); /* each worker owns one connection */
        pthread_mutex_unlock(&p->mu);
        j->next = NULL;
        p->run(w, j, p->arg);
        pthread_mutex_lock(&p->mu);
        p->running--;
        counters_db_pool(p->n, p->running);
        pthread_mutex_unlock(&p->mu);
        workers_post_done(p, j);
    }
    return NULL;
}

struct workers *workers_start(int n, workers_open_fn open, workers_close_fn close, void *open_arg,
                              workers_run_fn run, workers_wake_fn wake, void *arg)
{
    struct workers *p = mem_calloc(1, sizeof(*p));

    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->done_mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->run = run;
    p->wake = wake;
    p->close = close;
    p->arg = arg;
    p->n = n;
    p->threads = mem_calloc((size_t)n, sizeof(*p->threads));
    p->workers = mem_calloc((size_t)n, sizeof(*p->workers));
    for (int i = 0; i < n; i++) {
        p->workers[i].pool = p;
        p->workers[i].index = i;
        p->workers[i].ctx = open ? open(open_arg) : NULL;
        if (pthread_create(&p->threads[i], NULL, pool_main, &p->workers[i]) != 0) {
            log_error("pool", "cannot start worker thread %d", i);
            abort();
        }
    }
    return p;
}

int workers_submit(struct workers *p, struct job *j)
{
    pthread_mutex_lock(&p->mu);
    if (p->stopping || p->in_len >= POOL_QUEUE_MAX) {
        pthread_mutex_unlock(&p->mu);
        return -1;
    }
    j->next = NULL;
    if (p->in_tail)
        p->in_tail->next = j;
    else
        p->in_head = j;
    p->in_tail = j;
    p->in_len++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

void workers_post_done(struct workers *p, struct job *j)
{
    j->next = NULL;
    pthread_mutex_lock(&p->done_mu);
    if (p->done_tail)
        p->done_tail->next = j;
    else
        p->done_head = j;
    p->done_tail = j;
    pthread_mutex_unlock(&p->done_mu);
    if (p->wake)
        p->wake(p->arg);
}

struct job *workers_done_pop(struct workers *p)
{
    struct job *j;

    pthread_mutex_lock(&p->done_mu);
    j = p->done_head;
    if (j) {
        p->done_head = j->next;
        if (!p->done_head)
            p->done_tail = NULL;
        j->next = NULL;
    }
    pthread_mutex_unlock(&p->done_mu);
    return j;
}

int workers_busy(struct workers *p)
{
    int n;

    pthread_mutex_lock(&p->mu);
    n = p->in_len + p->running;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void workers_stop(struct workers *p)
{
    if (!p || !p->threads)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n; i++) {
        pthread_join(p->threads[i], NULL);
        if (p->close)
            p->close(p->workers[i].ctx);
        p->workers[i].ctx = NULL;
    }
    free(p->threads);
    p->threads = NULL;
}

void workers_free(struct workers *p)
{
    struct job *j;

    if (!p)
        return;
    workers_stop(p);
    while ((j = workers_done_pop(p)))
        job_free(j);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->done_mu);
    pthread_cond_destroy(&p->cv);
    free(p->workers);
    free(p);
}
