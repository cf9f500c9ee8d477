/*
 * drover-bench: a load generator for droverd's MCP endpoint (Streamable HTTP, /mcp).
 *
 * Every simulated agent is one thread with its own libcurl easy handle, reused for every request
 * so the TCP connection is kept alive, its own bearer token, and its own MCP session
 * (initialize + notifications/initialized first, then Mcp-Session-Id and MCP-Protocol-Version
 * on every request) -- exactly what a real agent pod does. Blocking calls per thread keep the
 * agents independent: a long-polling agent does not hold up the others.
 *
 *   drover-bench tasks    --url U --tokens F --agents N --seconds S [--warmup S]
 *       N agents loop get_next_task -> update_task_status(completed) over a pre-filled queue;
 *       tasks/s counted over S seconds after the warm-up.
 *   drover-bench dispatch --url U --tokens F --agents N --count C [--wait W]
 *       N agents long-poll get_next_task (wait_seconds W); this process enqueues C tasks one at a
 *       time through libpq (PG* environment, or --database-url), each carrying the monotonic time
 *       just before its INSERT was sent; the receiving agent records now - then. p50/p99.
 *   drover-bench ping     --url U --tokens F --agents N --seconds S
 *       N sessions send MCP ping as fast as they can; ping/s.
 *   drover-bench call     --url U --tokens F --agents N --seconds S
 *       N agents call the heartbeat tool (a database write) as fast as they can; call/s.
 * Every mode takes --era legacy (default: initialize, a session) or --era modern (2026-07-28:
 * stateless, _meta and Mcp-Method/Mcp-Name per request; ping becomes server/discover).
 *
 * --tokens F: one "AGENT_ID TOKEN" pair per line (scripts/bench.sh writes it from
 * `droverd token create --scope agent`); agent i uses line i. Each run prints one JSON line on
 * stdout; errors go to stderr and make the exit status 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/clock.h"
#include "loadgen.h"

#define BENCH_MAX_AGENTS 256
#define BENCH_PROTOCOL "2025-11-25"
#define BENCH_MODERN "2026-07-28"
#define BENCH_META                                                                                 \
    "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"" BENCH_MODERN "\","                 \
    "\"io.modelcontextprotocol/clientCapabilities\":{},"                                           \
    "\"io.modelcontextprotocol/clientInfo\":{\"name\":\"drover-bench\",\"version\":\"1\"}}"

struct bench_opts {
    const char *mode, *url, *tokens, *database_url;
    int agents, count, wait;
    double seconds, warmup;
    bool modern; /* --era modern: MCP 2026-07-28, no session, _meta and headers per request */
};

/* One agent: its identity, its connection and its MCP session. */
struct bench_agent {
    int index;
    char agent_id[64];
    char token[256];
    CURL *h;
    struct curl_slist *hdrs;
    char session[256];
    char content_type[128];
    char *resp;
    size_t resp_len, resp_cap;
    long next_id;
    char err[512];
};

static struct bench_opts bench_o;
static struct bench_agent bench_agents[BENCH_MAX_AGENTS];
static atomic_bool bench_stop;
static atomic_long bench_done, bench_errors;
static atomic_bool bench_measuring;
static pthread_mutex_t bench_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bench_cv = PTHREAD_COND_INITIALIZER;
/* Dispatch task i: its INSERT was sent at sent[i], acknowledged (committed) at acked[i] and
 * received by an agent at recv[i] (monotonic seconds). */
static double *bench_sent, *bench_acked, *bench_recv;
static long bench_nlat;
static long bench_ready; /* agents with a session, waiting to start */

static void bench_sleep(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

    nanosleep(&ts, NULL);
}

static size_t bench_write_cb(char *p, size_t size, size_t n, void *ud)
{
    struct bench_agent *a = ud;
    size_t len = size * n;

    if (a->resp_len + len + 1 > a->resp_cap) {
        size_t cap = a->resp_cap ? a->resp_cap : 4096;
        char *np;

        while (cap < a->resp_len + len + 1)
            cap *= 2;
        np = realloc(a->resp, cap);
        if (!np)
            return 0;
        a->resp = np;
        a->resp_cap = cap;
    }
    memcpy(a->resp + a->resp_len, p, len);
    a->resp_len += len;
    a->resp[a->resp_len] = '\0';
    return len;
}

