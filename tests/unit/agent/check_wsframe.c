/*
 * agent/lib/wsframe, the RFC 6455 client framing the agent, the test support's /ws client and
 * drover-scale share: the RFC's own examples (a masked and an unmasked "Hello", the sample
 * Sec-WebSocket-Accept), every length encoding round-tripped, headers parsed a byte at a time,
 * the forbidden 64-bit length, the upgrade request and the response's status and accept check.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "wsframe.h"
#include "testsuite.h"

START_TEST(rfc_examples)
{
    static const unsigned char unmasked[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    static const unsigned char masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                           0x7f, 0x9f, 0x4d, 0x51, 0x58};
    static const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    unsigned char *f;
    char accept[29];
    size_t n;

    f = wsframe_encode(WSFRAME_TEXT, "Hello", 5, NULL, &n);
    ck_assert_uint_eq(n, sizeof(unmasked));
    ck_assert(memcmp(f, unmasked, n) == 0);
    free(f);
    f = wsframe_encode(WSFRAME_TEXT, "Hello", 5, mask, &n);
    ck_assert_uint_eq(n, sizeof(masked));
    ck_assert(memcmp(f, masked, n) == 0);
    free(f);
    wsframe_accept("dGhlIHNhbXBsZSBub25jZQ==", accept);
    ck_assert_str_eq(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
END_TEST

static const size_t lengths[] = {0, 1, 125, 126, 127, 65535, 65536, 100000};

START_TEST(lengths_round_trip)
{
    static const unsigned char mask[4] = {1, 2, 3, 4};
    size_t len = lengths[_i];
    char *payload = malloc(len + 1);

    memset(payload, 'p', len);
    for (int m = 0; m < 2; m++) {
        size_t n, want_h = (len < 126 ? 2 : len <= 0xffff ? 4 : 10) + (m ? 4 : 0);
        unsigned char *f = wsframe_encode(WSFRAME_BINARY, payload, len, m ? mask : NULL, &n);
        struct wsframe fr;

        ck_assert_uint_eq(n, want_h + len);
        ck_assert_int_eq(wsframe_parse(f, n, &fr), 1);
        ck_assert(fr.fin);
        ck_assert_int_eq(fr.opcode, WSFRAME_BINARY);
        ck_assert_int_eq(fr.masked, m);
        ck_assert_uint_eq(fr.header_len, want_h);
        ck_assert_uint_eq(fr.payload_len, len);
        if (m) {
            ck_assert(memcmp(fr.mask, mask, 4) == 0);
            wsframe_mask(f + fr.header_len, len, fr.mask);
        }
        ck_assert(len == 0 || memcmp(f + fr.header_len, payload, len) == 0);
        /* One byte at a time: "need more" until the header is whole, with its size known
         * from the second byte on. */
        for (size_t k = 0; k < want_h; k++) {
            ck_assert_int_eq(wsframe_parse(f, k, &fr), 0);
            ck_assert_uint_eq(fr.header_len, k < 2 ? 2 : want_h);
        }
        free(f);
    }
    free(payload);
}
END_TEST

START_TEST(headers_and_forbidden_length)
{
    unsigned char h[WSFRAME_HEADER_MAX];
    struct wsframe f;
    size_t n = wsframe_header(h, WSFRAME_CONT, false, 3, NULL);

    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(h[0], 0x00); /* not final, continuation */
    ck_assert_int_eq(wsframe_parse(h, n, &f), 1);
    ck_assert(!f.fin);
    ck_assert_int_eq(f.opcode, WSFRAME_CONT);
    n = wsframe_header(h, WSFRAME_PONG, true, 0, (const unsigned char[4]){0, 0, 0, 0});
    ck_assert_uint_eq(n, 6);
    ck_assert_int_eq(h[0], 0x8a);
    ck_assert_int_eq(h[1], 0x80);
    {
        unsigned char big[10] = {0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1};

        ck_assert_int_eq(wsframe_parse(big, sizeof(big), &f), -1);
        big[2] = 0x7f;
        ck_assert_int_eq(wsframe_parse(big, sizeof(big), &f), 1);
        ck_assert(f.payload_len == 0x7f00000000000001ULL);
    }
}
END_TEST

START_TEST(keys_are_random_base64)
{
    char a[25], b[25];
    struct err err = {0};
    unsigned char m1[4], m2[4];

    ck_assert_int_eq(wsframe_key(a, &err), 0);
    ck_assert_int_eq(wsframe_key(b, &err), 0);
    ck_assert_uint_eq(strlen(a), 24);
    ck_assert_str_ne(a, b);
    ck_assert_uint_eq(
        strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="), 24);
    ck_assert_int_eq(wsframe_random_mask(m1, &err), 0);
    ck_assert_int_eq(wsframe_random_mask(m2, &err), 0);
    ck_assert(memcmp(m1, m2, 4) != 0 || memcmp(m1, (unsigned char[4]){0}, 4) != 0);
}
END_TEST

START_TEST(upgrade_request)
{
    const char *hdrs[] = {"Authorization: Bearer t", "X-Agent-ID: a", NULL};
    char *r = wsframe_request("/ws", "127.0.0.1:8080", "KEY", "mcp", hdrs);

    ck_assert_str_eq(r, "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: KEY\r\n"
                        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mcp\r\n"
                        "Authorization: Bearer t\r\nX-Agent-ID: a\r\n\r\n");
    free(r);
    r = wsframe_request("/", "h", "K", NULL, NULL);
    ck_assert_str_eq(r, "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: K\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n");
    free(r);
}
END_TEST

START_TEST(upgrade_response)
{
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    const char *ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi";
    const char *wrong = "HTTP/1.1 101 Switching Protocols\r\n"
                        "sec-websocket-accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n";
    const char *refused = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
    size_t head = strlen(ok) - 4;
    int status;
    bool accepted;

    ck_assert_int_eq(wsframe_response(ok, head - 1, key, &status, &accepted), 0);
    ck_assert_int_eq(wsframe_response(ok, strlen(ok), key, &status, &accepted), (long)head);
    ck_assert_int_eq(status, 101);
    ck_assert(accepted);
    ck_assert_int_gt(wsframe_response(wrong, strlen(wrong), key, &status, &accepted), 0);
    ck_assert_int_eq(status, 101);
    ck_assert(!accepted);
    ck_assert_int_gt(wsframe_response(wrong, strlen(wrong), NULL, &status, &accepted), 0);
    ck_assert(accepted); /* no key given: any 101 */
    ck_assert_int_gt(wsframe_response(refused, strlen(refused), key, &status, &accepted), 0);
    ck_assert_int_eq(status, 403);
    ck_assert(!accepted);
    ck_assert_int_eq(wsframe_response("SSH-2.0\r\n\r\n", 11, key, &status, &accepted), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wsframe");
    TCase *tc = tcase_create("wsframe");

    tcase_add_test(tc, rfc_examples);
    tcase_add_loop_test(tc, lengths_round_trip, 0, (int)(sizeof(lengths) / sizeof(lengths[0])));
    tcase_add_test(tc, headers_and_forbidden_length);
    tcase_add_test(tc, keys_are_random_base64);
    tcase_add_test(tc, upgrade_request);
    tcase_add_test(tc, upgrade_response);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
