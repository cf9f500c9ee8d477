/* trigger_preview_deploy. Worker threads. */
#include "mcp/tools_preview.h"
#include "core/err.h"
#include "forge/forge_install.h"
#include "mcp/tools.h"
#include "store/queue.h"

#include <string.h>

void tools_preview_deploy(struct mcp_ctx *c, const json_t *args, json_t **result)
{
    const json_t *id = json_object_get(args, "task_id"), *ep = json_object_get(args, "lease_epoch");
    const char *agent = tools_agent(c), *holder;
    struct err err = {0};
    json_t *task = NULL, *out = NULL;

    if (!json_is_integer(id) || json_integer_value(id) <= 0 || !json_is_integer(ep)) {
        *result = tools_error("invalid", "task_id and lease_epoch (integers) are required");
        return;
    }
    if (queue_get(c->db, json_integer_value(id), &task, &err) < 0) {
        *result = tools_error(err_code_name(err.code), "%s", err.msg);
        return;
    }
    /* Only the agent that holds (or last held) the task, at its current epoch. */
    holder = json_string_value(json_object_get(task, "agent_id"));
    if (!holder || strcmp(holder, agent) != 0) {
        *result = tools_error("forbidden", "task %lld is not leased to you",
                              (long long)json_integer_value(id));
    } else if (json_integer_value(json_object_get(task, "lease_epoch")) != json_integer_value(ep)) {
        *result = tools_error("stale_epoch", "lease epoch %lld is not the current one",
                              (long long)json_integer_value(ep));
    } else if (forge_install_preview(c->db, task, &out, &err) < 0) {
        *result = tools_error(err_code_name(err.code), "%s", err.msg);
    } else {
        *result = tools_result(out);
    }
    json_decref(task);
}
