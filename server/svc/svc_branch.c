/* create_branch. Worker threads. */
#include "svc/svc_branch.h"
#include "core/log.h"
#include "core/model.h"
#include "store/branches.h"
#include "svc/svc_forge.h"

#include <stdio.h>
#include <string.h>

/* Create `name` on the task's forge (a task without one: nothing to do). No transaction open. */
static int svc_branch_on_forge(struct svc_ctx *c, const struct branches_lease *l, const char *name,
                               const char *base, struct err *err)
{
    struct svc_forge sf;
    json_t *out = NULL;
    bool has_forge;
    int rc = -1;

    if (svc_forge_resolve(c, l->project_id, l->task, &sf, &has_forge, err) < 0)
        return -1;
    if (!has_forge)
        return 0;
    if (forge_backend_create_branch(&sf.f, name, svc_forge_base_or(l->task, base), &out, err) < 0)
        goto out;
    log_info("forge", "task=%lld branch=%s forge=%s created=%d",
             (long long)json_integer_value(json_object_get(l->task, "id")), name,
             forge_backend_kind_name(sf.f.kind), json_is_true(json_object_get(out, "created")));
    rc = 0;
out:
    json_decref(out);
    svc_forge_clear(&sf);
    return rc;
}

int svc_branch_create(struct svc_ctx *c, const char *agent_id, int64_t task_id, int64_t epoch,
                      const char *name, const char *base, json_t **out, struct err *err)
{
    struct branches_lease l;
    struct err fence = {0};
    char def[MODEL_BRANCH_MAX + 1];
    bool recorded = false;
    int rc = -1;

    *out = NULL;
    if (name && !model_branch_name_valid(name))
        return err_set(err, ERR_INVALID,
                       "'%.100s' is not a valid git branch name (no spaces, '..', '~^:?*[\\', "
                       "leading '-' or '.', trailing '/', '.' or '.lock'; at most %d bytes)",
                       name, MODEL_BRANCH_MAX);
    if (base && !model_branch_name_valid(base))
        return err_set(err, ERR_INVALID, "base must be a valid git branch name");
    if (branches_fence(c->db, agent_id, task_id, epoch, &l, err) < 0)
        return -1;
    if (!name) {
        model_branch_default(task_id, l.title, def, sizeof(def));
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
        rc = 0;
        goto out;
    }
    /* Outside any transaction: a slow forge holds no row lock and no other request waits. */
    if (svc_branch_on_forge(c, &l, name, base, err) < 0)
        goto out;
    if (branches_record_branch(c->db, agent_id, task_id, epoch, name, &recorded, &fence, err) < 0)
        goto out;
    if (fence.code != ERR_OK) {
        *err = fence; /* recorded all the same: the branch exists on the forge now */
        goto out;
    }
    if (!recorded) {
        err_set(err, ERR_CONFLICT, "task %lld already has another branch", (long long)task_id);
        goto out;
    }
    *out = json_pack("{s:I,s:s,s:b}", "task_id", (json_int_t)task_id, "branch", name, "created", 1);
    rc = 0;
out:
    branches_lease_clear(&l);
    return rc;
}
