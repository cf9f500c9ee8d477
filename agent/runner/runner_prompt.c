/* The coding command's prompt. Pure; any thread. */
#include "runner_prompt.h"
#include "core/mem.h"

#include <stdlib.h>

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
            char *s =
                json_is_string(c) ? mem_strdup(json_string_value(c)) : json_dumps(c, JSON_COMPACT);
            q = mem_printf("%s\n- %s", p, s);
            free(s);
            free(p);
            p = q;
        }
    }
    q = mem_printf("%s\n\n(Drover: you are on branch %s; commit or leave your changes in the "
                   "working tree, the runner commits and pushes them.)",
                   p, branch);
    free(p);
    return q;
}
