/*
 * The settings table of droverd serve. Each row is one setting: its flag, its environment
 * variable, its default and a setter that validates. Defaults are applied first, then the
 * environment, then flags, so a flag always wins. Main thread, at start-up.
 */
#include "core/cfg.h"
#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct cfg_opt {
    const char *flag; /* long option name */
    const char *env;
    const char *def; /* NULL = unset */
    const char *help;
    int (*set)(struct cfg *c, const char *name, const char *v, struct err *err);
};

static int cfg_int(const char *name, const char *v, long lo, long hi, long *out, struct err *err)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return err_set(err, ERR_INVALID, "%s must be an integer from %ld to %ld (got '%s')", name,
                       lo, hi, v);
    *out = n;
    return 0;
}

static int cfg_set_listen(struct cfg *c, const char *name, const char *v, struct err *err)
{
    const char *colon = strrchr(v, ':');
    long port = 0;
    size_t hl;

    if (!colon || colon == v)
        return err_set(err, ERR_INVALID, "%s must be HOST:PORT (got '%s')", name, v);
    hl = (size_t)(colon - v);
    if (v[0] == '[' && hl >= 2 && v[hl - 1] == ']') { /* [::1]:8080 */
        v++;
        hl -= 2;
    }
    if (hl >= sizeof(c->listen_host))
        return err_set(err, ERR_INVALID, "%s: host name too long", name);
    if (cfg_int(name, colon + 1, 0, 65535, &port, err) < 0)
        return -1;
    memcpy(c->listen_host, v, hl);
    c->listen_host[hl] = '\0';
    c->listen_port = (int)port;
    return 0;
}

static int cfg_set_db(struct cfg *c, const char *name, const char *v, struct err *err)
{
    (void)name;
    (void)err;
    c->database_url = *v ? v : NULL;
    return 0;
}

#define CFG_INT_SETTER(fn, field, lo, hi)                                                          \
    static int fn(struct cfg *c, const char *name, const char *v, struct err *err)                 \
    {                                                                                              \
        long n = 0;                                                                                \
        if (cfg_int(name, v, lo, hi, &n, err) < 0)                                                 \
            return -1;                                                                             \
        c->field = n;                                                                              \
        return 0;                                                                                  \
    }

CFG_INT_SETTER(cfg_set_workers, workers, 1, 64)
CFG_INT_SETTER(cfg_set_max_body, max_body, 1024, 64L * 1024 * 1024)
CFG_INT_SETTER(cfg_set_lease, lease_seconds, 5, 86400)
CFG_INT_SETTER(cfg_set_hb, heartbeat_interval, 1, 3600)
CFG_INT_SETTER(cfg_set_lp, long_poll_max, 0, 300)
CFG_INT_SETTER(cfg_set_conns, max_conns, 64, 1000000)
CFG_INT_SETTER(cfg_set_idle, idle_timeout, 1, 3600)
CFG_INT_SETTER(cfg_set_sweep, sweep_interval, 1, 3600)

