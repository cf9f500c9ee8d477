/* The coding command's prompt. Pure; any thread. */
#include "runner_prompt.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

/* What the model's tools are for (runner_mcptools.h): the model has no other way to know that
 * its question parks the task or that the runner pushes and opens the pull request. */
static const char runner_prompt_tools[] =
    "\n\nDrover's MCP tools (server \"drover\"), bound to this task (no task id needed):\n"
    "- log_activity: a short progress note people follow live (what you found, what you do "
    "next).\n"
    "- ask_user_question: when you need a person's decision. The task waits for the answer, "
    "which comes back with your question in the next attempt's prompt; after asking, stop and "
    "end your session.\n"
    "- create_pull_request: your title and a summary of the change (the pull request's body); "
    "opened after you finish.\n"
    "- trigger_preview_deploy: a preview of the branch, after the pull request.\n"
    "- update_task_status: ready_to_test (the default when you changed something) or completed "
    "(nothing to test), when you finish.";

/* One earlier question and its answer, or a note. Owned. */
static char *runner_prompt_context(const json_t *c)
{
    const char *type = json_string_value(json_object_get(c, "type"));
    const char *text = json_string_value(json_object_get(c, "text"));
    const char *q = json_string_value(json_object_get(c, "question"));
    const char *by = json_string_value(json_object_get(c, "by"));
    char *s;

    if (json_is_string(c))
        return mem_strdup(json_string_value(c));
    if (type && strcmp(type, "answer") == 0 && text)
        return q ? mem_printf("Question: %s\n  Answer%s%s: %s", q, by ? " from " : "", by ? by : "",
                              text)
                 : mem_printf("Answer%s%s: %s", by ? " from " : "", by ? by : "", text);
    s = json_dumps(c, JSON_COMPACT);
    return s ? s : mem_strdup("");
}

char *runner_prompt_build(const json_t *task, const char *branch)
{
    const char *title = json_string_value(json_object_get(task, "title"));
    const char *desc = json_string_value(json_object_get(task, "description"));
    const json_t *ctx = json_object_get(task, "context"), *c;
    char *p = mem_printf("%s\n\n%s", title ? title : "", desc ? desc : ""), *q;
    size_t i;

    if (json_array_size(ctx)) {
        q = mem_printf("%s\n\nAnswers and notes from earlier attempts:", p);
        free(p);
        p = q;
        json_array_foreach(ctx, i, c)
        {
            char *s = runner_prompt_context(c);

            q = mem_printf("%s\n- %s", p, s);
            free(s);
            free(p);
            p = q;
        }
    }
    q = mem_printf("%s\n\n(Drover: you are on branch %s; commit or leave your changes in the "
                   "working tree, the runner commits and pushes them.)%s",
                   p, branch, runner_prompt_tools);
    free(p);
    return q;
}
