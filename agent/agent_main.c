/*
 * drover-agent: the runner inside each agent pod. Connects to droverd over MCP, heartbeats on
 * its own thread, long-polls get_next_task and works each task (runner_task.c) until SIGTERM.
 * Configuration is the environment; see docs/agent.md.
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "mcpc.h"
#include "runner/runner.h"
#include "runner/runner_execc.h"
#include "runner/runner_execd.h"
#include "runner/runner_hb.h"
#include "runner/runner_sandbox.h"
#include "runner/runner_task.h"

#define DROVER_AGENT_VERSION "0.1.0"

static void agent_on_signal(int sig)
{
    (void)sig;
    runner_shutdown = 1;
}

/* Sleep up to `s` seconds, waking early on shutdown. */
static void agent_nap(long s)
{
    for (long i = 0; i < s * 10 && !runner_shutdown; i++)
        usleep(100 * 1000);
}

extern char **environ;

/*
 * Server-side secrets have no business in an agent (the process pool backend starts agents from
 * droverd, whose environment may hold forge tokens and the database password): drop them before
 * anything is spawned, so neither git nor the coding command can see them.
 */
static void agent_scrub_environment(void)
{
    static const char *const prefixes[] = {"DROVER_FORGE_", "DATABASE_URL=", "PGPASSWORD="};
    char names[64][128];
    size_t n = 0;

    for (char **e = environ; *e && n < 64; e++)
        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
            if (strncmp(*e, prefixes[i], strlen(prefixes[i])) == 0) {
                snprintf(names[n++], sizeof(names[0]), "%.*s", (int)strcspn(*e, "="), *e);
                break;
            }
    for (size_t i = 0; i < n; i++) {
        char *v = getenv(names[i]);

        if (v) /* the bytes too: /proc/<pid>/environ shows the original block */
            memset(v, 0, strlen(v));
        unsetenv(names[i]);
    }
}

static void agent_usage(void)
{
    printf("usage: drover-agent [--help | --version]\n"
           "       drover-agent exec-serve --socket PATH --peer-uid UID\n\n"
           "Runs coding tasks from a droverd queue. Configured by the environment:\n"
           "  MCP_SERVER_URL        droverd's MCP endpoint (http://host:8080/mcp)   required\n"
           "  DROVER_TOKEN          this agent's bearer token (scope agent)          required\n"
           "  AGENT_ID              this agent's id (informational)\n"
           "  DROVER_WORKSPACE      where repositories are cloned (/tmp/drover-workspace)\n"
           "  HEARTBEAT_INTERVAL    seconds between heartbeats (15)\n"
           "  TASK_TIMEOUT          cap on a task's run time in seconds (the task's own)\n"
           "  DROVER_CODING_COMMAND shell command run in the clone with $DROVER_TASK_PROMPT,\n"
           "                        or \"demo\" for the demo coder (not AI); unset: Claude Code\n"
           "                        when claude is on PATH with model credentials, else none\n"
           "                        (the agent then reports itself unusable and takes no task)\n"
           "  GIT_TOKEN[_FILE] | GIT_SSH_KEY_FILE   git credentials (never logged or stored)\n"
           "  DROVER_SANDBOX        bwrap (default) | user | container | none: the coding\n"
           "                        command's containment; DROVER_SANDBOX_USER runs it as that\n"
           "                        user; container: through `exec-serve` (another container,\n"
           "                        another uid) at DROVER_EXEC_SOCKET (/run/drover/exec.sock)\n"
           "  DROVER_POLL_WAIT, DROVER_STOP_GRACE, DROVER_MAX_TASKS, DROVER_EXIT_WHEN_IDLE\n"
           "See docs/agent.md.\n");
}

/* Back-off between retries: 1, 2, 4, 8, 16, then 30 s. */
static long agent_backoff_next(long backoff)
{
    return backoff < 16 ? backoff * 2 : 30;
}

/*
 * MCP initialize, retried until droverd answers (pods start together: it may come up after
 * us) or SIGTERM. -1 when the token is refused.
 */
