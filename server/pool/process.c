/*
 * The `process` pod backend: each agent is a local child process (`/bin/sh -c "exec CMD"`) in
 * its own process group, with the agent's environment (AGENT_ID, DROVER_TOKEN, MCP_SERVER_URL,
 * DROVER_SERVER_URL) and stdout/stderr appended to <log_dir>/<agent id>.log. Delete sends
 * SIGTERM to the group and SIGKILL after the grace period; exits are reaped with waitpid on the
 * children's own pids (never -1, so other subsystems' children are left alone).
 * Pool thread only. posix_spawn, not fork + setenv, because droverd is multi-threaded.
 */
#include "pool/backend.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct process_child {
    pid_t pid;
    char name[32];
    char uid[32];
    char agent_id[37];
    double kill_at; /* SIGKILL at this time, if still running; 0 = not asked to stop */
    bool killed;    /* SIGKILL sent */
};

struct process_impl {
    struct process_child *kids;
    size_t n, cap;
    unsigned long long seq;
    bool as_user; /* --agent-user: agents run as uid/gid */
    uid_t uid;
    gid_t gid;
    char home[512];
};

/*
 * The log directory: ours and private. A default under /tmp may have been created by someone
 * else first, or be a symlink planted there: refused, never followed.
 */
static int process_log_dir(const char *dir, struct err *err)
{
    struct stat st;

    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return err_set(err, ERR_UNAVAILABLE, "cannot create the agent log directory %s: %s", dir,
                       strerror(errno));
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
        return err_set(err, ERR_UNAVAILABLE,
                       "the agent log directory %s is not a directory of droverd's user (a "
                       "symlink, or created by another user): refusing to use it",
                       dir);
    if ((st.st_mode & 077) && chmod(dir, 0700) < 0)
        return err_set(err, ERR_UNAVAILABLE, "cannot make %s private: %s", dir, strerror(errno));
    return 0;
}

/*
 * environ minus the variables we set and droverd's own secrets (forge tokens, the database's
 * URL and password, which agents must never see), plus ours; free with proc_env_free.
 */
static char **process_env(const struct backend_agent *a, const struct process_impl *p)
{
    static const char *const secrets[] = {"DROVER_FORGE_*", "DATABASE_URL", "PGPASSWORD",
                                          "PGPASSFILE", NULL};
    char *ours[6] = {mem_printf("AGENT_ID=%s", a->agent_id),
                     mem_printf("DROVER_TOKEN=%s", a->token),
                     mem_printf("MCP_SERVER_URL=%s", a->server_url ? a->server_url : ""),
                     mem_printf("DROVER_SERVER_URL=%s", a->server_url ? a->server_url : ""),
                     p->as_user ? mem_printf("HOME=%s", p->home) : NULL,
                     NULL};
    char **env = proc_env_build(ours, secrets);

    for (size_t i = 0; ours[i]; i++) {
        memset(ours[i], 0, strlen(ours[i]));
        free(ours[i]);
    }
    return env;
}

/* What the backend says of a child it runs (create's answer, list's rows). */
static void process_fill(const struct process_child *c, struct backend_pod *pod)
{
    memset(pod, 0, sizeof(*pod));
    snprintf(pod->name, sizeof(pod->name), "%s", c->name);
    snprintf(pod->uid, sizeof(pod->uid), "%s", c->uid);
    snprintf(pod->agent_id, sizeof(pod->agent_id), "%s", c->agent_id);
    pod->phase = BACKEND_RUNNING;
    pod->exit_code = -1;
}

static int process_create(struct backend *b, const struct backend_agent *a, struct backend_pod *out,
                          struct err *err)
{
    struct process_impl *p = b->impl;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    char *logpath = NULL, *cmd = NULL, **env = NULL;
    char *argv[12], ruid[32], rgid[32];
    size_t k = 0;
    pid_t pid;
    int rc = -1, e;

