/*
 * core/http, the HTTP client droverd and the agent side share, against a small local server the
 * test starts (tests/fakes/fake_http.py): what a request sends (method, headers, body, bearer
 * and basic credentials), what a response keeps (status, body, content type, chosen headers,
 * Retry-After), the rules every caller relies on (no redirect followed, a bounded body,
 * timeouts, the abort flag, http/https only, no secret in an error message), keep-alive on a
 * reused handle, the non-blocking stream, and TLS with a CA bundle and a client certificate.
 */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/http.h"
#include "core/mem.h"
#include "fakeproc.h"
#include "testsuite.h"

static pid_t fake_pid;
static int fake_port;

static char *url_of(const char *path)
{
    return mem_printf("http://127.0.0.1:%d%s", fake_port, path);
}

/* A loopback port nothing listens on (bound, then closed). */
static int closed_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t l = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    ck_assert(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* GET (or `method`) `path` on the fake; the JSON of the reply (owned), status in *status. */
static json_t *call(const struct http_req *base, const char *path, long *status)
{
    struct http_req req = *base;
    struct http_resp resp;
    struct err err = {0};
    char *url = url_of(path);
    json_t *j;

    req.url = url;
    ck_assert_msg(http_request(NULL, &req, &resp, &err) == 0, "%s", err.msg);
    *status = resp.status;
    j = json_loadb(resp.body, resp.len, 0, NULL);
    http_resp_clear(&resp);
    free(url);
    return j;
}

/* How many requests the fake has seen for `path`. */
static int seen(const char *path)
{
    struct http_req req = {0};
    long status;
    json_t *all = call(&req, "/_fake/requests", &status), *r;
    size_t i;
    int n = 0;

    ck_assert_int_eq(status, 200);
    json_array_foreach(all, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "path")), path) == 0)
            n++;
    }
    json_decref(all);
    return n;
}

static const char *hdr(const json_t *echo, const char *name)
{
    return json_string_value(json_object_get(json_object_get(echo, "headers"), name));
}

START_TEST(request_sends_method_headers_body_and_bearer)
{
    static const char *const extra[] = {"X-One: 1", "Accept: application/json", NULL};
    struct http_req req = {.method = "PUT",
                           .headers = extra,
                           .body = "hello world",
                           .body_len = 5,
                           .content_type = "text/plain",
                           .bearer = "tok-123"};
    long status;
    json_t *e = call(&req, "/echo?id=1", &status);

    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(e, "method")), "PUT");
    ck_assert_str_eq(json_string_value(json_object_get(e, "path")), "/echo?id=1");
    ck_assert_str_eq(json_string_value(json_object_get(e, "body")), "hello");
    ck_assert_str_eq(hdr(e, "x-one"), "1");
    ck_assert_str_eq(hdr(e, "accept"), "application/json");
    ck_assert_str_eq(hdr(e, "content-type"), "text/plain");
    ck_assert_str_eq(hdr(e, "authorization"), "Bearer tok-123");
    json_decref(e);

    /* No body and no credentials: neither a Content-Length nor an Authorization header. */
    req = (struct http_req){.method = "DELETE"};
    e = call(&req, "/echo", &status);
    ck_assert_str_eq(json_string_value(json_object_get(e, "method")), "DELETE");
    ck_assert_ptr_null(hdr(e, "authorization"));
    ck_assert_ptr_null(hdr(e, "content-length"));
    json_decref(e);

    /* An empty POST is "" : Content-Length 0. */
    req = (struct http_req){.method = "POST", .body = ""};
    e = call(&req, "/echo", &status);
    ck_assert_str_eq(hdr(e, "content-length"), "0");
    json_decref(e);
}
END_TEST

START_TEST(basic_auth)
{
    struct http_req req = {.basic_user = "alice", .basic_password = "s3cret"};
    long status;
    json_t *e = call(&req, "/echo", &status);

    /* base64("alice:s3cret") */
    ck_assert_str_eq(hdr(e, "authorization"), "Basic YWxpY2U6czNjcmV0");
    json_decref(e);
}
END_TEST

