/* The coding command's sandbox (see runner_sandbox.h). Main thread. */
#include "runner_sandbox.h"
#include "core/mem.h"
#include "core/proc.h"

#include <errno.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RUNNER_SANDBOX_ARGV_MAX 96

void runner_sandbox_protect_self(const char *const *names)
{
    /* Non-dumpable: /proc/<pid>/{environ,mem,maps} become root's and ptrace is refused to
     * processes of the same user. Reset by execve, so git and the command are unaffected. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    for (size_t i = 0; names[i]; i++) {
        char *v = getenv(names[i]);

        /* getenv points into the block /proc/<pid>/environ shows: wipe the bytes there. */
        if (v)
            memset(v, 0, strlen(v));
        unsetenv(names[i]);
    }
}

/* argv under construction. */
struct runner_sandbox_av {
    char *v[RUNNER_SANDBOX_ARGV_MAX];
    size_t n;
};

static void runner_sandbox_add(struct runner_sandbox_av *a, const char *s)
{
    if (a->n < RUNNER_SANDBOX_ARGV_MAX - 1)
        a->v[a->n++] = mem_strdup(s);
}

static void runner_sandbox_add3(struct runner_sandbox_av *a, const char *op, const char *x,
                                const char *y)
{
    runner_sandbox_add(a, op);
    runner_sandbox_add(a, x);
    if (y)
        runner_sandbox_add(a, y);
}

/* setpriv to the sandbox user: no supplementary groups, no new privileges. */
static void runner_sandbox_drop(const struct runner_sandbox *sb, struct runner_sandbox_av *a)
{
    char id[32];

    if (!sb->drop_user)
        return;
    runner_sandbox_add(a, "setpriv");
    snprintf(id, sizeof(id), "--reuid=%u", (unsigned)sb->uid);
    runner_sandbox_add(a, id);
    snprintf(id, sizeof(id), "--regid=%u", (unsigned)sb->gid);
    runner_sandbox_add(a, id);
    runner_sandbox_add(a, "--clear-groups");
    runner_sandbox_add(a, "--no-new-privs");
    runner_sandbox_add(a, "--");
}

static bool runner_sandbox_exists(const char *p)
{
    struct stat st;

    return p && *p && lstat(p, &st) == 0;
}

/* The bwrap options shared by the probe and the real run. */
static void runner_sandbox_bwrap_base(struct runner_sandbox_av *a)
{
    runner_sandbox_add(a, "bwrap");
    runner_sandbox_add(a, "--die-with-parent");
    runner_sandbox_add(a, "--new-session"); /* no TIOCSTI into the agent's terminal */
    runner_sandbox_add(a, "--unshare-pid"); /* no ancestor visible; nothing outlives it */
    runner_sandbox_add(a, "--unshare-ipc");
    runner_sandbox_add(a, "--unshare-uts");
    runner_sandbox_add3(a, "--cap-drop", "ALL", NULL);
    runner_sandbox_add3(a, "--ro-bind", "/", "/");
    runner_sandbox_add3(a, "--dev", "/dev", NULL);
    runner_sandbox_add3(a, "--proc", "/proc", NULL);
    runner_sandbox_add3(a, "--tmpfs", "/tmp", NULL);
    /* /run holds local sockets (PostgreSQL's among them); keep only the resolver's files. */
    runner_sandbox_add3(a, "--tmpfs", "/run", NULL);
    runner_sandbox_add3(a, "--ro-bind-try", "/run/systemd/resolve", "/run/systemd/resolve");
}

char **runner_sandbox_argv(const struct runner_sandbox *sb, const struct runner_cfg *cfg,
                           const char *repo, const char *home, const char *const *inner)
{
    struct runner_sandbox_av a = {0};
    const char *agent_home = getenv("HOME");
    char **out;

    runner_sandbox_drop(sb, &a);
    if (sb->mode == RUNNER_SANDBOX_CONTAINER) {
        /* The command's cwd, environment and stdio travel with the request (runner_execc.h). */
        runner_sandbox_add(&a, sb->self_exe);
        runner_sandbox_add3(&a, "exec-run", "--socket", sb->exec_socket);
        runner_sandbox_add(&a, "--");
    }
    if (sb->mode == RUNNER_SANDBOX_BWRAP) {
        runner_sandbox_bwrap_base(&a);
        /* The workspace (other attempts, the runner's own git directory) and the agent's home
         * (its git and ssh configuration, credential files) are not the command's. */
        runner_sandbox_add3(&a, "--tmpfs", cfg->workspace, NULL);
        if (agent_home && strcmp(agent_home, "/") != 0 && runner_sandbox_exists(agent_home))
            runner_sandbox_add3(&a, "--tmpfs", agent_home, NULL);
        /* Credential files: masked (a Secret's symlinks resolve to the masked file). */
        if (cfg->git_ssh_key)
            runner_sandbox_add3(&a, "--ro-bind-try", "/dev/null", cfg->git_ssh_key);
        if (cfg->token_file)
            runner_sandbox_add3(&a, "--ro-bind-try", "/dev/null", cfg->token_file);
        if (cfg->git_token_file)
            runner_sandbox_add3(&a, "--ro-bind-try", "/dev/null", cfg->git_token_file);
        runner_sandbox_add3(&a, "--bind", repo, repo);
        runner_sandbox_add3(&a, "--bind", home, home);
        if (agent_home) {
            /* Claude Code's own login is the command's to use (and refresh). */
            char cred[4096], dst[4096];

            snprintf(cred, sizeof(cred), "%s/.claude/.credentials.json", agent_home);
            snprintf(dst, sizeof(dst), "%s/.claude/.credentials.json", home);
            if (runner_sandbox_exists(cred))
                runner_sandbox_add3(&a, "--bind", cred, dst);
        }
        runner_sandbox_add3(&a, "--setenv", "HOME", home);
        runner_sandbox_add3(&a, "--chdir", repo, NULL);
        runner_sandbox_add(&a, "--");
    }
    for (size_t i = 0; inner[i]; i++)
        runner_sandbox_add(&a, inner[i]);
    out = mem_calloc(a.n + 1, sizeof(*out));
    memcpy(out, a.v, a.n * sizeof(*out));
    return out;
}

