/*
 * Branch and pull-request records on a task, fenced on the lease. Worker threads.
 */
#include "store/branches.h"
#include "core/mem.h"
#include "core/text.h"
#include "forge/forge.h"
#include "store/queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct db_stmt st_lock = {
    "branches_lock",
    "SELECT t.state, t.agent_id, t.lease_epoch, t.title, t.branch, t.pull_request::text AS pr,"
    " coalesce(t.base_branch, p.default_branch, 'main') AS base,"
    " t.lease_expires_at IS NOT NULL AND t.lease_expires_at <= now() AS expired"
    " FROM tasks t LEFT JOIN projects p ON p.id = t.project_id WHERE t.id = $1 FOR UPDATE OF t",
    1};

static const struct db_stmt st_set_branch = {
    "branches_set_branch", "UPDATE tasks SET branch = $2, updated_at = now() WHERE id = $1", 2};

static const struct db_stmt st_set_pr = {
    "branches_set_pr",
    "UPDATE tasks SET pull_request = $2::jsonb, updated_at = now() WHERE id = $1", 2};

static const struct db_stmt st_note = {
    "branches_note",
    "INSERT INTO activity (task_id, agent_id, kind, level, message, metadata)"
    " VALUES ($1, $2, 'system', 'info', $3, $4::jsonb)",
    4};

bool branches_name_valid(const char *n)
{
    size_t len = n ? strlen(n) : 0;
    const char *comp;

    if (len == 0 || len > BRANCHES_NAME_MAX || n[0] == '/' || n[len - 1] == '/' ||
        n[len - 1] == '.' || n[0] == '-' || strcmp(n, "@") == 0 || strstr(n, "..") ||
        strstr(n, "//") || strstr(n, "@{") || strncmp(n, "refs/", 5) == 0)
        return false;
    for (const char *p = n; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f || strchr(" ~^:?*[\\", c))
            return false;
    }
    if (!text_utf8_valid(n, len))
        return false;
    /* Per component: no leading '.', no trailing ".lock". */
    for (comp = n; comp; comp = strchr(comp, '/') ? strchr(comp, '/') + 1 : NULL) {
        const char *end = strchr(comp, '/');
        size_t cl = end ? (size_t)(end - comp) : strlen(comp);
        if (comp[0] == '.' || (cl >= 5 && strncmp(comp + cl - 5, ".lock", 5) == 0))
            return false;
    }
    return true;
}

void branches_default_name(int64_t task_id, const char *title, char *out, size_t outsz)
{
    char slug[64];
    size_t l;

    text_slug(title ? title : "", slug, sizeof(slug) > 49 ? 49 : sizeof(slug));
    l = strlen(slug);
    while (l > 0 && slug[l - 1] == '-') /* cutting may leave a dash at the end */
        slug[--l] = '\0';
    if (l)
        snprintf(out, outsz, "drover/%lld-%s", (long long)task_id, slug);
    else
        snprintf(out, outsz, "drover/%lld", (long long)task_id);
}

struct branches_lease {
    char *branch, *pr, *title, *base; /* owned */
};

static void branches_lease_free(struct branches_lease *l)
{
    free(l->branch);
    free(l->pr);
    free(l->title);
    free(l->base);
}

/* BEGIN + lock + the same fence as queue_update_status. On failure the transaction is open. */
static int branches_fence(struct db *db, const char *agent_id, int64_t task_id, int64_t epoch,
                          struct branches_lease *l, struct err *err)
{
    char id[24];
    const char *p[1] = {id};
    const char *agent, *state;
    PGresult *r;
    int rc = -1;

    memset(l, 0, sizeof(*l));
    if (task_id <= 0)
        return err_set(err, ERR_INVALID, "task_id must be a positive integer");
    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    if (db_begin(db, err) < 0)
        return -1;
    r = db_exec(db, &st_lock, p, err);
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        err_set(err, ERR_NOT_FOUND, "task %lld does not exist", (long long)task_id);
        goto out;
    }
    agent = db_get(r, 0, "agent_id");
    state = db_get(r, 0, "state");
    if (!agent || strcasecmp(agent, agent_id) != 0) {
        err_set(err, ERR_FORBIDDEN, "task is not leased to agent %s", agent_id);
        goto out;
    }
    if (db_get_ll(r, 0, "lease_epoch") != epoch) {
        err_set(err, ERR_STALE_EPOCH,
                "lease epoch %lld is stale (current %lld): the lease was lost", (long long)epoch,
                db_get_ll(r, 0, "lease_epoch"));
        goto out;
    }
    if (strcmp(state, "in_progress") != 0) {
        err_set(err, ERR_CONFLICT, "task is %s, not in_progress: the lease is no longer held",
                state);
        goto out;
    }
    if (strcmp(db_get(r, 0, "expired"), "t") == 0) {
        err_set(err, ERR_STALE_EPOCH, "the lease expired before this request arrived");
        goto out;
    }
    l->branch = db_get(r, 0, "branch") ? mem_strdup(db_get(r, 0, "branch")) : NULL;
    l->pr = db_get(r, 0, "pr") ? mem_strdup(db_get(r, 0, "pr")) : NULL;
    l->title = mem_strdup(db_get(r, 0, "title"));
    l->base = mem_strdup(db_get(r, 0, "base"));
    rc = 0;
out:
    PQclear(r);
    return rc;
}