static int agent_connect(struct mcpc *m, struct err *err)
{
    long backoff = 1;

    while (!runner_shutdown && mcpc_initialize(m, "drover-agent", DROVER_AGENT_VERSION, err) < 0) {
        if (err->code == ERR_UNAUTHORIZED || err->code == ERR_FORBIDDEN) {
            fprintf(stderr, "drover-agent: %s\n", err->msg);
            return -1;
        }
        log_warn("agent", "droverd not reachable, retrying (%s)", err->msg);
        agent_nap(backoff);
        backoff = agent_backoff_next(backoff);
    }
    if (!runner_shutdown)
        log_info("agent", "connected to %s: MCP %s (%s era)", m->url,
                 m->protocol_version ? m->protocol_version : "?", m->modern ? "modern" : "legacy");
    return 0;
}

/*
 * Long-poll get_next_task and work each task, until SIGTERM, DROVER_MAX_TASKS, an empty poll
 * under DROVER_EXIT_WHEN_IDLE, a drain or a refused token. Returns the number of tasks worked.
 */
static long agent_work(struct runner *r, struct mcpc *m)
{
    struct err err = {0};
    long done = 0, backoff = 1;

    while (!runner_shutdown && (r->cfg.max_tasks == 0 || done < r->cfg.max_tasks)) {
        json_t *args = json_pack("{s:i}", "wait_seconds", (int)r->cfg.poll_wait_s), *res = NULL;
        const json_t *task;
        int c;

        /* Only the long poll is abandoned on SIGTERM; a task's final calls must get through. */
        m->http.abort_flag = (volatile const int *)&runner_shutdown;
        c = mcpc_call(m, "get_next_task", args, r->cfg.poll_wait_s + 30, &res, &err);
        m->http.abort_flag = NULL;

        json_decref(args);
        if (c < 0) {
            if (runner_shutdown)
                break;
            if (err.code == ERR_UNAUTHORIZED || err.code == ERR_FORBIDDEN) {
                log_error("agent", "token refused (%s)", err.msg);
                break;
            }
            if (err.code == ERR_CONFLICT) { /* draining: the pool wants us gone */
                log_info("agent", "draining: no more tasks (%s)", err.msg);
                break;
            }
            log_warn("agent", "get_next_task failed (%s)", err.msg);
            agent_nap(backoff);
            backoff = agent_backoff_next(backoff);
            continue;
        }
        backoff = 1;
        task = json_object_get(res, "task");
        if (json_is_object(task)) {
            bool unusable;

            if (runner_task_run(r, m, task, &err) < 0)
                log_warn("agent", "task hand-off failed (%s)", err.msg);
            done++;
            pthread_mutex_lock(&r->lock);
            unusable = r->cfg.unusable != NULL;
            pthread_mutex_unlock(&r->lock);
            if (unusable) { /* the coding command cannot start (runner_task.c) */
                json_decref(res);
                log_error("agent", "unusable: %s; taking no more tasks", r->cfg.unusable);
                break;
            }
        } else if (r->cfg.once) {
            json_decref(res);
            break;
        }
        json_decref(res);
    }
    return done;
}

/*
 * No usable coding command: take no task, and say why on every heartbeat (the heartbeat thread
 * sends status unusable with the reason) until SIGTERM, so the dashboard, droverctl, the API
 * and the pool's circuit breaker see it. Under DROVER_EXIT_WHEN_IDLE, report once and exit 3.
 */
