/* The coding command's prompt. Pure; any thread. */
#include "runner_prompt.h"
#include "core/mem.h"

#include <stdbool.h>
#include <stdio.h>
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

/* *p followed by `add` (owned by the call: freed, like the old *p). */
static void runner_prompt_cat(char **p, char *add)
{
    char *q = mem_printf("%s%s", *p, add ? add : "");

    free(add);
    free(*p);
    *p = q;
}

/* "path:line — body (author)" for one inline comment; "path — body" without a line. */
static void runner_prompt_inline(char **p, const json_t *rc)
{
    const char *path = json_string_value(json_object_get(rc, "path"));
    const char *body = json_string_value(json_object_get(rc, "body"));
    const char *who = json_string_value(json_object_get(rc, "author"));
    json_int_t line = json_integer_value(json_object_get(rc, "line"));
    char at[32] = "";

    if (line > 0)
        snprintf(at, sizeof(at), ":%lld", (long long)line);
    runner_prompt_cat(p, mem_printf("\n    - %s%s \xe2\x80\x94 %s%s%s%s", path ? path : "", at,
                                    body ? body : "", who ? " (" : "", who ? who : "",
                                    who ? ")" : ""));
}

/*
 * A reviewer's rework: who asked, the instructions, the review's summary and conversation
 * comments, then the inline comments grouped per file ("path:line — comment"), in the order
 * the files first appear. Owned.
 */
static char *runner_prompt_rework(const json_t *c)
{
    const char *by = json_string_value(json_object_get(c, "by"));
    const char *ins = json_string_value(json_object_get(c, "instructions"));
    const char *branch = json_string_value(json_object_get(c, "branch"));
    const char *prev =
        json_string_value(json_object_get(json_object_get(c, "previous_result"), "summary"));
    const char *pr = json_string_value(json_object_get(json_object_get(c, "pull_request"), "url"));
    const json_t *review = json_object_get(c, "review"), *rc, *other;
    char *p = mem_printf("Rework requested%s%s (same branch%s%s%s%s):", by ? " by " : "",
                         by ? by : "", branch ? " " : "", branch ? branch : "",
                         pr ? ", pull request " : "", pr ? pr : "");
    size_t i, j, ninline = 0;

    if (ins && *ins)
        runner_prompt_cat(&p, mem_printf("\n  Instructions: %s", ins));
    if (prev && *prev)
        runner_prompt_cat(&p, mem_printf("\n  Your previous result: %s", prev));
    json_array_foreach(review, i, rc)
    {
        const char *kind = json_string_value(json_object_get(rc, "kind"));
        const char *who = json_string_value(json_object_get(rc, "author"));

        if (kind && strcmp(kind, "inline") == 0 && json_string_value(json_object_get(rc, "path"))) {
            ninline++;
            continue;
        }
        const char *body = json_string_value(json_object_get(rc, "body"));

        runner_prompt_cat(&p, mem_printf("\n  Review%s%s%s: %s",
                                         kind && strcmp(kind, "review") == 0 ? "" : " comment",
                                         who ? " from " : "", who ? who : "", body ? body : ""));
    }
    if (!ninline)
        return p;
    runner_prompt_cat(&p, mem_strdup("\n  Inline comments, by file:"));
    json_array_foreach(review, i, rc)
    {
        const char *kind = json_string_value(json_object_get(rc, "kind"));
        const char *path = json_string_value(json_object_get(rc, "path"));
        bool seen = false;

        if (!kind || strcmp(kind, "inline") != 0 || !path)
            continue;
        for (j = 0; j < i && !seen; j++) {
            const char *op = json_string_value(json_object_get(json_array_get(review, j), "path"));
            const char *ok = json_string_value(json_object_get(json_array_get(review, j), "kind"));

            seen = op && ok && strcmp(ok, "inline") == 0 && strcmp(op, path) == 0;
        }
        if (seen)
            continue;
        runner_prompt_cat(&p, mem_printf("\n  %s:", path));
        json_array_foreach(review, j, other)
        {
            const char *ok = json_string_value(json_object_get(other, "kind"));
            const char *op = json_string_value(json_object_get(other, "path"));

            if (j >= i && ok && strcmp(ok, "inline") == 0 && op && strcmp(op, path) == 0)
                runner_prompt_inline(&p, other);
        }
    }
    return p;
}

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
    if (type && strcmp(type, "rework") == 0)
        return runner_prompt_rework(c);
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
