/*
 * The worker pool: N threads, each owning one database connection, fed by a bounded job queue
 * and answering through a completion queue that the lws service thread drains after
 * lws_cancel_service() wakes it. Workers never touch lws objects.
 */
#ifndef DROVER_NET_POOL_H
#define DROVER_NET_POOL_H

#include <stdbool.h>

#include "core/err.h"
#include "net/job.h"
#include "store/db.h"

#define POOL_QUEUE_MAX 1024 /* queued jobs before new requests are refused with 503 */

struct pool;

struct pool_worker {
    struct pool *pool;
    int index;
    struct db db;
};

/* Runs on a worker; fills the reply fields of `j`. */
typedef void (*pool_run_fn)(struct pool_worker *w, struct job *j, void *arg);
/* Called (from any thread) after something was pushed on the completion queue. */
typedef void (*pool_wake_fn)(void *arg);

/* Start `n` workers connecting to `dsn` (NULL = PG* env); a failed connect is retried later. */
struct pool *pool_start(int n, const char *dsn, pool_run_fn run, pool_wake_fn wake, void *arg);

/* Queue a job (ownership passes on success). -1 when the queue is full or stopping. */
int pool_submit(struct pool *p, struct job *j);

/* Put a finished job or an event on the completion queue and wake the service thread. */
void pool_post_done(struct pool *p, struct job *j);

/* Service thread: the next completed job, or NULL. */
struct job *pool_done_pop(struct pool *p);

/* Jobs queued or running. */
int pool_busy(struct pool *p);

/* Let the workers finish every queued job, join them, close their connections. */
void pool_stop(struct pool *p);
/* Free the pool and anything left on the completion queue (after pool_stop). */
void pool_free(struct pool *p);

#endif
