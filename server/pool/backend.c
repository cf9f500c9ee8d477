/*
 * Backend selection and the `none` backend (agents run elsewhere: the autoscaler still
 * computes and publishes its target, but creates and deletes nothing). Pool thread only.
 */
#include "pool/backend.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

static int none_create(struct backend *b, const struct backend_agent *a, struct backend_pod *out,
                       struct err *err)
{
    (void)b;
    (void)a;
    (void)out;
    return err_set(err, ERR_CONFLICT,
                   "pod backend 'none' cannot start agents: start them elsewhere and let them "
                   "register");
}

static int none_remove(struct backend *b, const char *name, const char *uid, struct err *err)
{
    (void)b;
    (void)name;
    (void)uid;
    (void)err;
    return 0; /* nothing runs here; a drained agent is told to stop by its heartbeat */
}

static int none_list(struct backend *b, struct backend_pod **pods, size_t *n, struct err *err)
{
    (void)b;
    (void)err;
    *pods = NULL;
    *n = 0;
    return 0;
}

static int none_poll(struct backend *b, backend_event_fn fn, void *arg, struct err *err)
{
    (void)b;
    (void)fn;
    (void)arg;
    (void)err;
    return 0;
}

static int none_logs(struct backend *b, const char *name, int tail_lines, bool follow,
                     struct buf *out, struct err *err)
{
    (void)b;
    (void)follow;
    (void)name;
    (void)tail_lines;
    (void)out;
    return err_set(err, ERR_NOT_FOUND, "pod backend 'none' keeps no agent logs");
}

static void none_destroy(struct backend *b)
{
    (void)b;
}

static const struct backend_ops none_ops = {"none",    none_create, none_remove,  none_list,
                                            none_poll, none_logs,   none_destroy, NULL};

int backend_open(const struct backend_cfg *cfg, struct backend **out, struct err *err)
{
    struct backend *b = mem_calloc(1, sizeof(*b));
    const char *kind = cfg->kind && *cfg->kind ? cfg->kind : "process";
    int rc;

    *out = NULL;
    b->cfg = *cfg;
    if (!b->cfg.agent_command || !*b->cfg.agent_command)
        b->cfg.agent_command = "drover-agent";
    if (!b->cfg.log_dir || !*b->cfg.log_dir)
        b->cfg.log_dir = "/tmp/drover-agents";
    if (b->cfg.grace_seconds <= 0)
        b->cfg.grace_seconds = 30;
    if (strcmp(kind, "none") == 0) {
        b->ops = &none_ops;
        rc = 0;
    } else if (strcmp(kind, "process") == 0) {
        rc = process_open(b, err);
    } else if (strcmp(kind, "kubernetes") == 0) {
        rc = k8s_open(b, err);
    } else {
        rc = err_set(err, ERR_INVALID, "unknown pod backend '%s' (process, kubernetes or none)",
                     kind);
    }
    if (rc < 0) {
        free(b);
        return -1;
    }
    *out = b;
    return 0;
}

void backend_close(struct backend *b)
{
    if (!b)
        return;
    b->ops->destroy(b);
    free(b);
}

int backend_create(struct backend *b, const struct backend_agent *a, struct backend_pod *out,
                   struct err *err)
{
    memset(out, 0, sizeof(*out));
    out->exit_code = -1;
    return b->ops->create(b, a, out, err);
}

int backend_remove(struct backend *b, const char *name, const char *uid, struct err *err)
{
    return b->ops->remove(b, name, uid, err);
}

int backend_list(struct backend *b, struct backend_pod **pods, size_t *n, struct err *err)
{
    return b->ops->list(b, pods, n, err);
}

int backend_poll(struct backend *b, backend_event_fn fn, void *arg, struct err *err)
{
    return b->ops->poll(b, fn, arg, err);
}

int backend_logs(struct backend *b, const char *name, int tail_lines, bool follow, struct buf *out,
                 struct err *err)
{
    return b->ops->logs(b, name, tail_lines, follow, out, err);
}

int backend_shutdown(struct backend *b, int grace_seconds)
{
    return b->ops->shutdown ? b->ops->shutdown(b, grace_seconds) : 0;
}

bool backend_manages_pods(const struct backend *b)
{
    return b->ops != &none_ops;
}
