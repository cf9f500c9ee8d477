/*
 * droverd serve's configuration: its rows of the one settings table (core/opt: flag,
 * environment variable, default, validation, help text), to which other modules add theirs.
 * Parsed once on the main thread at start-up, read-only afterwards, so any thread may read a
 * `struct cfg` once the server runs.
 */
#ifndef DROVER_CORE_CFG_H
#define DROVER_CORE_CFG_H

#include <stdbool.h>
#include <stdio.h>

#include "core/err.h"
#include "core/opt.h"

#define CFG_MAX_NAMES 16

struct cfg {
    char listen_host[256];    /* "127.0.0.1" */
    int listen_port;          /* 8080; 0 = any free port (tests) */
    const char *database_url; /* NULL = PG* environment */
    int workers;
    int slow_workers; /* for tool calls that wait on an external service */
    long max_body;    /* bytes, HTTP bodies and ws messages */
    int lease_seconds;
    int max_tasks_per_agent; /* tasks one agent may hold in_progress */
    int max_conns_per_addr;  /* connections per client address; 0 = max_conns / 2 */
    int rate_limit;          /* requests per second per token; 0 = off */
    int rate_burst;          /* bucket size of the per-token limit */
    int max_streams_per_token;
    int heartbeat_interval; /* seconds, advertised to agents */
    int heartbeat_batch;    /* most heartbeats per statement (svc_hbbatch) */
    int heartbeat_tick;     /* ms between writes of heartbeats answered from memory (svc_hbmem);
                               0: every heartbeat answered after its own commit */
    int long_poll_max;      /* seconds, bound of get_next_task wait_seconds */
    bool auth;
    int max_conns;                /* file descriptors lws may use */
    int idle_timeout;             /* seconds before an idle keep-alive / slow request is dropped */
    int sweep_interval;           /* seconds between reaper runs */
    char *origins[CFG_MAX_NAMES]; /* owned; allowed Origin values (scheme://host[:port]) */
    int norigins;
    char *hosts[CFG_MAX_NAMES]; /* owned; allowed Host header names (without port) */
    int nhosts;
    bool hosts_explicit; /* --allowed-hosts / DROVER_ALLOWED_HOSTS given: always enforced */
    char log_level[16];
    bool event_loop_poll; /* --event-loop poll: lws's own poll() loop instead of libev (epoll) */
    /* OAuth 2.0 Protected Resource Metadata (RFC 9728, mcp/mcp_auth.h). */
    char public_url[256];               /* "" = from the request's Host (http://HOST) */
    char *oauth_servers[CFG_MAX_NAMES]; /* owned; authorization_servers to advertise */
    int noauth_servers;
};

/*
 * Fill `c` from defaults, then the environment, then argv (argv[0] is the command name), and
 * with it the targets of `extra`: the settings other modules contribute (the agent pool's), read
 * by the same parser in the same pass. Returns 0, 1 when --help was printed (every group; exit
 * 0), or -1 with `err` set (exit 2).
 */
int cfg_parse_with(struct cfg *c, const struct opt_group *extra, size_t nextra, int argc,
                   char **argv, struct err *err);

/* cfg_parse_with without other modules' settings. */
int cfg_parse(struct cfg *c, int argc, char **argv, struct err *err);

/* Print every setting (droverd serve's, then `extra`'s) with its flag, environment variable,
 * default and meaning. */
void cfg_usage(FILE *f, const struct opt_group *extra, size_t nextra);

/* True when the listener only accepts loopback connections. */
bool cfg_is_loopback(const struct cfg *c);

void cfg_free(struct cfg *c);

#endif
