/*
 * The pure pieces of the server hardening (issue 13): Content-Length parsing, the per-token
 * rate limiter, the per-address connection count, usage and idempotency-key rules, control
 * characters, UTF-8 prefixes, and droverctl's terminal rendering.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_term.h"
#include "core/model.h"
#include "core/text.h"
#include "net/connlimit.h"
#include "net/ratelimit.h"
#include "net/reqcheck.h"
#include "testsuite.h"

START_TEST(content_length)
{
    ck_assert_int_eq(reqcheck_content_length("0"), 0);
    ck_assert_int_eq(reqcheck_content_length("1234"), 1234);
    ck_assert_int_eq(reqcheck_content_length("-5"), -2);
    ck_assert_int_eq(reqcheck_content_length("+5"), -2);
    ck_assert_int_eq(reqcheck_content_length("5, 5"), -2);
    ck_assert_int_eq(reqcheck_content_length(" 5"), -2);
    ck_assert_int_eq(reqcheck_content_length("0x10"), -2);
    ck_assert_int_eq(reqcheck_content_length(""), -2);
    ck_assert_int_eq(reqcheck_content_length("99999999999999999999999"), -2);
}
END_TEST

START_TEST(rate_limit_buckets)
{
    static struct ratelimit r;
    int ra = 0, ok = 0;

    ratelimit_init(&r, 10, 5);
    for (int i = 0; i < 20; i++)
        ok += ratelimit_take(&r, "tok-a", 1000, &ra);
    ck_assert_int_eq(ok, 5); /* the burst, then nothing within the same millisecond */
    ck_assert_int_ge(ra, 1);
    ck_assert(ratelimit_take(&r, "tok-b", 1000, &ra)); /* another token has its own bucket */
    ck_assert(ratelimit_take(&r, "tok-a", 1100, &ra)); /* 100 ms at 10/s: one more */
    ck_assert(!ratelimit_take(&r, "tok-a", 1100, &ra));
    ck_assert(ratelimit_take(&r, NULL, 1100, &ra)); /* no token: authentication refuses it */
    ratelimit_init(&r, 0, 5);                       /* off */
    for (int i = 0; i < 100; i++)
        ck_assert(ratelimit_take(&r, "tok-a", 0, &ra));
}
END_TEST

START_TEST(rate_limit_table_full)
{
    static struct ratelimit r;
    char tok[32];
    int ra;

    ratelimit_init(&r, 1, 1);
    ck_assert(ratelimit_take(&r, "victim", 0, &ra));
    ck_assert(!ratelimit_take(&r, "victim", 0, &ra));
    /* A flood of made-up tokens never blocks anyone: evicted buckets start full. */
    for (int i = 0; i < 3 * RATELIMIT_SLOTS; i++) {
        snprintf(tok, sizeof(tok), "fake-%d", i);
        ck_assert(ratelimit_take(&r, tok, 10, &ra));
    }
}
END_TEST

START_TEST(connlimit_per_address)
{
    static struct connlimit c;
    struct sockaddr_in a = {.sin_family = AF_INET}, b = {.sin_family = AF_INET};
    struct sockaddr_in6 m = {.sin6_family = AF_INET6};

    inet_pton(AF_INET, "10.0.0.1", &a.sin_addr);
    inet_pton(AF_INET, "10.0.0.2", &b.sin_addr);
    inet_pton(AF_INET6, "::ffff:10.0.0.1", &m.sin6_addr);
    connlimit_init(&c, 2);
    ck_assert(connlimit_admit(&c, (struct sockaddr *)&a));
    c.pending = NULL;                                      /* as if bound to its wsi */
    ck_assert(connlimit_admit(&c, (struct sockaddr *)&m)); /* the same address, mapped */
    c.pending = NULL;
    ck_assert_int_eq(connlimit_count(&c, "10.0.0.1"), 2);
    ck_assert(!connlimit_admit(&c, (struct sockaddr *)&a));
    ck_assert(connlimit_admit(&c, (struct sockaddr *)&b));
    /* b's admission never reached a wsi (lws refused the descriptor): the next one uncounts it */
    ck_assert(connlimit_admit(&c, (struct sockaddr *)&b));
    ck_assert_int_eq(connlimit_count(&c, "10.0.0.2"), 1);
    connlimit_free(&c);
    ck_assert_int_eq(connlimit_count(&c, "10.0.0.1"), 0);
}
END_TEST

