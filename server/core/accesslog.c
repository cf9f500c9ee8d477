/* The access log's ring and writer thread. */
#include "core/accesslog.h"
#include "core/clock.h"
#include "core/mem.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct accesslog {
    enum accesslog_format fmt;
    FILE *f;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct accesslog_rec ring[ACCESSLOG_RING];
    size_t head, n; /* the oldest record and how many wait */
    unsigned long long dropped;
    bool stop;
};

/* Append `s` to out[*len..n) as a logfmt value (quoted when needed) or a JSON string body. */
static void accesslog_put(char *out, size_t n, size_t *len, const char *s, bool json)
{
    bool quote = json || !*s;

    for (const char *p = s; !quote && *p; p++)
        quote = *p == ' ' || *p == '"' || *p == '=' || (unsigned char)*p < 0x20;
    if (quote && *len + 1 < n)
        out[(*len)++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p && *len + 7 < n; p++) {
        if (*p == '"' || *p == '\\') {
            out[(*len)++] = '\\';
            out[(*len)++] = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            *len += (size_t)snprintf(out + *len, n - *len, "\\u%04x", *p);
        } else {
            out[(*len)++] = (char)*p;
        }
    }
    if (quote && *len + 1 < n)
        out[(*len)++] = '"';
    out[*len < n ? *len : n - 1] = '\0';
}

size_t accesslog_format_line(enum accesslog_format fmt, const struct accesslog_rec *r, char *out,
                             size_t n)
{
    char ts[40];
    time_t sec = (time_t)(r->ts_ms / 1000);
    struct tm tm;
    size_t len;
    bool json = fmt == ACCESSLOG_JSON;
    double ms = (double)r->duration_us / 1000.0;

    gmtime_r(&sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    len = (size_t)snprintf(
        out, n,
        json ? "{\"ts\":\"%s.%03lldZ\",\"lvl\":\"info\",\"mod\":\"access\",\"method\":"
             : "ts=%s.%03lldZ lvl=info mod=access method=",
        ts, r->ts_ms % 1000);
    accesslog_put(out, n, &len, r->method, json);
    if (len < n)
        len += (size_t)snprintf(out + len, n - len, json ? ",\"path\":" : " path=");
    accesslog_put(out, n, &len, r->path, json);
    if (len < n)
        len += (size_t)snprintf(out + len, n - len,
                                json ? ",\"status\":%d,\"duration_ms\":%.3f,\"bytes\":%zu,\"who\":"
                                     : " status=%d duration_ms=%.3f bytes=%zu who=",
                                r->status, ms, r->bytes);
    accesslog_put(out, n, &len, r->who, json);
    if (len + 3 < n) {
        if (json)
            out[len++] = '}';
        out[len++] = '\n';
        out[len] = '\0';
    }
    return len < n ? len : n - 1;
}

static void *accesslog_main(void *arg)
{
    struct accesslog *log = arg;
    struct accesslog_rec r;
    unsigned long long dropped;
    bool have;
    char line[1024];

    pthread_mutex_lock(&log->mu);
    for (;;) {
        while (log->n == 0 && !log->dropped && !log->stop)
            pthread_cond_wait(&log->cv, &log->mu);
        if (log->n == 0 && !log->dropped && log->stop)
            break;
        dropped = log->dropped;
        log->dropped = 0;
        have = log->n > 0;
        if (have) {
            r = log->ring[log->head];
            log->head = (log->head + 1) % ACCESSLOG_RING;
            log->n--;
        }
        pthread_mutex_unlock(&log->mu);
        /* Formatting and the write happen outside the lock: adders never wait for stderr. */
        if (dropped)
            fprintf(log->f,
                    "lvl=warn mod=access msg=\"%llu access log lines dropped: the log "
                    "could not keep up\"\n",
                    dropped);
        if (have) {
            accesslog_format_line(log->fmt, &r, line, sizeof(line));
            fputs(line, log->f);
        }
        pthread_mutex_lock(&log->mu);
    }
    pthread_mutex_unlock(&log->mu);
    fflush(log->f);
    return NULL;
}

struct accesslog *accesslog_start(enum accesslog_format fmt, FILE *f, struct err *err)
{
    struct accesslog *log = mem_calloc(1, sizeof(*log));

    log->fmt = fmt;
    log->f = f ? f : stderr;
    pthread_mutex_init(&log->mu, NULL);
    pthread_cond_init(&log->cv, NULL);
    if (pthread_create(&log->thread, NULL, accesslog_main, log) != 0) {
        pthread_cond_destroy(&log->cv);
        pthread_mutex_destroy(&log->mu);
        free(log);
        err_set(err, ERR_INTERNAL, "cannot start the access log thread");
        return NULL;
    }
    return log;
}

void accesslog_add(struct accesslog *log, const struct accesslog_rec *r)
{
    if (!log)
        return;
    pthread_mutex_lock(&log->mu);
    if (log->n == ACCESSLOG_RING) {
        log->dropped++;
    } else {
        struct accesslog_rec *d = &log->ring[(log->head + log->n) % ACCESSLOG_RING];

        *d = *r;
        if (!d->ts_ms)
            d->ts_ms = clock_wall_ms();
        log->n++;
    }
    pthread_cond_signal(&log->cv);
    pthread_mutex_unlock(&log->mu);
}

void accesslog_set_path(struct accesslog_rec *r, const char *uri)
{
    size_t len = strcspn(uri ? uri : "", "?");

    if (len >= sizeof(r->path))
        len = sizeof(r->path) - 1;
    memcpy(r->path, uri ? uri : "", len);
    r->path[len] = '\0';
}

void accesslog_stop(struct accesslog *log)
{
    if (!log)
        return;
    pthread_mutex_lock(&log->mu);
    log->stop = true;
    pthread_cond_signal(&log->cv);
    pthread_mutex_unlock(&log->mu);
    pthread_join(log->thread, NULL);
    pthread_cond_destroy(&log->cv);
    pthread_mutex_destroy(&log->mu);
    free(log);
}
