/*
 * droverctl: run Drover from a terminal over the REST API. Tasks (add, list, show, logs,
 * cancel, answer, retry), agents, the pool, projects and tokens. DROVER_URL and DROVER_TOKEN
 * (or --url / --token) say where and as whom. Every read takes --json for scripts.
 * Exit codes: 0 ok, 1 error (the server refused, or could not be reached), 2 usage.
 * Single-threaded.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "httpc.h"

#define CTL_OK 0
#define CTL_ERR 1
#define CTL_USAGE 2
#define CTL_MAXOPT 16

/* One option a command accepts: "--name VALUE" (arg) or "--name" (flag). */
struct ctl_optspec {
    const char *name;
    char shortname; /* 0 = none */
    bool arg;
};

struct ctl_args {
    const char *val[CTL_MAXOPT]; /* by spec index; "" for a set flag */
    const char *pos[16];
    int npos;
};

struct ctl {
    struct httpc http;
    bool json;
    const char *prog_cmd; /* "task add", for messages */
};

static const struct ctl_optspec *ctl_spec_cur;

/*
 * Parse argv against `spec` (NULL-name terminated). --json and --help are always allowed and
 * handled by the caller through ctl->json / the return value 3.
 */
static int ctl_parse(struct ctl *ctl, int argc, char **argv, const struct ctl_optspec *spec,
                     struct ctl_args *a, int minpos, int maxpos)
{
    memset(a, 0, sizeof(*a));
    ctl_spec_cur = spec;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        int k = -1;

        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)
            return 3;
        if (strcmp(s, "--json") == 0) {
            ctl->json = true;
            continue;
        }
        if (strcmp(s, "--") == 0) {
            for (i++; i < argc && a->npos < 16; i++)
                a->pos[a->npos++] = argv[i];
            break;
        }
        if (s[0] == '-' && s[1]) {
            for (int j = 0; spec && spec[j].name; j++)
                if ((s[1] == '-' && strcmp(s + 2, spec[j].name) == 0) ||
                    (s[1] != '-' && spec[j].shortname && s[1] == spec[j].shortname && !s[2]))
                    k = j;
            if (k < 0) {
                fprintf(stderr, "droverctl %s: unknown option '%s' (see --help)\n", ctl->prog_cmd,
                        s);
                return -1;
            }
            if (spec[k].arg) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "droverctl %s: %s needs a value\n", ctl->prog_cmd, s);
                    return -1;
                }
                a->val[k] = argv[++i];
            } else {
                a->val[k] = "";
            }
            continue;
        }
        if (a->npos >= 16) {
            fprintf(stderr, "droverctl %s: too many arguments\n", ctl->prog_cmd);
            return -1;
        }
        a->pos[a->npos++] = s;
    }
    if (a->npos < minpos || a->npos > maxpos) {
        fprintf(stderr, "droverctl %s: expected %d%s argument%s, got %d (see --help)\n",
                ctl->prog_cmd, minpos, maxpos > minpos ? " or more" : "", minpos == 1 ? "" : "s",
                a->npos);
        return -1;
    }
    return 0;
}

/* The value of option `name` or NULL. */
static const char *ctl_opt(const struct ctl_args *a, const char *name)
{
    for (int j = 0; ctl_spec_cur && ctl_spec_cur[j].name; j++)
        if (strcmp(ctl_spec_cur[j].name, name) == 0)
            return a->val[j];
    return NULL;
}

static int ctl_int(const char *s, const char *what, long long min, long long max, long long *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);

    if (!*s || *end || v < min || v > max) {
        fprintf(stderr, "droverctl: %s must be an integer from %lld to %lld, not '%s'\n", what, min,
                max, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Send and check: 2xx returns 0 with *out (owned; may be NULL for non-JSON), else prints. */
static int ctl_call(struct ctl *ctl, const char *method, const char *path, json_t *body,
                    const char *const *headers, json_t **out, char **raw)
{
    struct httpc_resp r = {0};
    struct err err = {0};
    int rc = CTL_ERR;

    if (out)
        *out = NULL;
    if (raw)
        *raw = NULL;
    if (httpc_request(&ctl->http, method, path, body, headers, 0, &r, &err) < 0) {
        fprintf(stderr, "droverctl: cannot reach %s: %s\n", ctl->http.base_url, err.msg);
        goto out;
    }
    if (r.status < 200 || r.status >= 300) {
        const char *msg = httpc_error_message(&r);
        const char *code =
            json_string_value(json_object_get(json_object_get(r.json, "error"), "code"));

        fprintf(stderr, "droverctl %s: %ld %s%s%s\n", ctl->prog_cmd, r.status,
                code ? code : "error", msg ? ": " : "", msg ? msg : (r.body ? r.body : ""));
        if (r.status == 401)
            fprintf(stderr, "  (set DROVER_TOKEN or --token to an operator or admin token)\n");
        goto out;
    }
    if (out) {
        *out = r.json;
        r.json = NULL;
    }
    if (raw) {
        *raw = r.body;
        r.body = NULL;
    }
    rc = CTL_OK;
out:
    httpc_resp_clear(&r);
    return rc;
}

static void ctl_print_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (s) {
        puts(s);
        free(s);
    }
}

static const char *ctl_s(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));

    return v ? v : "-";
}

