/* droverctl's task commands (/api/tasks). Single-threaded. */
#include "ctl_tasks.h"
#include "core/buf.h"
#include "ctl_args.h"
#include "ctl_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CTL_TASKS_LOG_PAGE 500  /* log entries per request */
#define CTL_TASKS_FOLLOW_MS 500 /* logs -f: pause between polls */
#define CTL_TASKS_PATH_MAX 4096 /* a task list URL with its filters */

/* The integer options of task add: option, request field, bounds (docs/api.md). */
static const struct {
    const char *opt, *field;
    long long min, max;
} ctl_tasks_add_ints[] = {{"priority", "priority", -1000, 1000},
                          {"agents", "agent_count", 1, 10},
                          {"max-attempts", "max_attempts", 1, 100},
                          {"timeout", "timeout_seconds", 1, 604800}};

static void ctl_tasks_line(const json_t *t)
{
    printf("%-6lld %-13s %-4lld %-24.24s %s\n", ctl_out_int(t, "id"), ctl_out_str(t, "state"),
           ctl_out_int(t, "priority"),
           json_is_string(json_object_get(t, "branch")) ? ctl_out_str(t, "branch") : "-",
           ctl_out_str(t, "title"));
}

/* The task's "budget" from --budget-tokens / --budget-usd into `body`. 0, or -1 (usage). */
static int ctl_tasks_add_budget(const struct ctl_args *a, json_t *body)
{
    json_t *budget = NULL;
    long long v;

    if (ctl_args_opt(a, "budget-tokens")) {
        if (ctl_args_int(ctl_args_opt(a, "budget-tokens"), "budget-tokens", 1, 1000000000000LL,
                         &v) < 0)
            return -1;
        budget = json_object();
        json_object_set_new(budget, "tokens", json_integer(v));
    }
    if (ctl_args_opt(a, "budget-usd")) {
        char *end;
        double usd = strtod(ctl_args_opt(a, "budget-usd"), &end);

        if (*end || usd <= 0) {
            fprintf(stderr, "droverctl: budget-usd must be a positive number\n");
            json_decref(budget);
            return -1;
        }
        if (!budget)
            budget = json_object();
        json_object_set_new(budget, "usd", json_real(usd));
    }
    if (budget)
        json_object_set_new(body, "budget", budget);
    return 0;
}

/* The POST /api/tasks body from task add's arguments; NULL after a usage message. */
static json_t *ctl_tasks_add_body(const struct ctl_args *a)
{
    static const struct {
        const char *opt, *field;
    } strs[] = {{"project", "project"},
                {"repo", "repository"},
                {"branch", "branch"},
                {"title", "title"},
                {"model", "model"}};
    char *prompt = ctl_args_join(a, 0);
    json_t *body = json_pack("{s:s}", "prompt", prompt);
    long long v;

    free(prompt);
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (ctl_args_opt(a, strs[i].opt))
            json_object_set_new(body, strs[i].field, json_string(ctl_args_opt(a, strs[i].opt)));
    for (size_t i = 0; i < sizeof(ctl_tasks_add_ints) / sizeof(ctl_tasks_add_ints[0]); i++) {
        const char *s = ctl_args_opt(a, ctl_tasks_add_ints[i].opt);

        if (!s)
            continue;
        if (ctl_args_int(s, ctl_tasks_add_ints[i].opt, ctl_tasks_add_ints[i].min,
                         ctl_tasks_add_ints[i].max, &v) < 0)
            goto usage;
        json_object_set_new(body, ctl_tasks_add_ints[i].field, json_integer(v));
    }
    if (ctl_tasks_add_budget(a, body) < 0)
        goto usage;
    return body;
usage:
    json_decref(body);
    return NULL;
}

