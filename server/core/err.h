/*
 * The caller-owned error record every fallible function fills in.
 * Any thread.  An error carries a stable code (mapped to HTTP statuses, JSON-RPC codes and
 * CLI exit codes by the layers above) and a message that says what to fix.
 */
#ifndef DROVER_CORE_ERR_H
#define DROVER_CORE_ERR_H

enum err_code {
    ERR_OK = 0,
    ERR_INVALID,      /* bad input from the caller: 400 / -32602 */
    ERR_NOT_FOUND,    /* unknown task, agent, project: 404 */
    ERR_FORBIDDEN,    /* authenticated but not allowed (wrong agent, scope): 403 */
    ERR_UNAUTHORIZED, /* no or bad credentials: 401 */
    ERR_CONFLICT,     /* illegal transition, agent draining: 409 */
    ERR_STALE_EPOCH,  /* a lease epoch that is no longer current: 409 */
    ERR_TOO_LARGE,    /* oversized input: 413 */
    ERR_UNAVAILABLE,  /* database or dependency unreachable: 503 */
    ERR_BUSY,         /* queue full / rate limited: 503 or 429 */
    ERR_INTERNAL,     /* a bug or an unexpected failure: 500 */
};

struct err {
    enum err_code code;
    char msg[256];
};

/* Record an error; a no-op when err is NULL. Returns -1 so callers can `return err_set(...)`. */
int err_set(struct err *err, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reset to "no error". */
void err_clear(struct err *err);

/* A stable, lower-case name for the code ("not_found", "stale_epoch", ...). */
const char *err_code_name(enum err_code code);

/* The HTTP status that corresponds to the code. */
int err_http_status(enum err_code code);

#endif
