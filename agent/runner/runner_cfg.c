/* drover-agent's configuration from the environment. Main thread, at start-up. */
#include "runner.h"
#include "core/mem.h"
#include "runner_creds.h"
#include "runner_fs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

volatile sig_atomic_t runner_shutdown;

static char *runner_cfg_str(const char *name, const char *def)
{
    const char *v = getenv(name);

    if (v && *v)
        return mem_strdup(v);
    return def ? mem_strdup(def) : NULL;
}

static int runner_cfg_long(const char *name, long def, long lo, long hi, long *out, struct err *err)
{
    const char *v = getenv(name);
    char *end;
    long n;

    *out = def;
    if (!v || !*v)
        return 0;
    n = strtol(v, &end, 10);
    if (*end || n < lo || n > hi)
        return err_set(err, ERR_INVALID, "%s must be a whole number from %ld to %ld", name, lo, hi);
    *out = n;
    return 0;
}

/* True when `prog` is an executable in PATH. */
static bool runner_cfg_in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[PATH_MAX];

    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
        if (access(buf, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

/* The demo coding command shipped next to the binary (agent/examples/demo-coder.sh). */
static char *runner_cfg_demo_path(void)
{
    static const char *const rel[] = {"../share/drover/demo-coder.sh",
                                      "../agent/examples/demo-coder.sh",
                                      "../../agent/examples/demo-coder.sh", "demo-coder.sh"};
    char self[PATH_MAX], cand[PATH_MAX * 2];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash;

    if (runner_cfg_in_path("drover-demo-coder"))
        return mem_strdup("drover-demo-coder");
    if (n > 0) {
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash)
            *slash = '\0';
        for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
            snprintf(cand, sizeof(cand), "%s/%s", self, rel[i]);
            if (access(cand, R_OK) == 0)
                return mem_printf("bash %s", cand);
        }
    }
#ifdef DROVER_SOURCE_DIR
    /* A build tree anywhere: the source checkout it was built from. */
    snprintf(cand, sizeof(cand), "%s/agent/examples/demo-coder.sh", DROVER_SOURCE_DIR);
    if (access(cand, R_OK) == 0)
        return mem_printf("bash %s", cand);
#endif
    return mem_strdup("drover-demo-coder");
}

static const char *runner_cfg_getenv(const char *name)
{
    return getenv(name);
}

/*
 * The coding command. DROVER_CODING_COMMAND=demo chooses the demo coder explicitly; any other
 * value is the command. Unset, it is Claude Code when `claude` is on PATH and has model
 * credentials; otherwise there is none, and `unusable` says why: the agent then takes no task
 * rather than fall back to the demo coder, whose commits and pull requests would land on a
 * real repository.
 */
static void runner_cfg_command(struct runner_cfg *cfg)
{
    const char *v = getenv("DROVER_CODING_COMMAND");
    char how[512];

    if (v && strcmp(v, "demo") == 0) {
        cfg->coding_command = runner_cfg_demo_path();
        cfg->coder = mem_strdup("the demo coder (DROVER_CODING_COMMAND=demo; not AI)");
        return;
    }
    if (v && *v) {
        cfg->coding_command = mem_strdup(v);
        cfg->coder = mem_strdup("DROVER_CODING_COMMAND");
        return;
    }
    if (!runner_cfg_in_path("claude")) {
        cfg->unusable = mem_strdup("no coding command: DROVER_CODING_COMMAND is not set and "
                                   "claude (Claude Code) is not on PATH");
        return;
    }
    if (!runner_creds_find(runner_cfg_getenv, getenv("HOME"), how, sizeof(how))) {
        cfg->unusable = mem_strdup(how);
        return;
    }
    cfg->coder = mem_printf("Claude Code (credentials: %s)", how);
    /* Claude Code refuses bypassPermissions as root (measured with 2.1.197), so root gets an
     * explicit allow-list instead; the image runs as a normal user. Only the task's own MCP
     * server (--strict-mcp-config), its tools in the model's tool list rather than deferred
     * behind a tool search (a handful of tools; the prompt refers to them by name); the task's
     * model and the project's tools when set. Under an autonomy policy every action goes to
     * Drover's permission prompt tool, and only the user's settings (the task's fresh HOME) are
     * read: a repository's own .claude/settings.json could otherwise allow what the policy
     * denies, since Claude Code consults the tool only when no settings rule decides. The
     * prompt goes last, after "--": one that starts
     * with "-" stays a prompt (and --allowedTools/--tools, which take several values, cannot
     * swallow it). */
    cfg->coding_command =
        mem_printf("ENABLE_TOOL_SEARCH=\"${ENABLE_TOOL_SEARCH:-false}\" claude --print "
                   "--output-format stream-json --verbose "
                   "--mcp-config \"$DROVER_MCP_CONFIG\" --strict-mcp-config "
                   "${DROVER_MODEL:+--model \"$DROVER_MODEL\"} "
                   "${DROVER_TOOLS:+--tools \"$DROVER_TOOLS\"} "
                   "--permission-mode \"${DROVER_PERMISSION_MODE:-%s}\" "
                   "${DROVER_ALLOWED_TOOLS:+--allowedTools \"$DROVER_ALLOWED_TOOLS\"} "
                   "${DROVER_PERMISSION_PROMPT_TOOL:+--permission-prompt-tool "
                   "\"$DROVER_PERMISSION_PROMPT_TOOL\" --setting-sources user} "
                   "-- \"$DROVER_TASK_PROMPT\"",
                   geteuid() == 0 ? "acceptEdits" : "bypassPermissions");
}

