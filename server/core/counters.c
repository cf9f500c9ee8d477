/* Process-wide metric counters. Any thread. */
#include "core/counters.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Seconds; shared by the tool-call and claim histograms. */
static const double counters_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                         0.5,   1,    2.5,   5,    10,  30};
#define COUNTERS_NB (sizeof(counters_bounds) / sizeof(counters_bounds[0]))

struct counters_hist {
    unsigned long long bucket[COUNTERS_NB]; /* non-cumulative; rendered cumulatively */
    unsigned long long count;
    double sum;
};

struct counters_tool {
    char name[48];
    unsigned long long errors;
    struct counters_hist h;
};

static pthread_mutex_t counters_mu = PTHREAD_MUTEX_INITIALIZER;
static struct counters_tool counters_tools[COUNTERS_MAX_TOOLS + 1]; /* last = "other" */
static size_t counters_ntools;
static struct counters_hist counters_claims;
static unsigned long long counters_claims_empty;
static unsigned long long counters_scale[3];  /* up, down, hold */
static unsigned long long counters_outbox[3]; /* delivered, retry, dead */
static int counters_pool_size = -1, counters_pool_used;

static void counters_observe(struct counters_hist *h, double v)
{
    for (size_t i = 0; i < COUNTERS_NB; i++)
        if (v <= counters_bounds[i]) {
            h->bucket[i]++;
            break;
        }
    h->count++;
    h->sum += v;
}

/* Tool names become label values: keep [A-Za-z0-9_-] only so no escaping is ever needed. */
static void counters_clean(const char *in, char *out, size_t outsz)
{
    size_t o = 0;

    for (; in && *in && o + 1 < outsz; in++)
        out[o++] = (*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') ||
                           (*in >= '0' && *in <= '9') || *in == '_' || *in == '-'
                       ? *in
                       : '_';
    out[o] = '\0';
    if (!o)
        snprintf(out, outsz, "unknown");
}

void counters_tool_call(const char *tool, double seconds, bool ok)
{
    char name[48];
    struct counters_tool *t = NULL;

    counters_clean(tool, name, sizeof(name));
    pthread_mutex_lock(&counters_mu);
    for (size_t i = 0; i < counters_ntools && !t; i++)
        if (strcmp(counters_tools[i].name, name) == 0)
            t = &counters_tools[i];
    if (!t && counters_ntools < COUNTERS_MAX_TOOLS) {
        t = &counters_tools[counters_ntools++];
        snprintf(t->name, sizeof(t->name), "%s", name);
    }
    if (!t) {
        t = &counters_tools[COUNTERS_MAX_TOOLS];
        snprintf(t->name, sizeof(t->name), "other");
    }
    counters_observe(&t->h, seconds);
    if (!ok)
        t->errors++;
    pthread_mutex_unlock(&counters_mu);
}

void counters_claim(double seconds, bool found)
{
    pthread_mutex_lock(&counters_mu);
    counters_observe(&counters_claims, seconds);
    if (!found)
        counters_claims_empty++;
    pthread_mutex_unlock(&counters_mu);
}

void counters_scale_decision(const char *direction)
{
    int i = direction && strcmp(direction, "up") == 0     ? 0
            : direction && strcmp(direction, "down") == 0 ? 1
                                                          : 2;

    pthread_mutex_lock(&counters_mu);
    counters_scale[i]++;
    pthread_mutex_unlock(&counters_mu);
}

void counters_outbox_delivery(const char *result)
{
    int i = result && strcmp(result, "delivered") == 0 ? 0
            : result && strcmp(result, "dead") == 0    ? 2
                                                       : 1;

    pthread_mutex_lock(&counters_mu);
    counters_outbox[i]++;
    pthread_mutex_unlock(&counters_mu);
}

void counters_db_pool(int size, int in_use)
{
    pthread_mutex_lock(&counters_mu);
    counters_pool_size = size;
    counters_pool_used = in_use;
    pthread_mutex_unlock(&counters_mu);
}

static int counters_hist_render(struct buf *out, const char *name, const char *labels,
                                const struct counters_hist *h)
{
    unsigned long long cum = 0;
    const char *sep = labels[0] ? "," : "";
    int rc = 0;

    for (size_t i = 0; i < COUNTERS_NB; i++) {
        cum += h->bucket[i];
        rc |= buf_appendf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
                          counters_bounds[i], cum);
    }
    rc |= buf_appendf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, h->count);
    if (labels[0]) {
        rc |= buf_appendf(out, "%s_sum{%s} %.6f\n", name, labels, h->sum);
        rc |= buf_appendf(out, "%s_count{%s} %llu\n", name, labels, h->count);
    } else {
        rc |= buf_appendf(out, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name, h->count);
    }
    return rc ? -1 : 0;
}

