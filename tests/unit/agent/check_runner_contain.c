/*
 * drover-agent's containment pieces, without a server: the environment git publishes with (the
 * credential scoped to the task's URL, hooks / fsmonitor / global config / redirects off, and
 * DROVER_GIT_TOKEN_ALLOW), the sandbox's argv (what is hidden, what is writable), private
 * directories (a planted symlink or another user's directory refused), and a real git run in a
 * repository whose hooks and config a hostile command planted.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/proc.h"
#include "runner.h"
#include "runner_fs.h"
#include "runner_publish.h"
#include "runner_sandbox.h"
#include "testsuite.h"

static const char *env_get(char **env, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; env[i]; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

/* The value configured for git key `key` through GIT_CONFIG_KEY_n / VALUE_n, or NULL. */
static const char *env_git_config(char **env, const char *key)
{
    char name[64];

    for (int i = 0; i < 64; i++) {
        const char *k;

        snprintf(name, sizeof(name), "GIT_CONFIG_KEY_%d", i);
        if (!(k = env_get(env, name)))
            return NULL;
        if (strcmp(k, key) == 0) {
            snprintf(name, sizeof(name), "GIT_CONFIG_VALUE_%d", i);
            return env_get(env, name);
        }
    }
    return NULL;
}

START_TEST(publish_env_scoped)
{
    struct runner_cfg cfg = {.git_token = "tok-secret"};
    char **env;
    char *key;

    setenv("GIT_DIR", "/planted", 1);
    setenv("GIT_CONFIG_COUNT", "1", 1);
    setenv("GIT_CONFIG_KEY_0", "core.hooksPath", 1);
    setenv("GIT_CONFIG_VALUE_0", "/planted/hooks", 1);
    env = runner_publish_env(&cfg, "https://user:pw@git.example/acme/r.git", NULL, "/ws/t/git/.git",
                             "/ws/t/repo");
    ck_assert_str_eq(env_get(env, "GIT_DIR"), "/ws/t/git/.git");
    ck_assert_str_eq(env_get(env, "GIT_WORK_TREE"), "/ws/t/repo");
    ck_assert_str_eq(env_get(env, "GIT_CONFIG_GLOBAL"), "/dev/null");
    ck_assert_str_eq(env_git_config(env, "core.hooksPath"), "/dev/null");
    ck_assert_str_eq(env_git_config(env, "core.fsmonitor"), "false");
    ck_assert_str_eq(env_git_config(env, "http.followRedirects"), "false");
    ck_assert_str_eq(env_git_config(env, "credential.helper"), "");
    /* The header is for that URL only (user info left out), never a bare http.extraHeader. */
    ck_assert_ptr_null(env_git_config(env, "http.extraHeader"));
    key = runner_publish_header_key("https://user:pw@git.example/acme/r.git");
    ck_assert_str_eq(key, "http.https://git.example/acme/r.git.extraHeader");
    ck_assert_ptr_nonnull(env_git_config(env, key));
    ck_assert_int_eq(strncmp(env_git_config(env, key), "Authorization: Basic ", 21), 0);
    free(key);
    proc_env_free(env);
    /* No URL (the command's own repository, before it runs): no credential at all. */
    env = runner_publish_env(&cfg, NULL, NULL, NULL, NULL);
    ck_assert_ptr_null(env_get(env, "GIT_DIR"));
    for (size_t i = 0; env[i]; i++)
        ck_assert_ptr_null(strstr(env[i], "Authorization"));
    proc_env_free(env);
    /* DROVER_GIT_TOKEN_ALLOW: elsewhere gets no token; prefixes match on a boundary. */
    cfg.git_token_allow = "https://git.example/acme, https://other.example/";
    ck_assert(runner_publish_token_allowed(&cfg, "https://git.example/acme/r.git"));
    ck_assert(runner_publish_token_allowed(&cfg, "https://u:p@git.example/acme/r.git"));
    ck_assert(runner_publish_token_allowed(&cfg, "https://other.example/x.git"));
    ck_assert(!runner_publish_token_allowed(&cfg, "https://git.example/acme-evil/r.git"));
    ck_assert(!runner_publish_token_allowed(&cfg, "https://evil.example/acme/r.git"));
    env = runner_publish_env(&cfg, "https://evil.example/acme/r.git", NULL, NULL, NULL);
    for (size_t i = 0; env[i]; i++)
        ck_assert_ptr_null(strstr(env[i], "Authorization"));
    proc_env_free(env);
    unsetenv("GIT_DIR");
    unsetenv("GIT_CONFIG_COUNT");
    unsetenv("GIT_CONFIG_KEY_0");
    unsetenv("GIT_CONFIG_VALUE_0");
}
END_TEST

