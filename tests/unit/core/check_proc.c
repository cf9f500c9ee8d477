/*
 * core/proc, the process runner droverd (git) and drover-agent (git, the coding command)
 * share: output as ordered lines and as raw bytes (bounded), the last line, exit codes and
 * signals, the environment built from the parent's, the working directory, stdin from
 * /dev/null, the timeout with SIGTERM then SIGKILL after the grace (or at once), the caller's
 * stop test, the process group (nothing the command started survives it), a program that
 * cannot start, and runs from several threads at once.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/proc.h"
#include "testsuite.h"

struct lines {
    char got[8][128];
    int n;
    size_t longest;
};

static void on_line(void *ud, const char *line)
{
    struct lines *l = ud;

    if (strlen(line) > l->longest)
        l->longest = strlen(line);
    if (l->n < 8)
        snprintf(l->got[l->n], sizeof(l->got[0]), "%s", line);
    l->n++;
}

/* Run `sh -c script`; the result, the lines in *l. */
static struct proc_result sh(const char *script, struct proc_opts *o, struct lines *l)
{
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    struct proc_result res;
    struct err err = {0};

    o->argv = argv;
    o->on_line = on_line;
    o->ud = l;
    ck_assert_msg(proc_run(o, &res, &err) == 0, "%s", err.msg);
    return res;
}

START_TEST(lines_in_order_last_line_and_exit_code)
{
    struct proc_opts o = {0};
    struct lines l = {0};
    struct proc_result r =
        sh("echo one; echo two >&2; printf 'three\\r\\n'; printf four; exit 3", &o, &l);

    ck_assert_int_eq(r.exit_code, 3);
    ck_assert_int_eq(r.term_signal, 0);
    ck_assert_int_eq(r.stop, PROC_STOP_NONE);
    ck_assert_int_eq(l.n, 4);
    ck_assert_str_eq(l.got[0], "one");
    ck_assert_str_eq(l.got[1], "two");   /* stderr merged, in order */
    ck_assert_str_eq(l.got[2], "three"); /* CRLF */
    ck_assert_str_eq(l.got[3], "four");  /* no newline at the end */
    ck_assert_str_eq(r.last_line, "four");
}
END_TEST

START_TEST(long_lines_are_cut)
{
    struct proc_opts o = {0};
    struct lines l = {0};
    char cmd[128];
    struct proc_result r;

    snprintf(cmd, sizeof(cmd), "head -c %d /dev/zero | tr '\\0' x; echo; echo after",
             PROC_LINE_MAX + 5000);
    r = sh(cmd, &o, &l);

    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_int_eq(l.n, 2);
    ck_assert_uint_eq(l.longest, PROC_LINE_MAX);
    ck_assert_str_eq(l.got[1], "after");
}
END_TEST

START_TEST(capture_is_raw_and_bounded)
{
    struct buf cap;
    struct proc_opts o = {.capture = &cap};
    struct lines l = {0};
    struct proc_result r;

    buf_init(&cap, 1024);
    r = sh("printf 'a\\r\\nb\\n'", &o, &l);
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_str_eq(cap.data, "a\r\nb\n");
    buf_reset(&cap);
    /* 200 KiB through a 1 KiB capture: the first 1 KiB kept, the rest drained, a clean exit. */
    r = sh("head -c 204800 /dev/zero | tr '\\0' y; echo; echo end", &o, &l);
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_uint_eq(cap.len, 1024);
    ck_assert_int_eq(cap.data[1023], 'y');
    ck_assert_str_eq(r.last_line, "end");
    buf_clear(&cap);
}
END_TEST

START_TEST(environment_cwd_and_stdin)
{
    char *set[] = {"PROC_A=1", "PROC_KEEP=replaced", NULL};
    const char *unset[] = {"PROC_GONE", "PROC_PFX_*", NULL};
    char **env;
    struct proc_opts o = {0};
    struct lines l = {0};
    struct proc_result r;

    setenv("PROC_KEEP", "old", 1);
    setenv("PROC_GONE", "x", 1);
    setenv("PROC_PFX_ONE", "y", 1);
    setenv("PROC_OTHER", "z", 1);
    env = proc_env_build(set, unset);
    o.env = env;
    o.cwd = "/tmp";
    r = sh("echo \"$PROC_A|$PROC_KEEP|$PROC_GONE|$PROC_PFX_ONE|$PROC_OTHER\"; pwd; cat; echo $?",
           &o, &l);
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_str_eq(l.got[0], "1|replaced|||z");
    ck_assert_str_eq(l.got[1], "/tmp");
    ck_assert_str_eq(l.got[2], "0"); /* cat read an empty stdin */
    ck_assert_int_eq(l.n, 3);
    for (size_t i = 0; env[i]; i++) /* each variable once */
        ck_assert(strncmp(env[i], "PROC_KEEP=", 10) != 0 ||
                  strcmp(env[i], "PROC_KEEP=replaced") == 0);
    proc_env_free(env);
    proc_env_free(NULL);
    /* NULL env: the parent's. */
    o = (struct proc_opts){0};
    memset(&l, 0, sizeof(l));
    r = sh("echo \"$PROC_OTHER\"", &o, &l);
    ck_assert_str_eq(l.got[0], "z");
}
END_TEST