int ctl_tasks_add(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_args_spec spec[] = {
        {"project", 'p', true},  {"repo", 'r', true},
        {"branch", 'b', true},   {"title", 't', true},
        {"priority", 0, true},   {"model", 0, true},
        {"agents", 'n', true},   {"max-attempts", 0, true},
        {"timeout", 0, true},    {"budget-tokens", 0, true},
        {"budget-usd", 0, true}, {"idempotency-key", 0, true},
        {NULL, 0, false}};
    struct ctl_args a;
    json_t *body, *out = NULL, *k;
    char hdr[256];
    const char *headers[2] = {NULL, NULL};
    size_t i;
    int rc = ctl_args_parse(ctl, argc, argv, spec, &a, 1, CTL_ARGS_MAXPOS);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    if (!(body = ctl_tasks_add_body(&a)))
        return CTL_USAGE;
    if (ctl_args_opt(&a, "idempotency-key")) {
        snprintf(hdr, sizeof(hdr), "Idempotency-Key: %.200s", ctl_args_opt(&a, "idempotency-key"));
        headers[0] = hdr;
    }
    rc = ctl_out_call(ctl, "POST", "/api/tasks", body, headers, &out);
    json_decref(body);
    if (rc == CTL_OK && ctl->json) {
        ctl_out_json(out);
    } else if (rc == CTL_OK) {
        printf("task %lld %s (%s)\n", ctl_out_int(out, "id"),
               json_is_false(json_object_get(out, "created")) ? "exists already" : "queued",
               ctl_out_str(out, "state"));
        json_array_foreach(json_object_get(out, "children"), i, k)
            printf("  child %lld %s\n", ctl_out_int(k, "id"), ctl_out_str(k, "state"));
    }
    json_decref(out);
    return rc;
}

int ctl_tasks_list(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_args_spec spec[] = {{"state", 's', true}, {"project", 'p', true},
                                                {"agent", 'a', true}, {"limit", 'l', true},
                                                {"cursor", 0, true},  {NULL, 0, false}};
    static const char *const keys[] = {"state", "project", "agent", "limit", "cursor"};
    struct ctl_args a;
    struct buf path;
    json_t *out = NULL, *t;
    size_t i;
    int rc = ctl_args_parse(ctl, argc, argv, spec, &a, 0, 0);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    buf_init(&path, CTL_TASKS_PATH_MAX);
    buf_appendf(&path, "/api/tasks?");
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (ctl_args_opt(&a, keys[i])) {
            char *esc = ctl_out_urlencode(ctl_args_opt(&a, keys[i]));

            buf_appendf(&path, "%s%s=%s", path.len > strlen("/api/tasks?") ? "&" : "", keys[i],
                        esc);
            free(esc);
        }
    rc = ctl_out_call(ctl, "GET", path.data, NULL, NULL, &out);
    buf_clear(&path);
    if (rc == CTL_OK && ctl->json) {
        ctl_out_json(out);
    } else if (rc == CTL_OK) {
        printf("%-6s %-13s %-4s %-24s %s\n", "ID", "STATE", "PRIO", "BRANCH", "TITLE");
        json_array_foreach(json_object_get(out, "tasks"), i, t) ctl_tasks_line(t);
        if (json_is_string(json_object_get(out, "next_cursor")))
            printf("more: --cursor %s\n", ctl_out_str(out, "next_cursor"));
    }
    json_decref(out);
    return rc;
}

/* task show's table for the task `out` (GET /api/tasks/{id}). */
static void ctl_tasks_show_text(long long id, const json_t *out)
{
    json_t *pr = json_object_get(out, "pull_request"), *h;
    char dur[32];
    size_t i;

    ctl_out_age(json_object_get(out, "duration_seconds"), dur, sizeof(dur));
    printf("task %lld: %s\nstate:    %s\nproject:  %s\nbranch:   %s (from %s)\n"
           "agent:    %s\nattempt:  %lld of %lld\nduration: %s\n",
           id, ctl_out_str(out, "title"), ctl_out_str(out, "state"),
           ctl_out_str(json_object_get(out, "project"), "repoUrl"), ctl_out_str(out, "branch"),
           ctl_out_str(out, "base_branch"), ctl_out_str(out, "agent_id"),
           ctl_out_int(out, "attempt"), ctl_out_int(out, "max_attempts"), dur);
    if (json_is_object(pr))
        printf("pull request: %s\n", ctl_out_str(pr, "url"));
    if (json_is_string(json_object_get(out, "question")))
        printf("question: %s\n", ctl_out_str(out, "question"));
    if (json_is_string(json_object_get(out, "last_error")))
        printf("last error: %s\n", ctl_out_str(out, "last_error"));
    printf("history:\n");
    json_array_foreach(json_object_get(out, "history"), i, h)
        printf("  %s  %s\n", ctl_out_str(h, "ts"), ctl_out_str(h, "message"));
}

