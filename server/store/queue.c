/*
 * The task queue's SQL. Worker threads only (blocking libpq on the caller's connection).
 */
#include "store/queue.h"
#include "store/queue_int.h"
#include "store/taskjson.h"
#include "core/mem.h"
#include "core/buf.h"
#include "core/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The JSON every caller sees for a task `t` joined with its project `p`. */
#define TASK_JSON TASKJSON_SQL "::text"

static const struct db_stmt st_enqueue = {
    "queue_enqueue",
    "WITH fp AS (SELECT CASE WHEN $10::text IS NOT NULL THEN md5(jsonb_build_array($1::text,"
    "  coalesce($2::text, ''), $3::int, $4::text, $5::bigint, $6::text, $7::text, $8::int,"
    "  $9::int, $11::bigint, $12::jsonb, $14::int)::text) END AS f),"
    " ins AS (INSERT INTO tasks (title, description, priority, model, project_id, repo_url,"
    "  base_branch, max_attempts, timeout_seconds, idempotency_key, parent_id, budget, run_after,"
    "  idem_fingerprint)"
    " VALUES ($1, coalesce($2, ''), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb,"
    "  now() + make_interval(secs => $13), (SELECT f FROM fp))"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING *),"
    " act AS (INSERT INTO activity (task_id, kind, message, metadata)"
    "  SELECT id, 'state', 'created -> backlog', jsonb_build_object('to', 'backlog') FROM ins)"
    " SELECT true AS created, true AS same, " TASK_JSON " AS task FROM ins t"
    "  LEFT JOIN projects p ON p.id = t.project_id"
    " UNION ALL"
    " SELECT false, coalesce(t.idem_fingerprint = (SELECT f FROM fp), true), " TASK_JSON
    "  FROM tasks t LEFT JOIN projects p ON p.id = t.project_id"
    "  WHERE $10::text IS NOT NULL AND t.idempotency_key = $10 AND NOT EXISTS (SELECT 1 FROM ins)",
    14};

/* Mark a freshly enqueued task as a fan-out group of $2 (never claimable, in_progress). */
static const struct db_stmt st_group = {
    "queue_group",
    "WITH u AS (UPDATE tasks SET is_group = true, state = 'in_progress', run_after = now(),"
    "  updated_at = now() WHERE id = $1 AND state = 'backlog' RETURNING id)"
    " INSERT INTO activity (task_id, kind, message, metadata)"
    " SELECT id, 'state', 'backlog -> in_progress: fan-out to ' || $2 || ' agents',"
    " jsonb_build_object('from', 'backlog', 'to', 'in_progress', 'fanout', $2::int) FROM u"
    " RETURNING task_id",
    2};

static const struct db_stmt st_project_exists = {"queue_project_exists",
                                                 "SELECT 1 FROM projects WHERE id = $1", 1};
static const struct db_stmt st_task_exists = {"queue_task_exists",
                                              "SELECT 1 FROM tasks WHERE id = $1", 1};

/*
 * The claim. A task is picked first and the agent row locked only when there is one, so a claim
 * that finds nothing takes no lock and writes nothing (no transaction id, no WAL flush at
 * commit): most claims are a long-poll finding an empty backlog, 500/s at 10,000 idle agents.
 * When a task is picked, locking the agent row serialises the claim against a concurrent drain
 * of the same agent: if the drain committed first, the lock wait returns the row as drained
 * and the task is not taken; otherwise the drain's `status = 'idle'` re-check sees `busy`.
 * Locks go task, then agent, as in the reaper and update_status.
 *
 * An agent holds at most $3 tasks (--max-tasks-per-agent, default 1), so one agent token
 * cannot drain the backlog and read every prompt. `held` counts in the statement's snapshot;
 * a concurrent claim by the same agent that committed after that snapshot also changed the
 * agent row (busy CTE), so the locked row's xmin differs from the snapshot's and this claim
 * takes nothing (the caller sees no task and polls again). Fan-out groups (is_group) are
 * never claimed, whatever their state: a group is its children.
 */
