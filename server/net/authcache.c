/*
 * Verified-token cache: a small direct-mapped table under one mutex. Any thread.
 */
#include "net/authcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUTHCACHE_SLOTS 512

struct authcache_entry {
    char hash[65];
    long long expires_ms;
    struct tokens_principal who;
};

static struct authcache_entry authcache_tab[AUTHCACHE_SLOTS];
static pthread_mutex_t authcache_mu = PTHREAD_MUTEX_INITIALIZER;

long long authcache_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t authcache_slot(const char *hash)
{
    return (size_t)strtoul(
               (char[9]){hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7], 0},
               NULL, 16) %
           AUTHCACHE_SLOTS;
}

static bool authcache_get(const char *hash, struct tokens_principal *who)
{
    struct authcache_entry *e = &authcache_tab[authcache_slot(hash)];
    bool hit;

    pthread_mutex_lock(&authcache_mu);
    hit = strcmp(e->hash, hash) == 0 && e->expires_ms > authcache_now_ms();
    if (hit)
        *who = e->who;
    pthread_mutex_unlock(&authcache_mu);
    return hit;
}

bool authcache_peek(const char *token, struct tokens_principal *who)
{
    char hash[65];

    if (!token || strlen(token) != TOKENS_LEN - 1)
        return false;
    tokens_hash_hex(token, hash);
    return authcache_get(hash, who);
}

int authcache_verify(struct db *db, const char *token, struct tokens_principal *who,
                     struct err *err)
{
    char hash[65];
    struct authcache_entry *e;

    if (!token || strlen(token) != TOKENS_LEN - 1)
        return tokens_verify(db, token, who, err); /* the malformed-token message */
    tokens_hash_hex(token, hash);
    if (authcache_get(hash, who))
        return 0;
    if (tokens_verify(db, token, who, err) < 0) {
        /* A connection lost since the last job (a database restart) shows up here first: the
         * lookup is read-only, so reconnect and ask once more rather than fail the request. */
        if (err->code != ERR_UNAVAILABLE || db_ensure(db, NULL) < 0 ||
            tokens_verify(db, token, who, err) < 0)
            return -1;
    }
    e = &authcache_tab[authcache_slot(hash)];
    pthread_mutex_lock(&authcache_mu);
    memcpy(e->hash, hash, sizeof(hash));
    e->who = *who;
    e->expires_ms = authcache_now_ms() + AUTHCACHE_TTL_MS;
    pthread_mutex_unlock(&authcache_mu);
    return 0;
}

void authcache_clear(void)
{
    pthread_mutex_lock(&authcache_mu);
    memset(authcache_tab, 0, sizeof(authcache_tab));
    pthread_mutex_unlock(&authcache_mu);
}