/* "12s", "4m", "2h" for a number of seconds (or "-"). */
static void ctl_age(const json_t *v, char *out, size_t n)
{
    double s;

    if (!json_is_number(v)) {
        snprintf(out, n, "-");
        return;
    }
    s = json_number_value(v);
    if (s < 120)
        snprintf(out, n, "%.0fs", s);
    else if (s < 7200)
        snprintf(out, n, "%.0fm", s / 60);
    else
        snprintf(out, n, "%.1fh", s / 3600);
}

/* Percent-encode a query value (unreserved characters stay). Owned result. */
static char *ctl_urlencode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = mem_alloc(strlen(s) * 3 + 1), *o = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~", c)) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

/* ---------------------------------------------------------------- tasks */

static void ctl_task_line(const json_t *t)
{
    printf("%-6lld %-13s %-4lld %-24.24s %s\n",
           (long long)json_integer_value(json_object_get(t, "id")), ctl_s(t, "state"),
           (long long)json_integer_value(json_object_get(t, "priority")),
           json_is_string(json_object_get(t, "branch")) ? ctl_s(t, "branch") : "-",
           ctl_s(t, "title"));
}

static int ctl_task_add(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_optspec spec[] = {{"project", 'p', true},  {"repo", 'r', true},
                                              {"branch", 'b', true},   {"title", 't', true},
                                              {"priority", 0, true},   {"model", 0, true},
                                              {"agents", 'n', true},   {"max-attempts", 0, true},
                                              {"timeout", 0, true},    {"budget-tokens", 0, true},
                                              {"budget-usd", 0, true}, {"idempotency-key", 0, true},
                                              {NULL, 0, false}};
    struct ctl_args a;
    struct buf prompt;
    json_t *body, *out = NULL, *budget = NULL;
    char hdr[256];
    const char *headers[2] = {NULL, NULL};
    long long v;
    int rc;

    rc = ctl_parse(ctl, argc, argv, spec, &a, 1, 16);
    if (rc == 3) {
        printf("usage: droverctl task add [--project NAME | --repo URL] [--branch BASE]\n"
               "         [--title T] [--priority N] [--model M] [--agents N] [--max-attempts N]\n"
               "         [--timeout SECONDS] [--budget-tokens N] [--budget-usd X]\n"
               "         [--idempotency-key K] [--json] PROMPT...\n\n"
               "Queues a task (202). --agents N (1-10) fans the prompt out to N agents, each\n"
               "its own task and branch under one parent. The same --idempotency-key returns\n"
               "the same task instead of a second one.\n");
        return CTL_OK;
    }
    if (rc < 0)
        return CTL_USAGE;
    buf_init(&prompt, 100000 * 4);
    for (int i = 0; i < a.npos; i++)
        buf_appendf(&prompt, "%s%s", i ? " " : "", a.pos[i]);
    body = json_pack("{s:s}", "prompt", prompt.data ? prompt.data : "");
    buf_clear(&prompt);
    if (ctl_opt(&a, "project"))
        json_object_set_new(body, "project", json_string(ctl_opt(&a, "project")));
    if (ctl_opt(&a, "repo"))
        json_object_set_new(body, "repository", json_string(ctl_opt(&a, "repo")));
    if (ctl_opt(&a, "branch"))
        json_object_set_new(body, "branch", json_string(ctl_opt(&a, "branch")));
    if (ctl_opt(&a, "title"))
        json_object_set_new(body, "title", json_string(ctl_opt(&a, "title")));
    if (ctl_opt(&a, "model"))
        json_object_set_new(body, "model", json_string(ctl_opt(&a, "model")));
    static const struct {
        const char *opt, *field;
        long long min, max;
    } ints[] = {{"priority", "priority", -1000, 1000},
                {"agents", "agent_count", 1, 10},
                {"max-attempts", "max_attempts", 1, 100},
                {"timeout", "timeout_seconds", 1, 604800}};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        if (ctl_opt(&a, ints[i].opt)) {
            if (ctl_int(ctl_opt(&a, ints[i].opt), ints[i].opt, ints[i].min, ints[i].max, &v) < 0) {
                json_decref(body);
                return CTL_USAGE;
            }
            json_object_set_new(body, ints[i].field, json_integer(v));
        }
    if (ctl_opt(&a, "budget-tokens")) {
        if (ctl_int(ctl_opt(&a, "budget-tokens"), "budget-tokens", 1, 1000000000000LL, &v) < 0) {
            json_decref(body);
            return CTL_USAGE;
        }
        budget = json_object();
        json_object_set_new(budget, "tokens", json_integer(v));
    }
    if (ctl_opt(&a, "budget-usd")) {
        char *end;
        double usd = strtod(ctl_opt(&a, "budget-usd"), &end);

        if (*end || usd <= 0) {
            fprintf(stderr, "droverctl: budget-usd must be a positive number\n");
            json_decref(body);
            json_decref(budget);
            return CTL_USAGE;
        }
        if (!budget)
            budget = json_object();
        json_object_set_new(budget, "usd", json_real(usd));
    }
    if (budget)
        json_object_set_new(body, "budget", budget);
    if (ctl_opt(&a, "idempotency-key")) {
        snprintf(hdr, sizeof(hdr), "Idempotency-Key: %.200s", ctl_opt(&a, "idempotency-key"));
        headers[0] = hdr;
    }
    rc = ctl_call(ctl, "POST", "/api/tasks", body, headers, &out, NULL);
    json_decref(body);
    if (rc == CTL_OK) {
        if (ctl->json) {
            ctl_print_json(out);
        } else {
            json_t *kids = json_object_get(out, "children"), *k;
            size_t i;

            printf("task %lld %s (%s)\n", (long long)json_integer_value(json_object_get(out, "id")),
                   json_is_false(json_object_get(out, "created")) ? "exists already" : "queued",
                   ctl_s(out, "state"));
            json_array_foreach(kids, i, k)
                printf("  child %lld %s\n", (long long)json_integer_value(json_object_get(k, "id")),
                       ctl_s(k, "state"));
        }
    }
    json_decref(out);
    return rc;
}