void runner_sandbox_argv_free(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

/* Run argv to completion quietly; 0 when it exited 0. */
static int runner_sandbox_run(char **argv, char *why, size_t why_sz)
{
    struct proc_opts o = {.argv = argv, .timeout_s = 30, .grace_s = -1};
    struct proc_result res;
    struct err err = {0};

    if (proc_run(&o, &res, &err) < 0) {
        snprintf(why, why_sz, "%s", err.msg);
        return -1;
    }
    snprintf(why, why_sz, "%s", res.last_line[0] ? res.last_line : "exit status");
    return res.exit_code == 0 ? 0 : -1;
}

static int runner_sandbox_user(struct runner_sandbox *sb, const char *name, struct err *err)
{
    const struct passwd *pw = getpwnam(name);

    if (!pw)
        return err_set(err, ERR_INVALID, "DROVER_SANDBOX_USER %s: no such user", name);
    if (pw->pw_uid == 0)
        return err_set(err, ERR_INVALID, "DROVER_SANDBOX_USER %s is root: name another user", name);
    if (geteuid() != 0)
        return err_set(err, ERR_INVALID,
                       "DROVER_SANDBOX_USER needs drover-agent to run as root (it runs as uid "
                       "%u)",
                       (unsigned)geteuid());
    sb->drop_user = true;
    sb->uid = pw->pw_uid;
    sb->gid = pw->pw_gid;
    snprintf(sb->user, sizeof(sb->user), "%s", name);
    return 0;
}

/* Container mode: the exec service answers, as another uid (exec-run refuses its own and
 * root), and runs a command; it may start after the agent (another container), so wait. */
static int runner_sandbox_container(struct runner_sandbox *sb, struct err *err)
{
    const char *sock = getenv("DROVER_EXEC_SOCKET"), *wait = getenv("DROVER_EXEC_WAIT");
    long wait_s = wait && *wait ? strtol(wait, NULL, 10) : 120;
    long long deadline;
    char why[512] = "";
    ssize_t n;

    snprintf(sb->exec_socket, sizeof(sb->exec_socket), "%s",
             sock && *sock ? sock : "/run/drover/exec.sock");
    n = readlink("/proc/self/exe", sb->self_exe, sizeof(sb->self_exe) - 1);
    if (n <= 0 || (size_t)n >= sizeof(sb->self_exe) - 1)
        return err_set(err, ERR_INTERNAL, "cannot find drover-agent's own path: %s",
                       strerror(errno));
    sb->self_exe[n] = '\0';
    deadline = (long long)time(NULL) + (wait_s > 0 ? wait_s : 0);
    for (;;) {
        char *argv[] = {sb->self_exe, "exec-run", "--socket", sb->exec_socket, "--", "true", NULL};

        if (runner_sandbox_run(argv, why, sizeof(why)) == 0)
            return 0;
        /* A service that answered and refused (same uid, root, peer refused) will not change. */
        if (strstr(why, "refused") || strstr(why, "runs as uid") ||
            (long long)time(NULL) >= deadline)
            break;
        sleep(1);
    }
    return err_set(err, ERR_INVALID,
                   "the coding command's sandbox (the exec service at %s) cannot run: %s. Start "
                   "`drover-agent exec-serve --socket %s --peer-uid %u` as another uid "
                   "(docs/security.md)",
                   sb->exec_socket, why, sb->exec_socket, (unsigned)geteuid());
}

int runner_sandbox_init(struct runner_sandbox *sb, struct err *err)
{
    const char *mode = getenv("DROVER_SANDBOX"), *user = getenv("DROVER_SANDBOX_USER");
    struct runner_sandbox_av a = {0};
    char why[512];
    int rc = 0;

    memset(sb, 0, sizeof(*sb));
    if (!mode || !*mode || strcmp(mode, "bwrap") == 0)
        sb->mode = RUNNER_SANDBOX_BWRAP;
    else if (strcmp(mode, "user") == 0)
        sb->mode = RUNNER_SANDBOX_USER;
    else if (strcmp(mode, "none") == 0)
        sb->mode = RUNNER_SANDBOX_NONE;
    else if (strcmp(mode, "container") == 0)
        sb->mode = RUNNER_SANDBOX_CONTAINER;
    else
        return err_set(err, ERR_INVALID,
                       "DROVER_SANDBOX must be bwrap, user, container or none (not %s)", mode);
    if (sb->mode == RUNNER_SANDBOX_CONTAINER)
        return user && *user ? err_set(err, ERR_INVALID,
                                       "DROVER_SANDBOX=container runs the command as the exec "
                                       "service's uid: unset DROVER_SANDBOX_USER")
                             : runner_sandbox_container(sb, err);
    if (user && *user && runner_sandbox_user(sb, user, err) < 0)
        return -1;
    if (sb->mode == RUNNER_SANDBOX_USER && !sb->drop_user)
        return err_set(err, ERR_INVALID, "DROVER_SANDBOX=user needs DROVER_SANDBOX_USER");
    if (sb->mode != RUNNER_SANDBOX_BWRAP)
        return 0;
    runner_sandbox_drop(sb, &a);
    runner_sandbox_bwrap_base(&a);
    runner_sandbox_add3(&a, "--", "true", NULL);
    if (runner_sandbox_run(a.v, why, sizeof(why)) < 0)
        rc = err_set(err, ERR_INVALID,
                     "the coding command's sandbox (bubblewrap) cannot run here: %s. Install "
                     "bubblewrap and allow user namespaces (see docs/security.md), or set "
                     "DROVER_SANDBOX=user with DROVER_SANDBOX_USER, or DROVER_SANDBOX=none to "
                     "run the coding command uncontained",
                     why);
    for (size_t i = 0; i < a.n; i++)
        free(a.v[i]);
    return rc;
}

bool runner_sandbox_contained(const struct runner_sandbox *sb)
{
    return sb->mode != RUNNER_SANDBOX_NONE || sb->drop_user;
}

const char *runner_sandbox_describe(const struct runner_sandbox *sb, char *buf, size_t sz)
{
    if (sb->mode == RUNNER_SANDBOX_CONTAINER) {
        snprintf(buf, sz, "container (exec service at %s)", sb->exec_socket);
        return buf;
    }
    snprintf(buf, sz, "%s%s%s",
             sb->mode == RUNNER_SANDBOX_BWRAP  ? "bubblewrap"
             : sb->mode == RUNNER_SANDBOX_USER ? "another user"
                                               : "none (the coding command is NOT contained)",
             sb->drop_user ? " as user " : "", sb->drop_user ? sb->user : "");
    return buf;
}

/* nftw callback: group read/write (and search), setgid directories; links are left alone. */
static int runner_sandbox_share_one(const char *p, const struct stat *st, int type, struct FTW *f)
{
    mode_t m = st->st_mode & 07777;

    (void)f;
    if (type == FTW_SL || type == FTW_SLN || S_ISLNK(st->st_mode))
        return 0;
    if (type == FTW_D || type == FTW_DP)
        m |= 02070;
    else if (S_ISREG(st->st_mode))
        m |= (m & 0100) ? 0070 : 0060;
    else
        return 0;
    return chmod(p, m) < 0 ? -1 : 0;
}

int runner_sandbox_chown(const struct runner_sandbox *sb, const char *path, struct err *err)
{
    char owner[64], why[512];
    char *argv[] = {"chown", "-R", "-h", owner, "--", (char *)path, NULL};

    if (sb->mode == RUNNER_SANDBOX_CONTAINER) {
        /* No root to chown with: the exec service's uid shares our group (the pod's fsGroup);
         * what it creates under setgid directories, with its umask 007, stays ours to read. */
        if (nftw(path, runner_sandbox_share_one, 32, FTW_PHYS) != 0)
            return err_set(err, ERR_INTERNAL, "cannot share %s with the exec service: %s", path,
                           strerror(errno));
        return 0;
    }
    if (!sb->drop_user)
        return 0;
    snprintf(owner, sizeof(owner), "%u:%u", (unsigned)sb->uid, (unsigned)sb->gid);
    if (runner_sandbox_run(argv, why, sizeof(why)) < 0)
        return err_set(err, ERR_INTERNAL, "cannot hand %s to %s: %s", path, sb->user, why);
    return 0;
}

void runner_sandbox_reap(const struct runner_sandbox *sb)
{
    struct runner_sandbox_av a = {0};
    char why[512];

    if (!sb->drop_user)
        return;
    /* kill -1 as that user reaches exactly that user's processes. */
    runner_sandbox_drop(sb, &a);
    runner_sandbox_add3(&a, "kill", "-KILL", "-1");
    runner_sandbox_run(a.v, why, sizeof(why));
    for (size_t i = 0; i < a.n; i++)
        free(a.v[i]);
}