START_TEST(usage_rules)
{
    struct err err = {0};
    json_t *u = json_pack("{s:i,s:f}", "tokens", 10, "usd", 0.5);

    ck_assert_int_eq(model_usage_check(u, &err), 0);
    json_object_set_new(u, "tokens", json_integer(-1));
    ck_assert_int_eq(model_usage_check(u, &err), -1);
    json_object_set_new(u, "tokens", json_string("90"));
    ck_assert_int_eq(model_usage_check(u, &err), -1);
    json_object_set_new(u, "tokens", json_null());
    ck_assert_int_eq(model_usage_check(u, &err), -1);
    json_decref(u);
    u = json_object();
    for (int i = 0; i <= MODEL_USAGE_KEYS_MAX; i++) {
        char k[16];

        snprintf(k, sizeof(k), "k%d", i);
        json_object_set_new(u, k, json_integer(1));
    }
    ck_assert_int_eq(model_usage_check(u, &err), -1);
    ck_assert_int_eq(err.code, ERR_TOO_LARGE);
    json_decref(u);
    u = json_array();
    ck_assert_int_eq(model_usage_check(u, &err), -1);
    json_decref(u);
}
END_TEST

START_TEST(idempotency_and_controls)
{
    struct err err = {0};

    ck_assert_int_eq(model_idem_key_check("race-1", &err), 0);
    ck_assert_int_eq(model_idem_key_check(NULL, &err), 0);
    ck_assert_int_eq(model_idem_key_check("race-1#2", &err), -1);
    ck_assert_int_eq(model_idem_key_check("schedule:3:100", &err), -1);
    ck_assert_int_eq(model_idem_key_check("a\x1b", &err), -1);
    ck_assert_int_eq(model_idem_key_check("my-schedule:1", &err), 0);
    ck_assert(!model_text_has_control("plain\ttext\nnext line é"));
    ck_assert(model_text_has_control("\x1b[2K"));
    ck_assert(model_text_has_control("a\rb"));
    ck_assert(model_text_has_control("a\x7f"));
}
END_TEST

START_TEST(utf8_prefix)
{
    ck_assert_uint_eq(text_utf8_prefix("abc", 10), 3);
    ck_assert_uint_eq(text_utf8_prefix("abc", 2), 2);
    ck_assert_uint_eq(text_utf8_prefix("a\xc3\xa9", 2), 1);          /* é cut in two: drop it */
    ck_assert_uint_eq(text_utf8_prefix("a\xe2\x82\xac", 3), 1);      /* € */
    ck_assert_uint_eq(text_utf8_prefix("a\xf0\x9f\x98\x80z", 5), 5); /* 😀 whole */
}
END_TEST

START_TEST(term_render)
{
    char out[256];
    int c2 = 0;
    size_t n = ctl_term_render("a\x1b]0;t\x07\tb\n\x7f", 11, out, &c2);

    out[n] = '\0';
    ck_assert_str_eq(out, "a\\x1b]0;t\\x07\tb\n\\x7f");
    n = ctl_term_render("x\xc2", 2, out, &c2); /* a C1 CSI split across two writes */
    n += ctl_term_render("\x9b"
                         "1m \xc2\xa9",
                         6, out + n, &c2);
    out[n] = '\0';
    ck_assert_str_eq(out, "x\\u009b1m \xc2\xa9");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("harden");
    TCase *tc = tcase_create("harden");

    tcase_add_test(tc, content_length);
    tcase_add_test(tc, rate_limit_buckets);
    tcase_add_test(tc, rate_limit_table_full);
    tcase_add_test(tc, connlimit_per_address);
    tcase_add_test(tc, usage_rules);
    tcase_add_test(tc, idempotency_and_controls);
    tcase_add_test(tc, utf8_prefix);
    tcase_add_test(tc, term_render);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