/*
 * A secret from NAME_FILE (a mounted Secret: nothing in any process's environment) or NAME.
 * Trailing newlines are dropped. -1 when the file is named but unreadable or empty.
 */
static int runner_cfg_secret(const char *name, char **out, struct err *err)
{
    char fname[128], buf[8192];
    const char *path;
    FILE *f;
    size_t n;

    snprintf(fname, sizeof(fname), "%s_FILE", name);
    path = getenv(fname);
    *out = NULL;
    if (!path || !*path) {
        *out = runner_cfg_str(name, NULL);
        return 0;
    }
    f = fopen(path, "re");
    if (!f && errno == ENOENT) {
        /* An optional Secret that was not created: no credential, as if unset. */
        *out = runner_cfg_str(name, NULL);
        return 0;
    }
    if (!f)
        return err_set(err, ERR_INVALID, "%s %s is not readable", fname, path);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    if (!n)
        return err_set(err, ERR_INVALID, "%s %s is empty", fname, path);
    *out = mem_strdup(buf);
    memset(buf, 0, sizeof(buf));
    return 0;
}

/*
 * DROVER_CA_BUNDLE (an optional ConfigMap): when the file is there, git, OpenSSL and Node in
 * the agent's children use it (it replaces the system store for the first two, and is added to
 * Node's); variables already set win.
 */
static void runner_cfg_ca_bundle(void)
{
    const char *ca = getenv("DROVER_CA_BUNDLE");

    if (!ca || !*ca || access(ca, R_OK) != 0)
        return;
    setenv("GIT_SSL_CAINFO", ca, 0);
    setenv("SSL_CERT_FILE", ca, 0);
    setenv("NODE_EXTRA_CA_CERTS", ca, 0);
}

int runner_cfg_load(struct runner_cfg *cfg, struct err *err)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->agent_id = runner_cfg_str("AGENT_ID", NULL);
    cfg->server_url = runner_cfg_str("MCP_SERVER_URL", NULL);
    cfg->workspace = runner_cfg_str("DROVER_WORKSPACE", "/tmp/drover-workspace");
    if (runner_cfg_secret("DROVER_TOKEN", &cfg->token, err) < 0 ||
        runner_cfg_secret("GIT_TOKEN", &cfg->git_token, err) < 0)
        return -1;
    cfg->git_ssh_key = runner_cfg_str("GIT_SSH_KEY_FILE", NULL);
    if (!cfg->server_url)
        return err_set(err, ERR_INVALID,
                       "MCP_SERVER_URL is not set (e.g. http://droverd:8080/mcp)");
    if (!cfg->token)
        return err_set(err, ERR_INVALID,
                       "DROVER_TOKEN is not set (an agent-scope token: "
                       "droverd token create --scope agent)");
    if (runner_cfg_long("HEARTBEAT_INTERVAL", 15, 1, 3600, &cfg->heartbeat_s, err) < 0 ||
        runner_cfg_long("TASK_TIMEOUT", 0, 0, 604800, &cfg->task_timeout_s, err) < 0 ||
        runner_cfg_long("DROVER_POLL_WAIT", 20, 0, 300, &cfg->poll_wait_s, err) < 0 ||
        runner_cfg_long("DROVER_STOP_GRACE", 10, 1, 600, &cfg->stop_grace_s, err) < 0 ||
        runner_cfg_long("DROVER_MAX_TASKS", 0, 0, 1000000, &cfg->max_tasks, err) < 0)
        return -1;
    cfg->heartbeat_fixed = getenv("HEARTBEAT_INTERVAL") && *getenv("HEARTBEAT_INTERVAL");
    cfg->once =
        getenv("DROVER_EXIT_WHEN_IDLE") && strcmp(getenv("DROVER_EXIT_WHEN_IDLE"), "1") == 0;
    cfg->token_file = runner_cfg_str("DROVER_TOKEN_FILE", NULL);
    cfg->git_token_file = runner_cfg_str("GIT_TOKEN_FILE", NULL);
    cfg->git_token_allow = runner_cfg_str("DROVER_GIT_TOKEN_ALLOW", NULL);
    runner_cfg_ca_bundle();
    if (cfg->git_ssh_key && access(cfg->git_ssh_key, R_OK) != 0)
        return err_set(err, ERR_INVALID, "GIT_SSH_KEY_FILE %s is not readable", cfg->git_ssh_key);
    runner_cfg_command(cfg);
    /* Searchable (not listable) by others: a sandbox user reaches its own work tree. */
    if (runner_fs_private_dir(cfg->workspace, 0711, err) < 0)
        return -1;
    return 0;
}

static void runner_cfg_wipe(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

void runner_cfg_clear(struct runner_cfg *cfg)
{
    free(cfg->agent_id);
    free(cfg->server_url);
    runner_cfg_wipe(cfg->token);
    free(cfg->workspace);
    free(cfg->coding_command);
    free(cfg->coder);
    free(cfg->unusable);
    runner_cfg_wipe(cfg->git_token);
    free(cfg->git_ssh_key);
    free(cfg->token_file);
    free(cfg->git_token_file);
    free(cfg->git_token_allow);
    memset(cfg, 0, sizeof(*cfg));
}
