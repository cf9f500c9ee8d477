/*
 * LISTEN/NOTIFY thread. Its own thread and connection; talks to the rest only through
 * workers_post_done().
 */
#include "net/listen.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/queue.h"

#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct listen {
    pthread_t thread;
    atomic_bool stop;
    char *dsn;
    struct workers *pool;
};

static void listen_post(struct listen *l, enum job_kind kind, int n)
{
    struct job *j = job_new(kind, 0);

    j->nevents = n;
    workers_post_done(l->pool, j);
}

static PGconn *listen_connect(struct listen *l)
{
    PGconn *c = PQconnectdb(l->dsn ? l->dsn : "");
    PGresult *r;

    if (PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        return NULL;
    }
    r = PQexec(c, "LISTEN " QUEUE_CHANNEL_READY "; LISTEN " QUEUE_CHANNEL_ACTIVITY);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        PQclear(r);
        PQfinish(c);
        return NULL;
    }
    PQclear(r);
    return c;
}

static void listen_sleep_ms(struct listen *l, long ms)
{
    /* In slices, so a stop request is honoured quickly. */
    while (ms > 0 && !atomic_load(&l->stop)) {
        long s = ms > 100 ? 100 : ms;
        struct timespec ts = {0, s * 1000000L};
        nanosleep(&ts, NULL);
        ms -= s;
    }
}

static void *listen_main(void *arg)
{
    struct listen *l = arg;
    PGconn *c = NULL;
    long backoff = 250;
    bool first = true;

    while (!atomic_load(&l->stop)) {
        struct pollfd pfd;
        PGnotify *n;
        int rc;

        if (!c) {
            c = listen_connect(l);
            if (!c) {
                listen_sleep_ms(l, backoff + rand() % 100);
                backoff = backoff * 2 > 10000 ? 10000 : backoff * 2;
                continue;
            }
            backoff = 250;
            if (!first) {
                log_info("listen", "LISTEN connection restored");
                listen_post(l, JOB_EV_RESYNC, 0);
            }
            first = false;
        }
        pfd.fd = PQsocket(c);
        pfd.events = POLLIN;
        pfd.revents = 0;
        rc = poll(&pfd, 1, 200);
        if (rc > 0 && !PQconsumeInput(c)) {
            log_warn("listen", "LISTEN connection lost: reconnecting");
            PQfinish(c);
            c = NULL;
            continue;
        }
        if (rc == 0 && PQstatus(c) == CONNECTION_BAD) {
            PQfinish(c);
            c = NULL;
            continue;
        }
        int ready = 0, activity = 0;
        while ((n = PQnotifies(c))) {
            if (strcmp(n->relname, QUEUE_CHANNEL_READY) == 0)
                ready++;
            else
                activity++;
            PQfreemem(n);
        }
        /* Coalesced: one wake per poll round is enough, claims re-check the table anyway. */
        if (ready)
            listen_post(l, JOB_EV_READY, ready);
        if (activity)
            listen_post(l, JOB_EV_ACTIVITY, activity);
    }
    PQfinish(c);
    return NULL;
}

struct listen *listen_start(const char *dsn, struct workers *pool)
{
    struct listen *l = mem_calloc(1, sizeof(*l));

    atomic_init(&l->stop, false);
    l->dsn = dsn ? mem_strdup(dsn) : NULL;
    l->pool = pool;
    if (pthread_create(&l->thread, NULL, listen_main, l) != 0) {
        log_error("listen", "cannot start the LISTEN thread");
        abort();
    }
    return l;
}

void listen_stop(struct listen *l)
{
    if (!l)
        return;
    atomic_store(&l->stop, true);
    pthread_join(l->thread, NULL);
    free(l->dsn);
    free(l);
}