static const struct db_stmt st_claim = {
    "queue_claim",
    "WITH held AS (SELECT count(*) AS n FROM tasks WHERE agent_id = $1 AND state = 'in_progress'"
    "  AND NOT is_group),"
    " pick AS (SELECT t.id, t.project_id, drover_project_limit(p.settings) AS lim,"
    "  drover_repo_limit(p.settings) AS rlim, coalesce(t.repo_url, p.repo_url) AS repo"
    "  FROM tasks t LEFT JOIN projects p ON p.id = t.project_id"
    "  WHERE t.state = 'backlog' AND t.run_after <= now() AND NOT t.is_group"
    "  AND (SELECT n FROM held) < $3"
    "  AND (drover_project_limit(p.settings) IS NULL"
    "   OR p.in_progress < drover_project_limit(p.settings))"
    "  AND (drover_repo_limit(p.settings) IS NULL"
    "   OR coalesce((SELECT r.in_progress FROM repo_in_progress r WHERE r.project_id = p.id"
    "    AND r.repo_url = coalesce(t.repo_url, p.repo_url)), 0) < drover_repo_limit(p.settings))"
    "  ORDER BY t.priority DESC, t.id FOR UPDATE OF t SKIP LOCKED LIMIT 1),"
    " ag AS (SELECT id, status, xmin::text AS x FROM agents WHERE id = $1"
    "  AND EXISTS (SELECT 1 FROM pick) FOR UPDATE),"
    /* A limited project: its row's lock, re-checked against the committed count (sql/021). */
    " gate AS (UPDATE projects p SET in_progress = p.in_progress FROM pick"
    "  WHERE p.id = pick.project_id AND pick.lim IS NOT NULL"
    "  AND p.in_progress < drover_project_limit(p.settings) RETURNING p.id),"
    /* A per-repository limit: the counter row's lock, re-checked likewise (sql/025). A new
     * row is inserted at 0 (the pick saw no row, so the limit is above 0); a waiting upsert
     * re-evaluates its WHERE against the row the other claim committed. */
    " rgate AS (INSERT INTO repo_in_progress (project_id, repo_url, in_progress)"
    "  SELECT project_id, repo, 0 FROM pick WHERE rlim IS NOT NULL"
    "  ON CONFLICT (project_id, repo_url) DO UPDATE SET in_progress = repo_in_progress.in_progress"
    "  WHERE repo_in_progress.in_progress < (SELECT rlim FROM pick) RETURNING 1),"
    " c AS (UPDATE tasks t SET state = 'in_progress', agent_id = $1, attempt = t.attempt + 1,"
    "  lease_epoch = t.lease_epoch + 1, lease_expires_at = now() + make_interval(secs => $2),"
    "  started_at = now(), updated_at = now(), reason = NULL"
    "  FROM pick WHERE t.id = pick.id"
    "  AND EXISTS (SELECT 1 FROM ag WHERE ag.status NOT IN ('draining', 'offline', 'unusable')"
    "   AND ag.x = (SELECT xmin::text FROM agents WHERE id = $1))"
    "  AND (pick.lim IS NULL OR EXISTS (SELECT 1 FROM gate))"
    "  AND (pick.rlim IS NULL OR EXISTS (SELECT 1 FROM rgate))"
    "  RETURNING t.*),"
    " busy AS (UPDATE agents SET status = 'busy', last_heartbeat_at = now(), updated_at = now()"
    "  WHERE id IN (SELECT agent_id FROM c)),"
    " act AS (INSERT INTO activity (task_id, agent_id, kind, message, metadata)"
    "  SELECT id, agent_id, 'state', 'backlog -> in_progress', jsonb_build_object('from',"
    "  'backlog', 'to', 'in_progress', 'epoch', lease_epoch, 'attempt', attempt) FROM c)"
    " SELECT COALESCE((SELECT status FROM ag), (SELECT status FROM agents WHERE id = $1))"
    "  AS agent_status,"
    "  (SELECT " TASK_JSON " FROM c t LEFT JOIN projects p ON p.id = t.project_id) AS task",
    3};

/*
 * A named task the agent does not hold answers cancelled with a state only when this agent was
 * its last holder: the heartbeat is no oracle for other agents' tasks. Usage is merged
 * (drover_usage_merge, sql/030: per key the larger number), so a total never goes down.
 *
 * The heartbeat extends the agent's leases, then locks the agent row (ag reads ext, so it runs
 * after it): tasks first, then the agent, as update_status, the claim and the reaper lock. The
 * other order deadlocked against an update_task_status of the same agent arriving on its other
 * connection (seen at 1,000 agents heartbeating every second).
 */
