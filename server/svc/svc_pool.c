/* Admin steering of the pool. Worker threads. */
#include "svc/svc_pool.h"
#include "pool/agentpool.h"
#include "store/poolstore.h"
#include "store/queue.h"

#include <math.h>
#include <time.h>

/* The number of leases the forced stop of one agent may hand back in one sweep. */
#define SVC_POOL_REAP_BATCH 100

static json_t *svc_pool_time(double epoch)
{
    char s[40];
    time_t t;
    struct tm tm;

    if (epoch <= 0)
        return json_null();
    if (isinf(epoch))
        return json_string("infinity");
    t = (time_t)epoch;
    gmtime_r(&t, &tm);
    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(s);
}

int svc_pool_hard_cap(struct svc_ctx *c)
{
    return agentpool_hard_cap(c->env->pool);
}

int svc_pool_get(struct svc_ctx *c, json_t **out, struct err *err)
{
    struct poolstore_settings s;
    struct queue_counts n;
    json_t *leader = NULL, *events = NULL, *audit = NULL;
    bool pinned;

    *out = NULL;
    if (poolstore_settings_get(c->db, &s, err) < 0 || queue_counts(c->db, &n, err) < 0 ||
        poolstore_leader_get(c->db, &leader, err) < 0 ||
        poolstore_events(c->db, 20, &events, err) < 0 ||
        poolstore_audit_list(c->db, 20, &audit, err) < 0) {
        json_decref(leader);
        json_decref(events);
        return -1;
    }
    pinned = s.pinned_target >= 0 && s.pinned_until > s.now;
    *out = json_pack("{s:{s:i,s:i,s:i,s:o,s:o},s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:o,s:o,s:o}",
                     "settings", "min_agents", s.min_agents, "max_agents", s.max_agents, "hard_cap",
                     svc_pool_hard_cap(c), "pinned_target",
                     pinned ? json_integer(s.pinned_target) : json_null(), "pinned_until",
                     pinned ? svc_pool_time(s.pinned_until) : json_null(), "counts", "backlog",
                     (json_int_t)n.backlog, "delayed", (json_int_t)n.delayed, "in_progress",
                     (json_int_t)n.in_progress, "busy", (json_int_t)n.busy, "idle",
                     (json_int_t)n.idle, "starting", (json_int_t)n.starting, "draining",
                     (json_int_t)n.draining, "leader", leader, "decisions", events, "audit", audit);
    /* Runnable tasks a project's max_in_progress holds back: they add no pods. */
    json_object_set_new(json_object_get(*out, "counts"), "held", json_integer(n.held));
    return 0;
}

int svc_pool_set(struct svc_ctx *c, const char *actor, const int *min_agents, const int *max_agents,
                 struct err *err)
{
    struct poolstore_settings s;

    if (!min_agents && !max_agents)
        return err_set(err, ERR_INVALID, "give min_agents and/or max_agents");
    if (poolstore_settings_get(c->db, &s, err) < 0)
        return -1;
    return poolstore_settings_set(c->db, actor, min_agents ? *min_agents : s.min_agents,
                                  max_agents ? *max_agents : s.max_agents, svc_pool_hard_cap(c),
                                  err);
}

int svc_pool_pin(struct svc_ctx *c, const char *actor, bool unpin, int count, int ttl_seconds,
                 struct err *err)
{
    return poolstore_pin(c->db, actor, unpin ? 0 : count, unpin ? -1 : ttl_seconds,
                         svc_pool_hard_cap(c), err);
}

int svc_pool_agent_start(struct svc_ctx *c, const char *actor, char id[37], struct err *err)
{
    json_t *detail;

    if (poolstore_agent_request(c->db, actor, id, err) < 0)
        return -1;
    detail = json_pack("{s:s}", "agent_id", id);
    poolstore_audit(c->db, actor, "start_agent", detail, NULL);
    json_decref(detail);
    return 0;
}

int svc_pool_agent_stop(struct svc_ctx *c, const char *actor, const char *id, bool force,
                        char before[16], struct err *err)
{
    json_t *detail;

    if (poolstore_agent_stop(c->db, id, force, before, err) < 0)
        return -1;
    detail = json_pack("{s:s,s:s,s:b}", "agent_id", id, "previous_status", before, "force", force);
    poolstore_audit(c->db, actor, "stop_agent", detail, NULL);
    json_decref(detail);
    if (force) {
        int n;

        /* Its task goes back to the queue now; the agent is told to stop by its heartbeat. */
        queue_reap(c->db, SVC_POOL_REAP_BATCH, &n, NULL);
    }
    return 0;
}