int ctl_tasks_show(struct ctl *ctl, int argc, char **argv)
{
    char path[64];
    json_t *out = NULL;
    long long id;
    int rc;

    if (ctl_args_parse_id(ctl, argc, argv, "task id", &id, &rc) < 0)
        return rc;
    snprintf(path, sizeof(path), "/api/tasks/%lld", id);
    rc = ctl_out_call(ctl, "GET", path, NULL, NULL, &out);
    if (rc == CTL_OK && ctl->json)
        ctl_out_json(out);
    else if (rc == CTL_OK)
        ctl_tasks_show_text(id, out);
    json_decref(out);
    return rc;
}

static bool ctl_tasks_terminal(const char *state)
{
    return state && (strcmp(state, "completed") == 0 || strcmp(state, "failed") == 0 ||
                     strcmp(state, "cancelled") == 0);
}

/*
 * Print one page of the task's log after entry *after (as JSON lines when `json`), advance
 * *after, and say in *n how many entries came. CTL_OK or CTL_ERR.
 */
static int ctl_tasks_logs_page(struct ctl *ctl, long long id, bool json, long long *after,
                               size_t *n)
{
    char path[128];
    json_t *out = NULL, *e;
    size_t i;

    snprintf(path, sizeof(path), "/api/tasks/%lld/logs?after=%lld&limit=%d", id, *after,
             CTL_TASKS_LOG_PAGE);
    if (ctl_out_call(ctl, "GET", path, NULL, NULL, &out) != CTL_OK)
        return CTL_ERR;
    json_array_foreach(json_object_get(out, "entries"), i, e)
    {
        if (json) {
            char *s = json_dumps(e, JSON_COMPACT);

            puts(s);
            free(s);
        } else {
            /* The coding model's transcript (drover-agent's runner_transcript.h) says which
             * part of the conversation a line is. */
            const json_t *md = json_object_get(e, "metadata");
            const char *src = json_string_value(json_object_get(md, "source"));
            const char *kind = json_string_value(json_object_get(md, "kind"));

            printf("%s %-7s %s%s%s%s\n", ctl_out_str(e, "ts"), ctl_out_str(e, "level"),
                   src && (!strcmp(src, "claude") || !strcmp(src, "model")) ? "[" : "",
                   src && !strcmp(src, "model")    ? "model note"
                   : src && !strcmp(src, "claude") ? (kind ? kind : "claude")
                                                   : "",
                   src && (!strcmp(src, "claude") || !strcmp(src, "model")) ? "] " : "",
                   ctl_out_str(e, "message"));
        }
    }
    *after = json_integer_value(json_object_get(out, "next_after"));
    *n = json_array_size(json_object_get(out, "entries"));
    json_decref(out);
    fflush(stdout);
    return CTL_OK;
}

/* Has task `id` finished? CTL_OK with *done, or CTL_ERR. */
static int ctl_tasks_finished(struct ctl *ctl, long long id, bool *done)
{
    char path[64];
    json_t *out = NULL;

    snprintf(path, sizeof(path), "/api/tasks/%lld", id);
    if (ctl_out_call(ctl, "GET", path, NULL, NULL, &out) != CTL_OK)
        return CTL_ERR;
    *done = ctl_tasks_terminal(json_string_value(json_object_get(out, "state")));
    json_decref(out);
    return CTL_OK;
}

