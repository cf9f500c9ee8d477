/*
 * The settings rows of droverd serve (core/opt does the parsing): each row is one setting, its
 * flag, its environment variable, its default and its type or a setter that validates.
 * Defaults are applied first, then the environment, then flags, so a flag always wins.
 * Main thread, at start-up.
 */
#include "core/cfg.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

static int cfg_set_listen(void *target, const struct opt *o, const char *name, const char *v,
                          struct err *err)
{
    struct cfg *c = target;
    const char *colon = strrchr(v, ':');
    long port = 0;
    size_t hl;

    (void)o;
    if (!colon || colon == v)
        return err_set(err, ERR_INVALID, "%s must be HOST:PORT (got '%s')", name, v);
    hl = (size_t)(colon - v);
    if (v[0] == '[' && hl >= 2 && v[hl - 1] == ']') { /* [::1]:8080 */
        v++;
        hl -= 2;
    }
    if (hl >= sizeof(c->listen_host))
        return err_set(err, ERR_INVALID, "%s: host name too long", name);
    if (opt_int(name, colon + 1, 0, 65535, &port, err) < 0)
        return -1;
    memcpy(c->listen_host, v, hl);
    c->listen_host[hl] = '\0';
    c->listen_port = (int)port;
    return 0;
}

static int cfg_set_db(void *target, const struct opt *o, const char *name, const char *v,
                      struct err *err)
{
    struct cfg *c = target;

    (void)o;
    (void)name;
    (void)err;
    c->database_url = *v ? v : NULL;
    return 0;
}

static int cfg_set_auth(void *target, const struct opt *o, const char *name, const char *v,
                        struct err *err)
{
    struct cfg *c = target;

    (void)o;
    if (strcmp(v, "on") == 0)
        c->auth = true;
    else if (strcmp(v, "off") == 0)
        c->auth = false;
    else
        return err_set(err, ERR_INVALID, "%s must be on or off (got '%s')", name, v);
    return 0;
}

/* A comma-separated list replaces the previous one. */
static int cfg_set_list(char **list, int *n, const char *name, const char *v, struct err *err)
{
    char *copy = mem_strdup(v), *save = NULL, *tok;
    int rc = 0;

    for (int i = 0; i < *n; i++)
        free(list[i]);
    *n = 0;
    for (tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (*n == CFG_MAX_NAMES) {
            rc = err_set(err, ERR_INVALID, "%s: at most %d entries", name, CFG_MAX_NAMES);
            break;
        }
        list[(*n)++] = mem_strdup(tok);
    }
    free(copy);
    return rc;
}

static int cfg_set_origins(void *target, const struct opt *o, const char *name, const char *v,
                           struct err *err)
{
    struct cfg *c = target;

    (void)o;
    return cfg_set_list(c->origins, &c->norigins, name, v, err);
}

static int cfg_set_hosts(void *target, const struct opt *o, const char *name, const char *v,
                         struct err *err)
{
    struct cfg *c = target;

    (void)o;
    c->hosts_explicit = true;
    return cfg_set_list(c->hosts, &c->nhosts, name, v, err);
}

static int cfg_set_log(void *target, const struct opt *o, const char *name, const char *v,
                       struct err *err)
{
    struct cfg *c = target;
    enum log_level l;

    (void)o;
    if (log_level_parse(v, &l) < 0)
        return err_set(err, ERR_INVALID, "%s must be error, warn, info or debug (got '%s')", name,
                       v);
    snprintf(c->log_level, sizeof(c->log_level), "%s", v);
    log_threshold = l;
    return 0;
}

static int cfg_set_loop(void *target, const struct opt *o, const char *name, const char *v,
                        struct err *err)
{
    struct cfg *c = target;

    (void)o;
    if (strcmp(v, "epoll") != 0 && strcmp(v, "poll") != 0)
        return err_set(err, ERR_INVALID, "%s must be epoll or poll (got '%s')", name, v);
    c->event_loop_poll = strcmp(v, "poll") == 0;
    return 0;
}

