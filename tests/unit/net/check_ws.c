/*
 * The WebSocket transport against a real droverd child process: auth on the upgrade, the
 * subprotocol and its absence, JSON-RPC round trips, a held get_next_task pushed the moment a
 * task is enqueued, notifications/cancelled, the message size cap, SIGTERM answering a
 * held poll, and the per-token rate limit.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "droverd_proc.h"
#include "store/queue.h"
#include "fixture.h"
#include "testdb.h"
#include "core/clock.h"

static struct droverd_proc proc;
static char token[PRINCIPAL_TOKEN_LEN], auth_hdr[128];

static void setup(void)
{
    static const char *const extra[] = {"--max-body", "65536", "--workers", "2", NULL};
    char agent[37];

    fixture_setup();
    fixture_agent_token("ws", agent, token);
    snprintf(auth_hdr, sizeof(auth_hdr), "Authorization: Bearer %s\r\n", token);
    ck_assert_msg(droverd_proc_start(&proc, extra) == 0, "droverd did not start");
}

static void teardown(void)
{
    if (proc.pid > 0)
        droverd_proc_stop(&proc);
    fixture_teardown();
}

static int open_ws(const char *subprotocol)
{
    int status, fd = ws_connect(proc.port, "/ws", auth_hdr, subprotocol, &status);

    ck_assert_msg(fd >= 0, "upgrade refused with %d", status);
    return fd;
}

static void send_str(int fd, const char *s)
{
    ck_assert_int_eq(ws_send(fd, s, strlen(s)), 0);
}

static json_t *rpc(int fd, const char *msg, int timeout_ms)
{
    bool closed;
    char *r;
    json_t *v;

    ck_assert_int_eq(ws_send(fd, msg, strlen(msg)), 0);
    r = ws_recv(fd, timeout_ms, &closed);
    ck_assert_msg(r != NULL, "no reply to %s (closed=%d)", msg, closed);
    v = json_loads(r, 0, NULL);
    ck_assert_msg(v != NULL, "reply is not JSON: %s", r);
    free(r);
    return v;
}

static void enqueue(const char *title)
{
    struct model_task_new t = {.title = title, .repo_url = "file:///tmp/r.git"};

    fixture_enqueue(&t);
}

START_TEST(upgrade_needs_a_token)
{
    int status;

    ck_assert_int_eq(ws_connect(proc.port, "/ws", NULL, "mcp", &status), -1);
    ck_assert_int_ne(status, 101);
    ck_assert_int_eq(ws_connect(proc.port, "/ws", "Authorization: Bearer nope\r\n", "mcp", &status),
                     -1);
    ck_assert_int_eq(
        ws_connect(proc.port, "/ws", "Origin: http://evil.example\r\n", "mcp", &status), -1);
}
END_TEST

START_TEST(unknown_token_is_closed_at_once)
{
    char hdr[128], *msg;
    bool closed = false;
    json_t *r;
    int status, fd;

    /* well-formed but unknown: the upgrade succeeds, the verification closes it */
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer drv_%064d\r\n", 0);
    fd = ws_connect(proc.port, "/ws", hdr, "mcp", &status);
    ck_assert_int_ge(fd, 0);
    msg = ws_recv(fd, 3000, &closed);
    ck_assert_ptr_nonnull(msg);
    r = json_loads(msg, 0, NULL);
    free(msg);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                     -32001);
    json_decref(r);
    ck_assert_ptr_null(ws_recv(fd, 3000, &closed));
    ck_assert(closed);
    close(fd);
}
END_TEST

START_TEST(round_trips_with_and_without_subprotocol)
{
    int fd = open_ws("mcp"), fd2 = open_ws(NULL);
    json_t *r;

    r = rpc(fd,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
            "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{}}}",
            3000);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(r, "result"), "protocolVersion")),
        "2025-11-25");
    json_decref(r);
    send_str(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    r = rpc(fd, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", 3000);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 2); /* not the notification */
    ck_assert_int_eq(json_array_size(json_object_get(json_object_get(r, "result"), "tools")), 11);
    json_decref(r);
    r = rpc(fd, "{bad json", 3000);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                     -32700);
    json_decref(r);
    r = rpc(fd2, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}", 3000);
    ck_assert_str_eq(json_string_value(json_object_get(r, "id")), "p");
    json_decref(r);
    close(fd);
    close(fd2);
}
END_TEST