    if (process_log_dir(b->cfg.log_dir, err) < 0)
        return -1;
    logpath = mem_printf("%s/%s.log", b->cfg.log_dir, a->agent_id);
    cmd = mem_printf("exec %s", b->cfg.agent_command);
    env = process_env(a, p);
    if (p->as_user) {
        /* setpriv: that user's ids and groups, no way back to root. */
        snprintf(ruid, sizeof(ruid), "--reuid=%u", (unsigned)p->uid);
        snprintf(rgid, sizeof(rgid), "--regid=%u", (unsigned)p->gid);
        argv[k++] = "setpriv";
        argv[k++] = ruid;
        argv[k++] = rgid;
        argv[k++] = "--init-groups";
        argv[k++] = "--no-new-privs";
        argv[k++] = "--";
        argv[k++] = "/bin/sh";
    } else {
        argv[k++] = "sh";
    }
    argv[k++] = "-c";
    argv[k++] = cmd;
    argv[k] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, logpath, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW,
                                     0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_init(&at);
    /* Its own process group, so delete reaches the agent's children too; default signals. */
    posix_spawnattr_setpgroup(&at, 0);
    {
        sigset_t none, all;

        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setsigdefault(&at, &all);
    }
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    e = p->as_user ? posix_spawnp(&pid, "setpriv", &fa, &at, argv, env)
                   : posix_spawn(&pid, "/bin/sh", &fa, &at, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (e != 0) {
        err_set(err, ERR_UNAVAILABLE, "cannot start the agent process: %s", strerror(e));
        goto out;
    }
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->kids = mem_realloc(p->kids, p->cap * sizeof(*p->kids));
    }
    memset(&p->kids[p->n], 0, sizeof(p->kids[0]));
    p->kids[p->n].pid = pid;
    snprintf(p->kids[p->n].name, sizeof(p->kids[0].name), "proc-%ld", (long)pid);
    snprintf(p->kids[p->n].uid, sizeof(p->kids[0].uid), "%ld-%llu", (long)pid, ++p->seq);
    snprintf(p->kids[p->n].agent_id, sizeof(p->kids[0].agent_id), "%s", a->agent_id);
    process_fill(&p->kids[p->n], out);
    p->n++;
    log_info("pool.process", "agent process started: agent=%s pid=%ld log=%s", a->agent_id,
             (long)pid, logpath);
    rc = 0;
out:
    free(logpath);
    free(cmd);
    proc_env_free(env);
    return rc;
}

static struct process_child *process_find(struct process_impl *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->kids[i].name, name) == 0)
            return &p->kids[i];
    return NULL;
}

static int process_remove(struct backend *b, const char *name, const char *uid, struct err *err)
{
    struct process_child *c = process_find(b->impl, name);

    (void)err;
    if (!c || (uid && *uid && strcmp(uid, c->uid) != 0))
        return 0; /* already gone (or a different incarnation): nothing to stop */
    if (c->kill_at == 0) {
        c->kill_at = clock_s() + b->cfg.grace_seconds;
        kill(-c->pid, SIGTERM);
    }
    return 0;
}

/* droverd is stopping: every agent it started is asked to stop, and killed after the grace. */
static int process_shutdown(struct backend *b, int grace_seconds)
{
    struct process_impl *p = b->impl;
    double deadline = clock_s() + grace_seconds;

    for (size_t i = 0; i < p->n; i++) {
        struct process_child *c = &p->kids[i];

        if (c->kill_at == 0)
            kill(-c->pid, SIGTERM);
        /* An earlier delete's deadline stands when it is sooner. */
        if (c->kill_at == 0 || deadline < c->kill_at)
            c->kill_at = deadline;
    }
    return (int)p->n;
}

static int process_list(struct backend *b, struct backend_pod **pods, size_t *n, struct err *err)
{
    struct process_impl *p = b->impl;

    (void)err;
    *pods = p->n ? mem_calloc(p->n, sizeof(**pods)) : NULL;
    for (size_t i = 0; i < p->n; i++)
        process_fill(&p->kids[i], &(*pods)[i]);
    *n = p->n;
    return 0;
}

static int process_poll(struct backend *b, backend_event_fn fn, void *arg, struct err *err)
{
    struct process_impl *p = b->impl;
    double now = clock_s();

    (void)err;
    for (size_t i = 0; i < p->n;) {
        struct process_child *c = &p->kids[i];
        struct backend_pod pod;
        int st;
        pid_t r = waitpid(c->pid, &st, WNOHANG);

        if (r == c->pid || (r < 0 && errno == ECHILD)) {
            process_fill(c, &pod);
            pod.phase = BACKEND_EXITED;
            if (r == c->pid && WIFEXITED(st)) {
                pod.exit_code = WEXITSTATUS(st);
                snprintf(pod.reason, sizeof(pod.reason), "exit code %d", pod.exit_code);
            } else if (r == c->pid && WIFSIGNALED(st)) {
                pod.exit_code = 128 + WTERMSIG(st);
                snprintf(pod.reason, sizeof(pod.reason), "killed by signal %d", WTERMSIG(st));
            } else {
                snprintf(pod.reason, sizeof(pod.reason), "exited");
            }
            /* Its group may still hold grandchildren: they go with it. */
            kill(-c->pid, SIGKILL);
            log_info("pool.process", "agent process ended: agent=%s pid=%ld reason='%s'",
                     c->agent_id, (long)c->pid, pod.reason);
            p->kids[i] = p->kids[--p->n];
            if (fn)
                fn(&pod, arg);
            continue;
        }
        if (c->kill_at > 0 && !c->killed && now >= c->kill_at) {
            log_warn("pool.process", "agent process outlived its grace: agent=%s pid=%ld SIGKILL",
                     c->agent_id, (long)c->pid);
            kill(-c->pid, SIGKILL);
            c->killed = true;
        }
        i++;
    }
    return 0;
}