static int ctl_task_list(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_optspec spec[] = {{"state", 's', true}, {"project", 'p', true},
                                              {"agent", 'a', true}, {"limit", 'l', true},
                                              {"cursor", 0, true},  {NULL, 0, false}};
    static const char *const keys[] = {"state", "project", "agent", "limit", "cursor"};
    struct ctl_args a;
    struct buf path;
    json_t *out = NULL, *t;
    size_t i;
    int rc = ctl_parse(ctl, argc, argv, spec, &a, 0, 0);

    if (rc == 3) {
        printf("usage: droverctl task list [--state S] [--project P] [--agent ID] [--limit N]\n"
               "         [--cursor C] [--json]\n\nNewest first. When more remain, the last line "
               "gives the --cursor for the next page.\n");
        return CTL_OK;
    }
    if (rc < 0)
        return CTL_USAGE;
    buf_init(&path, 4096);
    buf_appendf(&path, "/api/tasks?");
    for (i = 0; i < 5; i++)
        if (ctl_opt(&a, keys[i])) {
            char *esc = ctl_urlencode(ctl_opt(&a, keys[i]));

            buf_appendf(&path, "%s%s=%s", path.len > 11 ? "&" : "", keys[i], esc);
            free(esc);
        }
    rc = ctl_call(ctl, "GET", path.data, NULL, NULL, &out, NULL);
    buf_clear(&path);
    if (rc == CTL_OK) {
        if (ctl->json) {
            ctl_print_json(out);
        } else {
            printf("%-6s %-13s %-4s %-24s %s\n", "ID", "STATE", "PRIO", "BRANCH", "TITLE");
            json_array_foreach(json_object_get(out, "tasks"), i, t) ctl_task_line(t);
            if (json_is_string(json_object_get(out, "next_cursor")))
                printf("more: --cursor %s\n", ctl_s(out, "next_cursor"));
        }
    }
    json_decref(out);
    return rc;
}

/* Parses the single positional task id. */
static int ctl_task_id(const char *s, long long *id)
{
    return ctl_int(s, "task id", 1, 9223372036854775807LL, id);
}