static bool argv_has(char **argv, const char *a, const char *b, const char *c)
{
    for (size_t i = 0; argv[i]; i++)
        if (strcmp(argv[i], a) == 0 && (!b || (argv[i + 1] && strcmp(argv[i + 1], b) == 0)) &&
            (!c || (argv[i + 1] && argv[i + 2] && strcmp(argv[i + 2], c) == 0)))
            return true;
    return false;
}

START_TEST(sandbox_argv)
{
    struct runner_sandbox sb = {.mode = RUNNER_SANDBOX_BWRAP};
    struct runner_cfg cfg = {.workspace = "/ws", .git_ssh_key = "/keys/id", .token_file = "/s/t"};
    static const char *const inner[] = {"/bin/sh", "-c", "echo hi", NULL};
    char **argv, home[] = "/tmp/drover-check-home-XXXXXX";
    size_t n = 0;

    ck_assert_ptr_nonnull(mkdtemp(home));
    setenv("HOME", home, 1);
    argv = runner_sandbox_argv(&sb, &cfg, "/ws/t/repo", "/ws/t/home", inner);
    ck_assert_str_eq(argv[0], "bwrap");
    ck_assert(argv_has(argv, "--unshare-pid", NULL, NULL));
    ck_assert(argv_has(argv, "--die-with-parent", NULL, NULL));
    ck_assert(argv_has(argv, "--new-session", NULL, NULL));
    ck_assert(argv_has(argv, "--cap-drop", "ALL", NULL));
    ck_assert(argv_has(argv, "--ro-bind", "/", "/"));
    ck_assert(argv_has(argv, "--tmpfs", "/ws", NULL));
    ck_assert(argv_has(argv, "--tmpfs", home, NULL)); /* the agent's own home: hidden */
    ck_assert(argv_has(argv, "--tmpfs", "/run", NULL));
    ck_assert(argv_has(argv, "--ro-bind-try", "/dev/null", "/keys/id"));
    ck_assert(argv_has(argv, "--ro-bind-try", "/dev/null", "/s/t"));
    ck_assert(argv_has(argv, "--bind", "/ws/t/repo", "/ws/t/repo"));
    ck_assert(argv_has(argv, "--setenv", "HOME", "/ws/t/home"));
    while (argv[n])
        n++;
    ck_assert_str_eq(argv[n - 1], "echo hi");
    ck_assert_str_eq(argv[n - 4], "--");
    runner_sandbox_argv_free(argv);
    /* As another user, without bwrap: setpriv, then the command itself. */
    sb.mode = RUNNER_SANDBOX_USER;
    sb.drop_user = true;
    sb.uid = 1234;
    sb.gid = 1234;
    argv = runner_sandbox_argv(&sb, &cfg, "/ws/t/repo", "/ws/t/home", inner);
    ck_assert_str_eq(argv[0], "setpriv");
    ck_assert(argv_has(argv, "--reuid=1234", NULL, NULL));
    ck_assert(argv_has(argv, "--no-new-privs", NULL, NULL));
    ck_assert(!argv_has(argv, "bwrap", NULL, NULL));
    runner_sandbox_argv_free(argv);
    /* DROVER_SANDBOX values. */
    setenv("DROVER_SANDBOX", "maybe", 1);
    {
        struct err err = {0};

        ck_assert_int_eq(runner_sandbox_init(&sb, &err), -1);
        ck_assert_ptr_nonnull(strstr(err.msg, "bwrap, user, container or none"));
        setenv("DROVER_SANDBOX", "user", 1);
        unsetenv("DROVER_SANDBOX_USER");
        ck_assert_int_eq(runner_sandbox_init(&sb, &err), -1);
        ck_assert_ptr_nonnull(strstr(err.msg, "DROVER_SANDBOX_USER"));
        setenv("DROVER_SANDBOX", "none", 1);
        ck_assert_int_eq(runner_sandbox_init(&sb, &err), 0);
        ck_assert(!runner_sandbox_contained(&sb));
    }
    unsetenv("DROVER_SANDBOX");
    rmdir(home);
}
END_TEST