static const struct db_stmt st_heartbeat = {
    "queue_heartbeat",
    "WITH ext AS (UPDATE tasks SET lease_expires_at = now() + make_interval(secs => $2),"
    "  usage = CASE WHEN $5::jsonb IS NULL THEN usage ELSE drover_usage_merge(usage, $5::jsonb) END"
    "  WHERE agent_id = $1 AND state = 'in_progress'"
    "  RETURNING id, state, lease_expires_at),"
    " ag AS (SELECT id, status FROM agents WHERE id = $1 AND (SELECT count(*) FROM ext) >= 0"
    "  FOR UPDATE),"
    " upd AS (UPDATE agents a SET last_heartbeat_at = now(), updated_at = now(),"
    /* An agent the pool already retired keeps the pool's reason ("unusable: ...") when its
     * goodbye heartbeat arrives. */
    "  offline_reason = CASE WHEN $3 = 'offline' AND ag.status = 'offline'"
    "   THEN coalesce(a.offline_reason, 'agent reported offline')"
    "   WHEN $3 = 'offline' THEN 'agent reported offline' END,"
    "  usage = CASE WHEN $5::jsonb IS NULL THEN a.usage ELSE drover_usage_merge(a.usage, $5::jsonb)"
    "   END,"
    "  status = CASE WHEN $3 = 'offline' THEN 'offline'"
    "   WHEN ag.status = 'draining' THEN 'draining'"
    "   WHEN EXISTS (SELECT 1 FROM ext) THEN 'busy' ELSE 'idle' END"
    "  FROM ag WHERE a.id = ag.id RETURNING a.id, a.status, a.last_heartbeat_at)"
    " SELECT (SELECT jsonb_build_object('id', id, 'status', status, 'last_heartbeat_at',"
    "   last_heartbeat_at) FROM upd)::text AS agent,"
    "  (SELECT coalesce(jsonb_agg(x ORDER BY x->>'id'), '[]') FROM ("
    "   SELECT jsonb_build_object('id', e.id, 'state', e.state, 'cancelled', false,"
    "    'lease_expires_at', e.lease_expires_at) AS x FROM ext e"
    "   UNION ALL"
    "   SELECT jsonb_build_object('id', t.id, 'state', CASE WHEN t.agent_id = $1 THEN t.state END,"
    "    'cancelled', true, 'lease_expires_at', NULL) FROM tasks t"
    "   WHERE t.id = ANY ($4::bigint[]) AND t.id NOT IN (SELECT id FROM ext)) s)::text AS tasks",
    5};

static const struct db_stmt st_reap = {
    "queue_reap",
    "WITH expired AS (SELECT id FROM tasks WHERE state = 'in_progress'"
    "  AND lease_expires_at < now() ORDER BY lease_expires_at FOR UPDATE SKIP LOCKED LIMIT $1),"
    " u AS (UPDATE tasks t SET"
    "  state = CASE WHEN t.attempt >= t.max_attempts THEN 'failed' ELSE 'backlog' END,"
    "  finished_at = CASE WHEN t.attempt >= t.max_attempts THEN now() END,"
    "  lease_expires_at = NULL, run_after = now(), updated_at = now(),"
    "  last_error = 'lease expired: the agent stopped heartbeating'"
    "  FROM expired e WHERE t.id = e.id RETURNING t.id, t.agent_id, t.state, t.attempt,"
    "  t.lease_epoch),"
    " off AS (UPDATE agents SET status = 'offline', offline_reason = 'lease expired',"
    "  updated_at = now() WHERE id IN (SELECT agent_id FROM u) AND status <> 'offline'),"
    " act AS (INSERT INTO activity (task_id, agent_id, kind, level, message, metadata)"
    "  SELECT id, agent_id, 'state', 'warning', 'in_progress -> ' || state || ': lease expired',"
    "  jsonb_build_object('from', 'in_progress', 'to', state, 'epoch', lease_epoch,"
    "  'attempt', attempt, 'reason', 'lease_expired') FROM u)"
    " SELECT count(*) AS n FROM u",
    1};

/*
 * How many backlog tasks a claim could take now (an SQL expression): a limited repository's
 * (sql/025) up to its free slots, then a limited project's (sql/021) up to its own, the way
 * the claim statement gates them. `cap` bounds the backlog rows read ("" for none). The one
 * definition behind the autoscaler's backlog (queue_counts) and the held polls' re-check.
 */
#define QUEUE_CLAIMABLE(cap)                                                                       \
    "(SELECT coalesce(sum(CASE WHEN g.lim IS NULL THEN g.n"                                        \
    "  ELSE least(g.n, greatest(g.lim - g.ip, 0)) END), 0)"                                        \
    " FROM (SELECT r.project_id, sum(r.n) AS n, drover_project_limit(p.settings) AS lim,"          \
    "   max(p.in_progress) AS ip"                                                                  \
    "  FROM (SELECT b.project_id, CASE WHEN b.rlim IS NULL THEN count(*)"                          \
    "    ELSE least(count(*), greatest(b.rlim - coalesce(max(x.in_progress), 0), 0)) END AS n"     \
    "   FROM (SELECT t.project_id, coalesce(t.repo_url, q.repo_url) AS repo,"                      \
    "     drover_repo_limit(q.settings) AS rlim FROM tasks t LEFT JOIN projects q"                 \
    "     ON q.id = t.project_id WHERE t.state = 'backlog' AND t.run_after <= now()"               \
    "     AND NOT t.is_group " cap ") b"                                                           \
    "   LEFT JOIN repo_in_progress x ON x.project_id = b.project_id AND x.repo_url = b.repo"       \
    "   GROUP BY b.project_id, b.repo, b.rlim) r"                                                  \
    "  LEFT JOIN projects p ON p.id = r.project_id GROUP BY r.project_id, p.settings) g)"

