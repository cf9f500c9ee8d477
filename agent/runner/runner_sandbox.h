/*
 * Containment of the coding command (and agent-setup.sh): they run a model on other people's
 * prompts and repositories, so drover-agent treats them as hostile. Three parts:
 *  - the agent protects itself: non-dumpable (no /proc/<pid>/environ, mem or ptrace for
 *    processes of its user) and its secrets wiped from its own environment block;
 *  - the command runs in a sandbox: Debian's bubblewrap (a mount namespace with / read-only,
 *    only the work tree and a fresh home writable, the workspace's other contents, the agent's
 *    home and the git key hidden; a pid namespace, so no ancestor is visible and nothing it
 *    starts outlives it; no capabilities; a new session), optionally as another user;
 *    or, where neither user namespaces nor root are available (Kubernetes under the
 *    `restricted` Pod Security Standard), in another container of the pod that holds no
 *    credential, through its exec service (DROVER_SANDBOX=container, runner_execd.h);
 *  - the mode is chosen once at start-up (DROVER_SANDBOX) and refused when it cannot work.
 * Main thread.
 */
#ifndef DROVER_AGENT_RUNNER_SANDBOX_H
#define DROVER_AGENT_RUNNER_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/err.h"
#include "runner.h"

enum runner_sandbox_mode {
    RUNNER_SANDBOX_BWRAP = 0, /* bubblewrap (optionally also as another user) */
    RUNNER_SANDBOX_USER,      /* only another user (the agent runs as root) */
    RUNNER_SANDBOX_NONE,      /* uncontained: chosen explicitly, documented as such */
    RUNNER_SANDBOX_CONTAINER  /* the exec service in another container (another uid) */
};

struct runner_sandbox {
    enum runner_sandbox_mode mode;
    bool drop_user; /* run as `uid`/`gid` (DROVER_SANDBOX_USER; the agent runs as root) */
    uid_t uid;
    gid_t gid;
    char user[64];
    char exec_socket[108]; /* container: the exec service's socket (DROVER_EXEC_SOCKET) */
    char self_exe[4096];   /* container: drover-agent itself, which runs `exec-run` */
};

/*
 * Make this process non-dumpable and wipe `names` (NULL-terminated) from its environment
 * block (the bytes, not just the pointers: /proc/<pid>/environ reads the block).
 */
void runner_sandbox_protect_self(const char *const *names);

/*
 * DROVER_SANDBOX: "bwrap" (the default), "user" (another user only), "container" (the exec
 * service at DROVER_EXEC_SOCKET, default /run/drover/exec.sock, waited for up to
 * DROVER_EXEC_WAIT seconds, default 120) or "none" (explicit: the command is not contained);
 * DROVER_SANDBOX_USER: the user to run the command as (the agent must run as root). bwrap and
 * the exec service are probed: -1 with a message saying what to do when they cannot run.
 */
int runner_sandbox_init(struct runner_sandbox *sb, struct err *err);

/* True when the command is contained at all (bwrap or another user). */
bool runner_sandbox_contained(const struct runner_sandbox *sb);

/* A short description for the log ("bubblewrap as user coder", "none"). */
const char *runner_sandbox_describe(const struct runner_sandbox *sb, char *buf, size_t sz);

/*
 * The argv that runs `inner` (an argv) contained: the work tree `repo` writable and the
 * current directory, `home` (a fresh directory) its $HOME; the rest of cfg->workspace, the
 * agent's home and cfg->git_ssh_key hidden. Owned: free with runner_sandbox_argv_free.
 */
char **runner_sandbox_argv(const struct runner_sandbox *sb, const struct runner_cfg *cfg,
                           const char *repo, const char *home, const char *const *inner);
void runner_sandbox_argv_free(char **argv);

/*
 * Hand `path` (recursively) to the sandbox user when there is one: chown as root; in container
 * mode, which has no root, group read/write and setgid directories (the exec service's uid is
 * in the work tree's group: the pod's fsGroup). 0 or -1.
 */
int runner_sandbox_chown(const struct runner_sandbox *sb, const char *path, struct err *err);

/*
 * After the command: end whatever it left running. bwrap's pid namespace does that by itself;
 * as another user, every process of that user is killed; the exec service does it itself.
 */
void runner_sandbox_reap(const struct runner_sandbox *sb);

#endif