START_TEST(response_keeps_status_type_and_chosen_headers)
{
    static const char *const keep[] = {"X-Echo-Id", "x-padded", "X-Absent", NULL};
    struct http_req req = {.keep_headers = keep};
    struct http_resp resp;
    struct err err = {0};
    char *url = url_of("/echo?id=7");

    req.url = url;
    ck_assert_int_eq(http_request(NULL, &req, &resp, &err), 0);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.content_type, "application/json");
    ck_assert_str_eq(resp.kept[0], "7");
    ck_assert_str_eq(resp.kept[1], "v"); /* trimmed */
    ck_assert_ptr_null(resp.kept[2]);
    ck_assert_uint_eq(resp.len, strlen(resp.body));
    ck_assert_int_eq(resp.retry_after_s, 0);
    http_resp_clear(&resp);
    free(url);

    url = url_of("/status?code=429&retry_after=7&body=slow%20down");
    req = (struct http_req){.url = url};
    ck_assert_int_eq(http_request(NULL, &req, &resp, &err), 0);
    ck_assert_int_eq(resp.status, 429);
    ck_assert_int_eq(resp.retry_after_s, 7);
    ck_assert_str_eq(resp.body, "slow down");
    http_resp_clear(&resp);
    free(url);

    url = url_of("/echo");
    req = (struct http_req){.url = url, .method = "HEAD"};
    ck_assert_int_eq(http_request(NULL, &req, &resp, &err), 0);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_uint_eq(resp.len, 0);
    ck_assert_str_eq(resp.body, "");
    http_resp_clear(&resp);
    free(url);
}
END_TEST

START_TEST(redirects_are_not_followed)
{
    char *target = url_of("/echo"), *esc = http_escape(target);
    char *path = mem_printf("/redirect?to=%s", esc);
    struct http_req req = {.bearer = "must-stay-here"};
    struct http_resp resp;
    struct err err = {0};
    char *url = url_of(path);
    int before = seen("/echo");

    req.url = url;
    ck_assert_int_eq(http_request(NULL, &req, &resp, &err), 0);
    ck_assert_int_eq(resp.status, 302);
    ck_assert_str_eq(resp.body, "moved");
    ck_assert_int_eq(seen("/echo"), before); /* the Location was not requested */
    http_resp_clear(&resp);
    free(url);
    free(path);
    free(esc);
    free(target);
}
END_TEST

START_TEST(body_is_bounded)
{
    char *url = url_of("/bytes?n=100000");
    struct http_req req = {.url = url, .max_body = 1000};
    struct http_resp resp;
    struct err err = {0};

    ck_assert_int_eq(http_request(NULL, &req, &resp, &err), -1);
    ck_assert_int_eq(err.code, ERR_TOO_LARGE);
    ck_assert_int_eq(resp.status, 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "/bytes?n=100000"));
    http_resp_clear(&resp);
    req.max_body = 100000;
    ck_assert_int_eq(http_request(NULL, &req, &resp, &err), 0);
    ck_assert_uint_eq(resp.len, 100000);
    ck_assert_int_eq(resp.body[99999], 'x');
    ck_assert_int_eq(resp.body[100000], '\0');
    http_resp_clear(&resp);
    free(url);
}
END_TEST