static const struct db_stmt st_runnable = {
    "queue_runnable", "SELECT least(" QUEUE_CLAIMABLE("LIMIT $1") ", $1) AS n", 1};

static const struct db_stmt st_timeouts = {
    "queue_timeouts",
    "WITH over AS (SELECT id FROM tasks WHERE state = 'in_progress'"
    "  AND started_at + make_interval(secs => timeout_seconds) < now()"
    "  ORDER BY id FOR UPDATE SKIP LOCKED LIMIT $1),"
    " u AS (UPDATE tasks t SET state = 'needs_input', reason = 'timeout',"
    "  question = 'The task ran past its timeout of ' || t.timeout_seconds || ' s. Answer to"
    " resume it from the work pushed so far.',"
    "  lease_expires_at = NULL, updated_at = now()"
    "  FROM over o WHERE t.id = o.id RETURNING t.id, t.agent_id, t.lease_epoch, t.attempt),"
    " settle AS (" QUEUE_AGENT_SETTLE(
        "SELECT agent_id FROM u",
        "SELECT id FROM u") "),"
                            " act AS (INSERT INTO activity (task_id, agent_id, kind, level, "
                            "message, metadata)"
                            "  SELECT id, agent_id, 'state', 'warning', 'in_progress -> "
                            "needs_input: timeout',"
                            "  jsonb_build_object('from', 'in_progress', 'to', 'needs_input', "
                            "'epoch', lease_epoch,"
                            "  'attempt', attempt, 'reason', 'timeout') FROM u)"
                            " SELECT count(*) AS n FROM u",
    1};

static const struct db_stmt st_log = {
    "queue_log",
    "WITH e AS (SELECT * FROM jsonb_to_recordset($3::jsonb)"
    "  AS x(message text, level text, metadata jsonb)),"
    " ins AS (INSERT INTO activity (task_id, agent_id, kind, level, message, metadata)"
    "  SELECT $1, $2::uuid, 'log', coalesce(level, 'info'), message, metadata FROM e RETURNING 1)"
    " SELECT count(*) AS n FROM ins",
    3};

/* Who may still log: the holder, or the last holder for QUEUE_LOG_GRACE_SECONDS after release. */
static const struct db_stmt st_task_agent = {
    "queue_task_agent",
    "SELECT agent_id, state, state = 'in_progress' OR (released_at IS NOT NULL"
    "  AND released_at > now() - make_interval(secs => $2)) AS open FROM tasks WHERE id = $1",
    2};

static const struct db_stmt st_get = {
    "queue_get",
    "SELECT " TASK_JSON " AS task FROM tasks t LEFT JOIN projects p ON p.id = t.project_id"
    " WHERE t.id = $1",
    1};

static const struct db_stmt st_counts = {
    "queue_counts",
    "SELECT"
    /* Claimable now: what the project and repository limits leave of the backlog. */
    " " QUEUE_CLAIMABLE(
        "") " AS backlog,"
            " (SELECT count(*) FROM tasks WHERE state = 'backlog' AND run_after <= now()) AS "
            "runnable,"
            " (SELECT count(*) FROM tasks WHERE state = 'backlog' AND run_after > now()) AS "
            "delayed,"
            " (SELECT count(*) FROM tasks WHERE state = 'in_progress') AS in_progress,"
            " (SELECT count(*) FROM tasks WHERE state = 'needs_input') AS needs_input,"
            " (SELECT count(*) FROM agents WHERE status = 'busy') AS busy,"
            " (SELECT count(*) FROM agents WHERE status = 'idle') AS idle,"
            " (SELECT count(*) FROM agents WHERE status = 'initializing') AS starting,"
            " (SELECT count(*) FROM agents WHERE status = 'draining') AS draining,"
            " (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM tasks"
            "   WHERE state = 'backlog' AND run_after <= now()) AS oldest,"
            " (SELECT count(*) FROM tasks WHERE state = 'in_progress' AND lease_expires_at < now())"
            "   AS expired",
    0};

void queue_opts_default(struct queue_opts *o)
{
    o->lease_seconds = 120;
    o->backoff_base_seconds = 10;
    o->backoff_max_seconds = 3600;
    o->max_tasks_per_agent = 1;
}

