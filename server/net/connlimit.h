/*
 * Connections per client address, counted on the lws service thread: a peer that opens more
 * than its share is refused at accept (closed before any byte is read), so one address cannot
 * take every descriptor. The count follows each connection from accept to its last callback
 * through lws's per-connection opaque pointer. Service thread only.
 */
#ifndef DROVER_NET_CONNLIMIT_H
#define DROVER_NET_CONNLIMIT_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <sys/socket.h>

#define CONNLIMIT_BUCKETS 1024

struct connlimit_addr {
    struct connlimit_addr *next;
    int n;        /* open connections from this address */
    char key[48]; /* the numeric address (no port) */
};

struct connlimit {
    struct connlimit_addr *b[CONNLIMIT_BUCKETS];
    int max_per_addr;
    struct connlimit_addr *pending; /* admitted, not yet bound to its wsi */
    long long refused;              /* since start, for the log line */
    long long last_log_ms;
};

/* Set the limit (> 0). */
void connlimit_init(struct connlimit *c, int max_per_addr);

/* A connection from `sa` was accepted: true to keep it (it is counted), false to refuse it. */
bool connlimit_admit(struct connlimit *c, const struct sockaddr *sa);

/* The admitted connection's first callback on its own wsi: attach the count to it. */
void connlimit_bind(struct connlimit *c, struct lws *wsi);

/* The connection is being freed: its address holds one connection less. */
void connlimit_release(struct connlimit *c, struct lws *wsi);

/* Connections open from the numeric address `key` (tests). */
int connlimit_count(const struct connlimit *c, const char *key);

/* Frees every entry. */
void connlimit_free(struct connlimit *c);

#endif
