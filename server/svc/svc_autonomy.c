/* Tiered autonomy (see svc_autonomy.h). Worker threads. */
#include "svc/svc_autonomy.h"
#include "core/autonomy.h"
#include "core/mem.h"
#include "store/approvals.h"
#include "store/branches.h"
#include "store/policies.h"
#include "store/projects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest string kept from a tool's input: the action itself is decided on the whole input;
 * this bounds only what is stored for people to read. */
#define SVC_AUTONOMY_STRING_MAX 8192

/* A copy of `input` small enough to store: over-long strings (a Write's content) are cut. */
static json_t *svc_autonomy_keep(const json_t *input)
{
    json_t *copy = json_is_object(input) ? json_deep_copy(input) : json_object();
    const char *k;
    json_t *v;
    char *text = json_dumps(copy, JSON_COMPACT);
    size_t n = text ? strlen(text) : 0;

    free(text);
    if (n <= SVC_AUTONOMY_INPUT_MAX)
        return copy;
    json_object_foreach(copy, k, v)
    {
        if (json_is_string(v) && json_string_length(v) > SVC_AUTONOMY_STRING_MAX) {
            char *cut = mem_printf("%.*s... [%zu bytes in all]", SVC_AUTONOMY_STRING_MAX,
                                   json_string_value(v), json_string_length(v));

            json_object_set_new(copy, k, json_string(cut));
            free(cut);
        } else if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v)) {
            json_object_set_new(copy, k, json_string("[not kept: too large]"));
        }
    }
    return copy;
}

/* The answer the agent hands Claude Code for an approval row in its current state. */
static json_t *svc_autonomy_answer(const json_t *a)
{
    const char *state = json_string_value(json_object_get(a, "state"));
    const char *by = json_string_value(json_object_get(a, "decided_by"));
    const char *reason = json_string_value(json_object_get(a, "reason"));
    const char *action = json_string_value(json_object_get(a, "action"));
    const char *rule = json_string_value(json_object_get(a, "rule"));
    json_t *ans =
        json_pack("{s:s?,s:s?,s:O,s:O,s:O}", "action", action, "rule", rule, "policy_version",
                  json_object_get(a, "policy_version"), "approval_id", json_object_get(a, "id"),
                  "expires_at", json_object_get(a, "expires_at"));
    char *msg = NULL;

    if (strcmp(state, "pending") == 0) {
        json_object_set_new(ans, "decision", json_string("pending"));
        return ans;
    }
    if (strcmp(state, "approved") == 0) {
        json_object_set_new(ans, "decision", json_string("allow"));
        json_object_set_new(ans, "decided_by", json_string(by ? by : ""));
        return ans;
    }
    if (by && strcmp(by, "policy") == 0)
        msg = mem_printf("The project's autonomy policy denies this action (%s): %s. Do not try "
                         "it another way; if the task needs it, ask with ask_user_question.",
                         rule, action);
    else if (strcmp(state, "expired") == 0)
        msg = mem_printf("No one approved this action in time (%s), so it is denied: %s.",
                         reason ? reason : "expired", action);
    else
        msg = mem_printf("%s denied this action: %s%s%s.", by ? by : "a reviewer", action,
                         reason && *reason ? " -- " : "", reason && *reason ? reason : "");
    json_object_set_new(ans, "decision", json_string("deny"));
    json_object_set_new(ans, "message", json_string(msg));
    free(msg);
    return ans;
}

/* The enabled policy version of the task's project, or NULL (no project, none, disabled). */
static int svc_autonomy_in_force(struct svc_ctx *c, int64_t project_id, json_t **version,
                                 struct err *err)
{
    *version = NULL;
    if (project_id <= 0)
        return 0;
    if (policies_current(c->db, project_id, version, err) < 0)
        return -1;
    if (*version && !json_is_true(json_object_get(*version, "enabled"))) {
        json_decref(*version);
        *version = NULL;
    }
    return 0;
}