START_TEST(held_poll_is_pushed)
{
    int fd = open_ws("mcp");
    json_t *r;
    long long t0, dt;
    bool closed;
    char *none;

    send_str(fd, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\",\"params\":{"
                 "\"name\":\"get_next_task\",\"arguments\":{\"wait_seconds\":10}}}");
    none = ws_recv(fd, 300, &closed); /* held: nothing yet */
    ck_assert_ptr_null(none);
    /* while it is held, the connection keeps answering other requests */
    r = rpc(fd, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"ping\"}", 3000);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 11);
    json_decref(r);
    t0 = clock_ms();
    enqueue("pushed");
    {
        char *msg = ws_recv(fd, 5000, &closed);
        ck_assert_ptr_nonnull(msg);
        r = json_loads(msg, 0, NULL);
        free(msg);
    }
    dt = clock_ms() - t0;
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 10);
    ck_assert_str_eq(
        json_string_value(json_object_get(
            json_object_get(json_object_get(json_object_get(r, "result"), "structuredContent"),
                            "task"),
            "title")),
        "pushed");
    ck_assert_msg(dt < 700, "push took %lld ms", dt);
    json_decref(r);
    close(fd);
}
END_TEST

START_TEST(cancelled_poll_is_not_answered)
{
    int fd = open_ws("mcp");
    json_t *r;
    static const char held[] =
        "{\"jsonrpc\":\"2.0\",\"id\":20,\"method\":\"tools/call\",\"params\":"
        "{\"name\":\"get_next_task\",\"arguments\":{\"wait_seconds\":3}}}";
    static const char cancel[] = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                                 "\"params\":{\"requestId\":20}}";

    ck_assert_int_eq(ws_send(fd, held, strlen(held)), 0);
    usleep(200000);
    ck_assert_int_eq(ws_send(fd, cancel, strlen(cancel)), 0);
    usleep(200000);
    enqueue("not for the cancelled poll");
    /* the next reply is the ping's: the cancelled request got nothing, claimed nothing */
    r = rpc(fd, "{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"ping\"}", 3000);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 21);
    json_decref(r);
    {
        bool closed;
        char *late = ws_recv(fd, 3500, &closed);
        ck_assert_msg(late == NULL, "cancelled request answered: %s", late ? late : "");
    }
    close(fd);
    ck_assert_int_eq(proc.pid > 0, 1);
    {
        PGresult *q = PQexec(fx.db.conn, "SELECT count(*) FROM tasks WHERE state = 'backlog'");
        ck_assert_str_eq(PQgetvalue(q, 0, 0), "1");
        PQclear(q);
    }
}
END_TEST

START_TEST(back_pressure_loses_nothing)
{
    enum { N = 200 };
    int fd = open_ws("mcp");
    bool seen[N] = {false}, closed;
    char msg[128];
    int got = 0;

    /* Far more requests than the 16 the server keeps in flight per connection, sent without
     * reading a single reply: reading pauses, resumes, and every request is answered once. */
    for (int i = 0; i < N; i++) {
        snprintf(msg, sizeof(msg), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"ping\"}", i);
        send_str(fd, msg);
    }
    while (got < N) {
        char *r = ws_recv(fd, 5000, &closed);
        json_t *v;
        long long id;

        ck_assert_msg(r != NULL, "only %d of %d replies", got, N);
        v = json_loads(r, 0, NULL);
        free(r);
        id = json_integer_value(json_object_get(v, "id"));
        ck_assert(id >= 0 && id < N && !seen[id]);
        seen[id] = true;
        got++;
        json_decref(v);
    }
    close(fd);
}
END_TEST

START_TEST(oversized_message_closes)
{
    int fd = open_ws("mcp");
    size_t n = 70000;
    char *big = malloc(n);
    bool closed = false;
    char *r;

    memset(big, 'a', n);
    ck_assert_int_eq(ws_send(fd, big, n), 0);
    r = ws_recv(fd, 3000, &closed);
    ck_assert_ptr_null(r);
    ck_assert(closed);
    free(big);
    close(fd);
}
END_TEST