/* An absolute http(s) URL without quotes, spaces or a fragment: it goes into a JSON document and
 * a quoted-string of WWW-Authenticate. */
static int cfg_url_ok(const char *name, const char *v, struct err *err)
{
    if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)
        return err_set(err, ERR_INVALID, "%s: '%s' is not an http(s) URL", name, v);
    for (const char *p = v; *p; p++)
        if (*p <= ' ' || *p > '~' || *p == '"' || *p == '\\' || *p == '#')
            return err_set(err, ERR_INVALID, "%s: '%s' has a character a URL here may not have",
                           name, v);
    return 0;
}

static int cfg_set_public_url(void *target, const struct opt *o, const char *name, const char *v,
                              struct err *err)
{
    struct cfg *c = target;
    size_t n = strlen(v);

    (void)o;
    if (!*v) {
        c->public_url[0] = '\0';
        return 0;
    }
    if (cfg_url_ok(name, v, err) < 0)
        return -1;
    while (n && v[n - 1] == '/')
        n--;
    if (n >= sizeof(c->public_url))
        return err_set(err, ERR_INVALID, "%s: URL too long", name);
    memcpy(c->public_url, v, n);
    c->public_url[n] = '\0';
    return 0;
}

static int cfg_set_oauth_servers(void *target, const struct opt *o, const char *name, const char *v,
                                 struct err *err)
{
    struct cfg *c = target;

    (void)o;
    if (cfg_set_list(c->oauth_servers, &c->noauth_servers, name, v, err) < 0)
        return -1;
    for (int i = 0; i < c->noauth_servers; i++)
        if (cfg_url_ok(name, c->oauth_servers[i], err) < 0)
            return -1;
    return 0;
}