static int ctl_task_show(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_args a;
    char path[64];
    json_t *out = NULL, *h;
    long long id;
    size_t i;
    int rc = ctl_parse(ctl, argc, argv, NULL, &a, 1, 1);

    if (rc == 3) {
        printf("usage: droverctl task show ID [--json]\n\nThe task with its history, branch, "
               "pull request and (needs_input) question.\n");
        return CTL_OK;
    }
    if (rc < 0 || ctl_task_id(a.pos[0], &id) < 0)
        return CTL_USAGE;
    snprintf(path, sizeof(path), "/api/tasks/%lld", id);
    rc = ctl_call(ctl, "GET", path, NULL, NULL, &out, NULL);
    if (rc == CTL_OK) {
        if (ctl->json) {
            ctl_print_json(out);
        } else {
            json_t *pr = json_object_get(out, "pull_request");
            char dur[32];

            ctl_age(json_object_get(out, "duration_seconds"), dur, sizeof(dur));
            printf("task %lld: %s\nstate:    %s\nproject:  %s\nbranch:   %s (from %s)\n"
                   "agent:    %s\nattempt:  %lld of %lld\nduration: %s\n",
                   id, ctl_s(out, "title"), ctl_s(out, "state"),
                   ctl_s(json_object_get(out, "project"), "repoUrl"), ctl_s(out, "branch"),
                   ctl_s(out, "base_branch"), ctl_s(out, "agent_id"),
                   (long long)json_integer_value(json_object_get(out, "attempt")),
                   (long long)json_integer_value(json_object_get(out, "max_attempts")), dur);
            if (json_is_object(pr))
                printf("pull request: %s\n", ctl_s(pr, "url"));
            if (json_is_string(json_object_get(out, "question")))
                printf("question: %s\n", ctl_s(out, "question"));
            if (json_is_string(json_object_get(out, "last_error")))
                printf("last error: %s\n", ctl_s(out, "last_error"));
            printf("history:\n");
            json_array_foreach(json_object_get(out, "history"), i, h)
                printf("  %s  %s\n", ctl_s(h, "ts"), ctl_s(h, "message"));
        }
    }
    json_decref(out);
    return rc;
}

static bool ctl_terminal(const char *state)
{
    return state && (strcmp(state, "completed") == 0 || strcmp(state, "failed") == 0 ||
                     strcmp(state, "cancelled") == 0);
}

static int ctl_task_logs(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_optspec spec[] = {{"follow", 'f', false}, {NULL, 0, false}};
    struct ctl_args a;
    char path[128];
    long long id, after = 0;
    int rc = ctl_parse(ctl, argc, argv, spec, &a, 1, 1);

    if (rc == 3) {
        printf("usage: droverctl task logs ID [-f|--follow] [--json]\n\nPrints the task's "
               "activity. -f keeps printing new lines until the task finishes\n(or Ctrl-C). "
               "--json prints one JSON object per line.\n");
        return CTL_OK;
    }
    if (rc < 0 || ctl_task_id(a.pos[0], &id) < 0)
        return CTL_USAGE;
    for (;;) {
        json_t *out = NULL, *e;
        size_t i;

        snprintf(path, sizeof(path), "/api/tasks/%lld/logs?after=%lld&limit=500", id, after);
        if (ctl_call(ctl, "GET", path, NULL, NULL, &out, NULL) != CTL_OK)
            return CTL_ERR;
        json_array_foreach(json_object_get(out, "entries"), i, e)
        {
            if (ctl->json) {
                char *s = json_dumps(e, JSON_COMPACT);

                puts(s);
                free(s);
            } else {
                printf("%s %-7s %s\n", ctl_s(e, "ts"), ctl_s(e, "level"), ctl_s(e, "message"));
            }
        }
        after = json_integer_value(json_object_get(out, "next_after"));
        size_t n = json_array_size(json_object_get(out, "entries"));
        json_decref(out);
        fflush(stdout);
        if (n == 500)
            continue;
        if (!ctl_opt(&a, "follow"))
            return CTL_OK;
        /* Stop once the task has finished and everything it wrote was printed. */
        snprintf(path, sizeof(path), "/api/tasks/%lld", id);
        if (ctl_call(ctl, "GET", path, NULL, NULL, &out, NULL) != CTL_OK)
            return CTL_ERR;
        bool done = ctl_terminal(json_string_value(json_object_get(out, "state")));
        json_decref(out);
        if (done) {
            snprintf(path, sizeof(path), "/api/tasks/%lld/logs?after=%lld&limit=500", id, after);
            if (ctl_call(ctl, "GET", path, NULL, NULL, &out, NULL) != CTL_OK)
                return CTL_ERR;
            json_array_foreach(json_object_get(out, "entries"), i, e)
                printf("%s %-7s %s\n", ctl_s(e, "ts"), ctl_s(e, "level"), ctl_s(e, "message"));
            json_decref(out);
            return CTL_OK;
        }
        usleep(500 * 1000);
    }
}