/* Keep the session id and the content type of each response. */
static size_t bench_header_cb(char *p, size_t size, size_t n, void *ud)
{
    struct bench_agent *a = ud;
    size_t len = size * n, k;
    char *dst = NULL;
    size_t cap = 0;

    if (len > 15 && strncasecmp(p, "mcp-session-id:", 15) == 0) {
        k = 15;
        dst = a->session;
        cap = sizeof(a->session);
    } else if (len > 13 && strncasecmp(p, "content-type:", 13) == 0) {
        k = 13;
        dst = a->content_type;
        cap = sizeof(a->content_type);
    }
    if (dst) {
        size_t m;

        while (k < len && (p[k] == ' ' || p[k] == '\t'))
            k++;
        m = len - k;
        while (m > 0 && (p[k + m - 1] == '\r' || p[k + m - 1] == '\n' || p[k + m - 1] == ' '))
            m--;
        if (m >= cap)
            m = cap - 1;
        memcpy(dst, p + k, m);
        dst[m] = '\0';
    }
    return len;
}

static void bench_set_headers(struct bench_agent *a)
{
    char line[512];

    curl_slist_free_all(a->hdrs);
    a->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    a->hdrs = curl_slist_append(a->hdrs, "Accept: application/json, text/event-stream");
    snprintf(line, sizeof(line), "Authorization: Bearer %s", a->token);
    a->hdrs = curl_slist_append(a->hdrs, line);
    a->hdrs = curl_slist_append(a->hdrs, "Expect:");
    if (bench_o.modern)
        a->hdrs = curl_slist_append(a->hdrs, "MCP-Protocol-Version: " BENCH_MODERN);
    else if (a->session[0]) {
        snprintf(line, sizeof(line), "Mcp-Session-Id: %s", a->session);
        a->hdrs = curl_slist_append(a->hdrs, line);
        a->hdrs = curl_slist_append(a->hdrs, "MCP-Protocol-Version: " BENCH_PROTOCOL);
    }
    curl_easy_setopt(a->h, CURLOPT_HTTPHEADER, a->hdrs);
}

/*
 * POST one JSON-RPC message. For a request (id > 0) *result gets the "result" member (owned by
 * the caller); a notification expects 202. Returns 0, or -1 with a->err set.
 */
static int bench_post(struct bench_agent *a, const char *body, long id, json_t **result)
{
    long status = 0;
    CURLcode cc;
    json_t *doc = NULL, *r;
    json_error_t je;
    const char *json = NULL;

    if (result)
        *result = NULL;
    a->resp_len = 0;
    a->content_type[0] = '\0';
    if (a->resp)
        a->resp[0] = '\0';
    curl_easy_setopt(a->h, CURLOPT_POSTFIELDS, body);
    cc = curl_easy_perform(a->h);
    if (cc != CURLE_OK) {
        snprintf(a->err, sizeof(a->err), "curl: %s", curl_easy_strerror(cc));
        return -1;
    }
    curl_easy_getinfo(a->h, CURLINFO_RESPONSE_CODE, &status);
    if (id == 0) {
        if (status != 202 && status != 200) {
            snprintf(a->err, sizeof(a->err), "notification: HTTP %ld", status);
            return -1;
        }
        return 0;
    }
    if (status != 200) {
        snprintf(a->err, sizeof(a->err), "HTTP %ld: %.300s", status, a->resp ? a->resp : "");
        return -1;
    }
    json = a->resp ? a->resp : "";
    /* An SSE answer carries the response as the last "data:" line. */
    if (strncasecmp(a->content_type, "text/event-stream", 17) == 0) {
        const char *d = NULL, *p = json;

        while ((p = strstr(p, "data:")) != NULL) {
            if (p[5] == ' ' || p[5] == '{')
                d = p + 5;
            p += 5;
        }
        json = d ? d : "";
    }
    doc = json_loads(json, JSON_DISABLE_EOF_CHECK, &je);
    if (!doc) {
        snprintf(a->err, sizeof(a->err), "bad JSON: %s: %.200s", je.text, json);
        return -1;
    }
    r = json_object_get(doc, "result");
    if (!r) {
        char *e = json_dumps(json_object_get(doc, "error"), JSON_COMPACT);

        snprintf(a->err, sizeof(a->err), "JSON-RPC error: %.400s", e ? e : "?");
        free(e);
        json_decref(doc);
        return -1;
    }
    if (result)
        *result = json_incref(r);
    json_decref(doc);
    return 0;
}

