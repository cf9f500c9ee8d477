/*
 * RFC 6455 for WebSocket clients, without the I/O: frame headers encoded and parsed, payloads
 * masked, and the opening handshake (the request, the Sec-WebSocket-Key and its expected
 * Sec-WebSocket-Accept, the response's status). Shared by the agent's client (wsc), the test
 * support's /ws client and the drover-scale load generator, which each do their own reads and
 * writes (blocking, with deadlines, or non-blocking on epoll). Pure functions, any thread;
 * wsframe_key and wsframe_random_mask draw from OpenSSL's generator.
 */
#ifndef DROVER_AGENT_WSFRAME_H
#define DROVER_AGENT_WSFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum wsframe_opcode {
    WSFRAME_CONT = 0x0,
    WSFRAME_TEXT = 0x1,
    WSFRAME_BINARY = 0x2,
    WSFRAME_CLOSE = 0x8,
    WSFRAME_PING = 0x9,
    WSFRAME_PONG = 0xA,
};

#define WSFRAME_HEADER_MAX 14 /* 2 + 8 (64-bit length) + 4 (mask) */

struct wsframe {
    bool fin;
    int opcode;
    bool masked;
    unsigned char mask[4];
    size_t header_len;    /* bytes of the header (also set when more are needed) */
    uint64_t payload_len; /* bytes that follow the header */
};

/* The header of a frame with `len` payload bytes, masked with `mask` (NULL: unmasked, as
 * servers send). Returns its length (2 to 14). */
size_t wsframe_header(unsigned char out[WSFRAME_HEADER_MAX], int opcode, bool fin, uint64_t len,
                      const unsigned char *mask);

/* A whole final frame: header + payload masked with `mask` (NULL: unmasked). Owned; *n gets
 * its length. */
unsigned char *wsframe_encode(int opcode, const void *payload, size_t len,
                              const unsigned char *mask, size_t *n);

/*
 * Read the frame header at the start of p[0..n). 1 with *f filled; 0 when more bytes are
 * needed (f->header_len then says how many the header takes once 2 are there); -1 for a
 * length RFC 6455 forbids (the 64-bit form with its top bit set).
 */
int wsframe_parse(const unsigned char *p, size_t n, struct wsframe *f);

/* XOR `n` bytes with the mask, in place (masking and unmasking are the same). */
void wsframe_mask(unsigned char *p, size_t n, const unsigned char mask[4]);

/* Four random bytes for a client frame's mask. 0, or -1 when no randomness is available. */
int wsframe_random_mask(unsigned char mask[4], struct err *err);

/* A fresh Sec-WebSocket-Key: 16 random bytes, base64 (24 characters + NUL). */
int wsframe_key(char key[25], struct err *err);

/* The Sec-WebSocket-Accept a server must answer `key` with (28 characters + NUL). */
void wsframe_accept(const char *key, char out[29]);

/*
 * The upgrade request for `path` on `host` ("name[:port]", the Host header), with `key`, an
 * optional subprotocol and extra header lines (without CRLF; NULL-terminated, may be NULL).
 * Owned; it may hold credentials, so wipe it before freeing.
 */
char *wsframe_request(const char *path, const char *host, const char *key, const char *subprotocol,
                      const char *const *headers);

/*
 * Read the upgrade response head at the start of p[0..n). 0 when its end (CRLF CRLF) is not
 * there yet; -1 when it is not an HTTP response; else the head's length, with *status set and
 * *accepted telling whether it is a 101 whose Sec-WebSocket-Accept matches `key` (NULL `key`:
 * any 101).
 */
long wsframe_response(const char *p, size_t n, const char *key, int *status, bool *accepted);

#endif
