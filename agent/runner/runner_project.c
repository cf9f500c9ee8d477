/* Per-task settings of the coding command; see runner_project.h. */
#include "runner_project.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

/* The array's strings joined with ',' after `first` (may be NULL); NULL for no names. */
static char *runner_project_join(const char *first, const json_t *names)
{
    const json_t *v;
    size_t i;
    char *s = first ? mem_strdup(first) : NULL;

    json_array_foreach(names, i, v)
    {
        const char *n = json_string_value(v);
        char *next;

        if (!n || !*n)
            continue;
        next = s ? mem_printf("%s,%s", s, n) : mem_strdup(n);
        free(s);
        s = next;
    }
    return s;
}

void runner_project_settings(const json_t *task, bool root, struct runner_project *out)
{
    const json_t *agent = json_object_get(json_object_get(task, "project"), "agent");
    const json_t *allowed = json_object_get(agent, "allowed_tools");
    const char *model = json_string_value(json_object_get(task, "model"));

    memset(out, 0, sizeof(*out));
    out->model = model && *model ? model : json_string_value(json_object_get(agent, "model"));
    if (json_array_size(json_object_get(agent, "tools")))
        out->tools = runner_project_join(NULL, json_object_get(agent, "tools"));
    if (json_is_object(json_object_get(task, "autonomy"))) {
        const json_t *a = json_object_get(task, "autonomy");

        out->allowed = mem_strdup("mcp__drover");
        out->mode = "default";
        out->prompt_tool = RUNNER_PROJECT_PROMPT_TOOL;
        out->approval_timeout_s =
            (long)json_integer_value(json_object_get(a, "approval_timeout_seconds"));
    } else if (json_is_array(allowed)) {
        /* An allow-list means what it says: dontAsk refuses every other tool. */
        out->allowed = runner_project_join("mcp__drover", allowed);
        out->mode = "dontAsk";
    } else if (root) {
        out->allowed = mem_strdup("Bash,Edit,Write,mcp__drover");
    }
    if (json_is_object(json_object_get(agent, "mcp_servers")))
        out->mcp_servers = json_object_get(agent, "mcp_servers");
}

void runner_project_clear(struct runner_project *p)
{
    free(p->tools);
    free(p->allowed);
    memset(p, 0, sizeof(*p));
}