/* Checks a caller-supplied string: valid UTF-8 and at most `max` characters. */
int queue_check_text(const char *field, const char *s, size_t max, bool required, struct err *err)
{
    if (!s || !*s) {
        if (required)
            return err_set(err, ERR_INVALID, "%s is required and must not be empty", field);
        return 0;
    }
    if (!text_utf8_valid(s, strlen(s)))
        return err_set(err, ERR_INVALID, "%s is not valid UTF-8", field);
    if (text_utf8_chars(s) > max)
        return err_set(err, ERR_TOO_LARGE, "%s is longer than %zu characters", field, max);
    return 0;
}

int queue_check_agent(const char *agent_id, struct err *err)
{
    if (!text_is_uuid(agent_id))
        return err_set(err, ERR_INVALID, "agent id must be a UUID");
    return 0;
}

json_t *queue_parse(const char *text, struct err *err)
{
    json_error_t je;
    json_t *j = text ? json_loads(text, 0, &je) : NULL;

    if (!j)
        err_set(err, ERR_INTERNAL, "database returned unreadable JSON");
    return j;
}

int queue_enqueue(struct db *db, const struct model_task_new *t, json_t **task, bool *created,
                  struct err *err)
{
    char prio[16], proj[24], maxa[16], tmo[16], parent[24], delay[16], fan[16];
    const char *params[14];
    PGresult *r = NULL;
    int rc = -1;

    *task = NULL;
    if (created)
        *created = false;
    if (queue_check_text("title", t->title, MODEL_TITLE_MAX, true, err) < 0 ||
        queue_check_text("description", t->description, MODEL_DESCRIPTION_MAX, false, err) < 0 ||
        queue_check_text("model", t->model, MODEL_MODEL_MAX, false, err) < 0 ||
        queue_check_text("repository", t->repo_url, MODEL_REPO_URL_MAX, false, err) < 0 ||
        queue_check_text("branch", t->base_branch, MODEL_BRANCH_MAX, false, err) < 0 ||
        queue_check_text("idempotency key", t->idempotency_key, MODEL_IDEMPOTENCY_KEY_MAX, false,
                         err) < 0)
        return -1;
    if (t->priority < MODEL_PRIORITY_MIN || t->priority > MODEL_PRIORITY_MAX)
        return err_set(err, ERR_INVALID, "priority must be between %d and %d", MODEL_PRIORITY_MIN,
                       MODEL_PRIORITY_MAX);
    if (t->max_attempts < 0 || t->max_attempts > MODEL_ATTEMPTS_MAX)
        return err_set(err, ERR_INVALID, "max_attempts must be between %d and %d",
                       MODEL_ATTEMPTS_MIN, MODEL_ATTEMPTS_MAX);
    if (t->timeout_seconds < 0 || t->timeout_seconds > MODEL_TIMEOUT_MAX)
        return err_set(err, ERR_INVALID, "timeout_seconds must be between %d and %d",
                       MODEL_TIMEOUT_MIN, MODEL_TIMEOUT_MAX);
    if (t->delay_seconds < 0)
        return err_set(err, ERR_INVALID, "delay must not be negative");
    if (t->project_id <= 0 && (!t->repo_url || !*t->repo_url))
        return err_set(err, ERR_INVALID, "a task needs a project or a repository URL");
    if (t->budget_json) {
        json_error_t je;
        json_t *b = json_loads(t->budget_json, 0, &je);
        bool ok = json_is_object(b);

        json_decref(b);
        if (!ok)
            return err_set(err, ERR_INVALID, "budget must be a JSON object");
    }
    snprintf(prio, sizeof(prio), "%d", t->priority);
    snprintf(proj, sizeof(proj), "%lld", (long long)t->project_id);
    snprintf(maxa, sizeof(maxa), "%d", t->max_attempts ? t->max_attempts : MODEL_ATTEMPTS_DEFAULT);
    snprintf(tmo, sizeof(tmo), "%d",
             t->timeout_seconds ? t->timeout_seconds : MODEL_TIMEOUT_DEFAULT);
    snprintf(parent, sizeof(parent), "%lld", (long long)t->parent_id);
    snprintf(delay, sizeof(delay), "%d", t->delay_seconds);
    if (t->project_id > 0) {
        const char *p1[1] = {proj};

        if (db_run_found(db, &st_project_exists, p1, err, "project %lld does not exist",
                         (long long)t->project_id) < 0)
            return -1;
    }
    if (t->parent_id > 0) {
        const char *p1[1] = {parent};

        if (db_run_found(db, &st_task_exists, p1, err, "parent task %lld does not exist",
                         (long long)t->parent_id) < 0)
            return -1;
    }
    params[0] = t->title;
    params[1] = t->description;
    params[2] = prio;
    params[3] = t->model && *t->model ? t->model : NULL;
    params[4] = t->project_id > 0 ? proj : NULL;
    params[5] = t->repo_url && *t->repo_url ? t->repo_url : NULL;
    params[6] = t->base_branch && *t->base_branch ? t->base_branch : NULL;
    params[7] = maxa;
    params[8] = tmo;
    params[9] = t->idempotency_key && *t->idempotency_key ? t->idempotency_key : NULL;
    params[10] = t->parent_id > 0 ? parent : NULL;
    params[11] = t->budget_json;
    params[12] = delay;
    snprintf(fan, sizeof(fan), "%d", t->fanout);
    params[13] = fan;
    /* A concurrent insert with the same key commits after our snapshot: look again once. */
    for (int tries = 0; tries < 2; tries++) {
        r = db_exec(db, &st_enqueue, params, err);
        if (!r)
            goto out;
        if (PQntuples(r) > 0)
            break;
        PQclear(r);
        r = NULL;
    }
    if (!r) {
        err_set(err, ERR_BUSY, "idempotency key is being used by a concurrent request; retry");
        goto out;
    }
    /* The key was used before for a different request: say so rather than answer with it. */
    if (strcmp(db_get(r, 0, "same"), "t") != 0) {
        err_set(err, ERR_CONFLICT, "idempotency key was already used for a different request");
        goto out;
    }
    *task = queue_parse(db_get(r, 0, "task"), err);
    if (!*task)
        goto out;
    if (created)
        *created = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    rc = 0;
out:
    PQclear(r);
    return rc;
}

