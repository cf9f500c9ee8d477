/*
 * The exec protocol of DROVER_SANDBOX=container (runner_exec.h, runner_execd.h): bad requests
 * are refused, a peer of another uid is refused, and a good request over a socketpair runs the
 * command with the descriptors passed and reports its exit status.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner_exec.h"
#include "runner_execd.h"
#include "testsuite.h"

static int parse(const char *s)
{
    struct runner_exec_req req;
    struct err err = {0};
    int rc = runner_exec_req_parse(s, strlen(s), &req, &err);

    if (rc == 0)
        runner_exec_req_clear(&req);
    return rc;
}

START_TEST(req_bad_refused)
{
    static const char *const bad[] = {
        "[]",
        "not json",
        "{\"argv\":[\"true\"],\"env\":[],\"cwd\":\"/\"}",                 /* no version */
        "{\"v\":2,\"argv\":[\"true\"],\"env\":[],\"cwd\":\"/\"}",         /* wrong version */
        "{\"v\":1,\"argv\":[],\"env\":[],\"cwd\":\"/\"}",                 /* no program */
        "{\"v\":1,\"argv\":[\"\"],\"env\":[],\"cwd\":\"/\"}",             /* empty program */
        "{\"v\":1,\"argv\":[1],\"env\":[],\"cwd\":\"/\"}",                /* not a string */
        "{\"v\":1,\"argv\":[\"a\\u0000b\"],\"env\":[],\"cwd\":\"/\"}",    /* NUL */
        "{\"v\":1,\"argv\":[\"true\"],\"env\":[\"NOEQ\"],\"cwd\":\"/\"}", /* not NAME=value */
        "{\"v\":1,\"argv\":[\"true\"],\"env\":[\"=x\"],\"cwd\":\"/\"}",   /* empty name */
        "{\"v\":1,\"argv\":[\"true\"],\"env\":[],\"cwd\":\"rel\"}",       /* relative cwd */
        "{\"v\":1,\"argv\":[\"true\"],\"env\":[],\"cwd\":\"/\",\"timeout_s\":-1}",
        "{\"v\":1,\"argv\":[\"true\"],\"env\":[],\"cwd\":\"/\",\"uid\":0}", /* unknown field */
        "{\"v\":1,\"v\":1,\"argv\":[\"true\"],\"env\":[],\"cwd\":\"/\"}",   /* duplicate key */
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(parse(bad[i]) < 0, "accepted: %s", bad[i]);
    ck_assert_int_eq(parse("{\"v\":1,\"argv\":[\"true\"],\"env\":[\"A=b\"],\"cwd\":\"/\","
                           "\"timeout_s\":5}"),
                     0);
}
END_TEST

START_TEST(frame_oversized_refused)
{
    int sv[2];
    unsigned char hdr[4] = {0xff, 0xff, 0xff, 0xff};
    json_t *o = NULL;
    struct err err = {0};

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(write(sv[0], hdr, 4), 4);
    ck_assert_int_eq(runner_exec_recv(sv[1], &o, NULL, 0, NULL, &err), -1);
    ck_assert_ptr_null(o);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* Serve one connection (sv[1]) in a child for peer uid `allowed`; the runner's end is sv[0]. */
static pid_t serve(int *sv, uid_t allowed)
{
    pid_t pid;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pid = fork();
    if (pid == 0) {
        close(sv[0]);
        /* Only refusals here: no command runs, so the service's kill(-1) sweep never does. */
        runner_execd_conn(sv[1], allowed);
        _exit(0);
    }
    close(sv[1]);
    return pid;
}

/* A peer of another uid is refused, and the refusal can be read. The service refuses before it
 * reads, so it may have closed before the request is written: the send may then fail (broken
 * pipe). service_gone forces that worst order (the send must fail). */
static void peer_refused(bool service_gone)
{
    int sv[2], fds[3] = {0, 1, 2};
    char *argv[] = {"true", NULL}, *env[] = {"A=b", NULL};
    json_t *req = runner_exec_req_json(argv, env, "/", 0), *o = NULL;
    struct err err = {0};
    pid_t pid = serve(sv, getuid() + 1);

    if (service_gone) {
        waitpid(pid, NULL, 0);
        ck_assert_int_eq(runner_exec_send(sv[0], req, fds, 3, &err), -1);
    } else {
        (void)runner_exec_send(sv[0], req, fds, 3, &err);
    }
    ck_assert_int_eq(runner_exec_recv(sv[0], &o, NULL, 0, NULL, &err), 0);
    ck_assert_ptr_nonnull(json_object_get(o, "error"));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(o, "error")), "refused"));
    json_decref(o);
    json_decref(req);
    close(sv[0]);
    if (!service_gone)
        waitpid(pid, NULL, 0);
}

START_TEST(peer_uid_refused)
{
    peer_refused(false);
}
END_TEST

START_TEST(peer_uid_refusal_readable_after_close)
{
    peer_refused(true);
}
END_TEST

START_TEST(missing_fds_refused)
{
    int sv[2];
    char *argv[] = {"true", NULL}, *env[] = {"A=b", NULL};
    json_t *req = runner_exec_req_json(argv, env, "/", 0), *o = NULL;
    struct err err = {0};
    pid_t pid = serve(sv, getuid());

    ck_assert_int_eq(runner_exec_send(sv[0], req, NULL, 0, &err), 0);
    ck_assert_int_eq(runner_exec_recv(sv[0], &o, NULL, 0, NULL, &err), 0);
    ck_assert_ptr_nonnull(json_object_get(o, "error"));
    json_decref(o);
    json_decref(req);
    close(sv[0]);
    waitpid(pid, NULL, 0);
}
END_TEST

Suite *runner_exec_suite(void)
{
    Suite *s = suite_create("runner_exec");
    TCase *tc = tcase_create("protocol");

    tcase_add_test(tc, req_bad_refused);
    tcase_add_test(tc, frame_oversized_refused);
    tcase_add_test(tc, peer_uid_refused);
    tcase_add_test(tc, peer_uid_refusal_readable_after_close);
    tcase_add_test(tc, missing_fds_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testsuite_run(runner_exec_suite());
}