START_TEST(timeout_and_abort_end_a_transfer)
{
    static volatile int stop = 1;
    char *url = url_of("/slow?s=5");
    struct http_req req = {.url = url, .timeout_s = 1};
    struct http_resp resp;
    struct err err = {0};
    double t0 = clock_s();

    ck_assert_int_eq(http_request(NULL, &req, &resp, &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAVAILABLE);
    ck_assert(clock_s() - t0 < 4.5);
    ck_assert_str_ne(resp.error, "");
    http_resp_clear(&resp);

    req = (struct http_req){.url = url, .abort_flag = &stop};
    t0 = clock_s();
    ck_assert_int_eq(http_request(NULL, &req, &resp, &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAVAILABLE);
    ck_assert(clock_s() - t0 < 4.5);
    http_resp_clear(&resp);
    free(url);
}
END_TEST

START_TEST(errors_name_the_url_but_no_secret)
{
    int port = closed_port();
    char *url = mem_printf("http://alice:pw-SECRET@127.0.0.1:%d/x?y=1", port);
    char *want = mem_printf("GET http://127.0.0.1:%d/x?y=1: ", port);
    struct http_req req = {
        .url = url, .bearer = "tok-SECRET", .basic_user = "bob", .basic_password = "bp-SECRET"};
    struct http_resp resp;
    struct err err = {0};

    ck_assert_int_eq(http_request(NULL, &req, &resp, &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAVAILABLE);
    ck_assert_int_eq(resp.status, 0);
    ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);
    ck_assert_msg(!strstr(err.msg, "SECRET") && !strstr(resp.error, "SECRET"), "%s", err.msg);
    http_resp_clear(&resp);
    free(want);
    free(url);
}
END_TEST

START_TEST(only_http_and_https)
{
    static const char *const urls[] = {"file:///etc/hostname", "ftp://127.0.0.1/x",
                                       "gopher://127.0.0.1/"};

    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        struct http_req req = {.url = urls[i]};
        struct http_resp resp;
        struct err err = {0};

        ck_assert_int_eq(http_request(NULL, &req, &resp, &err), -1);
        ck_assert_int_eq(err.code, ERR_UNAVAILABLE);
        http_resp_clear(&resp);
    }
}
END_TEST

START_TEST(reused_handle_keeps_the_connection)
{
    struct http h;
    struct err err = {0};
    char *url = url_of("/echo"), *bad = mem_printf("http://127.0.0.1:%d/", closed_port());
    long long port[2];

    ck_assert_int_eq(http_init(&h, &err), 0);
    for (int i = 0; i < 3; i++) {
        struct http_req req = {.url = i == 1 ? bad : url};
        struct http_resp resp;
        json_t *e;
        int rc = http_request(&h, &req, &resp, &err);

        if (i == 1) { /* a failure in between leaves the handle usable */
            ck_assert_int_eq(rc, -1);
            http_resp_clear(&resp);
            continue;
        }
        ck_assert_int_eq(rc, 0);
        e = json_loadb(resp.body, resp.len, 0, NULL);
        port[i / 2] = json_integer_value(json_object_get(e, "client_port"));
        json_decref(e);
        http_resp_clear(&resp);
    }
    ck_assert_int_gt(port[0], 0);
    ck_assert_int_eq(port[0], port[1]); /* the same TCP connection */
    http_clear(&h);
    free(bad);
    free(url);
}
END_TEST

struct sink {
    struct buf got;
    long status;
    int calls, stop_after;
};

static int sink_data(void *arg, long status, const char *p, size_t n)
{
    struct sink *s = arg;

    s->status = status;
    s->calls++;
    if (s->stop_after && s->calls >= s->stop_after)
        return -1;
    return buf_append(&s->got, p, n);
}

/* Step `req`'s stream to its end (bounded); its final status, err as the stream left it. */
static long run_stream(const struct http_req *req, struct err *err)
{
    struct http_stream *st = NULL;
    double deadline = clock_s() + 15;
    long status = -1;

    ck_assert_int_eq(http_stream_open(req, &st, err), 0);
    while (http_stream_step(st, &status, err) == 1) {
        ck_assert_msg(clock_s() < deadline, "the stream did not end");
        usleep(10000);
    }
    http_stream_close(st);
    return status;
}

START_TEST(stream_delivers_slices_and_ends)
{
    char *url = url_of("/stream?lines=5&delay=0.05");
    struct sink s = {0};
    struct http_req req = {.url = url, .on_data = sink_data, .data_arg = &s, .bearer = "t"};
    struct err err = {0};

    buf_init(&s.got, 1 << 16);
    ck_assert_int_eq(run_stream(&req, &err), 200);
    ck_assert_int_eq(err.code, ERR_OK);
    ck_assert_int_eq(s.status, 200);
    ck_assert_str_eq(s.got.data, "line 0\nline 1\nline 2\nline 3\nline 4\n");
    buf_clear(&s.got);
    free(url);
}
END_TEST

START_TEST(stream_ends_on_errors)
{
    char *url = url_of("/stream?lines=50&delay=0.02");
    char *bad = mem_printf("http://127.0.0.1:%d/", closed_port());
    struct sink s = {.stop_after = 2};
    struct http_req req = {.url = url, .on_data = sink_data, .data_arg = &s};
    struct http_stream *st = NULL;
    struct err err = {0};

    buf_init(&s.got, 1 << 16);
    /* The callback gives up: the transfer ends as a transport error, after the status. */
    ck_assert_int_eq(run_stream(&req, &err), 200);
    ck_assert_int_eq(err.code, ERR_UNAVAILABLE);
    ck_assert_int_eq(s.calls, 2);
    /* Nothing listens: no status at all. */
    req.url = bad;
    ck_assert_int_eq(run_stream(&req, &err), 0);
    ck_assert_int_eq(err.code, ERR_UNAVAILABLE);
    /* A stream needs somewhere to put the body. */
    req.on_data = NULL;
    ck_assert_int_eq(http_stream_open(&req, &st, &err), -1);
    ck_assert_ptr_null(st);
    http_stream_close(NULL);
    buf_clear(&s.got);
    free(bad);
    free(url);
}
END_TEST

START_TEST(escape_encodes_all_but_unreserved)
{
    static const struct {
        const char *in, *out;
    } cases[] = {{"abcXYZ019-._~", "abcXYZ019-._~"},
                 {"a/b c", "a%2Fb%20c"},
                 {"ä", "%C3%A4"},
                 {"", ""},
                 {"?&=#%+", "%3F%26%3D%23%25%2B"}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *e = http_escape(cases[i].in);

        ck_assert_str_eq(e, cases[i].out);
        free(e);
    }
}
END_TEST

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    struct buf b;
    char chunk[4096];
    size_t n;

    ck_assert_ptr_nonnull(f);
    buf_init(&b, 1 << 20);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ck_assert_int_eq(buf_append(&b, chunk, n), 0);
    fclose(f);
    return buf_take(&b, NULL);
}

