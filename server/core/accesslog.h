/*
 * The access log: one line per HTTP request (method, path without its query, status, duration,
 * bytes of the body sent, and who: the token's name or the agent's id; never a token, a query
 * string or a body), in logfmt or JSON, on stderr.
 *
 * The lws service thread only copies a fixed-size record into a bounded ring under a mutex
 * held for that copy (accesslog_add: no formatting, no I/O, never waits for the writer); a
 * writer thread of the log's own formats and writes the lines. When the writer falls behind
 * and the ring is full, records are dropped and counted, and the count is written as a line of
 * its own once there is room: the service thread never blocks on stderr.
 */
#ifndef DROVER_CORE_ACCESSLOG_H
#define DROVER_CORE_ACCESSLOG_H

#include <stddef.h>
#include <stdio.h>

#include "core/err.h"

enum accesslog_format { ACCESSLOG_LOGFMT, ACCESSLOG_JSON };

#define ACCESSLOG_RING 4096 /* records waiting for the writer */

struct accesslog_rec {
    char method[8];
    char path[192]; /* cut at '?': a query may carry a secret */
    int status;
    long long duration_us;
    size_t bytes;
    char who[64];    /* the token's name, the agent's id, or "" (no credential) */
    long long ts_ms; /* wall clock at completion; 0: accesslog_add fills it in */
};

struct accesslog;

/* Start the writer writing to `f` (stderr when NULL). NULL with err set when no thread. */
struct accesslog *accesslog_start(enum accesslog_format fmt, FILE *f, struct err *err);

/* Queue one record (copied). Any thread; never blocks on the writer. `log` may be NULL: off. */
void accesslog_add(struct accesslog *log, const struct accesslog_rec *r);

/* Set r->path from `uri`: up to the query, at most sizeof(path) - 1 bytes. */
void accesslog_set_path(struct accesslog_rec *r, const char *uri);

/* Format one record as a line (with its newline) into `out` of `n` bytes; returns the length. */
size_t accesslog_format_line(enum accesslog_format fmt, const struct accesslog_rec *r, char *out,
                             size_t n);

/* Write what is queued, stop the writer, free. NULL: nothing. */
void accesslog_stop(struct accesslog *log);

#endif