START_TEST(timeout_terms_then_kills_after_the_grace)
{
    struct proc_opts o = {.timeout_s = 1, .grace_s = 1};
    struct lines l = {0};
    double t0 = clock_s();
    struct proc_result r = sh("sleep 30", &o, &l);

    ck_assert_int_eq(r.stop, PROC_STOP_TIMEOUT);
    ck_assert_int_eq(r.term_signal, SIGTERM);
    ck_assert_int_eq(r.exit_code, 128 + SIGTERM);
    ck_assert(clock_s() - t0 < 6);

    /* A command that ignores SIGTERM is killed once the grace has passed... */
    t0 = clock_s();
    r = sh("trap '' TERM; echo ready; while :; do sleep 0.1; done", &o, &l);
    ck_assert_int_eq(r.stop, PROC_STOP_TIMEOUT);
    ck_assert_int_eq(r.term_signal, SIGKILL);
    ck_assert(clock_s() - t0 >= 1.9);
    ck_assert(clock_s() - t0 < 8);

    /* ... or at once with a negative grace. */
    o.grace_s = -1;
    t0 = clock_s();
    r = sh("trap '' TERM; while :; do sleep 0.1; done", &o, &l);
    ck_assert_int_eq(r.term_signal, SIGKILL);
    ck_assert(clock_s() - t0 < 1.9 + 2); /* 1 s timeout, no grace, generous slack */
}
END_TEST

static enum proc_stop stop_third_time(void *ud)
{
    int *calls = ud;

    return ++*calls >= 3 ? PROC_STOP_CANCELLED : PROC_STOP_NONE;
}

START_TEST(should_stop_stops)
{
    char *argv[] = {"sleep", "30", NULL};
    int calls = 0;
    struct proc_opts o = {.argv = argv, .should_stop = stop_third_time, .ud = &calls};
    struct proc_result r;
    struct err err = {0};
    double t0 = clock_s();

    ck_assert_int_eq(proc_run(&o, &r, &err), 0);
    ck_assert_int_eq(r.stop, PROC_STOP_CANCELLED);
    ck_assert_int_eq(r.term_signal, SIGTERM);
    ck_assert_int_ge(calls, 3);
    ck_assert(clock_s() - t0 < 10);
}
END_TEST

/* True while `pid` is a live process (not gone, not a zombie). */
static bool alive(long pid)
{
    char path[64], state = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if (!(f = fopen(path, "r")))
        return false;
    if (fscanf(f, "%*d %*s %c", &state) != 1)
        state = 0;
    fclose(f);
    return state && state != 'Z';
}

START_TEST(nothing_of_the_group_survives)
{
    struct proc_opts o = {0};
    struct lines l = {0};
    double t0 = clock_s();
    /* The background job keeps the output pipe open; the run still ends when sh exits. */
    struct proc_result r = sh("sleep 30 & echo $!", &o, &l);
    long bg = atol(l.got[0]);

    ck_assert_int_eq(r.exit_code, 0);
    ck_assert(clock_s() - t0 < 10);
    ck_assert_int_gt(bg, 1);
    for (int i = 0; i < 100 && alive(bg); i++)
        usleep(20000);
    ck_assert_msg(!alive(bg), "the background job %ld outlived the run", bg);
}
END_TEST

START_TEST(a_program_that_cannot_start)
{
    char *argv[] = {"/nonexistent/drover-test-prog", NULL};
    struct lines l = {0};
    struct proc_opts o = {.argv = argv, .on_line = on_line, .ud = &l};
    struct proc_result r;
    struct err err = {0};

    ck_assert_int_eq(proc_run(&o, &r, &err), 0);
    ck_assert_int_eq(r.exit_code, 127);
    ck_assert_str_eq(r.last_line,
                     "cannot run /nonexistent/drover-test-prog: No such file or directory");
    o.cwd = "/nonexistent-dir";
    argv[0] = "true";
    ck_assert_int_eq(proc_run(&o, &r, &err), 0);
    ck_assert_int_eq(r.exit_code, 126);
}
END_TEST

static void *run_in_thread(void *arg)
{
    long id = (long)arg;
    char script[64], want[32];
    struct lines l = {0};
    struct proc_opts o = {0};
    struct proc_result r;

    snprintf(script, sizeof(script), "for i in 1 2 3; do echo t%ld; done", id);
    snprintf(want, sizeof(want), "t%ld", id);
    r = sh(script, &o, &l);
    return (void *)(long)(r.exit_code == 0 && l.n == 3 && strcmp(l.got[2], want) == 0);
}

START_TEST(runs_from_several_threads)
{
    pthread_t t[6];

    for (long i = 0; i < 6; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, run_in_thread, (void *)i), 0);
    for (int i = 0; i < 6; i++) {
        void *ok;

        pthread_join(t[i], &ok);
        ck_assert_msg(ok, "thread %d's run went wrong", i);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("proc");
    TCase *tc = tcase_create("proc");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, lines_in_order_last_line_and_exit_code);
    tcase_add_test(tc, long_lines_are_cut);
    tcase_add_test(tc, capture_is_raw_and_bounded);
    tcase_add_test(tc, environment_cwd_and_stdin);
    tcase_add_test(tc, timeout_terms_then_kills_after_the_grace);
    tcase_add_test(tc, should_stop_stops);
    tcase_add_test(tc, nothing_of_the_group_survives);
    tcase_add_test(tc, a_program_that_cannot_start);
    tcase_add_test(tc, runs_from_several_threads);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