static int ctl_task_act(struct ctl *ctl, int argc, char **argv, const char *action)
{
    static const struct ctl_optspec spec[] = {{"reason", 0, true}, {NULL, 0, false}};
    bool answer = strcmp(action, "answer") == 0;
    struct ctl_args a;
    char path[128];
    json_t *body = NULL, *out = NULL;
    long long id;
    int rc = ctl_parse(ctl, argc, argv, spec, &a, answer ? 2 : 1, answer ? 16 : 1);

    if (rc == 3) {
        if (answer)
            printf("usage: droverctl task answer ID TEXT...\n\nAnswers a needs_input task's "
                   "question; the task returns to the backlog\nwith the answer in its context.\n");
        else if (strcmp(action, "cancel") == 0)
            printf("usage: droverctl task cancel ID [--reason TEXT]\n\nCancels the task (a "
                   "fan-out parent cancels its open children).\n");
        else
            printf("usage: droverctl task retry ID\n\nPuts a failed or cancelled task back in "
                   "the backlog with fresh attempts.\n");
        return CTL_OK;
    }
    if (rc < 0 || ctl_task_id(a.pos[0], &id) < 0)
        return CTL_USAGE;
    if (answer) {
        struct buf text;

        buf_init(&text, 400000);
        for (int i = 1; i < a.npos; i++)
            buf_appendf(&text, "%s%s", i > 1 ? " " : "", a.pos[i]);
        body = json_pack("{s:s}", "answer", text.data ? text.data : "");
        buf_clear(&text);
    } else if (ctl_opt(&a, "reason")) {
        body = json_pack("{s:s}", "reason", ctl_opt(&a, "reason"));
    }
    snprintf(path, sizeof(path), "/api/tasks/%lld/%s", id, action);
    rc = ctl_call(ctl, "POST", path, body, NULL, &out, NULL);
    if (rc == CTL_OK) {
        if (ctl->json)
            ctl_print_json(out);
        else
            printf("task %lld is now %s\n", id, ctl_s(out, "state"));
    }
    json_decref(body);
    json_decref(out);
    return rc;
}

/* ---------------------------------------------------------------- agents, pool */

static int ctl_agents(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_optspec spec[] = {
        {"status", 's', true}, {"all", 0, false}, {NULL, 0, false}};
    struct ctl_args a;
    char path[128];
    json_t *out = NULL, *ag;
    size_t i;
    int rc = ctl_parse(ctl, argc, argv, spec, &a, 0, 0);

    if (rc == 3) {
        printf("usage: droverctl agents [--status S] [--all] [--json]\n\nAgents with status, "
               "pod, heartbeat age, current task and uptime.\n--all includes agents offline "
               "for more than an hour.\n");
        return CTL_OK;
    }
    if (rc < 0)
        return CTL_USAGE;
    snprintf(path, sizeof(path), "/api/agents?%s%s%s", ctl_opt(&a, "all") ? "all=1&" : "",
             ctl_opt(&a, "status") ? "status=" : "",
             ctl_opt(&a, "status") ? ctl_opt(&a, "status") : "");
    rc = ctl_call(ctl, "GET", path, NULL, NULL, &out, NULL);
    if (rc == CTL_OK) {
        if (ctl->json) {
            ctl_print_json(out);
        } else {
            printf("%-36s %-12s %-24s %-9s %-8s %s\n", "ID", "STATUS", "POD", "HEARTBEAT", "UPTIME",
                   "TASK");
            json_array_foreach(json_object_get(out, "agents"), i, ag)
            {
                char hb[32], up[32], task[32] = "-";
                json_t *ct = json_object_get(ag, "current_task");

                ctl_age(json_object_get(ag, "heartbeat_age_seconds"), hb, sizeof(hb));
                ctl_age(json_object_get(ag, "uptime_seconds"), up, sizeof(up));
                if (json_is_object(ct))
                    snprintf(task, sizeof(task), "%lld",
                             (long long)json_integer_value(json_object_get(ct, "id")));
                printf("%-36s %-12s %-24.24s %-9s %-8s %s\n", ctl_s(ag, "id"), ctl_s(ag, "status"),
                       ctl_s(ag, "pod_name"), hb, up, task);
            }
        }
    }
    json_decref(out);
    return rc;
}