START_TEST(sigterm_answers_held_ws_poll)
{
    int fd = open_ws("mcp");
    static const char held[] =
        "{\"jsonrpc\":\"2.0\",\"id\":30,\"method\":\"tools/call\",\"params\":"
        "{\"name\":\"get_next_task\",\"arguments\":{\"wait_seconds\":20}}}";
    bool closed;
    char *msg;
    json_t *r;
    pid_t pid = proc.pid;

    ck_assert_int_eq(ws_send(fd, held, strlen(held)), 0);
    usleep(300000);
    kill(pid, SIGTERM);
    msg = ws_recv(fd, 5000, &closed);
    ck_assert_ptr_nonnull(msg);
    r = json_loads(msg, 0, NULL);
    free(msg);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 30);
    ck_assert(json_is_null(json_object_get(
        json_object_get(json_object_get(r, "result"), "structuredContent"), "task")));
    json_decref(r);
    ck_assert_int_eq(droverd_proc_stop(&proc), 0);
    close(fd);
}
END_TEST

/* The per-token rate limit holds on the WebSocket too (ws.c takes from the same buckets as
 * HTTP): a flood gets "Too Many Requests" errors on the open connection, which stays usable;
 * another token is not limited by it; the bucket refills. */
START_TEST(rate_limit_answers_and_keeps_the_connection)
{
    static const char *const limited[] = {"--rate-limit", "2", "--rate-burst", "5", NULL};
    char agent2[37], token2[PRINCIPAL_TOKEN_LEN], hdr2[128];
    int fd, fd2, status, ok = 0, refused = 0;
    json_t *r;

    ck_assert_int_eq(droverd_proc_stop(&proc), 0);
    ck_assert_msg(droverd_proc_start(&proc, limited) == 0, "droverd did not start");
    fixture_agent_token("ws2", agent2, token2);
    snprintf(hdr2, sizeof(hdr2), "Authorization: Bearer %s\r\n", token2);
    fd = open_ws("mcp");
    for (int i = 0; i < 12; i++) {
        char msg[80];

        snprintf(msg, sizeof(msg), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"ping\"}", i + 1);
        send_str(fd, msg);
    }
    for (int i = 0; i < 12; i++) { /* refusals are answered at once, so order is not kept */
        bool closed;
        char *m = ws_recv(fd, 5000, &closed);
        json_t *e;

        ck_assert_msg(m != NULL, "reply %d missing (closed=%d)", i, closed);
        r = json_loads(m, 0, NULL);
        free(m);
        ck_assert(r != NULL);
        e = json_object_get(r, "error");
        if (json_object_get(r, "result"))
            ok++;
        else if (e && strstr(json_string_value(json_object_get(e, "message")), "Too Many"))
            refused++;
        json_decref(r);
    }
    ck_assert_int_eq(ok + refused, 12);
    ck_assert_msg(refused > 0 && ok >= 5, "ok=%d refused=%d at burst 5", ok, refused);
    fd2 = ws_connect(proc.port, "/ws", hdr2, "mcp", &status);
    ck_assert_msg(fd2 >= 0, "second token's upgrade refused with %d", status);
    r = rpc(fd2, "{\"jsonrpc\":\"2.0\",\"id\":\"other\",\"method\":\"ping\"}", 3000);
    ck_assert_msg(json_object_get(r, "result") != NULL, "another token was limited");
    json_decref(r);
    sleep(3); /* 2 per second refill */
    r = rpc(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"again\",\"method\":\"ping\"}", 3000);
    ck_assert_msg(json_object_get(r, "result") != NULL, "the limited token did not recover");
    json_decref(r);
    close(fd);
    close(fd2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws");
    TCase *tc = tcase_create("ws");

    testdb_setup();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, upgrade_needs_a_token);
    tcase_add_test(tc, unknown_token_is_closed_at_once);
    tcase_add_test(tc, round_trips_with_and_without_subprotocol);
    tcase_add_test(tc, held_poll_is_pushed);
    tcase_add_test(tc, cancelled_poll_is_not_answered);
    tcase_add_test(tc, back_pressure_loses_nothing);
    tcase_add_test(tc, oversized_message_closes);
    tcase_add_test(tc, sigterm_answers_held_ws_poll);
    tcase_add_test(tc, rate_limit_answers_and_keeps_the_connection);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