int svc_autonomy_request(struct svc_ctx *c, const char *agent_id, int64_t task_id, int64_t epoch,
                         const char *tool_name, const json_t *input, const char *cwd,
                         json_t **answer, struct err *err)
{
    struct branches_lease l;
    struct autonomy_decision d;
    json_t *version = NULL, *kept = NULL, *row = NULL;
    struct approvals_new a = {0};
    int rc = -1;

    *answer = NULL;
    if (!tool_name || !*tool_name || strlen(tool_name) > 200)
        return err_set(err, ERR_INVALID, "tool_name must be a tool's name (1 to 200 characters)");
    if (branches_fence(c->db, agent_id, task_id, epoch, &l, err) < 0)
        return -1;
    if (svc_autonomy_in_force(c, l.project_id, &version, err) < 0)
        goto out;
    if (!version) { /* the policy was turned off since the task was claimed: nothing to ask */
        *answer =
            json_pack("{s:s,s:s,s:n}", "decision", "allow", "rule", "no policy", "policy_version");
        rc = 0;
        goto out;
    }
    autonomy_decide(json_object_get(version, "policy"), tool_name, input, cwd, &d);
    if (d.action == AUTONOMY_ALLOW) {
        *answer = json_pack("{s:s,s:s,s:s,s:O}", "decision", "allow", "action", d.action_text,
                            "rule", d.rule, "policy_version", json_object_get(version, "version"));
        rc = 0;
        goto out;
    }
    kept = svc_autonomy_keep(input);
    a.task_id = task_id;
    a.epoch = epoch;
    a.agent_id = agent_id;
    a.policy_version = (int)json_integer_value(json_object_get(version, "version"));
    a.tool_name = tool_name;
    a.tool_input = kept;
    a.action = d.action_text;
    a.rule = d.rule;
    a.pending = d.action == AUTONOMY_ASK;
    a.timeout_seconds =
        (int)json_integer_value(json_object_get(version, "approval_timeout_seconds"));
    if (approvals_create(c->db, &a, &row, err) < 0)
        goto out;
    *answer = svc_autonomy_answer(row);
    rc = 0;
out:
    json_decref(row);
    json_decref(kept);
    json_decref(version);
    branches_lease_clear(&l);
    return rc;
}

int svc_autonomy_poll(struct svc_ctx *c, const char *agent_id, int64_t task_id, int64_t epoch,
                      int64_t approval_id, json_t **answer, struct err *err)
{
    struct branches_lease l;
    json_t *row = NULL;
    int rc = -1;

    *answer = NULL;
    if (approval_id <= 0)
        return err_set(err, ERR_INVALID, "approval_id must be a positive integer");
    if (branches_fence(c->db, agent_id, task_id, epoch, &l, err) < 0)
        return -1;
    if (approvals_poll(c->db, approval_id, task_id, epoch, &row, err) < 0)
        goto out;
    *answer = svc_autonomy_answer(row);
    rc = 0;
out:
    json_decref(row);
    branches_lease_clear(&l);
    return rc;
}

int svc_autonomy_decide(struct svc_ctx *c, int64_t id, bool approve, const char *who,
                        const char *reason, json_t **out, struct err *err)
{
    if (reason && strlen(reason) > 2000)
        return err_set(err, ERR_INVALID, "reason is longer than 2000 characters");
    return approvals_decide(c->db, id, approve, who, reason, out, err);
}

int svc_autonomy_get(struct svc_ctx *c, int64_t id, json_t **out, struct err *err)
{
    return approvals_get(c->db, id, out, err);
}

int svc_autonomy_list(struct svc_ctx *c, const char *state, int64_t task_id, int limit,
                      json_t **out, struct err *err)
{
    static const char *const states[] = {"pending", "approved", "denied", "expired", NULL};
    bool known = !state;

    for (size_t i = 0; state && states[i]; i++)
        known = known || strcmp(state, states[i]) == 0;
    if (!known)
        return err_set(err, ERR_INVALID, "state must be pending, approved, denied or expired");
    return approvals_list(c->db, state, task_id, limit, out, err);
}

int svc_autonomy_policy_get(struct svc_ctx *c, const char *ref, json_t **out, struct err *err)
{
    int64_t id;

    *out = NULL;
    if (projects_resolve(c->db, ref, &id, err) < 0 || policies_current(c->db, id, out, err) < 0)
        return -1;
    if (!*out)
        return err_set(err, ERR_NOT_FOUND,
                       "project %s has no autonomy policy: its agents run without one", ref);
    return 0;
}

int svc_autonomy_policy_put(struct svc_ctx *c, const char *ref, const json_t *policy,
                            const char *who, json_t **out, struct err *err)
{
    json_t *norm = NULL;
    int64_t id;
    int rc = -1;

    *out = NULL;
    if (projects_resolve(c->db, ref, &id, err) < 0 || autonomy_policy_check(policy, &norm, err) < 0)
        return -1;
    rc = policies_put(c->db, id, norm, json_is_true(json_object_get(norm, "enabled")),
                      (int)json_integer_value(json_object_get(norm, "approval_timeout_seconds")),
                      who, out, err);
    json_decref(norm);
    return rc;
}

int svc_autonomy_policy_versions(struct svc_ctx *c, const char *ref, json_t **out, struct err *err)
{
    int64_t id;

    *out = NULL;
    if (projects_resolve(c->db, ref, &id, err) < 0)
        return -1;
    return policies_versions(c->db, id, out, err);
}

int svc_autonomy_sweep(struct svc_ctx *c, int *expired, struct err *err)
{
    return approvals_expire(c->db, expired, err);
}