int counters_render(struct buf *out)
{
    static const char *const dirs[3] = {"up", "down", "hold"};
    static const char *const results[3] = {"delivered", "retry", "dead"};
    size_t n;
    int rc = 0;

    pthread_mutex_lock(&counters_mu);
    n = counters_ntools;
    if (counters_tools[COUNTERS_MAX_TOOLS].name[0])
        n = COUNTERS_MAX_TOOLS + 1;
    rc |= buf_appendf(out, "# HELP drover_tool_calls_total MCP tool calls by tool.\n"
                           "# TYPE drover_tool_calls_total counter\n");
    for (size_t i = 0; i < n; i++)
        if (counters_tools[i].name[0])
            rc |= buf_appendf(out, "drover_tool_calls_total{tool=\"%s\"} %llu\n",
                              counters_tools[i].name, counters_tools[i].h.count);
    rc |= buf_appendf(out, "# HELP drover_tool_call_errors_total MCP tool calls that returned an "
                           "error, by tool.\n# TYPE drover_tool_call_errors_total counter\n");
    for (size_t i = 0; i < n; i++)
        if (counters_tools[i].name[0])
            rc |= buf_appendf(out, "drover_tool_call_errors_total{tool=\"%s\"} %llu\n",
                              counters_tools[i].name, counters_tools[i].errors);
    rc |= buf_appendf(out, "# HELP drover_tool_call_duration_seconds MCP tool call latency.\n"
                           "# TYPE drover_tool_call_duration_seconds histogram\n");
    for (size_t i = 0; i < n; i++)
        if (counters_tools[i].name[0]) {
            char labels[64];

            snprintf(labels, sizeof(labels), "tool=\"%.48s\"", counters_tools[i].name);
            rc |= counters_hist_render(out, "drover_tool_call_duration_seconds", labels,
                                       &counters_tools[i].h);
        }
    rc |= buf_appendf(out, "# HELP drover_claim_duration_seconds Latency of claiming a task "
                           "(get_next_task's dequeue).\n"
                           "# TYPE drover_claim_duration_seconds histogram\n");
    rc |= counters_hist_render(out, "drover_claim_duration_seconds", "", &counters_claims);
    rc |= buf_appendf(out,
                      "# HELP drover_claims_empty_total Claims that found no runnable "
                      "task.\n# TYPE drover_claims_empty_total counter\n"
                      "drover_claims_empty_total %llu\n",
                      counters_claims_empty);
    rc |= buf_appendf(out, "# HELP drover_scale_decisions_total Autoscaler decisions by "
                           "direction.\n# TYPE drover_scale_decisions_total counter\n");
    for (int i = 0; i < 3; i++)
        rc |= buf_appendf(out, "drover_scale_decisions_total{direction=\"%s\"} %llu\n", dirs[i],
                          counters_scale[i]);
    rc |= buf_appendf(out, "# HELP drover_outbox_deliveries_total Notification delivery attempts "
                           "by outcome (delivered, retry, dead).\n"
                           "# TYPE drover_outbox_deliveries_total counter\n");
    for (int i = 0; i < 3; i++)
        rc |= buf_appendf(out, "drover_outbox_deliveries_total{result=\"%s\"} %llu\n", results[i],
                          counters_outbox[i]);
    if (counters_pool_size >= 0)
        rc |= buf_appendf(out,
                          "# HELP drover_db_pool_connections Database connections of the worker "
                          "pool.\n# TYPE drover_db_pool_connections gauge\n"
                          "drover_db_pool_connections %d\n"
                          "# HELP drover_db_pool_in_use Database connections busy running a job.\n"
                          "# TYPE drover_db_pool_in_use gauge\ndrover_db_pool_in_use %d\n",
                          counters_pool_size, counters_pool_used);
    pthread_mutex_unlock(&counters_mu);
    return rc ? -1 : 0;
}

void counters_reset(void)
{
    pthread_mutex_lock(&counters_mu);
    memset(counters_tools, 0, sizeof(counters_tools));
    counters_ntools = 0;
    memset(&counters_claims, 0, sizeof(counters_claims));
    counters_claims_empty = 0;
    memset(counters_scale, 0, sizeof(counters_scale));
    memset(counters_outbox, 0, sizeof(counters_outbox));
    counters_pool_size = -1;
    counters_pool_used = 0;
    pthread_mutex_unlock(&counters_mu);
}