int queue_enqueue_group(struct db *db, const struct model_task_new *t, int count, json_t **parent,
                        bool *created, struct err *err)
{
    char id[24], n[16], *key = NULL;
    const char *p2[2] = {id, n};
    bool made = false;
    PGresult *r;
    int rc = -1;

    *parent = NULL;
    if (created)
        *created = false;
    if (count < 2 || count > MODEL_FANOUT_MAX)
        return err_set(err, ERR_INVALID, "a fan-out group has 2 to %d agents", MODEL_FANOUT_MAX);
    /* The group and its children appear together or not at all. */
    if (db_begin(db, err) < 0)
        return -1;
    {
        struct model_task_new g = *t;

        g.fanout = count; /* a key reused for a group of another size is a different request */
        if (queue_enqueue(db, &g, parent, &made, err) < 0)
            goto out;
    }
    if (made) {
        snprintf(id, sizeof(id), "%lld",
                 (long long)json_integer_value(json_object_get(*parent, "id")));
        snprintf(n, sizeof(n), "%d", count);
        r = db_exec(db, &st_group, p2, err);
        if (!r)
            goto out;
        PQclear(r);
        for (int i = 1; i <= count; i++) {
            struct model_task_new c = *t;
            json_t *child = NULL;
            char *title = mem_printf("%s [%d/%d]", t->title, i, count);
            int crc;

            free(key);
            key = t->idempotency_key ? mem_printf("%.180s#%d", t->idempotency_key, i) : NULL;
            c.title = title;
            c.parent_id = json_integer_value(json_object_get(*parent, "id"));
            c.idempotency_key = key;
            crc = queue_enqueue(db, &c, &child, NULL, err);
            free(title);
            json_decref(child);
            if (crc < 0)
                goto out;
        }
    }
    if (db_commit(db, err) < 0)
        goto out;
    if (created)
        *created = made;
    rc = 0;
out:
    if (rc < 0) {
        db_rollback(db);
        json_decref(*parent);
        *parent = NULL;
    }
    free(key);
    return rc;
}

int queue_claim(struct db *db, const struct queue_opts *o, const char *agent_id, json_t **task,
                struct err *err)
{
    char lease[16], lim[16];
    const char *params[3] = {agent_id, lease, lim};
    const char *status;
    PGresult *r;
    int rc = -1;

    *task = NULL;
    if (queue_check_agent(agent_id, err) < 0)
        return -1;
    snprintf(lease, sizeof(lease), "%d", o->lease_seconds);
    snprintf(lim, sizeof(lim), "%d", o->max_tasks_per_agent > 0 ? o->max_tasks_per_agent : 1);
    r = db_exec(db, &st_claim, params, err);
    if (!r)
        return -1;
    status = db_get(r, 0, "agent_status");
    if (!status) {
        err_set(err, ERR_NOT_FOUND, "agent %s is not registered", agent_id);
        goto out;
    }
    if (strcmp(status, "draining") == 0 || strcmp(status, "offline") == 0 ||
        strcmp(status, "unusable") == 0) {
        err_set(err, ERR_CONFLICT, "agent %s is %s and may not claim tasks", agent_id, status);
        goto out;
    }
    if (db_get(r, 0, "task")) {
        *task = queue_parse(db_get(r, 0, "task"), err);
        if (!*task)
            goto out;
    }
    rc = 0;
out:
    PQclear(r);
    return rc;
}

