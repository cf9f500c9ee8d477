/* droverctl pool get|set|scale (/api/pool). Single-threaded. */
#include "ctl_pool.h"
#include "ctl_args.h"
#include "ctl_out.h"

#include <stdio.h>

#define CTL_POOL_MAX_AGENTS 10000       /* the largest count droverctl sends */
#define CTL_POOL_MAX_PIN (30 * 86400LL) /* the longest --for, in seconds */

/* The pool's subcommands share one set of options (each ignores the ones it does not use). */
static const struct ctl_args_spec ctl_pool_spec[] = {
    {"min", 0, true}, {"max", 0, true}, {"for", 0, true}, {"unpin", 0, false}, {NULL, 0, false}};

/* Send `body` (owned: released here), print the answer. */
static int ctl_pool_send(struct ctl *ctl, const char *method, const char *path, json_t *body)
{
    json_t *out = NULL;
    int rc = ctl_out_call(ctl, method, path, body, NULL, &out);

    if (rc == CTL_OK)
        ctl_out_json(out);
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
    return ctl_pool_send(ctl, "GET", "/api/pool", NULL);
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
    return ctl_pool_send(ctl, "PUT", "/api/pool", body);
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
    return ctl_pool_send(ctl, "POST", "/api/pool/scale", body);
}