static int branches_note(struct db *db, int64_t task_id, const char *agent_id, const char *msg,
                         json_t *meta, struct err *err)
{
    char id[24];
    char *m = json_dumps(meta, JSON_COMPACT);
    const char *p[4] = {id, agent_id, msg, m};
    PGresult *r;

    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    r = db_exec(db, &st_note, p, err);
    free(m);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int branches_create(struct db *db, const char *agent_id, int64_t task_id, int64_t epoch,
                    const char *name, json_t **out, struct err *err)
{
    struct branches_lease l;
    char def[BRANCHES_NAME_MAX + 1], id[24];
    json_t *task = NULL, *meta = NULL;
    int rc = -1;

    *out = NULL;
    if (name && !branches_name_valid(name))
        return err_set(err, ERR_INVALID,
                       "'%.100s' is not a valid git branch name (no spaces, '..', '~^:?*[\\', "
                       "leading '-' or '.', trailing '/', '.' or '.lock'; at most %d bytes)",
                       name, BRANCHES_NAME_MAX);
    if (branches_fence(db, agent_id, task_id, epoch, &l, err) < 0)
        goto out;
    if (!name) {
        branches_default_name(task_id, l.title, def, sizeof(def));
        name = def;
    }
    if (l.branch) {
        if (strcmp(l.branch, name) != 0) {
            err_set(err, ERR_CONFLICT, "task %lld already has branch '%s'", (long long)task_id,
                    l.branch);
            goto out;
        }
        *out = json_pack("{s:I,s:s,s:b}", "task_id", (json_int_t)task_id, "branch", name, "created",
                         0);
        db_rollback(db);
        rc = 0;
        goto out;
    }
    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    {
        const char *p[2] = {id, name};
        PGresult *r = db_exec(db, &st_set_branch, p, err);
        if (!r)
            goto out;
        PQclear(r);
    }
    if (forge_hooks.create_branch) {
        if (queue_get(db, task_id, &task, err) < 0 ||
            forge_hooks.create_branch(db, task, name, err) < 0)
            goto out;
    }
    meta = json_pack("{s:s}", "branch", name);
    if (branches_note(db, task_id, agent_id, "branch created", meta, err) < 0 ||
        db_commit(db, err) < 0)
        goto out;
    *out = json_pack("{s:I,s:s,s:b}", "task_id", (json_int_t)task_id, "branch", name, "created", 1);
    rc = 0;
out:
    if (rc < 0)
        db_rollback(db);
    branches_lease_free(&l);
    json_decref(task);
    json_decref(meta);
    return rc;
}

static int branches_check(const char *field, const char *s, size_t max, struct err *err)
{
    if (s && (!text_utf8_valid(s, strlen(s)) || text_utf8_chars(s) > max))
        return err_set(err, ERR_INVALID, "%s must be valid UTF-8 of at most %zu characters", field,
                       max);
    return 0;
}

int branches_pull_request(struct db *db, const char *agent_id, int64_t task_id, int64_t epoch,
                          const char *title, const char *body, const char *head, const char *base,
                          json_t **out, struct err *err)
{
    struct branches_lease l;
    json_t *pr = NULL, *task = NULL;
    char id[24], *pr_s = NULL;
    int rc = -1;

    *out = NULL;
    if (!title || !*title || branches_check("title", title, 500, err) < 0)
        return err_set(err, ERR_INVALID, "title must be 1 to 500 characters");
    if (branches_check("body", body, 65536, err) < 0)
        return -1;
    if ((head && !branches_name_valid(head)) || (base && !branches_name_valid(base)))
        return err_set(err, ERR_INVALID, "head and base must be valid git branch names");
    if (branches_fence(db, agent_id, task_id, epoch, &l, err) < 0)
        goto out;
    if (l.pr) {
        json_t *old = json_loads(l.pr, 0, NULL);
        *out = json_pack("{s:I,s:o,s:b}", "task_id", (json_int_t)task_id, "pull_request",
                         old ? old : json_null(), "created", 0);
        db_rollback(db);
        rc = 0;
        goto out;
    }
    if (!head)
        head = l.branch;
    if (!head) {
        err_set(err, ERR_CONFLICT, "task %lld has no branch yet: call create_branch first",
                (long long)task_id);
        goto out;
    }
    pr = json_pack("{s:s,s:s,s:s,s:s}", "title", title, "head", head, "base", base ? base : l.base,
                   "state", "open");
    if (body)
        json_object_set_new(pr, "body", json_string(body));
    if (forge_hooks.create_pull_request) {
        if (queue_get(db, task_id, &task, err) < 0 ||
            forge_hooks.create_pull_request(db, task, pr, err) < 0)
            goto out;
    }
    json_object_del(pr, "body"); /* the body lives on the forge, not in every task read */
    pr_s = json_dumps(pr, JSON_COMPACT);
    snprintf(id, sizeof(id), "%lld", (long long)task_id);
    {
        const char *p[2] = {id, pr_s};
        PGresult *r = db_exec(db, &st_set_pr, p, err);
        if (!r)
            goto out;
        PQclear(r);
    }
    if (branches_note(db, task_id, agent_id, "pull request recorded", pr, err) < 0 ||
        db_commit(db, err) < 0)
        goto out;
    *out = json_pack("{s:I,s:O,s:b}", "task_id", (json_int_t)task_id, "pull_request", pr, "created",
                     1);
    rc = 0;
out:
    if (rc < 0)
        db_rollback(db);
    branches_lease_free(&l);
    json_decref(pr);
    json_decref(task);
    free(pr_s);
    return rc;
}
