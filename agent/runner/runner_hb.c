/* Heartbeats on their own thread and connection. */
#include "runner_hb.h"
#include "core/clock.h"
#include "core/log.h"

#include <errno.h>
#include <string.h>
#include <time.h>

int runner_hb_send(struct runner *r, struct mcpc *m, const char *status, struct err *err)
{
    json_t *args, *reply = NULL, *t;
    int64_t task_id;
    size_t i;
    int rc;

    pthread_mutex_lock(&r->lock);
    task_id = r->task_id;
    if (!status && r->cfg.unusable && !task_id)
        status = "unusable";
    args = json_pack("{s:s}", "status", status ? status : (task_id ? "busy" : "idle"));
    if (status && strcmp(status, "unusable") == 0)
        json_object_set_new(args, "reason", json_string(r->cfg.unusable));
    if (task_id)
        json_object_set_new(args, "task_ids", json_pack("[I]", (json_int_t)task_id));
    if (task_id && r->usage)
        json_object_set(args, "usage", r->usage);
    pthread_mutex_unlock(&r->lock);
    rc = mcpc_call(m, "heartbeat", args, 0, &reply, err);
    json_decref(args);
    if (rc < 0)
        return -1;
    /* droverd tells agents how often to beat (its --heartbeat-interval); follow it unless
     * HEARTBEAT_INTERVAL pins ours. */
    if (!r->cfg.heartbeat_fixed) {
        json_int_t hi = json_integer_value(json_object_get(reply, "heartbeat_interval"));
        if (hi >= 1 && hi <= 3600) {
            pthread_mutex_lock(&r->lock);
            r->cfg.heartbeat_s = (long)hi;
            pthread_mutex_unlock(&r->lock);
        }
    }
    json_array_foreach(json_object_get(reply, "tasks"), i, t)
    {
        if (json_integer_value(json_object_get(t, "id")) == task_id &&
            json_is_true(json_object_get(t, "cancelled"))) {
            pthread_mutex_lock(&r->lock);
            if (r->task_id == task_id && !r->cancelled) {
                r->cancelled = true;
                log_info("agent", "server cancelled the task task=%lld state=%s",
                         (long long)task_id, json_string_value(json_object_get(t, "state")));
            }
            pthread_mutex_unlock(&r->lock);
        }
    }
    json_decref(reply);
    return 0;
}

static void *runner_hb_main(void *ud)
{
    struct runner *r = ud;
    struct mcpc m;
    struct err err = {0};
    bool ready = false;

    if (mcpc_init(&m, r->cfg.server_url, r->cfg.token, &err) < 0) {
        log_error("agent", "heartbeat client (%s)", err.msg);
        return NULL;
    }
    pthread_mutex_lock(&r->lock);
    while (!r->hb_stop) {
        struct timespec until;

        pthread_mutex_unlock(&r->lock);
        if (!ready)
            ready = mcpc_initialize(&m, "drover-agent-heartbeat", "0.1.0", &err) == 0;
        if (ready && runner_hb_send(r, &m, NULL, &err) < 0)
            log_warn("agent", "heartbeat failed (%s)", err.msg);
        pthread_mutex_lock(&r->lock);
        until = clock_wall_in(r->cfg.heartbeat_s * 1000LL);
        while (!r->hb_stop && pthread_cond_timedwait(&r->hb_cond, &r->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&r->lock);
    mcpc_clear(&m);
    return NULL;
}

int runner_hb_start(struct runner *r, pthread_t *t, struct err *err)
{
    int e = pthread_create(t, NULL, runner_hb_main, r);

    return e ? err_set(err, ERR_INTERNAL, "pthread_create: %s", strerror(e)) : 0;
}

void runner_hb_stop(struct runner *r, pthread_t t)
{
    pthread_mutex_lock(&r->lock);
    r->hb_stop = true;
    pthread_cond_signal(&r->hb_cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(t, NULL);
}
