/*
 * Hostile connection patterns against a real droverd: thousands of idle connections, a
 * slow-loris request (headers or body dribbled), and a Content-Length over the limit. The
 * server must keep answering others and drop the bad connections.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "droverd_proc.h"
#include "testdb.h"
#include "core/clock.h"

#define IDLE_CONNS 2000

static struct droverd_proc proc;

static void setup(void)
{
    static const char *const extra[] = {"--idle-timeout", "2", "--max-body", "4096",
                                        "--workers",      "2", NULL};
    struct rlimit rl;

    /* The test itself needs descriptors for its idle connections. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < IDLE_CONNS + 200) {
        rl.rlim_cur = rl.rlim_max < IDLE_CONNS + 200 ? rl.rlim_max : IDLE_CONNS + 200;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    ck_assert_msg(droverd_proc_start(&proc, extra) == 0, "droverd did not start");
}

static void teardown(void)
{
    if (proc.pid > 0)
        ck_assert_int_eq(droverd_proc_stop(&proc), 0);
}

static int tcp(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)proc.port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Send `req`, read until close or timeout; returns the bytes read (NUL-terminated in out). */
static int exchange(const char *req, char *out, size_t outsz, int timeout_ms)
{
    int fd = tcp(), n = 0;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, req, strlen(req)), (int)strlen(req));
    while ((size_t)n < outsz - 1) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r;
        if (poll(&p, 1, timeout_ms) <= 0)
            break;
        r = read(fd, out + n, outsz - 1 - (size_t)n);
        if (r <= 0)
            break;
        n += (int)r;
        if (strstr(out, "\r\n\r\n") && strstr(out, "Content-Length: 0"))
            break;
        out[n] = '\0';
        if (strstr(out, "\"status\":\"ok\"}"))
            break;
    }
    out[n] = '\0';
    close(fd);
    return n;
}

static bool health_ok(void)
{
    char buf[1024];

    exchange("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", buf, sizeof(buf), 2000);
    return strstr(buf, "200 OK") && strstr(buf, "\"status\":\"ok\"");
}

/* True when the peer closes `fd` within timeout_ms. */
static bool closed_within(int fd, int timeout_ms)
{
    char b[512];
    struct pollfd p = {.fd = fd, .events = POLLIN};

    while (poll(&p, 1, timeout_ms) > 0) {
        ssize_t r = read(fd, b, sizeof(b));
        if (r <= 0)
            return true;
    }
    return false;
}

START_TEST(thousands_of_idle_connections)
{
    static int fds[IDLE_CONNS];
    int open_n = 0;

    for (int i = 0; i < IDLE_CONNS; i++) {
        fds[i] = tcp();
        if (fds[i] >= 0)
            open_n++;
    }
    ck_assert_int_ge(open_n, IDLE_CONNS * 9 / 10);
    ck_assert_msg(health_ok(), "server stopped answering with %d idle connections", open_n);
    for (int i = 0; i < IDLE_CONNS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    ck_assert(health_ok());
}
END_TEST

START_TEST(slow_loris_headers_and_body_are_dropped)
{
    int h = tcp(), b = tcp();

    ck_assert_int_ge(h, 0);
    ck_assert_int_ge(b, 0);
    /* headers that never end */
    ck_assert_int_eq(write(h, "POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\n", 37), 37);
    /* a body that never completes */
    {
        static const char req[] = "POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                                  "application/json\r\nContent-Length: 100\r\n\r\n{\"jso";
        ck_assert_int_eq(write(b, req, sizeof(req) - 1), (int)sizeof(req) - 1);
    }
    ck_assert(health_ok()); /* others are served meanwhile */
    ck_assert_msg(closed_within(h, 8000), "dribbled headers kept the connection open");
    ck_assert_msg(closed_within(b, 8000), "dribbled body kept the connection open");
    close(h);
    close(b);
}
END_TEST

START_TEST(declared_oversized_body_is_413)
{
    char buf[2048];

    exchange("POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Content-Length: 999999\r\n\r\n{",
             buf, sizeof(buf), 3000);
    ck_assert_msg(strstr(buf, " 413 ") != NULL, "got: %s", buf);
    ck_assert(health_ok());
}
END_TEST

/* One request on an open keep-alive connection; true when a 200 came back. */
static bool health_on(int fd)
{
    static const char req[] = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    char b[1024];
    size_t n = 0;

    if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
        return false;
    /* The headers and the body may come in separate segments: read up to the body's end. */
    while (n < sizeof(b) - 1) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r;

        if (poll(&p, 1, 3000) <= 0 || (r = read(fd, b + n, sizeof(b) - 1 - n)) <= 0)
            return false;
        n += (size_t)r;
        b[n] = '\0';
        if (strstr(b, "\"status\":\"ok\"}"))
            return strstr(b, "200 OK") != NULL;
    }
    return false;
}

/*
 * droverd closes idle keep-alive connections itself (a FIFO on its tick, not lws's timeout):
 * with --heartbeat-interval 1 and --idle-timeout 2 the keep-alive period is 2 x 1 + 15 = 17 s.
 * A connection used every 4 s must stay open meanwhile; an idle one must close at ~17 s.
 */
START_TEST(idle_keepalive_connection_closed_after_the_period)
{
    static const char *const extra[] = {
        "--idle-timeout", "2", "--heartbeat-interval", "1", "--workers", "2", NULL};
    int idle, busy;
    double t0, closed_at = 0;

    ck_assert_msg(droverd_proc_start(&proc, extra) == 0, "droverd did not start");
    idle = tcp();
    busy = tcp();
    ck_assert_int_ge(idle, 0);
    ck_assert_int_ge(busy, 0);
    ck_assert(health_on(idle));
    t0 = clock_s();
    ck_assert(health_on(busy));
    while (clock_s() - t0 < 24 && !closed_at) {
        if (closed_within(idle, 4000))
            closed_at = clock_s() - t0;
        ck_assert_msg(health_on(busy), "a connection in use was closed at %.1f s", clock_s() - t0);
    }
    ck_assert_msg(closed_at >= 15 && closed_at <= 21, "idle connection closed at %.1f s (0 = not)",
                  closed_at);
    close(idle);
    close(busy);
    ck_assert_int_eq(droverd_proc_stop(&proc), 0);
    proc.pid = 0;
}
END_TEST

int main(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = tcase_create("limits");

    testdb_setup();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, thousands_of_idle_connections);
    tcase_add_test(tc, slow_loris_headers_and_body_are_dropped);
    tcase_add_test(tc, declared_oversized_body_is_413);
    suite_add_tcase(s, tc);
    tc = tcase_create("keepalive"); /* its own droverd settings */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, idle_keepalive_connection_closed_after_the_period);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
