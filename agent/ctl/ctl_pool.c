/* droverctl pool get|set|scale (/api/pool). Single-threaded. */
#include "ctl_pool.h"
#include "ctl_args.h"
#include "ctl_out.h"
#include "ctl_table.h"

#include <stdio.h>
#include <string.h>

#define CTL_POOL_MAX_AGENTS 10000       /* the largest count droverctl sends */
#define CTL_POOL_MAX_PIN (30 * 86400LL) /* the longest --for, in seconds */

/* The pool's subcommands share one set of options (each ignores the ones it does not use). */
static const struct ctl_args_spec ctl_pool_spec[] = {
    {"min", 0, true}, {"max", 0, true}, {"for", 0, true}, {"unpin", 0, false}, {NULL, 0, false}};

#define CTL_POOL_DECISIONS 5 /* scale decisions the summary lists */

/* The recent scale decisions, newest first. */
static void ctl_pool_decisions(const json_t *decisions)
{
    static const char *const cols[] = {"TIME",    "TRIGGER", "CURRENT", "TARGET",
                                       "CREATES", "DELETES", "REASON",  NULL};
    struct ctl_table t;
    const json_t *d;
    size_t i;

    if (json_array_size(decisions) == 0) {
        printf("no scale decisions yet\n");
        return;
    }
    ctl_table_init(&t, cols);
    json_array_foreach(decisions, i, d)
    {
        char cur[24], tgt[24], cr[24], del[24];
        const char *row[7];

        if (i >= CTL_POOL_DECISIONS)
            break;
        snprintf(cur, sizeof(cur), "%lld", ctl_out_int(d, "current"));
        snprintf(tgt, sizeof(tgt), "%lld", ctl_out_int(d, "target"));
        snprintf(cr, sizeof(cr), "%lld", ctl_out_int(d, "creates"));
        snprintf(del, sizeof(del), "%lld", ctl_out_int(d, "deletes"));
        row[0] = ctl_out_str(d, "ts");
        row[1] = ctl_out_str(d, "trigger");
        row[2] = cur;
        row[3] = tgt;
        row[4] = cr;
        row[5] = del;
        row[6] = ctl_out_str(d, "reason");
        ctl_table_row(&t, row);
    }
    printf("recent scale decisions:\n");
    ctl_table_print(&t, stdout);
    ctl_table_free(&t);
}

/* GET /api/pool's answer as a short summary: bounds and pin, agents, tasks, leader, decisions. */
static void ctl_pool_summary(const json_t *p)
{
    const json_t *s = json_object_get(p, "settings"), *n = json_object_get(p, "counts");
    const json_t *leader = json_object_get(p, "leader");

    printf("pool:    min %lld, max %lld (hard cap %lld); ", ctl_out_int(s, "min_agents"),
           ctl_out_int(s, "max_agents"), ctl_out_int(s, "hard_cap"));
    if (json_is_integer(json_object_get(s, "pinned_target")))
        printf("pinned to %lld until %s\n", ctl_out_int(s, "pinned_target"),
               ctl_out_str(s, "pinned_until"));
    else
        printf("not pinned\n");
    printf("agents:  %lld busy, %lld idle, %lld starting, %lld draining\n", ctl_out_int(n, "busy"),
           ctl_out_int(n, "idle"), ctl_out_int(n, "starting"), ctl_out_int(n, "draining"));
    printf("tasks:   %lld runnable, %lld delayed, %lld in progress\n", ctl_out_int(n, "backlog"),
           ctl_out_int(n, "delayed"), ctl_out_int(n, "in_progress"));
    if (json_is_object(leader))
        printf("leader:  %s (since %s)\n", ctl_out_str(leader, "replica"),
               ctl_out_str(leader, "since"));
    else
        printf("leader:  none (no replica runs the autoscaler)\n");
    ctl_pool_decisions(json_object_get(p, "decisions"));
}

/* Send `body` (owned: released here); print the answer, after `what` changed (NULL: a read). */
static int ctl_pool_send(struct ctl *ctl, const char *method, const char *path, json_t *body,
                         const char *what)
{
    json_t *out = NULL;
    int rc = ctl_out_call(ctl, method, path, body, NULL, &out);

    if (rc == CTL_OK && ctl->json) {
        ctl_out_json(out);
    } else if (rc == CTL_OK) {
        if (what)
            printf("%s\n", what);
        ctl_pool_summary(out);
    }
    json_decref(body);
    json_decref(out);
    return rc;
}

int ctl_pool_get(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_args a;
    int rc = ctl_args_parse(ctl, argc, argv, ctl_pool_spec, &a, 0, 0);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    return ctl_pool_send(ctl, "GET", "/api/pool", NULL, NULL);
}

int ctl_pool_set(struct ctl *ctl, int argc, char **argv)
{
    static const struct {
        const char *opt, *what, *field;
    } bounds[] = {{"min", "--min", "min_agents"}, {"max", "--max", "max_agents"}};
    struct ctl_args a;
    json_t *body;
    long long v;
    int rc = ctl_args_parse(ctl, argc, argv, ctl_pool_spec, &a, 0, 0);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    if (!ctl_args_opt(&a, "min") && !ctl_args_opt(&a, "max")) {
        fprintf(stderr, "droverctl pool set: give --min and/or --max\n");
        return CTL_USAGE;
    }
    body = json_object();
    for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
        const char *s = ctl_args_opt(&a, bounds[i].opt);

        if (!s)
            continue;
        if (ctl_args_int(s, bounds[i].what, 0, CTL_POOL_MAX_AGENTS, &v) < 0) {
            json_decref(body);
            return CTL_USAGE;
        }
        json_object_set_new(body, bounds[i].field, json_integer(v));
    }
    return ctl_pool_send(ctl, "PUT", "/api/pool", body, "pool bounds updated");
}

/* The POST /api/pool/scale body: {"count": null} to unpin, else the count and its TTL. */
static json_t *ctl_pool_scale_body(const struct ctl_args *a)
{
    json_t *body = json_object();
    long long v;

    if (ctl_args_opt(a, "unpin")) {
        if (a->npos) {
            fprintf(stderr, "droverctl pool scale: give TARGET or --unpin, not both\n");
            goto usage;
        }
        json_object_set_new(body, "count", json_null());
        return body;
    }
    if (a->npos != 1) {
        fprintf(stderr, "droverctl pool scale: give TARGET or --unpin\n");
        goto usage;
    }
    if (ctl_args_int(a->pos[0], "TARGET", 0, CTL_POOL_MAX_AGENTS, &v) < 0)
        goto usage;
    json_object_set_new(body, "count", json_integer(v));
    if (ctl_args_opt(a, "for")) {
        if (ctl_args_int(ctl_args_opt(a, "for"), "--for", 1, CTL_POOL_MAX_PIN, &v) < 0)
            goto usage;
        json_object_set_new(body, "ttl_seconds", json_integer(v));
    }
    return body;
usage:
    json_decref(body);
    return NULL;
}

int ctl_pool_scale(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_args a;
    json_t *body;
    int rc = ctl_args_parse(ctl, argc, argv, ctl_pool_spec, &a, 0, 1);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    if (!(body = ctl_pool_scale_body(&a)))
        return CTL_USAGE;
    return ctl_pool_send(ctl, "POST", "/api/pool/scale", body,
                         json_is_null(json_object_get(body, "count")) ? "pool unpinned"
                                                                      : "pool pinned");
}