int queue_heartbeat(struct db *db, const struct queue_opts *o, const char *agent_id,
                    const char *reported, const json_t *task_ids, const json_t *usage, json_t **out,
                    struct err *err)
{
    char lease[16];
    struct buf ids;
    char *usage_s = NULL;
    const char *params[5];
    PGresult *r = NULL;
    json_t *agent = NULL, *tasks = NULL;
    int rc = -1;

    *out = NULL;
    buf_init(&ids, 1 << 20);
    if (queue_check_agent(agent_id, err) < 0)
        return -1;
    if (!reported)
        reported = "idle";
    if (strcmp(reported, "idle") != 0 && strcmp(reported, "busy") != 0 &&
        strcmp(reported, "offline") != 0 && strcmp(reported, "initializing") != 0)
        return err_set(err, ERR_INVALID, "status must be idle, busy, initializing or offline");
    if (task_ids && !json_is_array(task_ids))
        return err_set(err, ERR_INVALID, "task ids must be an array of integers");
    if (usage && model_usage_check(usage, err) < 0)
        return -1;
    buf_append(&ids, "{", 1);
    for (size_t i = 0; task_ids && i < json_array_size(task_ids); i++) {
        json_t *v = json_array_get(task_ids, i);

        if (!json_is_integer(v)) {
            err_set(err, ERR_INVALID, "task ids must be an array of integers");
            goto out;
        }
        if (buf_appendf(&ids, "%s%lld", i ? "," : "", (long long)json_integer_value(v)) < 0) {
            err_set(err, ERR_TOO_LARGE, "too many task ids");
            goto out;
        }
    }
    buf_append(&ids, "}", 1);
    if (usage)
        usage_s = json_dumps(usage, JSON_COMPACT);
    snprintf(lease, sizeof(lease), "%d", o->lease_seconds);
    params[0] = agent_id;
    params[1] = lease;
    params[2] = reported;
    params[3] = ids.data;
    params[4] = usage_s;
    r = db_exec(db, &st_heartbeat, params, err);
    if (!r)
        goto out;
    if (!db_get(r, 0, "agent")) {
        err_set(err, ERR_NOT_FOUND, "agent %s is not registered", agent_id);
        goto out;
    }
    agent = queue_parse(db_get(r, 0, "agent"), err);
    tasks = queue_parse(db_get(r, 0, "tasks"), err);
    if (!agent || !tasks)
        goto out;
    *out = json_pack("{s:o,s:o}", "agent", agent, "tasks", tasks);
    agent = tasks = NULL;
    rc = 0;
out:
    json_decref(agent);
    json_decref(tasks);
    free(usage_s);
    buf_clear(&ids);
    PQclear(r);
    return rc;
}

static int queue_sweep(struct db *db, const struct db_stmt *st, int limit, int *n, struct err *err)
{
    char lim[16];
    const char *params[1] = {lim};
    PGresult *r;

    *n = 0;
    snprintf(lim, sizeof(lim), "%d", limit > 0 ? limit : 100);
    r = db_exec(db, st, params, err);
    if (!r)
        return -1;
    *n = (int)db_get_ll(r, 0, "n");
    PQclear(r);
    return 0;
}

int queue_reap(struct db *db, int limit, int *n, struct err *err)
{
    return queue_sweep(db, &st_reap, limit, n, err);
}

int queue_runnable(struct db *db, int limit, int *n, struct err *err)
{
    return queue_sweep(db, &st_runnable, limit, n, err);
}

int queue_expire_timeouts(struct db *db, int limit, int *n, struct err *err)
{
    return queue_sweep(db, &st_timeouts, limit, n, err);
}

/* Validates one log entry and appends its normalised form to `arr`. */
static int queue_log_entry(const json_t *e, json_t *arr, struct err *err)
{
    const json_t *m = json_object_get(e, "message"), *lv = json_object_get(e, "level"),
                 *md = json_object_get(e, "metadata");
    const char *level = "info";

    if (!json_is_object(e))
        return err_set(err, ERR_INVALID, "each log entry must be an object");
    if (!json_is_string(m) || json_string_length(m) == 0)
        return err_set(err, ERR_INVALID, "each log entry needs a non-empty message");
    if (queue_check_text("message", json_string_value(m), MODEL_MESSAGE_MAX, true, err) < 0)
        return -1;
    /* Escapes in a log line would reach operators' terminals (droverctl, `tasks logs`). */
    if (model_text_has_control(json_string_value(m)))
        return err_set(err, ERR_INVALID,
                       "message holds control characters (only tab and newline are allowed)");
    if (lv) {
        if (!json_is_string(lv))
            return err_set(err, ERR_INVALID, "level must be a string");
        if (!model_log_level_valid(json_string_value(lv)))
            return err_set(err, ERR_INVALID, "level must be one of %s", model_log_level_list());
        level = json_string_value(lv);
    }
    if (md && !json_is_object(md) && !json_is_null(md))
        return err_set(err, ERR_INVALID, "metadata must be an object");
    json_array_append_new(arr, json_pack("{s:O,s:s,s:O?}", "message", m, "level", level, "metadata",
                                         json_is_object(md) ? md : NULL));
    return 0;
}