static int ctl_pool(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_optspec spec[] = {{"min", 0, true},
                                              {"max", 0, true},
                                              {"for", 0, true},
                                              {"unpin", 0, false},
                                              {NULL, 0, false}};
    const char *sub = argc > 0 ? argv[0] : "";
    struct ctl_args a;
    json_t *body = NULL, *out = NULL;
    long long v;
    int rc;

    if (strcmp(sub, "get") && strcmp(sub, "set") && strcmp(sub, "scale")) {
        bool help = argc > 0 && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0);

        fprintf(help ? stdout : stderr,
                "usage: droverctl pool get [--json]\n"
                "       droverctl pool set [--min N] [--max N]\n"
                "       droverctl pool scale TARGET [--for SECONDS] | --unpin\n\n"
                "get shows min/max/target/actual and recent scale decisions; set changes the\n"
                "bounds; scale pins the pool to TARGET agents (until --unpin or --for ends).\n");
        return help ? CTL_OK : CTL_USAGE;
    }
    ctl->prog_cmd = strcmp(sub, "get") == 0   ? "pool get"
                    : strcmp(sub, "set") == 0 ? "pool set"
                                              : "pool scale";
    rc = ctl_parse(ctl, argc - 1, argv + 1, spec, &a, 0, strcmp(sub, "scale") == 0 ? 1 : 0);
    if (rc == 3) {
        printf("usage: droverctl %s%s\n", ctl->prog_cmd,
               strcmp(sub, "get") == 0   ? " [--json]"
               : strcmp(sub, "set") == 0 ? " [--min N] [--max N]"
                                         : " TARGET [--for SECONDS] | --unpin");
        return CTL_OK;
    }
    if (rc < 0)
        return CTL_USAGE;
    if (strcmp(sub, "get") == 0) {
        rc = ctl_call(ctl, "GET", "/api/pool", NULL, NULL, &out, NULL);
        if (rc == CTL_OK)
            ctl_print_json(out);
        json_decref(out);
        return rc;
    }
    body = json_object();
    if (strcmp(sub, "set") == 0) {
        if (!ctl_opt(&a, "min") && !ctl_opt(&a, "max")) {
            fprintf(stderr, "droverctl pool set: give --min and/or --max\n");
            json_decref(body);
            return CTL_USAGE;
        }
        if (ctl_opt(&a, "min")) {
            if (ctl_int(ctl_opt(&a, "min"), "--min", 0, 10000, &v) < 0)
                goto usage;
            json_object_set_new(body, "min_agents", json_integer(v));
        }
        if (ctl_opt(&a, "max")) {
            if (ctl_int(ctl_opt(&a, "max"), "--max", 0, 10000, &v) < 0)
                goto usage;
            json_object_set_new(body, "max_agents", json_integer(v));
        }
        rc = ctl_call(ctl, "PUT", "/api/pool", body, NULL, &out, NULL);
    } else {
        if (ctl_opt(&a, "unpin")) {
            if (a.npos) {
                fprintf(stderr, "droverctl pool scale: give TARGET or --unpin, not both\n");
                goto usage;
            }
            json_object_set_new(body, "count", json_null());
        } else {
            if (a.npos != 1 || ctl_int(a.pos[0], "TARGET", 0, 10000, &v) < 0) {
                if (a.npos != 1)
                    fprintf(stderr, "droverctl pool scale: give TARGET or --unpin\n");
                goto usage;
            }
            json_object_set_new(body, "count", json_integer(v));
            if (ctl_opt(&a, "for")) {
                if (ctl_int(ctl_opt(&a, "for"), "--for", 1, 30 * 86400, &v) < 0)
                    goto usage;
                json_object_set_new(body, "ttl_seconds", json_integer(v));
            }
        }
        rc = ctl_call(ctl, "POST", "/api/pool/scale", body, NULL, &out, NULL);
    }
    if (rc == CTL_OK)
        ctl_print_json(out);
    json_decref(body);
    json_decref(out);
    return rc;
usage:
    json_decref(body);
    return CTL_USAGE;
}

/* ---------------------------------------------------------------- projects, tokens */