static int cfg_set_auth(struct cfg *c, const char *name, const char *v, struct err *err)
{
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

static int cfg_set_origins(struct cfg *c, const char *name, const char *v, struct err *err)
{
    return cfg_set_list(c->origins, &c->norigins, name, v, err);
}

static int cfg_set_hosts(struct cfg *c, const char *name, const char *v, struct err *err)
{
    c->hosts_explicit = true;
    return cfg_set_list(c->hosts, &c->nhosts, name, v, err);
}

static int cfg_set_log(struct cfg *c, const char *name, const char *v, struct err *err)
{
    enum log_level l;

    if (log_level_parse(v, &l) < 0)
        return err_set(err, ERR_INVALID, "%s must be error, warn, info or debug (got '%s')", name,
                       v);
    snprintf(c->log_level, sizeof(c->log_level), "%s", v);
    log_threshold = l;
    return 0;
}

static int cfg_set_loop(struct cfg *c, const char *name, const char *v, struct err *err)
{
    if (strcmp(v, "epoll") != 0 && strcmp(v, "poll") != 0)
        return err_set(err, ERR_INVALID, "%s must be epoll or poll (got '%s')", name, v);
    c->event_loop_poll = strcmp(v, "poll") == 0;
    return 0;
}

static const struct cfg_opt cfg_opts[] = {
    {"listen", "DROVER_LISTEN", "127.0.0.1:8080", "HOST:PORT to listen on (port 0: any free one)",
     cfg_set_listen},
    {"database-url", "DATABASE_URL", NULL, "libpq URL or DSN (default: the PG* environment)",
     cfg_set_db},
    {"workers", "DROVER_WORKERS", "4", "worker threads, each with its own database connection",
     cfg_set_workers},
    {"max-body", "DROVER_MAX_BODY", "1048576", "largest request body / ws message in bytes",
     cfg_set_max_body},
    {"lease-seconds", "DROVER_LEASE_SECONDS", "120",
     "how long a claim or heartbeat keeps a task leased", cfg_set_lease},
    {"heartbeat-interval", "DROVER_HEARTBEAT_INTERVAL", "30",
     "seconds between agent heartbeats (told to agents)", cfg_set_hb},
    {"long-poll-max", "DROVER_LONG_POLL_MAX", "60", "upper bound of get_next_task wait_seconds",
     cfg_set_lp},
    {"auth", "DROVER_AUTH", "on", "on|off; off is refused unless listening on loopback only",
     cfg_set_auth},
    {"allowed-origins", "DROVER_ALLOWED_ORIGINS", NULL,
     "comma-separated Origin values accepted (default: loopback names and the listen address)",
     cfg_set_origins},
    {"allowed-hosts", "DROVER_ALLOWED_HOSTS", NULL,
     "comma-separated Host names accepted (default: loopback names and the listen host)",
     cfg_set_hosts},
    {"max-connections", "DROVER_MAX_CONNECTIONS", "4096", "file descriptors for connections",
     cfg_set_conns},
    {"idle-timeout", "DROVER_IDLE_TIMEOUT", "30",
     "seconds a request may dribble in (headers, body) before the connection is closed; idle "
     "keep-alive connections stay open at least 2 x heartbeat-interval + 15 s",
     cfg_set_idle},
    {"sweep-interval", "DROVER_SWEEP_INTERVAL", "5",
     "seconds between runs of the lease reaper and the timeout sweep", cfg_set_sweep},
    {"log-level", "DROVER_LOG_LEVEL", "info", "error|warn|info|debug", cfg_set_log},
    {"event-loop", "DROVER_EVENT_LOOP", "epoll",
     "epoll (libev through lws's evlib plugin; cost per event independent of the number of "
     "connections) or poll (lws's built-in loop: O(connections) per wake-up)",
     cfg_set_loop},
};

#define CFG_NOPTS (sizeof(cfg_opts) / sizeof(cfg_opts[0]))

void cfg_usage(FILE *f)
{
    fprintf(f, "usage: droverd serve [options]\n\nEvery option can also be set by its "
               "environment variable; a flag wins.\n\n");
    for (size_t i = 0; i < CFG_NOPTS; i++)
        fprintf(f, "  --%-20s %-26s %s%s%s%s\n", cfg_opts[i].flag, cfg_opts[i].env,
                cfg_opts[i].help, cfg_opts[i].def ? " [default: " : "",
                cfg_opts[i].def ? cfg_opts[i].def : "", cfg_opts[i].def ? "]" : "");
    fprintf(f, "  --%-20s %-26s %s\n", "help", "", "show this help");
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
    if (c->norigins == 0) {
        for (size_t i = 0; i < 3; i++) {
            c->origins[c->norigins++] = mem_printf("http://%s", names[i]);
            c->origins[c->norigins++] = mem_printf("http://%s:%d", names[i], c->listen_port);
        }
        if (!cfg_is_loopback(c)) {
            extra = mem_printf("http://%s:%d", c->listen_host, c->listen_port);
            c->origins[c->norigins++] = extra;
        }
    }
}

int cfg_parse(struct cfg *c, int argc, char **argv, struct err *err)
{
    struct option lo[CFG_NOPTS + 2];
    char name[64];
    int ch;

    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < CFG_NOPTS; i++) {
        const char *env = getenv(cfg_opts[i].env);
        if (cfg_opts[i].def) {
            snprintf(name, sizeof(name), "default of --%s", cfg_opts[i].flag);
            if (cfg_opts[i].set(c, name, cfg_opts[i].def, err) < 0)
                return -1;
        }
        if (env && *env && cfg_opts[i].set(c, cfg_opts[i].env, env, err) < 0)
            return -1;
        lo[i] = (struct option){cfg_opts[i].flag, required_argument, NULL, (int)i};
    }
    lo[CFG_NOPTS] = (struct option){"help", no_argument, NULL, 'h'};
    lo[CFG_NOPTS + 1] = (struct option){NULL, 0, NULL, 0};
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
        if (ch == 'h') {
            cfg_usage(stdout);
            return 1;
        }
        if (ch == '?' || ch == ':')
            return err_set(err, ERR_INVALID, "unknown option or missing value: '%s'",
                           argv[optind - 1]);
        snprintf(name, sizeof(name), "--%s", cfg_opts[ch].flag);
        if (cfg_opts[ch].set(c, name, optarg, err) < 0)
            return -1;
    }
    if (optind < argc)
        return err_set(err, ERR_INVALID, "unexpected argument '%s'", argv[optind]);
    if (!c->auth && !cfg_is_loopback(c))
        return err_set(err, ERR_INVALID,
                       "--auth off is allowed only on a loopback listener (not %s)",
                       c->listen_host);
    cfg_default_names(c);
    return 0;
}

void cfg_free(struct cfg *c)
{
    for (int i = 0; i < c->norigins; i++)
        free(c->origins[i]);
    for (int i = 0; i < c->nhosts; i++)
        free(c->hosts[i]);
    c->norigins = c->nhosts = 0;
}