int queue_log(struct db *db, const char *agent_id, int64_t task_id, const json_t *entries, int *n,
              struct err *err)
{
    char id[24];
    json_t *arr = json_array();
    char *arr_s = NULL;
    PGresult *r = NULL;
    int rc = -1;

    *n = 0;
    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    if (task_id <= 0) {
        err_set(err, ERR_INVALID, "task id must be a positive integer");
        goto out;
    }
    if (agent_id && queue_check_agent(agent_id, err) < 0)
        goto out;
    if (json_is_array(entries)) {
        if (json_array_size(entries) == 0 || json_array_size(entries) > MODEL_LOG_BATCH_MAX) {
            err_set(err, ERR_INVALID, "a batch holds 1 to %d entries", MODEL_LOG_BATCH_MAX);
            goto out;
        }
        for (size_t i = 0; i < json_array_size(entries); i++)
            if (queue_log_entry(json_array_get(entries, i), arr, err) < 0)
                goto out;
    } else if (queue_log_entry(entries, arr, err) < 0) {
        goto out;
    }
    {
        char grace[16];
        const char *p1[2] = {id, grace};

        snprintf(grace, sizeof(grace), "%d", QUEUE_LOG_GRACE_SECONDS);
        r = db_exec_found(db, &st_task_agent, p1, err, "task %lld does not exist",
                          (long long)task_id);
        if (!r)
            goto out;
        /* An agent may log only on a task it holds (or held last, so late lines still land). */
        if (agent_id &&
            (!db_get(r, 0, "agent_id") || strcasecmp(db_get(r, 0, "agent_id"), agent_id) != 0)) {
            err_set(err, ERR_FORBIDDEN, "task %lld is not leased to agent %s", (long long)task_id,
                    agent_id);
            goto out;
        }
        /* The last holder's late lines land for a short grace, then the history is closed. */
        if (agent_id && strcmp(db_get(r, 0, "open"), "t") != 0) {
            err_set(err, ERR_CONFLICT,
                    "task %lld left agent %s more than %d s ago: its log is closed to it",
                    (long long)task_id, agent_id, QUEUE_LOG_GRACE_SECONDS);
            goto out;
        }
        PQclear(r);
        r = NULL;
    }
    arr_s = json_dumps(arr, JSON_COMPACT);
    {
        const char *params[3] = {id, agent_id, arr_s};

        r = db_exec(db, &st_log, params, err);
    }
    if (!r)
        goto out;
    *n = (int)db_get_ll(r, 0, "n");
    rc = 0;
out:
    PQclear(r);
    json_decref(arr);
    free(arr_s);
    return rc;
}

int queue_get(struct db *db, int64_t task_id, json_t **task, struct err *err)
{
    char id[24];
    const char *params[1] = {id};
    PGresult *r;

    *task = NULL;
    if (task_id <= 0)
        return err_set(err, ERR_INVALID, "task id must be a positive integer");
    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    r = db_exec_found(db, &st_get, params, err, "task %lld does not exist", (long long)task_id);
    if (!r)
        return -1;
    *task = queue_parse(db_get(r, 0, "task"), err);
    PQclear(r);
    return *task ? 0 : -1;
}

int queue_counts(struct db *db, struct queue_counts *c, struct err *err)
{
    PGresult *r;

    memset(c, 0, sizeof(*c));
    r = db_exec(db, &st_counts, NULL, err);
    if (!r)
        return -1;
    c->backlog = db_get_ll(r, 0, "backlog");
    c->held = db_get_ll(r, 0, "runnable") - c->backlog;
    c->delayed = db_get_ll(r, 0, "delayed");
    c->in_progress = db_get_ll(r, 0, "in_progress");
    c->needs_input = db_get_ll(r, 0, "needs_input");
    c->busy = db_get_ll(r, 0, "busy");
    c->idle = db_get_ll(r, 0, "idle");
    c->starting = db_get_ll(r, 0, "starting");
    c->draining = db_get_ll(r, 0, "draining");
    c->oldest_backlog_age = db_get(r, 0, "oldest") ? strtod(db_get(r, 0, "oldest"), NULL) : 0;
    c->expired_leases = db_get_ll(r, 0, "expired");
    PQclear(r);
    return 0;
}