/*
 * One request. Modern era: `params` (an object, or NULL) gets _meta, and the request carries
 * Mcp-Method (and Mcp-Name: `name`, for tools/call) on top of the agent's headers.
 */
static int bench_request_named(struct bench_agent *a, const char *method, const char *params,
                               const char *name, json_t **result)
{
    char body[2048], mh[160], nh[160];
    long id = ++a->next_id;
    struct curl_slist *extra = NULL, *last;
    int rc;

    if (!bench_o.modern) {
        snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\"%s%s}", id,
                 method, params ? ",\"params\":" : "", params ? params : "");
        return bench_post(a, body, id, result);
    }
    /* params is "{...}": splice _meta in before its closing brace */
    snprintf(body, sizeof(body),
             "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\",\"params\":{%.*s%s" BENCH_META "}}",
             id, method, params ? (int)strlen(params) - 2 : 0, params ? params + 1 : "",
             params && strlen(params) > 2 ? "," : "");
    snprintf(mh, sizeof(mh), "Mcp-Method: %s", method);
    extra = curl_slist_append(NULL, mh);
    if (name) {
        snprintf(nh, sizeof(nh), "Mcp-Name: %s", name);
        curl_slist_append(extra, nh);
    }
    /* append the per-request headers to the agent's list for this one request */
    for (last = a->hdrs; last && last->next; last = last->next)
        ;
    if (last)
        last->next = extra;
    curl_easy_setopt(a->h, CURLOPT_HTTPHEADER, a->hdrs ? a->hdrs : extra);
    rc = bench_post(a, body, id, result);
    if (last)
        last->next = NULL;
    curl_slist_free_all(extra);
    curl_easy_setopt(a->h, CURLOPT_HTTPHEADER, a->hdrs);
    return rc;
}

static int bench_request(struct bench_agent *a, const char *method, const char *params,
                         json_t **result)
{
    return bench_request_named(a, method, params, NULL, result);
}

/* A tool call; *out = structuredContent (owned). An isError result is an error. */
static int bench_tool(struct bench_agent *a, const char *name, const char *args, json_t **out)
{
    char params[1024];
    json_t *r = NULL;

    *out = NULL;
    snprintf(params, sizeof(params), "{\"name\":\"%s\",\"arguments\":%s}", name, args);
    if (bench_request_named(a, "tools/call", params, name, &r) < 0)
        return -1;
    if (json_is_true(json_object_get(r, "isError"))) {
        json_t *c = json_array_get(json_object_get(r, "content"), 0);

        snprintf(a->err, sizeof(a->err), "%s: isError: %.400s", name,
                 json_string_value(json_object_get(c, "text"))
                     ? json_string_value(json_object_get(c, "text"))
                     : "?");
        json_decref(r);
        return -1;
    }
    *out = json_incref(json_object_get(r, "structuredContent"));
    json_decref(r);
    if (!*out) {
        snprintf(a->err, sizeof(a->err), "%s: no structuredContent", name);
        return -1;
    }
    return 0;
}

