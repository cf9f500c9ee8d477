/* LISTEN connections. The owning thread. */
#include "store/notify.h"
#include "core/mem.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct notify {
    PGconn *conn;
    char *dsn;
    char **channels;
    char schema[64];
};

static int notify_connect(struct notify *n, struct err *err)
{
    PGresult *r;
    char sql[512];

    n->conn = PQconnectdb(n->dsn ? n->dsn : "");
    if (PQstatus(n->conn) != CONNECTION_OK)
        goto fail;
    for (size_t i = 0; n->channels[i]; i++) {
        snprintf(sql, sizeof(sql), "LISTEN %s", n->channels[i]);
        r = PQexec(n->conn, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            PQclear(r);
            goto fail;
        }
        PQclear(r);
    }
    r = PQexec(n->conn, "SELECT current_schema()");
    snprintf(n->schema, sizeof(n->schema), "%s",
             PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)
                 ? PQgetvalue(r, 0, 0)
                 : "");
    PQclear(r);
    return 0;
fail:
    err_set(err, ERR_UNAVAILABLE, "LISTEN connection: %s",
            n->conn ? PQerrorMessage(n->conn) : "out of memory");
    if (err && strchr(err->msg, '\n'))
        *strchr(err->msg, '\n') = '\0';
    PQfinish(n->conn);
    n->conn = NULL;
    return -1;
}

int notify_open(const char *dsn, const char *const *channels, struct notify **out, struct err *err)
{
    struct notify *n = mem_calloc(1, sizeof(*n));
    size_t k = 0;

    while (channels[k])
        k++;
    n->dsn = dsn && *dsn ? mem_strdup(dsn) : NULL;
    n->channels = mem_calloc(k + 1, sizeof(*n->channels));
    for (size_t i = 0; i < k; i++)
        n->channels[i] = mem_strdup(channels[i]);
    *out = n;
    if (notify_connect(n, err) < 0) {
        notify_close(n);
        *out = NULL;
        return -1;
    }
    return 0;
}

void notify_close(struct notify *n)
{
    if (!n)
        return;
    PQfinish(n->conn);
    for (size_t i = 0; n->channels && n->channels[i]; i++)
        free(n->channels[i]);
    free(n->channels);
    free(n->dsn);
    free(n);
}

int notify_wait(struct notify *n, int ms, notify_fn fn, void *arg, struct err *err)
{
    struct pollfd pfd;
    PGnotify *m;
    int rc;

    if (!n->conn) {
        if (notify_connect(n, err) < 0) {
            usleep((useconds_t)ms * 1000);
            return -1;
        }
        return 1; /* back, but what was sent meanwhile is lost */
    }
    pfd.fd = PQsocket(n->conn);
    pfd.events = POLLIN;
    pfd.revents = 0;
    rc = poll(&pfd, 1, ms);
    if ((rc > 0 && !PQconsumeInput(n->conn)) || (rc == 0 && PQstatus(n->conn) == CONNECTION_BAD)) {
        PQfinish(n->conn);
        n->conn = NULL;
        return notify_connect(n, err) < 0 ? -1 : 1;
    }
    while ((m = PQnotifies(n->conn))) {
        fn(m->relname, m->extra, arg);
        PQfreemem(m);
    }
    return 0;
}

const char *notify_schema(const struct notify *n)
{
    return n->schema;
}