int ctl_tasks_logs(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_args_spec spec[] = {{"follow", 'f', false}, {NULL, 0, false}};
    struct ctl_args a;
    long long id, after = 0;
    size_t n;
    bool done;
    int rc = ctl_args_parse(ctl, argc, argv, spec, &a, 1, 1);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    if (ctl_args_id(a.pos[0], "task id", &id) < 0)
        return CTL_USAGE;
    for (;;) {
        if (ctl_tasks_logs_page(ctl, id, ctl->json, &after, &n) != CTL_OK)
            return CTL_ERR;
        if (n == CTL_TASKS_LOG_PAGE)
            continue;
        if (!ctl_args_opt(&a, "follow"))
            return CTL_OK;
        /* Stop once the task has finished and everything it wrote was printed. */
        if (ctl_tasks_finished(ctl, id, &done) != CTL_OK)
            return CTL_ERR;
        /* (The lines written after the last poll print as text even under --json.) */
        if (done)
            return ctl_tasks_logs_page(ctl, id, false, &after, &n);
        usleep(CTL_TASKS_FOLLOW_MS * 1000);
    }
}

/*
 * POST /api/tasks/{id}/{action} for cancel, answer, retry, accept, rework and reject. `text`:
 * the body field the words after ID fill (answer, rework), else NULL; `opt`: the body field
 * --reason / --comment fills.
 */
static int ctl_tasks_act(struct ctl *ctl, int argc, char **argv, const char *action,
                         const char *text, const char *opt)
{
    static const struct ctl_args_spec spec[] = {
        {"reason", 0, true}, {"comment", 0, true}, {NULL, 0, false}};
    struct ctl_args a;
    char path[128];
    json_t *body = NULL, *out = NULL;
    long long id;
    int rc = ctl_args_parse(ctl, argc, argv, spec, &a, text ? 2 : 1, text ? CTL_ARGS_MAXPOS : 1);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    if (ctl_args_id(a.pos[0], "task id", &id) < 0)
        return CTL_USAGE;
    if (text) {
        char *words = ctl_args_join(&a, 1);

        body = json_pack("{s:s}", text, words);
        free(words);
    } else if (opt && ctl_args_opt(&a, opt)) {
        body = json_pack("{s:s}", opt, ctl_args_opt(&a, opt));
    } else if (ctl_args_opt(&a, "reason") || ctl_args_opt(&a, "comment")) {
        fprintf(stderr, "droverctl: task %s takes %s%s\n", action, opt ? "--" : "no option",
                opt ? opt : "");
        return CTL_USAGE;
    }
    snprintf(path, sizeof(path), "/api/tasks/%lld/%s", id, action);
    rc = ctl_out_call(ctl, "POST", path, body, NULL, &out);
    if (rc == CTL_OK && ctl->json)
        ctl_out_json(out);
    else if (rc == CTL_OK)
        printf("task %lld is now %s\n", id, ctl_out_str(out, "state"));
    json_decref(body);
    json_decref(out);
    return rc;
}

int ctl_tasks_cancel(struct ctl *ctl, int argc, char **argv)
{
    return ctl_tasks_act(ctl, argc, argv, "cancel", NULL, "reason");
}

int ctl_tasks_answer(struct ctl *ctl, int argc, char **argv)
{
    return ctl_tasks_act(ctl, argc, argv, "answer", "answer", NULL);
}

int ctl_tasks_retry(struct ctl *ctl, int argc, char **argv)
{
    return ctl_tasks_act(ctl, argc, argv, "retry", NULL, NULL);
}

int ctl_tasks_accept(struct ctl *ctl, int argc, char **argv)
{
    return ctl_tasks_act(ctl, argc, argv, "accept", NULL, "comment");
}

int ctl_tasks_rework(struct ctl *ctl, int argc, char **argv)
{
    return ctl_tasks_act(ctl, argc, argv, "rework", "instructions", NULL);
}

int ctl_tasks_reject(struct ctl *ctl, int argc, char **argv)
{
    return ctl_tasks_act(ctl, argc, argv, "reject", NULL, "reason");
}