static int process_logs(struct backend *b, const char *name, int tail_lines, bool follow,
                        struct buf *out, struct err *err)
{
    (void)follow; /* the log file is there to tail -f; this returns what it holds now */
    struct process_impl *p = b->impl;
    const char *agent = NULL;
    char *path;
    FILE *f;
    char chunk[4096];
    size_t got;
    struct buf all;
    int rc = 0;

    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->kids[i].name, name) == 0 || strcmp(p->kids[i].agent_id, name) == 0)
            agent = p->kids[i].agent_id;
    if (!agent)
        agent = name; /* an exited agent's log is still on disk under its id */
    if (strchr(agent, '/') || strstr(agent, ".."))
        return err_set(err, ERR_INVALID, "bad agent name");
    path = mem_printf("%s/%s.log", b->cfg.log_dir, agent);
    f = fopen(path, "r");
    free(path);
    if (!f)
        return err_set(err, ERR_NOT_FOUND, "no log for %s", name);
    buf_init(&all, 64u << 20);
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_append(&all, chunk, got) < 0)
            break;
    fclose(f);
    {
        /* Keep the last tail_lines lines. */
        size_t start = 0;
        int lines = 0;

        for (size_t i = all.len; i > 0 && tail_lines > 0; i--) {
            if (all.data[i - 1] == '\n' && i != all.len && ++lines >= tail_lines) {
                start = i;
                break;
            }
        }
        if (all.len && buf_append(out, all.data + start, all.len - start) < 0)
            rc = err_set(err, ERR_TOO_LARGE, "log too large");
    }
    buf_clear(&all);
    return rc;
}

static void process_destroy(struct backend *b)
{
    struct process_impl *p = b->impl;
    double start = clock_s();

    /* droverd is stopping: its agents stop with it (SIGTERM, SIGKILL after the grace). */
    for (size_t i = 0; i < p->n; i++)
        kill(-p->kids[i].pid, SIGTERM);
    while (p->n > 0) {
        process_poll(b, NULL, NULL, NULL);
        if (p->n == 0)
            break;
        if (clock_s() - start > b->cfg.grace_seconds) {
            for (size_t i = 0; i < p->n; i++)
                kill(-p->kids[i].pid, SIGKILL);
        }
        usleep(20000);
    }
    free(p->kids);
    free(p);
}

static const struct backend_ops process_ops = {"process",       process_create,  process_remove,
                                               process_list,    process_poll,    process_logs,
                                               process_destroy, process_shutdown};

int process_check_user(const char *user, struct err *err)
{
    const struct passwd *pw = getpwnam(user);

    if (!pw)
        return err_set(err, ERR_INVALID, "--agent-user %s: no such user", user);
    if (pw->pw_uid == 0)
        return err_set(err, ERR_INVALID, "--agent-user %s is root: name another user", user);
    if (geteuid() != 0)
        return err_set(err, ERR_INVALID,
                       "--agent-user needs droverd to run as root (it runs as uid %u); "
                       "without root, agents run as droverd's own user",
                       (unsigned)geteuid());
    return 0;
}

int process_open(struct backend *b, struct err *err)
{
    struct process_impl *p;
    const char *user = b->cfg.agent_user;

    if (user && *user) {
        if (process_check_user(user, err) < 0)
            return -1;
    } else if (geteuid() == 0) {
        log_warn("pool.process",
                 "droverd runs as root and its agents will too: set --agent-user so that "
                 "they and their coding commands cannot read droverd's memory or environment");
    }
    p = mem_calloc(1, sizeof(struct process_impl));
    if (user && *user) {
        const struct passwd *pw = getpwnam(user);

        p->as_user = true;
        p->uid = pw->pw_uid;
        p->gid = pw->pw_gid;
        snprintf(p->home, sizeof(p->home), "%s", pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
    }
    b->impl = p;
    b->ops = &process_ops;
    return 0;
}
