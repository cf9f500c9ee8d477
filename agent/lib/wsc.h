/*
 * A minimal blocking WebSocket client (RFC 6455) for MCP over droverd's /ws: plain ws:// over
 * TCP, one text message per JSON-RPC message, client frames masked, ping answered, close
 * honoured (the framing and handshake are wsframe.h's). libcurl 7.88 has no stable WebSocket
 * API, hence this. One thread per `struct wsc`.
 */
#ifndef DROVER_AGENT_WSC_H
#define DROVER_AGENT_WSC_H

#include <stddef.h>

#include "core/err.h"

struct wsc {
    int fd; /* -1 when closed */
    unsigned char *rx;
    size_t rx_len, rx_cap;
    size_t max_message;
};

/*
 * Connect to `url` (ws://host[:port]/path) and upgrade with `subprotocol` (may be NULL) and
 * extra "Name: value" headers (NULL-terminated, may be NULL). 401/403 answers are
 * ERR_UNAUTHORIZED / ERR_FORBIDDEN; no connection ERR_UNAVAILABLE.
 */
int wsc_connect(struct wsc *w, const char *url, const char *subprotocol, const char *const *headers,
                long timeout_s, struct err *err);

/* Send one text message. */
int wsc_send(struct wsc *w, const char *data, size_t len, struct err *err);

/*
 * Receive one complete text (or binary) message into *msg (owned, NUL-terminated), waiting at
 * most `timeout_ms` (slices of 200 ms; `abort_flag`, when set non-zero, ends the wait early).
 * ERR_UNAVAILABLE on timeout, abort or a closed connection.
 */
int wsc_recv(struct wsc *w, long timeout_ms, volatile const int *abort_flag, char **msg,
             size_t *len, struct err *err);

void wsc_close(struct wsc *w);

#endif
