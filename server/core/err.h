/*
 * The caller-owned error record every fallible function fills in, and Drover's one error
 * vocabulary. Any thread. An error carries a class (`code`: what kind of failure, mapped once,
 * here, to an HTTP status, a JSON-RPC code and a CLI exit code), optionally a `reason` (a
 * stable snake_case name for the exact failure that clients may match on, e.g.
 * "prompt_required" under ERR_INVALID), and a message that says what to fix. docs/errors.md
 * lists every class and reason.
 */
#ifndef DROVER_CORE_ERR_H
#define DROVER_CORE_ERR_H

#include <stdarg.h>

enum err_code {
    ERR_OK = 0,
    ERR_INVALID,      /* bad input from the caller: 400 */
    ERR_NOT_FOUND,    /* unknown task, agent, project: 404 */
    ERR_FORBIDDEN,    /* authenticated but not allowed (wrong agent, scope): 403 */
    ERR_UNAUTHORIZED, /* no or bad credentials: 401 */
    ERR_CONFLICT,     /* illegal transition, agent draining: 409 */
    ERR_STALE_EPOCH,  /* a lease epoch that is no longer current: 409 */
    ERR_TOO_LARGE,    /* oversized input: 413 */
    ERR_UNAVAILABLE,  /* database or dependency unreachable: 503 */
    ERR_BUSY,         /* the server is at capacity (queue full): 503 */
    ERR_INTERNAL,     /* a bug or an unexpected failure: 500 */
    ERR_RATE_LIMITED, /* the caller sent too much too fast: 429 */
    ERR_METHOD,       /* the path does not take that method: 405 */
    ERR_UNSUPPORTED,  /* this server lacks what the request needs (a pod backend): 501 */
    /* The HTTP transport's own refusals (net/). */
    ERR_LENGTH_REQUIRED, /* a body without Content-Length (chunked): 411 */
    ERR_MEDIA_TYPE,      /* a body of the wrong Content-Type: 415 */
    ERR_UPGRADE,         /* a WebSocket endpoint asked for without the upgrade: 426 */
};

struct err {
    enum err_code code;
    const char *reason; /* NULL, or a static string: the exact failure within the class */
    char msg[256];
};

/* Record an error; a no-op when err is NULL. Returns -1 so callers can `return err_set(...)`. */
int err_set(struct err *err, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same with a reason (a static string literal). */
int err_detail(struct err *err, enum err_code code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* err_detail with a va_list, for functions that take a message format of their own. */
int err_vdetail(struct err *err, enum err_code code, const char *reason, const char *fmt,
                va_list ap) __attribute__((format(printf, 4, 0)));

/* Reset to "no error". */
void err_clear(struct err *err);

/* A stable, lower-case name for the code ("not_found", "stale_epoch", ...). */
const char *err_code_name(enum err_code code);

/* The HTTP status that corresponds to the code. */
int err_http_status(enum err_code code);

/* The name clients see for an error: its reason when it has one, else its class's name. */
const char *err_name(const struct err *err);

/*
 * The JSON-RPC error code for a failure of the protocol layer itself (the request could not
 * be served): -32602 invalid params for ERR_INVALID / ERR_TOO_LARGE, -32603 internal error for
 * ERR_INTERNAL, -32000 (server error) otherwise. Business failures of a tool are not JSON-RPC
 * errors but isError tool results carrying err_name().
 */
int err_jrpc_code(enum err_code code);

/* The exit status of a CLI for an error: 2 for bad input, 1 otherwise. */
int err_exit_code(enum err_code code);

#endif