static int agent_unusable(struct runner *r, struct mcpc *m)
{
    struct err err = {0};

    if (runner_hb_send(r, m, NULL, &err) < 0)
        log_warn("agent", "unusable heartbeat failed (%s)", err.msg);
    if (r->cfg.once)
        return 3;
    while (!runner_shutdown)
        agent_nap(1);
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const secrets[] = {"DROVER_TOKEN", "GIT_TOKEN", NULL};
    struct runner r;
    struct runner_sandbox sb;
    struct mcpc m;
    struct err err = {0};
    struct sigaction sa;
    const char *lvl = getenv("DROVER_LOG_LEVEL");
    pthread_t hb;
    long done = 0;
    int rc = 1, hb_started = 0, m_ready = 0;
    char sbdesc[128];

    if (argc > 1) {
        /* DROVER_SANDBOX=container: the exec service (the coder container) and the runner's
         * client of it (what the runner starts in place of the coding command). */
        if (strcmp(argv[1], "exec-serve") == 0)
            return runner_execd_main(argc, argv);
        if (strcmp(argv[1], "exec-run") == 0)
            return runner_execc_main(argc, argv);
        if (strcmp(argv[1], "--version") == 0) {
            printf("drover-agent %s\n", DROVER_AGENT_VERSION);
            return 0;
        }
        agent_usage();
        return strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ? 0 : 2;
    }
    if (lvl && log_level_parse(lvl, &log_threshold) < 0) {
        fprintf(stderr, "drover-agent: DROVER_LOG_LEVEL must be error, warn, info or debug\n");
        return 2;
    }
    agent_scrub_environment();
    memset(&r, 0, sizeof(r));
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.hb_cond, NULL);
    if (runner_cfg_load(&r.cfg, &err) < 0 || runner_sandbox_init(&sb, &err) < 0) {
        fprintf(stderr, "drover-agent: %s\n", err.msg);
        runner_cfg_clear(&r.cfg);
        return 2;
    }
    /* The credentials now live only in r.cfg: not in the environment block, and this process
     * is not dumpable, so the coding command cannot read them from /proc. */
    runner_sandbox_protect_self(secrets);
    r.sandbox = &sb;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = agent_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (mcpc_init(&m, r.cfg.server_url, r.cfg.token, &err) < 0) {
        fprintf(stderr, "drover-agent: %s\n", err.msg);
        goto out;
    }
    m_ready = 1;
    log_info("agent", "starting agent=%s server=%s coder='%s' command='%s' sandbox=%s",
             r.cfg.agent_id ? r.cfg.agent_id : "-", m.url, r.cfg.coder ? r.cfg.coder : "none",
             r.cfg.coding_command ? r.cfg.coding_command : "",
             runner_sandbox_describe(&sb, sbdesc, sizeof(sbdesc)));
    if (r.cfg.unusable)
        log_error("agent", "unusable: %s; taking no task", r.cfg.unusable);
    if (agent_connect(&m, &err) < 0)
        goto out;
    if (runner_shutdown) {
        rc = 0;
        goto out;
    }
    if (runner_hb_start(&r, &hb, &err) < 0) {
        fprintf(stderr, "drover-agent: %s\n", err.msg);
        goto out;
    }
    hb_started = 1;
    if (r.cfg.unusable) {
        rc = agent_unusable(&r, &m);
        goto out;
    }
    /* Say we are here before the first poll: an agent restarted with the token of one that
     * stopped cleanly (offline) would otherwise have its claim refused as offline. */
    if (runner_hb_send(&r, &m, NULL, &err) < 0)
        log_warn("agent", "first heartbeat failed (%s)", err.msg);
    done = agent_work(&r, &m);
    rc = r.cfg.unusable && !runner_shutdown ? agent_unusable(&r, &m) : 0;
out:
    if (hb_started)
        runner_hb_stop(&r, hb);
    if (m_ready) {
        /* Say goodbye, so the pool does not wait for the lease to expire. */
        struct err e2 = {0};
        if (hb_started && runner_hb_send(&r, &m, "offline", &e2) < 0)
            log_warn("agent", "offline heartbeat failed (%s)", e2.msg);
        mcpc_clear(&m);
    }
    log_info("agent", "stopped tasks=%ld", done);
    json_decref(r.usage);
    runner_cfg_clear(&r.cfg);
    curl_global_cleanup();
    pthread_mutex_destroy(&r.lock);
    pthread_cond_destroy(&r.hb_cond);
    return rc;
}
