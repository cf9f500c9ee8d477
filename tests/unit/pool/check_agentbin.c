/*
 * agentbin: which drover-agent `droverd serve --pod-backend process` runs when no
 * --agent-command is given. Real files in a temporary directory laid out like CMake's build
 * tree (build/droverd, build/agent/drover-agent), an installed bin/ and PATH directories; the
 * quoted command is run through a real /bin/sh.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/mem.h"
#include "pool/agentbin.h"
#include "testsuite.h"

static char root[PATH_MAX];

/* <root>/<rel> (owned). */
static char *at(const char *rel)
{
    return mem_printf("%s/%s", root, rel);
}

static void run(const char *cmd)
{
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
}

/* mkdir -p <root>/<rel> (no shell: the names in quoted_for_sh would need quoting). */
static void dir(const char *rel)
{
    char *p = at(rel);

    for (char *c = p + strlen(root) + 1;; c++) {
        if (*c == '/' || !*c) {
            char keep = *c;

            *c = '\0';
            ck_assert_msg(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s", p);
            *c = keep;
        }
        if (!*c)
            break;
    }
    free(p);
}

/* A script at <root>/<rel> (parents made) with `mode`. */
static void put(const char *rel, mode_t mode)
{
    char *p = at(rel), *parent = mem_printf("%s", rel);
    FILE *f;

    if (strrchr(parent, '/')) {
        *strrchr(parent, '/') = '\0';
        dir(parent);
    }
    f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs("#!/bin/sh\necho \"agent ran: $0\"\n", f);
    fclose(f);
    ck_assert_int_eq(chmod(p, mode), 0);
    free(parent);
    free(p);
}

static void setup(void)
{
    snprintf(root, sizeof(root), "/tmp/drover-check-agentbin-%d-XXXXXX", (int)getpid());
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
    char *cmd = mem_printf("rm -rf '%s'", root);

    run(cmd);
    free(cmd);
}

/* Find with exe = <root>/<exe_rel> (NULL: none) and `path`; expects success at <root>/<want>. */
static void expect(const char *exe_rel, const char *path, const char *want,
                   enum agentbin_source want_src)
{
    char *exe = exe_rel ? at(exe_rel) : NULL, *w = at(want), out[PATH_MAX];
    enum agentbin_source src;
    struct err err = {0};

    ck_assert_msg(agentbin_find(exe, path, out, sizeof(out), &src, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(out, w);
    ck_assert_int_eq(src, want_src);
    free(exe);
    free(w);
}

START_TEST(build_tree)
{
    put("build/droverd", 0755);
    put("build/agent/drover-agent", 0755);
    expect("build/droverd", "/nonexistent", "build/agent/drover-agent", AGENTBIN_BUILD_TREE);
    ck_assert_str_eq(agentbin_source_name(AGENTBIN_BUILD_TREE), "build-tree");
}
END_TEST

START_TEST(installed_side_by_side)
{
    put("usr/bin/droverd", 0755);
    put("usr/bin/drover-agent", 0755);
    expect("usr/bin/droverd", NULL, "usr/bin/drover-agent", AGENTBIN_BESIDE);
    /* The build tree's agent wins when both are there. */
    put("usr/bin/agent/drover-agent", 0755);
    expect("usr/bin/droverd", NULL, "usr/bin/agent/drover-agent", AGENTBIN_BUILD_TREE);
}
END_TEST

START_TEST(path_fallback)
{
    char *first = at("p1"), *second = at("p2"), *path;

    put("lone/droverd", 0755);
    put("p2/drover-agent", 0755);
    dir("p1"); /* an entry without the program */
    /* Empty and relative entries are passed over (no dependence on the working directory);
     * trailing slashes are fine. */
    path = mem_printf("::relative/dir:/nonexistent:%s:%s/", first, second);
    expect("lone/droverd", path, "p2/drover-agent", AGENTBIN_PATH);
    expect(NULL, path, "p2/drover-agent", AGENTBIN_PATH);
    free(first);
    free(second);
    free(path);
}
END_TEST

START_TEST(not_runnable_is_skipped)
{
    char *p2 = at("p2"), *exe = at("build/droverd"), out[PATH_MAX];
    enum agentbin_source src;
    struct err err = {0};

    put("build/droverd", 0755);
    put("build/agent/drover-agent", 0644); /* not executable */
    dir("build/drover-agent");             /* a directory */
    put("p2/drover-agent", 0755);
    expect("build/droverd", p2, "p2/drover-agent", AGENTBIN_PATH);
    /* Nothing anywhere: ERR_NOT_FOUND naming the places next to droverd. */
    ck_assert_int_eq(agentbin_find(exe, "/nonexistent:", out, sizeof(out), &src, &err), -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "/build/agent/drover-agent or "));
    ck_assert_ptr_nonnull(strstr(err.msg, "nor on PATH"));
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(agentbin_find(NULL, NULL, out, sizeof(out), &src, &err), -1);
    ck_assert_str_eq(err.msg, "no drover-agent on PATH");
    free(p2);
    free(exe);
}
END_TEST

START_TEST(too_long_for_the_buffer)
{
    char out[16], *exe = at("build/droverd");
    enum agentbin_source src;
    struct err err = {0};

    put("build/droverd", 0755);
    put("build/agent/drover-agent", 0755);
    /* A candidate that does not fit is not taken (nor truncated into another path). */
    ck_assert_int_eq(agentbin_find(exe, NULL, out, sizeof(out), &src, &err), -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);
    free(exe);
}
END_TEST

START_TEST(self_is_this_test)
{
    char exe[PATH_MAX];
    struct err err = {0};
    const char *base;

    ck_assert_msg(agentbin_self(exe, sizeof(exe), &err) == 0, "%s", err.msg);
    base = strrchr(exe, '/');
    ck_assert_ptr_nonnull(base);
    ck_assert_str_eq(base + 1, "check_agentbin");
    ck_assert_int_eq(agentbin_self(exe, 4, &err), -1);
    ck_assert_int_eq(err.code, ERR_INTERNAL);
}
END_TEST

/* The quoted path survives /bin/sh -c "exec <it>", as the process backend runs it. */
START_TEST(quoted_for_sh)
{
    char q[PATH_MAX], small[8], *outfile = at("ran.txt"), line[PATH_MAX + 64];
    char *dir_agent = at("it's a \"dir\" $HOME `x`/agent/drover-agent");
    struct err err = {0};
    FILE *f;

    put("it's a \"dir\" $HOME `x`/agent/drover-agent", 0755);
    ck_assert_int_eq(agentbin_quote(dir_agent, q, sizeof(q), &err), 0);
    /* sh -c 'exec <quoted>' with the quoted word embedded exactly as process.c does. */
    {
        char *inner = mem_printf("exec %s", q);
        pid_t pid = fork();
        int st;

        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            if (!freopen(outfile, "w", stdout))
                _exit(99);
            execl("/bin/sh", "sh", "-c", inner, (char *)NULL);
            _exit(98);
        }
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        free(inner);
    }
    f = fopen(outfile, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
    fclose(f);
    line[strcspn(line, "\n")] = '\0';
    ck_assert_str_eq(line + strlen("agent ran: "), dir_agent);
    ck_assert_int_eq(agentbin_quote("/a/b", q, sizeof(q), &err), 0);
    ck_assert_str_eq(q, "'/a/b'");
    ck_assert_int_eq(agentbin_quote("/a'b", q, sizeof(q), &err), 0);
    ck_assert_str_eq(q, "'/a'\\''b'");
    ck_assert_int_eq(agentbin_quote("/abcdefgh", small, sizeof(small), &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_str_eq(small, "");
    free(outfile);
    free(dir_agent);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("agentbin");
    TCase *tc = tcase_create("fs");
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, build_tree);
    tcase_add_test(tc, installed_side_by_side);
    tcase_add_test(tc, path_fallback);
    tcase_add_test(tc, not_runnable_is_skipped);
    tcase_add_test(tc, too_long_for_the_buffer);
    tcase_add_test(tc, self_is_this_test);
    tcase_add_test(tc, quoted_for_sh);
    suite_add_tcase(s, tc);
    failed = testsuite_run(s) != EXIT_SUCCESS;
    return failed ? 1 : 0;
}
