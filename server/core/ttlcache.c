/* A direct-mapped TTL cache under one mutex. Any thread. */
#include "core/ttlcache.h"
#include "core/clock.h"
#include "core/mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ttlcache_entry {
    char key[TTLCACHE_KEY_MAX + 1];
    long long expires_ms;
};

struct ttlcache {
    pthread_mutex_t mu;
    size_t slots, value_size, stride; /* stride: entry + value, rounded up to keep alignment */
    long long ttl_ms;
    unsigned char *tab; /* slots × (entry + value) */
};

struct ttlcache *ttlcache_new(size_t slots, size_t value_size, long long ttl_ms)
{
    struct ttlcache *c = mem_calloc(1, sizeof(*c));

    pthread_mutex_init(&c->mu, NULL);
    c->slots = slots ? slots : 1;
    c->value_size = value_size;
    c->ttl_ms = ttl_ms;
    c->stride = (sizeof(struct ttlcache_entry) + value_size + 15) / 16 * 16;
    c->tab = mem_calloc(c->slots, c->stride);
    return c;
}

void ttlcache_free(struct ttlcache *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c->tab);
    free(c);
}

static struct ttlcache_entry *ttlcache_slot(struct ttlcache *c, const char *key)
{
    unsigned long h = 2166136261u; /* FNV-1a */

    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return (struct ttlcache_entry *)(c->tab + (h % c->slots) * c->stride);
}

bool ttlcache_get(struct ttlcache *c, const char *key, void *value)
{
    struct ttlcache_entry *e;
    bool hit;

    if (!c || !key || strlen(key) > TTLCACHE_KEY_MAX)
        return false;
    e = ttlcache_slot(c, key);
    pthread_mutex_lock(&c->mu);
    hit = strcmp(e->key, key) == 0 && e->expires_ms > clock_ms();
    if (hit && value)
        memcpy(value, e + 1, c->value_size);
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void ttlcache_put(struct ttlcache *c, const char *key, const void *value)
{
    struct ttlcache_entry *e;

    if (!c || !key || strlen(key) > TTLCACHE_KEY_MAX)
        return;
    e = ttlcache_slot(c, key);
    pthread_mutex_lock(&c->mu);
    strcpy(e->key, key);
    e->expires_ms = clock_ms() + c->ttl_ms;
    if (c->value_size)
        memcpy(e + 1, value, c->value_size);
    pthread_mutex_unlock(&c->mu);
}

void ttlcache_forget(struct ttlcache *c, const char *key)
{
    struct ttlcache_entry *e;

    if (!c || !key || strlen(key) > TTLCACHE_KEY_MAX)
        return;
    e = ttlcache_slot(c, key);
    pthread_mutex_lock(&c->mu);
    if (strcmp(e->key, key) == 0)
        memset(e, 0, sizeof(*e) + c->value_size);
    pthread_mutex_unlock(&c->mu);
}

void ttlcache_clear(struct ttlcache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    memset(c->tab, 0, c->slots * c->stride);
    pthread_mutex_unlock(&c->mu);
}