static int bench_connect(struct bench_agent *a)
{
    char url[1024];
    json_t *r = NULL;

    a->h = curl_easy_init();
    if (!a->h) {
        snprintf(a->err, sizeof(a->err), "curl_easy_init failed");
        return -1;
    }
    snprintf(url, sizeof(url), "%s/mcp", bench_o.url);
    curl_easy_setopt(a->h, CURLOPT_URL, url);
    curl_easy_setopt(a->h, CURLOPT_WRITEFUNCTION, bench_write_cb);
    curl_easy_setopt(a->h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(a->h, CURLOPT_HEADERFUNCTION, bench_header_cb);
    curl_easy_setopt(a->h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(a->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(a->h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(a->h, CURLOPT_TIMEOUT, (long)bench_o.wait + 30L);
    a->session[0] = '\0';
    bench_set_headers(a);
    if (bench_o.modern) /* stateless: nothing to set up */
        return 0;
    if (bench_request(a, "initialize",
                      "{\"protocolVersion\":\"" BENCH_PROTOCOL "\",\"capabilities\":{},"
                      "\"clientInfo\":{\"name\":\"drover-bench\",\"version\":\"1\"}}",
                      &r) < 0)
        return -1;
    json_decref(r);
    bench_set_headers(a); /* now with the session id, if the server gave one */
    return bench_post(a, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", 0, NULL);
}

static void bench_fail(struct bench_agent *a, const char *what)
{
    long n = atomic_fetch_add(&bench_errors, 1);

    if (n < 5)
        fprintf(stderr, "drover-bench: agent %d: %s: %s\n", a->index, what, a->err);
}

/* Wait until every agent has its session, so no run measures connection setup. */
static void bench_ready_wait(void)
{
    pthread_mutex_lock(&bench_mu);
    bench_ready++;
    pthread_cond_broadcast(&bench_cv);
    pthread_mutex_unlock(&bench_mu);
}

/* Take a task; 1 = got one (*id, *epoch, *title/desc owned), 0 = none, -1 = error. */
static int bench_take(struct bench_agent *a, int wait, long long *id, long long *epoch, char **desc)
{
    char args[64];
    json_t *out = NULL, *t;

    snprintf(args, sizeof(args), "{\"wait_seconds\":%d}", wait);
    if (bench_tool(a, "get_next_task", args, &out) < 0)
        return -1;
    t = json_object_get(out, "task");
    if (!json_is_object(t)) {
        json_decref(out);
        return 0;
    }
    *id = json_integer_value(json_object_get(t, "id"));
    *epoch = json_integer_value(json_object_get(t, "lease_epoch"));
    if (desc) {
        const char *d = json_string_value(json_object_get(t, "description"));

        *desc = strdup(d ? d : "");
    }
    json_decref(out);
    return 1;
}

static int bench_complete(struct bench_agent *a, long long id, long long epoch)
{
    char args[160];
    json_t *out = NULL;
    int rc;

    snprintf(args, sizeof(args), "{\"task_id\":%lld,\"lease_epoch\":%lld,\"status\":\"completed\"}",
             id, epoch);
    rc = bench_tool(a, "update_task_status", args, &out);
    json_decref(out);
    return rc;
}

/*
 * One operation of an agent's loop: 1 when it completed one (counted while measuring), 0 when
 * the agent is to stop, -1 when none completed (a failure is reported by the operation).
 */
typedef int (*bench_op_fn)(struct bench_agent *a);

/*
 * The body every mode's agent thread shares: open the session, report ready (also when the
 * connect failed, so main does not wait for it), then repeat op until the run stops.
 */
static void *bench_run_agent(struct bench_agent *a, bench_op_fn op)
{
    if (bench_connect(a) < 0) {
        bench_fail(a, "connect");
        bench_ready_wait();
        return NULL;
    }
    bench_ready_wait();
    while (!atomic_load(&bench_stop)) {
        int got = op(a);

        if (got < 0)
            continue;
        if (got == 0)
            break;
        if (atomic_load(&bench_measuring))
            atomic_fetch_add(&bench_done, 1);
    }
    return NULL;
}

/* `tasks`: take a task from the pre-filled queue and complete it. */
static int bench_tasks_op(struct bench_agent *a)
{
    long long id, epoch;
    int got = bench_take(a, 0, &id, &epoch, NULL);

    if (got < 0) {
        bench_fail(a, "get_next_task");
        return -1;
    }
    if (got == 0) {
        snprintf(a->err, sizeof(a->err), "the queue ran dry: pre-fill more tasks");
        bench_fail(a, "get_next_task");
        return 0;
    }
    if (bench_complete(a, id, epoch) < 0) {
        bench_fail(a, "update_task_status");
        return -1;
    }
    return 1;
}

static int bench_ping_op(struct bench_agent *a)
{
    json_t *r = NULL;

    /* 2026-07-28 removed ping: its cheapest request is server/discover */
    if (bench_request(a, bench_o.modern ? "server/discover" : "ping", NULL, &r) < 0) {
        bench_fail(a, "ping");
        return -1;
    }
    json_decref(r);
    return 1;
}

/* `call`: a tool call that reaches the database (heartbeat) as fast as possible. */
static int bench_call_op(struct bench_agent *a)
{
    json_t *r = NULL;

    if (bench_tool(a, "heartbeat", "{\"status\":\"idle\"}", &r) < 0) {
        bench_fail(a, "heartbeat");
        return -1;
    }
    json_decref(r);
    return 1;
}

/*
 * `dispatch`: one long-poll; a task's description is its index, whose receipt time main
 * waits for. Nothing is counted in bench_done (bench_measuring stays false in this mode).
 */
static int bench_dispatch_op(struct bench_agent *a)
{
    long long id, epoch;
    char *desc = NULL;
    int got = bench_take(a, bench_o.wait, &id, &epoch, &desc);
    double now = clock_s();
    bool stop;

    if (got < 0) {
        bench_fail(a, "get_next_task");
        bench_sleep(0.05);
        return -1;
    }
    if (got == 0)
        return -1;
    stop = strncmp(desc, "stop", 4) == 0;
    if (!stop) {
        long idx = strtol(desc, NULL, 10);

        pthread_mutex_lock(&bench_mu);
        if (idx >= 0 && idx < bench_o.count) {
            bench_recv[idx] = now;
            bench_nlat++;
        }
        pthread_cond_broadcast(&bench_cv);
        pthread_mutex_unlock(&bench_mu);
    }
    if (bench_complete(a, id, epoch) < 0)
        bench_fail(a, "update_task_status");
    free(desc);
    return stop ? 0 : 1;
}

/* The thread entry points: main tells the modes apart by these. */
static void *bench_tasks_agent(void *arg)
{
    return bench_run_agent(arg, bench_tasks_op);
}
static void *bench_ping_agent(void *arg)
{
    return bench_run_agent(arg, bench_ping_op);
}
static void *bench_call_agent(void *arg)
{
    return bench_run_agent(arg, bench_call_op);
}
static void *bench_dispatch_agent(void *arg)
{
    return bench_run_agent(arg, bench_dispatch_op);
}

static double bench_pct(const double *v, long n, double p)
{
    long k;

    if (n == 0)
        return 0;
    k = (long)(p / 100.0 * (double)n + 0.999999) - 1; /* nearest rank */
    if (k < 0)
        k = 0;
    if (k >= n)
        k = n - 1;
    return v[k];
}

static int bench_load_tokens(int n)
{
    FILE *f = fopen(bench_o.tokens, "r");
    char line[512];
    int i = 0;

    if (!f) {
        perror(bench_o.tokens);
        return -1;
    }
    while (i < n && fgets(line, sizeof(line), f)) {
        struct bench_agent *a = &bench_agents[i];

        if (sscanf(line, "%63s %255s", a->agent_id, a->token) != 2)
            continue;
        a->index = i++;
    }
    fclose(f);
    if (i < n) {
        fprintf(stderr, "drover-bench: %s has %d agent tokens, %d needed\n", bench_o.tokens, i, n);
        return -1;
    }
    return 0;
}

/* Enqueue C tasks one at a time and wait for each to be received. */
static int bench_dispatch_enqueue(PGconn *pg)
{
    for (int i = 0; i < bench_o.count && atomic_load(&bench_errors) == 0; i++) {
        char desc[64];
        const char *params[1] = {desc};
        PGresult *r;
        struct timespec dl;
        long want = i + 1;

        bench_sleep(0.01); /* let the previous receiver complete and poll again */
        snprintf(desc, sizeof(desc), "%d", i);
        bench_sent[i] = clock_s();
        r = PQexecParams(pg,
                         "INSERT INTO tasks (title, description, repo_url)"
                         " VALUES ('bench dispatch', $1, 'https://git.example/bench.git')",
                         1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fprintf(stderr, "drover-bench: enqueue: %s", PQerrorMessage(pg));
            PQclear(r);
            return -1;
        }
        PQclear(r);
        bench_acked[i] = clock_s();
        dl = clock_wall_in(10 * 1000);
        pthread_mutex_lock(&bench_mu);
        while (bench_nlat < want) {
            if (pthread_cond_timedwait(&bench_cv, &bench_mu, &dl) != 0)
                break;
        }
        pthread_mutex_unlock(&bench_mu);
        if (bench_nlat < want) {
            fprintf(stderr, "drover-bench: task %d was not received within 10 s\n", i + 1);
            return -1;
        }
    }
    return 0;
}

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: drover-bench tasks|dispatch|ping|call --url URL --tokens FILE --agents N\n"
               "         [--seconds S] [--warmup S] [--count C] [--wait W] [--database-url DSN]\n"
               "         [--era legacy|modern]\n");
}

int main(int argc, char **argv)
{
    void *(*fn)(void *) = NULL;
    pthread_t th[BENCH_MAX_AGENTS];
    PGconn *pg = NULL;
    double t0, t1;
    const char *era = "legacy";
    int rc = 1;
    const struct loadgen_opt opts[] = {
        {"url", LOADGEN_STR, &bench_o.url, NULL, 0},
        {"tokens", LOADGEN_STR, &bench_o.tokens, NULL, 0},
        {"agents", LOADGEN_INT, &bench_o.agents, NULL, 0},
        {"seconds", LOADGEN_DOUBLE, &bench_o.seconds, NULL, 0},
        {"warmup", LOADGEN_DOUBLE, &bench_o.warmup, NULL, 0},
        {"count", LOADGEN_INT, &bench_o.count, NULL, 0},
        {"wait", LOADGEN_INT, &bench_o.wait, NULL, 0},
        {"database-url", LOADGEN_STR, &bench_o.database_url, NULL, 0},
        {"era", LOADGEN_STR, &era, "modern legacy", 0},
        {"help", LOADGEN_HELP, NULL, NULL, 'h'},
        {NULL, 0, NULL, NULL, 0},
    };

    bench_o =
        (struct bench_opts){NULL, "http://127.0.0.1:8080", NULL, NULL, 8, 200, 5, 10, 1, false};
    if (argc < 2) {
        bench_usage(stderr);
        return 2;
    }
    bench_o.mode = argv[1];
    switch (loadgen_parse(argc, argv, 2, opts)) {
    case 0:
        break;
    case 1:
        bench_usage(stdout);
        return 0;
    default:
        bench_usage(stderr);
        return 2;
    }
    bench_o.modern = strcmp(era, "modern") == 0;
    if (strcmp(bench_o.mode, "tasks") == 0)
        fn = bench_tasks_agent;
    else if (strcmp(bench_o.mode, "ping") == 0)
        fn = bench_ping_agent;
    else if (strcmp(bench_o.mode, "dispatch") == 0)
        fn = bench_dispatch_agent;
    else if (strcmp(bench_o.mode, "call") == 0)
        fn = bench_call_agent;
    if (!fn || !bench_o.tokens || bench_o.agents < 1 || bench_o.agents > BENCH_MAX_AGENTS ||
        bench_o.seconds <= 0 || bench_o.warmup < 0 || bench_o.count < 1 || bench_o.wait < 1) {
        bench_usage(stderr);
        return 2;
    }
    if (bench_load_tokens(bench_o.agents) < 0)
        return 1;
    if (fn == bench_dispatch_agent) {
        pg = PQconnectdb(bench_o.database_url ? bench_o.database_url : "");
        if (PQstatus(pg) != CONNECTION_OK) {
            fprintf(stderr, "drover-bench: database: %s", PQerrorMessage(pg));
            PQfinish(pg);
            return 1;
        }
        bench_sent = calloc((size_t)bench_o.count, sizeof(double));
        bench_acked = calloc((size_t)bench_o.count, sizeof(double));
        bench_recv = calloc((size_t)bench_o.count, sizeof(double));
        if (!bench_sent || !bench_acked || !bench_recv)
            goto out;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int i = 0; i < bench_o.agents; i++)
        pthread_create(&th[i], NULL, fn, &bench_agents[i]);
    pthread_mutex_lock(&bench_mu);
    while (bench_ready < bench_o.agents)
        pthread_cond_wait(&bench_cv, &bench_mu);
    pthread_mutex_unlock(&bench_mu);

    if (fn == bench_dispatch_agent) {
        bench_sleep(0.3); /* every agent is now parked in its long-poll */
        t0 = clock_s();
        int erc = atomic_load(&bench_errors) == 0 ? bench_dispatch_enqueue(pg) : -1;
        t1 = clock_s();
        /* One "stop" task per agent ends each long-poll loop promptly. */
        PGresult *r = PQexec(pg, "INSERT INTO tasks (title, description, repo_url) SELECT"
                                 " 'bench stop', 'stop', 'https://git.example/bench.git'"
                                 " FROM generate_series(1, 256)");
        PQclear(r);
        atomic_store(&bench_stop, true);
        for (int i = 0; i < bench_o.agents; i++)
            pthread_join(th[i], NULL);
        PQclear(PQexec(pg, "DELETE FROM tasks WHERE title = 'bench stop' AND state = 'backlog'"));
        /*
         * The headline is measured from the commit acknowledgement: from then on the task is
         * runnable and the rest is droverd's (NOTIFY, wake, claim, answer). from_send also counts
         * the INSERT's own round trip and commit; a receipt may even beat the acknowledgement,
         * since the NOTIFY goes out at commit.
         */
        double *lc = calloc((size_t)bench_o.count, sizeof(double));
        double *ls = calloc((size_t)bench_o.count, sizeof(double));
        long n = 0;

        for (int i = 0; lc && ls && i < bench_o.count; i++) {
            if (bench_recv[i] <= 0)
                continue;
            lc[n] = (bench_recv[i] - bench_acked[i]) * 1000.0;
            ls[n++] = (bench_recv[i] - bench_sent[i]) * 1000.0;
        }
        if (lc && ls) {
            qsort(lc, (size_t)n, sizeof(double), loadgen_cmp_double);
            qsort(ls, (size_t)n, sizeof(double), loadgen_cmp_double);
        }
        printf("{\"mode\":\"dispatch\",\"agents\":%d,\"count\":%ld,\"seconds\":%.3f,"
               "\"dispatch_p50_ms\":%.3f,\"dispatch_p99_ms\":%.3f,\"dispatch_max_ms\":%.3f,"
               "\"from_send_p50_ms\":%.3f,\"from_send_p99_ms\":%.3f,\"errors\":%ld}\n",
               bench_o.agents, n, t1 - t0, bench_pct(lc, n, 50), bench_pct(lc, n, 99),
               bench_pct(lc, n, 100), bench_pct(ls, n, 50), bench_pct(ls, n, 99),
               atomic_load(&bench_errors));
        free(lc);
        free(ls);
        rc = erc == 0 && atomic_load(&bench_errors) == 0 && bench_nlat == bench_o.count ? 0 : 1;
    } else {
        bench_sleep(bench_o.warmup);
        atomic_store(&bench_measuring, true);
        t0 = clock_s();
        double c0 = loadgen_cpu_s();
        bench_sleep(bench_o.seconds);
        atomic_store(&bench_measuring, false);
        t1 = clock_s();
        double c1 = loadgen_cpu_s();
        atomic_store(&bench_stop, true);
        for (int i = 0; i < bench_o.agents; i++)
            pthread_join(th[i], NULL);
        long n = atomic_load(&bench_done);
        printf("{\"mode\":\"%s\",\"agents\":%d,\"seconds\":%.3f,\"%s\":%ld,\"%s_per_s\":%.1f,"
               "\"client_cpu_s\":%.3f,\"errors\":%ld}\n",
               bench_o.mode, bench_o.agents, t1 - t0,
               fn == bench_ping_agent   ? "pings"
               : fn == bench_call_agent ? "calls"
                                        : "tasks",
               n,
               fn == bench_ping_agent   ? "ping"
               : fn == bench_call_agent ? "call"
                                        : "tasks",
               (double)n / (t1 - t0), c1 - c0, atomic_load(&bench_errors));
        rc = atomic_load(&bench_errors) == 0 && n > 0 ? 0 : 1;
    }
out:
    for (int i = 0; i < bench_o.agents; i++) {
        if (bench_agents[i].h)
            curl_easy_cleanup(bench_agents[i].h);
        curl_slist_free_all(bench_agents[i].hdrs);
        free(bench_agents[i].resp);
    }
    free(bench_sent);
    free(bench_acked);
    free(bench_recv);
    PQfinish(pg);
    curl_global_cleanup();
    return rc;
}