START_TEST(tls_with_a_ca_bundle_and_a_client_certificate)
{
    char dir[64], cmd[1024], path[128];
    char *ca, *ccert, *ckey, *url;
    int port;
    pid_t pid;
    struct {
        bool ca, client, insecure;
        int rc;
    } cases[] = {{true, true, false, 0},   /* trusted server, certificate presented */
                 {true, false, false, -1}, /* the server wants a client certificate */
                 {false, true, false, -1}, /* the server's CA is not in the system store */
                 {false, true, true, 0}};  /* ... unless verification is off */

    snprintf(dir, sizeof(dir), "/tmp/drover-http-test-%ld", (long)getpid());
    snprintf(cmd, sizeof(cmd),
             "mkdir -p %s && cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout server.key "
             "-out server.pem 2>/dev/null && openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
             "-subj /CN=drover-client -keyout client.key -out client.pem 2>/dev/null",
             dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/server.pem", dir);
    setenv("FAKE_HTTP_TLS_CERT", path, 1);
    ca = slurp(path);
    snprintf(path, sizeof(path), "%s/server.key", dir);
    setenv("FAKE_HTTP_TLS_KEY", path, 1);
    snprintf(path, sizeof(path), "%s/client.pem", dir);
    setenv("FAKE_HTTP_CLIENT_CA", path, 1);
    ccert = slurp(path);
    snprintf(path, sizeof(path), "%s/client.key", dir);
    ckey = slurp(path);
    pid = fakeproc_start("tests/fakes/fake_http.py", "unused", &port);
    unsetenv("FAKE_HTTP_TLS_CERT");
    unsetenv("FAKE_HTTP_TLS_KEY");
    unsetenv("FAKE_HTTP_CLIENT_CA");
    url = mem_printf("https://127.0.0.1:%d/echo", port);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct http_req req = {.url = url,
                               .timeout_s = 10,
                               .ca_pem = cases[i].ca ? ca : NULL,
                               .cert_pem = cases[i].client ? ccert : NULL,
                               .key_pem = cases[i].client ? ckey : NULL,
                               .insecure = cases[i].insecure};
        struct http_resp resp;
        struct err err = {0};
        int rc = http_request(NULL, &req, &resp, &err);

        ck_assert_msg(rc == cases[i].rc, "case %zu: rc %d (%s)", i, rc, err.msg);
        if (rc == 0)
            ck_assert_int_eq(resp.status, 200);
        else
            ck_assert_int_eq(err.code, ERR_UNAVAILABLE);
        ck_assert_ptr_null(strstr(err.msg, "PRIVATE KEY"));
        http_resp_clear(&resp);
    }
    fakeproc_stop(pid);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(url);
    free(ca);
    free(ccert);
    free(ckey);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("http");
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    fake_pid = fakeproc_start("tests/fakes/fake_http.py", "unused", &fake_port);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, request_sends_method_headers_body_and_bearer);
    tcase_add_test(tc, basic_auth);
    tcase_add_test(tc, response_keeps_status_type_and_chosen_headers);
    tcase_add_test(tc, redirects_are_not_followed);
    tcase_add_test(tc, body_is_bounded);
    tcase_add_test(tc, timeout_and_abort_end_a_transfer);
    tcase_add_test(tc, errors_name_the_url_but_no_secret);
    tcase_add_test(tc, only_http_and_https);
    tcase_add_test(tc, reused_handle_keeps_the_connection);
    tcase_add_test(tc, stream_delivers_slices_and_ends);
    tcase_add_test(tc, stream_ends_on_errors);
    tcase_add_test(tc, escape_encodes_all_but_unreserved);
    tcase_add_test(tc, tls_with_a_ca_bundle_and_a_client_certificate);
    suite_add_tcase(s, tc);
    failed = testsuite_run(s) != EXIT_SUCCESS;
    fakeproc_stop(fake_pid);
    curl_global_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