static int ctl_project(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_optspec spec[] = {{"branch", 'b', true},
                                              {"forge", 0, true},
                                              {"forge-url", 0, true},
                                              {"forge-repo", 0, true},
                                              {NULL, 0, false}};
    const char *sub = argc > 0 ? argv[0] : "";
    struct ctl_args a;
    json_t *body, *out = NULL, *p;
    size_t i;
    int rc;

    if (strcmp(sub, "add") && strcmp(sub, "list")) {
        bool help = strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0;

        fprintf(help ? stdout : stderr,
                "usage: droverctl project add NAME REPOSITORY [--branch B] [--forge KIND]\n"
                "                 [--forge-url URL] [--forge-repo PATH]\n"
                "       droverctl project list [--json]\n\nKIND is git (default), gitea, gitlab "
                "or github.\n");
        return help ? CTL_OK : CTL_USAGE;
    }
    ctl->prog_cmd = strcmp(sub, "add") == 0 ? "project add" : "project list";
    rc = ctl_parse(ctl, argc - 1, argv + 1, strcmp(sub, "add") == 0 ? spec : NULL, &a,
                   strcmp(sub, "add") == 0 ? 2 : 0, strcmp(sub, "add") == 0 ? 2 : 0);
    if (rc == 3) {
        printf("usage: droverctl %s\n", strcmp(sub, "add") == 0
                                            ? "project add NAME REPOSITORY [--branch B] [--forge "
                                              "KIND] [--forge-url URL] [--forge-repo PATH]"
                                            : "project list [--json]");
        return CTL_OK;
    }
    if (rc < 0)
        return CTL_USAGE;
    if (strcmp(sub, "list") == 0) {
        rc = ctl_call(ctl, "GET", "/api/projects", NULL, NULL, &out, NULL);
        if (rc == CTL_OK) {
            if (ctl->json) {
                ctl_print_json(out);
            } else {
                printf("%-5s %-20s %-10s %-7s %s\n", "ID", "NAME", "BRANCH", "FORGE", "REPOSITORY");
                json_array_foreach(json_object_get(out, "projects"), i, p) printf(
                    "%-5lld %-20s %-10s %-7s %s\n",
                    (long long)json_integer_value(json_object_get(p, "id")), ctl_s(p, "name"),
                    ctl_s(p, "default_branch"), ctl_s(p, "forge_kind"), ctl_s(p, "repository"));
            }
        }
        json_decref(out);
        return rc;
    }
    body = json_pack("{s:s,s:s}", "name", a.pos[0], "repository", a.pos[1]);
    if (ctl_opt(&a, "branch"))
        json_object_set_new(body, "default_branch", json_string(ctl_opt(&a, "branch")));
    if (ctl_opt(&a, "forge"))
        json_object_set_new(body, "forge_kind", json_string(ctl_opt(&a, "forge")));
    if (ctl_opt(&a, "forge-url"))
        json_object_set_new(body, "forge_api_url", json_string(ctl_opt(&a, "forge-url")));
    if (ctl_opt(&a, "forge-repo"))
        json_object_set_new(body, "forge_repo_path", json_string(ctl_opt(&a, "forge-repo")));
    rc = ctl_call(ctl, "POST", "/api/projects", body, NULL, &out, NULL);
    if (rc == CTL_OK) {
        if (ctl->json)
            ctl_print_json(out);
        else
            printf("project %lld %s created\n",
                   (long long)json_integer_value(json_object_get(out, "id")), ctl_s(out, "name"));
    }
    json_decref(body);
    json_decref(out);
    return rc;
}

static int ctl_token(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_optspec spec[] = {
        {"scope", 's', true}, {"agent", 0, true}, {NULL, 0, false}};
    const char *sub = argc > 0 ? argv[0] : "";
    struct ctl_args a;
    char path[256];
    json_t *body, *out = NULL;
    long long id;
    int rc;

    if (strcmp(sub, "create") && strcmp(sub, "revoke")) {
        bool help = strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0;

        fprintf(help ? stdout : stderr,
                "usage: droverctl token create NAME --scope operator|admin|agent [--agent ID]\n"
                "       droverctl token revoke ID\n\nThe new token is printed once; store it.\n");
        return help ? CTL_OK : CTL_USAGE;
    }
    ctl->prog_cmd = strcmp(sub, "create") == 0 ? "token create" : "token revoke";
    rc = ctl_parse(ctl, argc - 1, argv + 1, strcmp(sub, "create") == 0 ? spec : NULL, &a, 1, 1);
    if (rc == 3) {
        printf("usage: droverctl %s\n", strcmp(sub, "create") == 0
                                            ? "token create NAME --scope S [--agent ID] [--json]"
                                            : "token revoke ID");
        return CTL_OK;
    }
    if (rc < 0)
        return CTL_USAGE;
    if (strcmp(sub, "revoke") == 0) {
        if (ctl_int(a.pos[0], "token id", 1, 9223372036854775807LL, &id) < 0)
            return CTL_USAGE;
        snprintf(path, sizeof(path), "/api/tokens/%lld", id);
        rc = ctl_call(ctl, "DELETE", path, NULL, NULL, &out, NULL);
        if (rc == CTL_OK)
            printf("token %lld revoked\n", id);
        json_decref(out);
        return rc;
    }
    if (!ctl_opt(&a, "scope")) {
        fprintf(stderr, "droverctl token create: --scope is required (operator, admin or agent)\n");
        return CTL_USAGE;
    }
    body = json_pack("{s:s,s:s}", "name", a.pos[0], "scope", ctl_opt(&a, "scope"));
    if (ctl_opt(&a, "agent"))
        json_object_set_new(body, "agent_id", json_string(ctl_opt(&a, "agent")));
    rc = ctl_call(ctl, "POST", "/api/tokens", body, NULL, &out, NULL);
    if (rc == CTL_OK) {
        if (ctl->json)
            ctl_print_json(out);
        else
            printf("token %lld (%s): %s\n",
                   (long long)json_integer_value(json_object_get(out, "id")), ctl_s(out, "scope"),
                   ctl_s(out, "token"));
    }
    json_decref(body);
    json_decref(out);
    return rc;
}

