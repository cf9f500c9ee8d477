/*
 * The change feed: a thread with a LISTEN connection of its own (store/notify.c) that reports
 * which channels were notified, coalesced per round (a claim or a stream re-reads the table
 * anyway), and a resync after a lost connection came back, because notifications sent while
 * it was down are gone (NOTIFY is a hint; the tables are the truth). It reconnects with
 * back-off (250 ms doubling to 10 s). Its callbacks run on its own thread.
 */
#ifndef DROVER_SVC_LISTEN_H
#define DROVER_SVC_LISTEN_H

#include <stdbool.h>

struct svc_listen;

struct svc_listen_cb {
    /* `count` notifications arrived on `channel` in one round (NULL: not wanted). */
    void (*heard)(void *arg, const char *channel, int count);
    /* The connection was lost and is back: anything may have changed meanwhile (NULL: none). */
    void (*resync)(void *arg);
    void *arg;
    /* Optional (NULL: none). Every notification with its payload, as it arrives, before the
     * round's `heard`: for a listener that acts on which row changed, not only that one did. */
    void (*each)(void *arg, const char *channel, const char *payload);
    /* Optional. The connection is up (true: after every connect, the first included) or was
     * lost (false): a listener that must not trust its state while deaf stops trusting it. */
    void (*up)(void *arg, bool up);
};

/* Start the thread LISTENing on `channels` (NULL-terminated; copied) at `dsn` (NULL: PG*). */
struct svc_listen *svc_listen_start(const char *dsn, const char *const *channels,
                                    const struct svc_listen_cb *cb);
/* Stop and join the thread (within about 200 ms). NULL is a no-op. */
void svc_listen_stop(struct svc_listen *l);

#endif
