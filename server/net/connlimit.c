/* Connections per client address (connlimit.h). Service thread only. */
#include "net/connlimit.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void connlimit_init(struct connlimit *c, int max_per_addr)
{
    memset(c, 0, sizeof(*c));
    c->max_per_addr = max_per_addr > 0 ? max_per_addr : 1;
}

static unsigned connlimit_hash(const char *s)
{
    unsigned h = 2166136261u;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % CONNLIMIT_BUCKETS;
}

/* The numeric address of `sa` (an IPv4-mapped IPv6 address as plain IPv4); false if unknown. */
static bool connlimit_key(const struct sockaddr *sa, char *out, size_t outsz)
{
    if (sa->sa_family == AF_INET)
        return inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
                         (socklen_t)outsz) != NULL;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

        if (IN6_IS_ADDR_V4MAPPED(a))
            return inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)outsz) != NULL;
        return inet_ntop(AF_INET6, a, out, (socklen_t)outsz) != NULL;
    }
    return false;
}

static struct connlimit_addr *connlimit_find(const struct connlimit *c, const char *key)
{
    for (struct connlimit_addr *e = c->b[connlimit_hash(key)]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

static void connlimit_drop(struct connlimit *c, struct connlimit_addr *e)
{
    struct connlimit_addr **pp = &c->b[connlimit_hash(e->key)];

    if (--e->n > 0)
        return;
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp)
        *pp = e->next;
    free(e);
}

bool connlimit_admit(struct connlimit *c, const struct sockaddr *sa)
{
    char key[48];
    struct connlimit_addr *e;

    /* The previous admission never reached its wsi (lws refused the descriptor): uncount it. */
    if (c->pending) {
        connlimit_drop(c, c->pending);
        c->pending = NULL;
    }
    if (!sa || !connlimit_key(sa, key, sizeof(key)))
        return true; /* not an IP peer: nothing to count it against */
    e = connlimit_find(c, key);
    if (e && e->n >= c->max_per_addr) {
        long long now = clock_ms();

        c->refused++;
        /* One line a second at most, however fast the peer reconnects. */
        if (now - c->last_log_ms >= 1000) {
            log_warn("server",
                     "refusing connections from %s: it holds %d (the limit per address); "
                     "%lld refused so far",
                     key, e->n, c->refused);
            c->last_log_ms = now;
        }
        return false;
    }
    if (!e) {
        unsigned h = connlimit_hash(key);

        e = mem_calloc(1, sizeof(*e));
        snprintf(e->key, sizeof(e->key), "%s", key);
        e->next = c->b[h];
        c->b[h] = e;
    }
    e->n++;
    c->pending = e;
    return true;
}

void connlimit_bind(struct connlimit *c, struct lws *wsi)
{
    if (!c->pending || lws_get_opaque_user_data(wsi))
        return;
    lws_set_opaque_user_data(wsi, c->pending);
    c->pending = NULL;
}

void connlimit_release(struct connlimit *c, struct lws *wsi)
{
    struct connlimit_addr *e = lws_get_opaque_user_data(wsi);

    if (!e)
        return;
    lws_set_opaque_user_data(wsi, NULL);
    connlimit_drop(c, e);
}

int connlimit_count(const struct connlimit *c, const char *key)
{
    const struct connlimit_addr *e = connlimit_find(c, key);

    return e ? e->n : 0;
}

void connlimit_free(struct connlimit *c)
{
    for (size_t i = 0; i < CONNLIMIT_BUCKETS; i++)
        while (c->b[i]) {
            struct connlimit_addr *e = c->b[i];

            c->b[i] = e->next;
            free(e);
        }
    c->pending = NULL;
}