/* ---------------------------------------------------------------- main */

static void ctl_usage(FILE *f)
{
    fprintf(f,
            "usage: droverctl [--url URL] [--token TOKEN] COMMAND [ARGS] [--json] [--help]\n\n"
            "commands:\n"
            "  task add|list|show|logs|cancel|answer|retry   tasks (logs -f follows)\n"
            "  agents                                        agents and their heartbeats\n"
            "  pool get|set|scale                            pool size and bounds\n"
            "  project add|list                              projects\n"
            "  token create|revoke                           API tokens\n\n"
            "DROVER_URL (default http://127.0.0.1:8080) and DROVER_TOKEN say where and as whom.\n"
            "Exit codes: 0 ok, 1 error, 2 usage. Every command takes --help.\n");
}

int main(int argc, char **argv)
{
    const char *url = getenv("DROVER_URL"), *token = getenv("DROVER_TOKEN");
    struct ctl ctl = {0};
    struct err err = {0};
    int i = 1, rc = CTL_USAGE;

    while (i < argc && argv[i][0] == '-') {
        if ((strcmp(argv[i], "--url") == 0 || strcmp(argv[i], "--token") == 0) && i + 1 < argc) {
            if (argv[i][2] == 'u')
                url = argv[i + 1];
            else
                token = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "--json") == 0) {
            ctl.json = true;
            i++;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            ctl_usage(stdout);
            return CTL_OK;
        } else {
            fprintf(stderr, "droverctl: unknown option '%s'\n", argv[i]);
            ctl_usage(stderr);
            return CTL_USAGE;
        }
    }
    if (i >= argc) {
        ctl_usage(stderr);
        return CTL_USAGE;
    }
    if (httpc_init(&ctl.http, url && *url ? url : "http://127.0.0.1:8080",
                   token && *token ? token : NULL, &err) < 0) {
        fprintf(stderr, "droverctl: %s\n", err.msg);
        return CTL_ERR;
    }
    const char *cmd = argv[i], *sub = i + 1 < argc ? argv[i + 1] : "";
    int sargc = argc - i - 2;
    char **sargv = argv + i + 2;

    ctl.prog_cmd = cmd;
    if (strcmp(cmd, "task") == 0) {
        static const char *const subs[] = {"add",    "list",   "show", "logs",
                                           "cancel", "answer", "retry"};
        static char names[7][16];
        int k = -1;

        for (int j = 0; j < 7; j++)
            if (strcmp(sub, subs[j]) == 0)
                k = j;
        if (k < 0) {
            bool help = strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0;

            fprintf(help ? stdout : stderr,
                    "usage: droverctl task add|list|show|logs|cancel|answer|retry ... "
                    "(each takes --help)\n");
            rc = help ? CTL_OK : CTL_USAGE;
        } else {
            snprintf(names[k], sizeof(names[k]), "task %s", subs[k]);
            ctl.prog_cmd = names[k];
            switch (k) {
            case 0:
                rc = ctl_task_add(&ctl, sargc, sargv);
                break;
            case 1:
                rc = ctl_task_list(&ctl, sargc, sargv);
                break;
            case 2:
                rc = ctl_task_show(&ctl, sargc, sargv);
                break;
            case 3:
                rc = ctl_task_logs(&ctl, sargc, sargv);
                break;
            default:
                rc = ctl_task_act(&ctl, sargc, sargv, subs[k]);
                break;
            }
        }
    } else if (strcmp(cmd, "agents") == 0) {
        rc = ctl_agents(&ctl, argc - i - 1, argv + i + 1);
    } else if (strcmp(cmd, "pool") == 0) {
        rc = ctl_pool(&ctl, argc - i - 1, argv + i + 1);
    } else if (strcmp(cmd, "project") == 0) {
        rc = ctl_project(&ctl, argc - i - 1, argv + i + 1);
    } else if (strcmp(cmd, "token") == 0) {
        rc = ctl_token(&ctl, argc - i - 1, argv + i + 1);
    } else {
        fprintf(stderr, "droverctl: unknown command '%s'\n", cmd);
        ctl_usage(stderr);
    }
    httpc_clear(&ctl.http);
    return rc;
}
