/*
 * Run a real `droverd serve` from a Check test: a child process on a free port of
 * DROVER_PORT_RANGE (default 18100-18199) in the test's schema (PGOPTIONS from testdb), with
 * none of the caller's DATABASE_URL, DROVER_* settings or kubeconfig, plus a minimal WebSocket
 * client (RFC 6455 text frames) to talk to /ws. Test processes only.
 */
#ifndef DROVER_DROVERD_PROC_H
#define DROVER_DROVERD_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct droverd_proc {
    pid_t pid;
    int port;
};

/* Start droverd with extra argv (NULL-terminated, may be NULL); waits until it listens. */
int droverd_proc_start(struct droverd_proc *p, const char *const *extra);
/* SIGTERM and wait; returns the exit status (or -1). */
int droverd_proc_stop(struct droverd_proc *p);

/*
 * Open a WebSocket to 127.0.0.1:port/path. `headers` are extra "Name: value\r\n" lines (may be
 * NULL), `subprotocol` may be NULL. Returns the socket, or -1 when the upgrade was refused
 * (*status gets the HTTP status, e.g. 403).
 */
int ws_connect(int port, const char *path, const char *headers, const char *subprotocol,
               int *status);
/* Send one masked text frame. 0 or -1. */
int ws_send(int fd, const char *text, size_t len);
/*
 * Receive one message (text; pings are answered, pongs skipped) within timeout_ms.
 * Returns a malloc'd NUL-terminated string, or NULL on timeout / close (*closed = true).
 */
char *ws_recv(int fd, int timeout_ms, bool *closed);

#endif