START_TEST(private_dirs)
{
    char base[] = "/tmp/drover-check-runner-XXXXXX", p[256], q[256];
    struct err err = {0};
    struct stat st;

    ck_assert_ptr_nonnull(mkdtemp(base));
    snprintf(p, sizeof(p), "%s/ws", base);
    ck_assert_int_eq(runner_fs_private_dir(p, 0711, &err), 0);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0711);
    chmod(p, 0777); /* loosened by someone: made private again */
    ck_assert_int_eq(runner_fs_private_dir(p, 0700, &err), 0);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0700);
    /* A planted symlink (to a directory of ours, even) is refused, not followed. */
    snprintf(q, sizeof(q), "%s/planted", base);
    ck_assert_int_eq(symlink(p, q), 0);
    ck_assert_int_eq(runner_fs_private_dir(q, 0700, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "symlink"));
    /* A file where the directory should be. */
    snprintf(q, sizeof(q), "%s/file", base);
    fclose(fopen(q, "w"));
    ck_assert_int_eq(runner_fs_private_dir(q, 0700, &err), -1);
    /* Another user's directory (checkable as root: chown it away). */
    if (geteuid() == 0) {
        snprintf(q, sizeof(q), "%s/theirs", base);
        ck_assert_int_eq(mkdir(q, 0777), 0);
        ck_assert_int_eq(chown(q, 65534, 65534), 0);
        ck_assert_int_eq(runner_fs_private_dir(q, 0700, &err), -1);
        ck_assert_ptr_nonnull(strstr(err.msg, "another user"));
    }
    snprintf(q, sizeof(q), "rm -rf %s", base);
    ck_assert_int_eq(system(q), 0);
}
END_TEST

/* Real git: publishing from the runner's repository ignores the hooks, fsmonitor, includeIf
 * and remote rewrites planted in the work tree's own .git and in $HOME. */
START_TEST(publish_ignores_planted_git)
{
    char base[] = "/tmp/drover-check-runner-git-XXXXXX", cmd[4096], gitdir[300], wt[300];
    struct runner_cfg cfg = {.git_token = "tok-secret"};
    struct err err = {0};
    char **env;
    struct proc_result res;
    char *argv[] = {"git", "commit", "-q", "-m", "publish", NULL};
    char *add[] = {"git", "add", "-A", NULL};
    struct proc_opts o = {.argv = add, .timeout_s = 60};

    ck_assert_ptr_nonnull(mkdtemp(base));
    snprintf(gitdir, sizeof(gitdir), "%s/git/.git", base);
    snprintf(wt, sizeof(wt), "%s/repo", base);
    snprintf(
        cmd, sizeof(cmd),
        "set -e; cd %1$s; git init -q -b main git; mkdir repo; cd repo; git init -q -b main;"
        "mkdir -p .git/hooks; for h in pre-commit post-commit commit-msg "
        "reference-transaction post-index-change; do printf '#!/bin/sh\\ntouch %1$s/ran-%%s\\n' "
        "$h >.git/hooks/$h; chmod +x .git/hooks/$h; done;"
        "printf '#!/bin/sh\\ntouch %1$s/ran-fsmonitor\\n' >fsm; chmod +x fsm;"
        "git config core.fsmonitor %1$s/repo/fsm; git config core.hooksPath %1$s/repo/.git/hooks;"
        "printf '[core]\\n\\tfsmonitor = %1$s/repo/fsm\\n' >evil.inc;"
        "git config includeIf.gitdir:/.path %1$s/repo/evil.inc;"
        "echo '* filter=evil' >.gitattributes; git config filter.evil.clean 'touch "
        "%1$s/ran-filter';"
        "git config filter.evil.required true; echo work >work.txt; ln -s /etc/passwd link",
        base);
    ck_assert_int_eq(system(cmd), 0);
    setenv("HOME", base, 1);
    snprintf(cmd, sizeof(cmd),
             "printf '[core]\\n\\thooksPath = %s/repo/.git/hooks\\n' >%s/.gitconfig", base, base);
    ck_assert_int_eq(system(cmd), 0);
    env = runner_publish_env(&cfg, "https://git.example/r.git", NULL, gitdir, wt);
    o.env = env;
    o.cwd = wt;
    ck_assert_int_eq(proc_run(&o, &res, &err), 0);
    ck_assert_msg(res.exit_code == 0, "git add: %s", res.last_line);
    o.argv = argv;
    ck_assert_int_eq(proc_run(&o, &res, &err), 0);
    ck_assert_msg(res.exit_code == 0, "git commit: %s", res.last_line);
    proc_env_free(env);
    snprintf(cmd, sizeof(cmd), "ls %s | grep -c '^ran-' >/dev/null", base);
    ck_assert_msg(system(cmd) != 0, "a planted hook, fsmonitor or filter ran");
    /* The tree has the work and the link as a link; the command's .git is not in it. */
    snprintf(cmd, sizeof(cmd),
             "git --git-dir=%1$s ls-tree HEAD | grep -q '^120000 blob .*\tlink$' && "
             "git --git-dir=%1$s cat-file -e HEAD:work.txt && "
             "! git --git-dir=%1$s ls-tree -r HEAD | grep -q '\\.git/'",
             gitdir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("runner_contain");
    TCase *tc = tcase_create("contain");
    int failed;

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, publish_env_scoped);
    tcase_add_test(tc, sandbox_argv);
    tcase_add_test(tc, private_dirs);
    tcase_add_test(tc, publish_ignores_planted_git);
    suite_add_tcase(s, tc);
    failed = testsuite_run(s) != EXIT_SUCCESS;
    return failed ? 1 : 0;
}
