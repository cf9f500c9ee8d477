/*
 * A connection that LISTENs: PostgreSQL's NOTIFY as a stream of hints ("a task became
 * runnable", "activity was added", "pool settings changed"). The tables stay the truth; a
 * notification only says when to look again, and after a lost connection the caller is told
 * that some may have been missed. The connection stays in autocommit and idle, as notifications
 * reach a session only outside a transaction. Blocking; one thread owns a `struct notify`.
 */
#ifndef DROVER_STORE_NOTIFY_H
#define DROVER_STORE_NOTIFY_H

#include "core/err.h"

struct notify;

/* What notify_wait hands over, one call per notification. */
typedef void (*notify_fn)(const char *channel, const char *payload, void *arg);

/*
 * Connect to `dsn` (NULL: the PG* environment) and LISTEN on `channels` (NULL-terminated).
 * ERR_UNAVAILABLE when the database cannot be reached. *out owned (notify_close).
 */
int notify_open(const char *dsn, const char *const *channels, struct notify **out, struct err *err);
void notify_close(struct notify *n);

/*
 * Wait up to `ms` for notifications and hand each to `fn`. Returns 0; 1 when the connection was
 * lost and has been re-established (with its LISTENs) meanwhile, so notifications may have been
 * missed; -1 with ERR_UNAVAILABLE while it cannot be re-established (the wait still took about
 * `ms`, so a loop around it does not spin).
 */
int notify_wait(struct notify *n, int ms, notify_fn fn, void *arg, struct err *err);

/* The schema the connection works in (its search_path's first): "" when unknown. */
const char *notify_schema(const struct notify *n);

#endif