static const struct opt cfg_opts[] = {
    OPT_CUSTOM_ROW("listen", "DROVER_LISTEN", "127.0.0.1:8080", cfg_set_listen,
                   "HOST:PORT to listen on (port 0: any free one)"),
    OPT_CUSTOM_ROW("database-url", "DATABASE_URL", NULL, cfg_set_db,
                   "libpq URL or DSN (default: the PG* environment)"),
    OPT_INT_ROW("workers", "DROVER_WORKERS", "4", struct cfg, workers, 1, 64,
                "worker threads, each with its own database connection"),
    OPT_INT_ROW("slow-workers", "DROVER_SLOW_WORKERS", "4", struct cfg, slow_workers, 1, 64,
                "worker threads for tool calls that wait on a forge or a webhook (create_branch,"
                " create_pull_request, trigger_preview_deploy), each with its own database"
                " connection, so a slow forge cannot hold up heartbeats and claims"),
    OPT_INT_ROW("max-body", "DROVER_MAX_BODY", "1048576", struct cfg, max_body, 1024,
                64L * 1024 * 1024, "largest request body / ws message in bytes"),
    OPT_INT_ROW("lease-seconds", "DROVER_LEASE_SECONDS", "120", struct cfg, lease_seconds, 5, 86400,
                "how long a claim or heartbeat keeps a task leased"),
    OPT_INT_ROW("max-tasks-per-agent", "DROVER_MAX_TASKS_PER_AGENT", "1", struct cfg,
                max_tasks_per_agent, 1, 1000,
                "tasks one agent may hold in_progress at once (get_next_task answers no task "
                "beyond it), so one agent token cannot drain the backlog"),
    OPT_INT_ROW("heartbeat-interval", "DROVER_HEARTBEAT_INTERVAL", "30", struct cfg,
                heartbeat_interval, 1, 3600, "seconds between agent heartbeats (told to agents)"),
    OPT_INT_ROW("heartbeat-batch", "DROVER_HEARTBEAT_BATCH", "64", struct cfg, heartbeat_batch, 0,
                4096,
                "most heartbeats written by one statement and commit (group commit: those that "
                "arrive while the previous batch runs); 0 or 1: each its own"),
    OPT_INT_ROW("heartbeat-tick", "DROVER_HEARTBEAT_TICK", "200", struct cfg, heartbeat_tick, 0,
                10000,
                "ms between group commits of heartbeats answered from memory (a crash loses at "
                "most this much of them, far inside the lease); 0: answer each after its commit"),
    OPT_INT_ROW("long-poll-max", "DROVER_LONG_POLL_MAX", "60", struct cfg, long_poll_max, 0, 300,
                "upper bound of get_next_task wait_seconds"),
    OPT_CUSTOM_ROW("auth", "DROVER_AUTH", "on", cfg_set_auth,
                   "on|off; off is refused unless listening on loopback only"),
    OPT_CUSTOM_ROW(
        "allowed-origins", "DROVER_ALLOWED_ORIGINS", NULL, cfg_set_origins,
        "comma-separated Origin values accepted (default: loopback names and the listen address)"),
    OPT_CUSTOM_ROW(
        "allowed-hosts", "DROVER_ALLOWED_HOSTS", NULL, cfg_set_hosts,
        "comma-separated Host names accepted (default: loopback names and the listen host)"),
    OPT_CUSTOM_ROW("public-url", "DROVER_PUBLIC_URL", NULL, cfg_set_public_url,
                   "the URL clients reach droverd at (e.g. https://drover.example.com), for the "
                   "OAuth protected-resource metadata; default: http:// and the request's Host"),
    OPT_CUSTOM_ROW("oauth-authorization-servers", "DROVER_OAUTH_AUTHORIZATION_SERVERS", NULL,
                   cfg_set_oauth_servers,
                   "comma-separated issuer URLs of OAuth authorization servers that mint tokens "
                   "droverd accepts, advertised in /.well-known/oauth-protected-resource"),
    OPT_INT_ROW("max-connections", "DROVER_MAX_CONNECTIONS", "4096", struct cfg, max_conns, 64,
                1000000, "file descriptors for connections"),
    OPT_INT_ROW("max-connections-per-address", "DROVER_MAX_CONNECTIONS_PER_ADDRESS", "0",
                struct cfg, max_conns_per_addr, 0, 1000000,
                "connections one client address may hold open (0: half of "
                "--max-connections); behind a proxy every client has the proxy's address"),
    OPT_INT_ROW("rate-limit", "DROVER_RATE_LIMIT", "100", struct cfg, rate_limit, 0, 1000000,
                "requests per second one token may make on /api and MCP, sustained (0: off); "
                "beyond it and the burst, 429 with Retry-After"),
    OPT_INT_ROW("rate-burst", "DROVER_RATE_BURST", "1000", struct cfg, rate_burst, 1, 10000000,
                "requests one token may make at once above --rate-limit"),
    OPT_INT_ROW("max-streams-per-token", "DROVER_MAX_STREAMS_PER_TOKEN", "8", struct cfg,
                max_streams_per_token, 1, 10000,
                "event streams (?follow=1, /api/events) one token may hold open"),
    OPT_INT_ROW("idle-timeout", "DROVER_IDLE_TIMEOUT", "30", struct cfg, idle_timeout, 1, 3600,
                "seconds a request may dribble in (headers, body) before the connection is "
                "closed; idle keep-alive connections stay open at least 2 x heartbeat-interval + "
                "15 s"),
    OPT_INT_ROW("sweep-interval", "DROVER_SWEEP_INTERVAL", "5", struct cfg, sweep_interval, 1, 3600,
                "seconds between runs of the lease reaper and the timeout sweep"),
    OPT_CUSTOM_ROW("log-level", "DROVER_LOG_LEVEL", "info", cfg_set_log, "error|warn|info|debug"),
    OPT_CUSTOM_ROW("event-loop", "DROVER_EVENT_LOOP", "epoll", cfg_set_loop,
                   "epoll (libev through lws's evlib plugin; cost per event independent of the "
                   "number of connections) or poll (lws's built-in loop: O(connections) per "
                   "wake-up)"),
};

/* droverd serve's own rows first, then the other modules'. At most this many groups. */
#define CFG_MAX_GROUPS 8

