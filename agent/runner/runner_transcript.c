/* Claude Code's stream-json as a transcript; see runner_transcript.h. */
#include "runner_transcript.h"
#include "core/mem.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most `max` bytes of `s`, cut on a UTF-8 character boundary, with "…" when cut. Owned. */
static char *runner_transcript_cut(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return mem_strdup(s);
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return mem_printf("%.*s…", (int)max, s);
}

static json_t *runner_transcript_entry(const char *kind, const char *level, char *msg, json_t *meta)
{
    json_t *e;

    if (!meta)
        meta = json_object();
    json_object_set_new(meta, "source", json_string("claude"));
    json_object_set_new(meta, "kind", json_string(kind));
    e = json_pack("{s:s, s:s, s:o}", "message", msg, "level", level, "metadata", meta);
    free(msg);
    return e;
}

/* A tool call's input, short: the command, the path or the pattern when there is one. */
static char *runner_transcript_input(const json_t *input)
{
    static const char *const keys[] = {"command", "file_path", "path",     "pattern", "url",
                                       "query",   "message",   "question", "title"};
    char *s, *cut;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = json_string_value(json_object_get(input, keys[i]));

        if (v)
            return runner_transcript_cut(v, RUNNER_TRANSCRIPT_INPUT_MAX);
    }
    s = json_dumps(input, JSON_COMPACT);
    cut = runner_transcript_cut(s ? s : "{}", RUNNER_TRANSCRIPT_INPUT_MAX);
    free(s);
    return cut;
}

/* A tool_result's content: a string, or [{type:text,text}...]. Owned. */
static char *runner_transcript_result_text(const json_t *content)
{
    const json_t *b;
    size_t i;
    char *acc = mem_strdup(""), *next;

    if (json_is_string(content)) {
        free(acc);
        return runner_transcript_cut(json_string_value(content), RUNNER_TRANSCRIPT_RESULT_MAX);
    }
    json_array_foreach(content, i, b)
    {
        const char *t = json_string_value(json_object_get(b, "text"));

        if (!t)
            continue;
        next = mem_printf("%s%s%s", acc, *acc ? "\n" : "", t);
        free(acc);
        acc = next;
        if (strlen(acc) > RUNNER_TRANSCRIPT_RESULT_MAX)
            break;
    }
    next = runner_transcript_cut(acc, RUNNER_TRANSCRIPT_RESULT_MAX);
    free(acc);
    return next;
}

static void runner_transcript_assistant(const json_t *ev, json_t *out)
{
    const json_t *content = json_object_get(json_object_get(ev, "message"), "content"), *b;
    size_t i;

    json_array_foreach(content, i, b)
    {
        const char *type = json_string_value(json_object_get(b, "type"));

        if (type && strcmp(type, "text") == 0) {
            const char *t = json_string_value(json_object_get(b, "text"));

            if (t && *t)
                json_array_append_new(out, runner_transcript_entry(
                                               "text", "info",
                                               runner_transcript_cut(t, RUNNER_TRANSCRIPT_TEXT_MAX),
                                               NULL));
        } else if (type && strcmp(type, "tool_use") == 0) {
            const char *name = json_string_value(json_object_get(b, "name"));
            char *in = runner_transcript_input(json_object_get(b, "input"));
            json_t *meta = json_pack("{s:s, s:s, s:s?}", "tool", name ? name : "?", "input", in,
                                     "tool_use_id", json_string_value(json_object_get(b, "id")));

            json_array_append_new(
                out, runner_transcript_entry("tool_use", "info",
                                             mem_printf("→ %s: %s", name ? name : "?", in), meta));
            free(in);
        } else if (type && strcmp(type, "thinking") == 0) {
            continue; /* the model's private reasoning: not part of the transcript */
        }
    }
}

static void runner_transcript_user(const json_t *ev, json_t *out)
{
    const json_t *content = json_object_get(json_object_get(ev, "message"), "content"), *b;
    size_t i;

    json_array_foreach(content, i, b)
    {
        const char *type = json_string_value(json_object_get(b, "type"));
        bool is_error;
        char *text;

        if (!type || strcmp(type, "tool_result") != 0)
            continue;
        is_error = json_is_true(json_object_get(b, "is_error"));
        text = runner_transcript_result_text(json_object_get(b, "content"));
        json_array_append_new(out,
                              runner_transcript_entry(
                                  "tool_result", is_error ? "warning" : "info",
                                  mem_printf("← %s%s", is_error ? "error: " : "", text),
                                  json_pack("{s:b, s:s?}", "is_error", is_error, "tool_use_id",
                                            json_string_value(json_object_get(b, "tool_use_id")))));
        free(text);
    }
}

