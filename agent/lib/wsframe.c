/* RFC 6455 client framing and handshake, without I/O. Any thread. */
#include "wsframe.h"
#include "core/mem.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WSFRAME_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

size_t wsframe_header(unsigned char out[WSFRAME_HEADER_MAX], int opcode, bool fin, uint64_t len,
                      const unsigned char *mask)
{
    unsigned char m = mask ? 0x80 : 0;
    size_t h = 0;

    out[h++] = (unsigned char)((fin ? 0x80 : 0) | (opcode & 0x0f));
    if (len < 126) {
        out[h++] = (unsigned char)(m | len);
    } else if (len <= 0xffff) {
        out[h++] = m | 126;
        out[h++] = (unsigned char)(len >> 8);
        out[h++] = (unsigned char)len;
    } else {
        out[h++] = m | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (unsigned char)(len >> (8 * i));
    }
    if (mask) {
        memcpy(out + h, mask, 4);
        h += 4;
    }
    return h;
}

unsigned char *wsframe_encode(int opcode, const void *payload, size_t len,
                              const unsigned char *mask, size_t *n)
{
    unsigned char hdr[WSFRAME_HEADER_MAX], *frame;
    size_t h = wsframe_header(hdr, opcode, true, len, mask);

    frame = mem_alloc(h + len + 1);
    memcpy(frame, hdr, h);
    if (len)
        memcpy(frame + h, payload, len);
    if (mask)
        wsframe_mask(frame + h, len, mask);
    *n = h + len;
    return frame;
}

int wsframe_parse(const unsigned char *p, size_t n, struct wsframe *f)
{
    size_t h = 2, ext = 0;
    uint64_t len;

    memset(f, 0, sizeof(*f));
    f->header_len = 2;
    if (n < 2)
        return 0;
    f->fin = p[0] & 0x80;
    f->opcode = p[0] & 0x0f;
    f->masked = p[1] & 0x80;
    len = p[1] & 0x7f;
    ext = len == 126 ? 2 : len == 127 ? 8 : 0;
    h += ext + (f->masked ? 4 : 0);
    f->header_len = h;
    if (n < h)
        return 0;
    if (ext) {
        len = 0;
        for (size_t i = 0; i < ext; i++)
            len = (len << 8) | p[2 + i];
        if (len >> 63)
            return -1;
    }
    if (f->masked)
        memcpy(f->mask, p + 2 + ext, 4);
    f->payload_len = len;
    return 1;
}

void wsframe_mask(unsigned char *p, size_t n, const unsigned char mask[4])
{
    for (size_t i = 0; i < n; i++)
        p[i] ^= mask[i & 3];
}

int wsframe_random_mask(unsigned char mask[4], struct err *err)
{
    if (RAND_bytes(mask, 4) != 1)
        return err_set(err, ERR_INTERNAL, "no randomness for the websocket mask");
    return 0;
}

int wsframe_key(char key[25], struct err *err)
{
    unsigned char nonce[16];

    if (RAND_bytes(nonce, sizeof(nonce)) != 1)
        return err_set(err, ERR_INTERNAL, "no randomness for the websocket key");
    EVP_EncodeBlock((unsigned char *)key, nonce, sizeof(nonce));
    return 0;
}

void wsframe_accept(const char *key, char out[29])
{
    unsigned char sha[SHA_DIGEST_LENGTH];
    char *concat = mem_printf("%s" WSFRAME_GUID, key);

    SHA1((const unsigned char *)concat, strlen(concat), sha);
    free(concat);
    EVP_EncodeBlock((unsigned char *)out, sha, sizeof(sha));
}

char *wsframe_request(const char *path, const char *host, const char *key, const char *subprotocol,
                      const char *const *headers)
{
    size_t n =
        256 + strlen(path) + strlen(host) + strlen(key) + (subprotocol ? strlen(subprotocol) : 0);
    char *req;
    int k;

    for (size_t i = 0; headers && headers[i]; i++)
        n += strlen(headers[i]) + 2;
    req = mem_alloc(n);
    k = snprintf(req, n,
                 "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                 "Sec-WebSocket-Version: 13\r\n%s%s%s",
                 path, host, key, subprotocol ? "Sec-WebSocket-Protocol: " : "",
                 subprotocol ? subprotocol : "", subprotocol ? "\r\n" : "");
    for (size_t i = 0; headers && headers[i]; i++)
        k += snprintf(req + k, n - (size_t)k, "%s\r\n", headers[i]);
    snprintf(req + k, n - (size_t)k, "\r\n");
    return req;
}

long wsframe_response(const char *p, size_t n, const char *key, int *status, bool *accepted)
{
    const char *eoh = NULL, *a;
    char *head, want[29], got[64] = "";
    size_t hl;

    *status = 0;
    *accepted = false;
    for (size_t i = 0; i + 4 <= n && !eoh; i++)
        if (memcmp(p + i, "\r\n\r\n", 4) == 0)
            eoh = p + i;
    if (!eoh)
        return 0;
    hl = (size_t)(eoh - p) + 4;
    head = mem_strndup(p, hl - 2); /* keeps the last header's CRLF, for the search below */
    if (sscanf(head, "HTTP/1.%*d %d", status) != 1) {
        free(head);
        return -1;
    }
    if (*status == 101) {
        if (!key) {
            *accepted = true;
        } else if ((a = strcasestr(head, "\r\nsec-websocket-accept:"))) {
            sscanf(a + strlen("\r\nsec-websocket-accept:"), " %63s", got);
            wsframe_accept(key, want);
            *accepted = strcmp(got, want) == 0;
        }
    }
    free(head);
    return (long)hl;
}
