/*
 * Session cache: a direct-mapped table under one mutex. Any thread.
 */
#include "net/sesscache.h"
#include "net/authcache.h"
#include "store/sessions.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define SESSCACHE_SLOTS 1024

struct sesscache_entry {
    char id[SESSIONS_ID_LEN + 32];
    long long token_id;
    long long expires_ms;
};

static struct sesscache_entry sesscache_tab[SESSCACHE_SLOTS];
static pthread_mutex_t sesscache_mu = PTHREAD_MUTEX_INITIALIZER;

static struct sesscache_entry *sesscache_slot(const char *id)
{
    unsigned long h = 2166136261u; /* FNV-1a */

    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &sesscache_tab[h % SESSCACHE_SLOTS];
}

bool sesscache_known(const char *id, long long token_id)
{
    struct sesscache_entry *e;
    bool hit;

    if (!id || strlen(id) >= sizeof(e->id))
        return false;
    e = sesscache_slot(id);
    pthread_mutex_lock(&sesscache_mu);
    hit = strcmp(e->id, id) == 0 && e->token_id == token_id && e->expires_ms > authcache_now_ms();
    pthread_mutex_unlock(&sesscache_mu);
    return hit;
}

void sesscache_put(const char *id, long long token_id)
{
    struct sesscache_entry *e;

    if (!id || strlen(id) >= sizeof(e->id))
        return;
    e = sesscache_slot(id);
    pthread_mutex_lock(&sesscache_mu);
    snprintf(e->id, sizeof(e->id), "%s", id);
    e->token_id = token_id;
    e->expires_ms = authcache_now_ms() + SESSCACHE_TTL_MS;
    pthread_mutex_unlock(&sesscache_mu);
}

void sesscache_forget(const char *id)
{
    struct sesscache_entry *e;

    if (!id)
        return;
    e = sesscache_slot(id);
    pthread_mutex_lock(&sesscache_mu);
    if (strcmp(e->id, id) == 0)
        memset(e, 0, sizeof(*e));
    pthread_mutex_unlock(&sesscache_mu);
}

void sesscache_clear(void)
{
    pthread_mutex_lock(&sesscache_mu);
    memset(sesscache_tab, 0, sizeof(sesscache_tab));
    pthread_mutex_unlock(&sesscache_mu);
}