static void runner_transcript_result(const json_t *ev, json_t *out)
{
    const char *subtype = json_string_value(json_object_get(ev, "subtype"));
    const char *text = json_string_value(json_object_get(ev, "result"));
    const json_t *usage = json_object_get(ev, "usage");
    bool is_error = json_is_true(json_object_get(ev, "is_error"));
    double cost = json_number_value(json_object_get(ev, "total_cost_usd"));
    long long turns = json_integer_value(json_object_get(ev, "num_turns"));
    long long in = json_integer_value(json_object_get(usage, "input_tokens"));
    long long outt = json_integer_value(json_object_get(usage, "output_tokens"));
    char *cut = runner_transcript_cut(text ? text : "", RUNNER_TRANSCRIPT_TEXT_MAX);
    json_t *meta = json_pack(
        "{s:s, s:b, s:I, s:f, s:{s:I, s:I, s:I, s:I}, s:s}", "subtype", subtype ? subtype : "",
        "is_error", is_error, "num_turns", (json_int_t)turns, "total_cost_usd", cost, "usage",
        "input_tokens", (json_int_t)in, "output_tokens", (json_int_t)outt,
        "cache_read_input_tokens",
        json_integer_value(json_object_get(usage, "cache_read_input_tokens")),
        "cache_creation_input_tokens",
        json_integer_value(json_object_get(usage, "cache_creation_input_tokens")), "result", cut);

    json_array_append_new(
        out, runner_transcript_entry(
                 "result", is_error ? "error" : "info",
                 mem_printf("%s after %lld turn%s: %lld input, %lld output tokens, $%.4f%s%s",
                            is_error ? "failed" : "finished", turns, turns == 1 ? "" : "s", in,
                            outt, cost, is_error && *cut ? ": " : "", is_error ? cut : ""),
                 meta));
    free(cut);
}

static void runner_transcript_init(const json_t *ev, json_t *out)
{
    const char *model = json_string_value(json_object_get(ev, "model"));
    const json_t *servers = json_object_get(ev, "mcp_servers"), *s;
    size_t i, ntools = json_array_size(json_object_get(ev, "tools"));
    char *names = mem_strdup("");

    json_array_foreach(servers, i, s)
    {
        char *n = mem_printf("%s%s%s (%s)", names, *names ? ", " : "",
                             json_string_value(json_object_get(s, "name"))
                                 ? json_string_value(json_object_get(s, "name"))
                                 : "?",
                             json_string_value(json_object_get(s, "status"))
                                 ? json_string_value(json_object_get(s, "status"))
                                 : "?");
        free(names);
        names = n;
    }
    json_array_append_new(
        out, runner_transcript_entry(
                 "init", "info",
                 mem_printf("Claude Code session: model %s, %zu tools, MCP servers: %s",
                            model ? model : "?", ntools, *names ? names : "none"),
                 json_pack("{s:s?, s:O?}", "model", model, "mcp_servers", servers)));
    free(names);
}

json_t *runner_transcript_entries(const char *line)
{
    json_t *ev, *out;
    const char *type;

    if (line[0] != '{' || !(ev = json_loads(line, 0, NULL)))
        return NULL;
    type = json_string_value(json_object_get(ev, "type"));
    if (!json_is_object(ev) || !type) {
        json_decref(ev);
        return NULL;
    }
    out = json_array();
    if (strcmp(type, "assistant") == 0)
        runner_transcript_assistant(ev, out);
    else if (strcmp(type, "user") == 0)
        runner_transcript_user(ev, out);
    else if (strcmp(type, "result") == 0)
        runner_transcript_result(ev, out);
    else if (strcmp(type, "system") == 0 && json_string_value(json_object_get(ev, "subtype")) &&
             strcmp(json_string_value(json_object_get(ev, "subtype")), "init") == 0)
        runner_transcript_init(ev, out);
    else if (strcmp(type, "stream_event") != 0 && strcmp(type, "system") != 0)
        json_array_append_new(out, runner_transcript_entry(
                                       "event", "debug", mem_printf("(%.60s event)", type), NULL));
    json_decref(ev);
    return out;
}
