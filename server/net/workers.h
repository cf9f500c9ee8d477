/*
 * The worker pool: N threads, each owning one context made by the caller's `open` (droverd:
 * a service context with its own database connection), fed by a bounded job queue and
 * answering through a completion queue that the lws service thread drains after
 * lws_cancel_service() wakes it. Workers never touch lws objects.
 */
#ifndef DROVER_NET_WORKERS_H
#define DROVER_NET_WORKERS_H

#include <stdbool.h>

#include "core/err.h"
#include "net/job.h"

#define POOL_QUEUE_MAX 1024 /* queued jobs before new requests are refused with 503 */

struct workers;

struct workers_worker {
    struct workers *pool;
    int index;
    void *ctx; /* what `open` made for this thread */
};

/* Make and free a worker's own context (on the thread that starts the pool). */
typedef void *(*workers_open_fn)(void *arg);
typedef void (*workers_close_fn)(void *ctx);

/* Runs on a worker; fills the reply fields of `j`. */
typedef void (*workers_run_fn)(struct workers_worker *w, struct job *j, void *arg);
/* Called (from any thread) after something was pushed on the completion queue. */
typedef void (*workers_wake_fn)(void *arg);

/*
 * Start `n` workers, each with a context from `open(open_arg)` (freed by `close`); `run` and
 * `wake` get `arg`.
 */
struct workers *workers_start(int n, workers_open_fn open, workers_close_fn close, void *open_arg,
                              workers_run_fn run, workers_wake_fn wake, void *arg);

/* Queue a job (ownership passes on success). -1 when the queue is full or stopping. */
int workers_submit(struct workers *p, struct job *j);

/* Put a finished job or an event on the completion queue and wake the service thread. */
void workers_post_done(struct workers *p, struct job *j);

/* Service thread: the next completed job, or NULL. */
struct job *workers_done_pop(struct workers *p);

/* Jobs queued or running. */
int workers_busy(struct workers *p);

/* Let the workers finish every queued job, join them, close their contexts. */
void workers_stop(struct workers *p);
/* Free the pool and anything left on the completion queue (after workers_stop). */
void workers_free(struct workers *p);

#endif