static size_t cfg_groups(struct cfg *c, const struct opt_group *extra, size_t nextra,
                         struct opt_group *out)
{
    size_t n = 0;

    out[n++] = (struct opt_group){NULL, cfg_opts, sizeof(cfg_opts) / sizeof(cfg_opts[0]), c};
    for (size_t i = 0; i < nextra && n < CFG_MAX_GROUPS; i++) /* cfg_parse_with checks */
        out[n++] = extra[i];
    return n;
}

void cfg_usage(FILE *f, const struct opt_group *extra, size_t nextra)
{
    struct opt_group g[CFG_MAX_GROUPS];
    struct cfg unused;
    size_t n = cfg_groups(&unused, extra, nextra, g);

    fprintf(f, "usage: droverd serve [options]\n\nEvery option can also be set by its "
               "environment variable; a flag wins.\n\n");
    opt_usage(f, g, n);
}

bool cfg_is_loopback(const struct cfg *c)
{
    return strcmp(c->listen_host, "127.0.0.1") == 0 || strcmp(c->listen_host, "::1") == 0 ||
           strcmp(c->listen_host, "localhost") == 0 || strncmp(c->listen_host, "127.", 4) == 0;
}

static void cfg_default_names(struct cfg *c)
{
    static const char *const names[] = {"localhost", "127.0.0.1", "[::1]"};
    char *extra = NULL;

    if (c->nhosts == 0) {
        for (size_t i = 0; i < 3; i++)
            c->hosts[c->nhosts++] = mem_strdup(names[i]);
        if (!cfg_is_loopback(c) && strcmp(c->listen_host, "0.0.0.0") != 0)
            c->hosts[c->nhosts++] = mem_strdup(c->listen_host);
    }
    /*
     * Only the listen address's own origin (a loopback listener answers to each loopback
     * name, on its own port): a page served by anything else on this host, port 80 included,
     * is a foreign origin.
     */
    if (c->norigins == 0) {
        if (cfg_is_loopback(c)) {
            for (size_t i = 0; i < 3; i++)
                c->origins[c->norigins++] = mem_printf("http://%s:%d", names[i], c->listen_port);
        } else {
            extra = strchr(c->listen_host, ':') && c->listen_host[0] != '['
                        ? mem_printf("http://[%s]:%d", c->listen_host, c->listen_port)
                        : mem_printf("http://%s:%d", c->listen_host, c->listen_port);
            c->origins[c->norigins++] = extra;
        }
    }
}

int cfg_parse_with(struct cfg *c, const struct opt_group *extra, size_t nextra, int argc,
                   char **argv, struct err *err)
{
    struct opt_group g[CFG_MAX_GROUPS];
    size_t n;
    int r;

    memset(c, 0, sizeof(*c));
    if (nextra >= CFG_MAX_GROUPS)
        return err_set(err, ERR_INTERNAL, "at most %d groups of settings", CFG_MAX_GROUPS - 1);
    n = cfg_groups(c, extra, nextra, g);
    r = opt_parse(g, n, argc, argv, err);
    if (r == 1)
        cfg_usage(stdout, extra, nextra);
    if (r != 0)
        return r;
    if (!c->auth && !cfg_is_loopback(c))
        return err_set(err, ERR_INVALID,
                       "--auth off is allowed only on a loopback listener (not %s)",
                       c->listen_host);
    cfg_default_names(c);
    return 0;
}

int cfg_parse(struct cfg *c, int argc, char **argv, struct err *err)
{
    return cfg_parse_with(c, NULL, 0, argc, argv, err);
}

void cfg_free(struct cfg *c)
{
    for (int i = 0; i < c->norigins; i++)
        free(c->origins[i]);
    for (int i = 0; i < c->nhosts; i++)
        free(c->hosts[i]);
    for (int i = 0; i < c->noauth_servers; i++)
        free(c->oauth_servers[i]);
    c->norigins = c->nhosts = c->noauth_servers = 0;
}
