/* The change feed's thread. Its own thread; the callbacks run there. */
#include "svc/svc_listen.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/notify.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SVC_LISTEN_MAX_CHANNELS 8
#define SVC_LISTEN_WAIT_MS 200 /* one round; bounds how long a stop takes */

struct svc_listen {
    pthread_t thread;
    atomic_bool stop;
    char *dsn;
    const char *channels[SVC_LISTEN_MAX_CHANNELS + 1];
    int counts[SVC_LISTEN_MAX_CHANNELS];
    struct svc_listen_cb cb;
};

static void svc_listen_heard(const char *channel, const char *payload, void *arg)
{
    struct svc_listen *l = arg;

    if (l->cb.each)
        l->cb.each(l->cb.arg, channel, payload);
    for (int i = 0; l->channels[i]; i++)
        if (strcmp(l->channels[i], channel) == 0)
            l->counts[i]++;
}

static void svc_listen_sleep_ms(struct svc_listen *l, long ms)
{
    /* In slices, so a stop request is honoured quickly. */
    while (ms > 0 && !atomic_load(&l->stop)) {
        long s = ms > 100 ? 100 : ms;
        struct timespec ts = {0, s * 1000000L};

        nanosleep(&ts, NULL);
        ms -= s;
    }
}

static void *svc_listen_main(void *arg)
{
    struct svc_listen *l = arg;
    struct notify *n = NULL;
    long backoff = 250;
    bool first = true;

    while (!atomic_load(&l->stop)) {
        struct err err = {0};
        int rc;

        if (!n) {
            if (notify_open(l->dsn, l->channels, &n, &err) < 0) {
                svc_listen_sleep_ms(l, backoff + rand() % 100);
                backoff = backoff * 2 > 10000 ? 10000 : backoff * 2;
                continue;
            }
            backoff = 250;
            if (l->cb.up)
                l->cb.up(l->cb.arg, true);
            if (!first) {
                log_info("listen", "LISTEN connection restored");
                if (l->cb.resync)
                    l->cb.resync(l->cb.arg);
            }
            first = false;
        }
        rc = notify_wait(n, SVC_LISTEN_WAIT_MS, svc_listen_heard, l, &err);
        if (rc < 0) {
            log_warn("listen", "LISTEN connection lost: %s", err.msg);
            if (l->cb.up)
                l->cb.up(l->cb.arg, false);
            notify_close(n);
            n = NULL;
            continue;
        }
        if (rc > 0) {
            log_info("listen", "LISTEN connection restored");
            if (l->cb.resync)
                l->cb.resync(l->cb.arg);
        }
        for (int i = 0; l->channels[i]; i++) {
            if (l->counts[i] && l->cb.heard)
                l->cb.heard(l->cb.arg, l->channels[i], l->counts[i]);
            l->counts[i] = 0;
        }
    }
    notify_close(n);
    return NULL;
}

struct svc_listen *svc_listen_start(const char *dsn, const char *const *channels,
                                    const struct svc_listen_cb *cb)
{
    struct svc_listen *l = mem_calloc(1, sizeof(*l));

    atomic_init(&l->stop, false);
    l->dsn = dsn && *dsn ? mem_strdup(dsn) : NULL;
    for (int i = 0; channels[i] && i < SVC_LISTEN_MAX_CHANNELS; i++)
        l->channels[i] = mem_strdup(channels[i]);
    l->cb = *cb;
    if (pthread_create(&l->thread, NULL, svc_listen_main, l) != 0) {
        log_error("listen", "cannot start the LISTEN thread");
        abort();
    }
    return l;
}

void svc_listen_stop(struct svc_listen *l)
{
    if (!l)
        return;
    atomic_store(&l->stop, true);
    pthread_join(l->thread, NULL);
    for (int i = 0; l->channels[i]; i++)
        free((char *)l->channels[i]);
    free(l->dsn);
    free(l);
}
