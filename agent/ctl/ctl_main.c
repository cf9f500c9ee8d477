/*
 * droverctl: run Drover from a terminal over the REST API. Tasks (add, list, show, logs,
 * cancel, answer, retry), agents, the pool, projects and tokens. DROVER_URL and DROVER_TOKEN
 * (or --url / --token-file / --token) say where and as whom. Every command prints a short
 * summary or a table; --json prints the API's JSON instead, for scripts.
 * Exit codes: 0 ok, 1 error (the server refused, or could not be reached), 2 usage.
 *
 * This file holds the global options and the command table; each command lives in the file
 * of its resource (ctl_tasks.c, ctl_agents.c, ctl_pool.c, ctl_projects.c, ctl_tokens.c).
 * Single-threaded.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "ctl.h"
#include "ctl_agents.h"
#include "ctl_args.h"
#include "ctl_complete.h"
#include "ctl_health.h"
#include "ctl_pool.h"
#include "ctl_projects.h"
#include "ctl_schedules.h"
#include "ctl_approvals.h"
#include "ctl_notify.h"
#include "ctl_tasks.h"
#include "ctl_term.h"
#include "ctl_tokens.h"

#define CTL_MAIN_DEFAULT_URL "http://127.0.0.1:8080"

static ctl_run_fn ctl_main_completion;

/*
 * Every command: "droverctl GROUP [SUB] ARGS...", what its --help prints, and its handler. A
 * group without subcommands has sub NULL.
 */
static const struct ctl_main_cmd {
    const char *group, *sub;
    const char *name;  /* how messages name it */
    const char *usage; /* its --help */
    ctl_run_fn *run;
} ctl_main_cmds[] = {
    {"task", "add", "task add",
     "usage: droverctl task add [--project NAME | --repo URL] [--branch BASE]\n"
     "         [--title T] [--priority N] [--model M] [--agents N] [--max-attempts N]\n"
     "         [--timeout SECONDS] [--budget-tokens N] [--budget-usd X]\n"
     "         [--idempotency-key K] [--json] PROMPT...\n\n"
     "Queues a task (202). --agents N (1-10) fans the prompt out to N agents, each\n"
     "its own task and branch under one parent. The same --idempotency-key returns\n"
     "the same task instead of a second one.\n",
     ctl_tasks_add},
    {"task", "list", "task list",
     "usage: droverctl task list [--state S] [--project P] [--agent ID] [--limit N]\n"
     "         [--cursor C] [--json]\n\nNewest first. When more remain, the last line "
     "gives the --cursor for the next page.\n",
     ctl_tasks_list},
    {"task", "show", "task show",
     "usage: droverctl task show ID [--json]\n\nThe task with its history, branch, "
     "pull request and (needs_input) question.\n",
     ctl_tasks_show},
    {"task", "logs", "task logs",
     "usage: droverctl task logs ID [-f|--follow] [--json]\n\nPrints the task's "
     "activity. -f keeps printing new lines until the task finishes\n(or Ctrl-C). "
     "--json prints one JSON object per line.\n",
     ctl_tasks_logs},
    {"task", "cancel", "task cancel",
     "usage: droverctl task cancel ID [--reason TEXT]\n\nCancels the task (a "
     "fan-out parent cancels its open children).\n",
     ctl_tasks_cancel},
    {"task", "answer", "task answer",
     "usage: droverctl task answer ID TEXT...\n\nAnswers a needs_input task's "
     "question; the task returns to the backlog\nwith the answer in its context.\n",
     ctl_tasks_answer},
    {"task", "retry", "task retry",
     "usage: droverctl task retry ID\n\nPuts a failed or cancelled task back in "
     "the backlog with fresh attempts.\n",
     ctl_tasks_retry},
    {"task", "accept", "task accept",
     "usage: droverctl task accept ID [--comment TEXT]\n\nAccepts a ready_to_test task: it "
     "is completed. Recorded with your token's name.\n",
     ctl_tasks_accept},
    {"task", "rework", "task rework",
     "usage: droverctl task rework ID INSTRUCTIONS...\n\nSends a ready_to_test task back to "
     "the backlog for another attempt on the same\nbranch (and pull request). The next "
     "attempt's prompt carries the instructions,\nthe earlier result and the forge's review "
     "comments; it is not counted as a failure.\n",
     ctl_tasks_rework},
    {"task", "reject", "task reject",
     "usage: droverctl task reject ID [--reason TEXT]\n\nRejects a ready_to_test task: it is "
     "cancelled.\n",
     ctl_tasks_reject},
    {"agents", NULL, "agents",
     "usage: droverctl agents [--status S] [--all] [--json]\n\nAgents with status, "
     "pod, heartbeat age, current task and uptime.\n--all includes agents offline "
     "for more than an hour.\n",
     ctl_agents_list},
    {"pool", "get", "pool get", "usage: droverctl pool get [--json]\n", ctl_pool_get},
    {"pool", "set", "pool set", "usage: droverctl pool set [--min N] [--max N]\n", ctl_pool_set},
    {"pool", "scale", "pool scale",
     "usage: droverctl pool scale TARGET [--for SECONDS] | --unpin\n", ctl_pool_scale},
    {"project", "add", "project add",
     "usage: droverctl project add NAME REPOSITORY [--branch B] [--forge KIND] "
     "[--forge-url URL] [--forge-repo PATH]\n",
     ctl_projects_add},
    {"project", "list", "project list", "usage: droverctl project list [--json]\n",
     ctl_projects_list},
    {"token", "create", "token create",
     "usage: droverctl token create NAME --scope S [--agent ID] [--json]\n", ctl_tokens_create},
    {"token", "revoke", "token revoke", "usage: droverctl token revoke ID\n", ctl_tokens_revoke},
    {"schedule", "list", "schedule list", "usage: droverctl schedule list [--json]\n",
     ctl_schedules_list},
    {"schedule", "add", "schedule add",
     "usage: droverctl schedule add NAME --project P --cron EXPR [--title T]\n"
     "         [--priority N] [--disabled] [--json] PROMPT...\n\n"
     "Files PROMPT as a task of project P at every time the five-field cron\n"
     "expression EXPR (UTC) names, e.g. --cron \"0 6 * * 1-5\".\n",
     ctl_schedules_add},
    {"schedule", "delete", "schedule delete", "usage: droverctl schedule delete ID\n",
     ctl_schedules_delete},
    {"approvals", NULL, "approvals",
     "usage: droverctl approvals [--state S | --all] [--task ID] [--json]\n\nActions of coding "
     "agents their project's autonomy policy left to a person\n(pending ones unless --state or "
     "--all), with the rule that asked.\n",
     ctl_approvals_list},
    {"approve", NULL, "approve",
     "usage: droverctl approve ID [--reason TEXT]\n\nLets the waiting agent take the action; "
     "your token's name is recorded.\n",
     ctl_approvals_approve},
    {"deny", NULL, "deny",
     "usage: droverctl deny ID [--reason TEXT]\n\nRefuses the action; the coding model is "
     "told so, with the reason.\n",
     ctl_approvals_deny},
    {"policy", "get", "policy get", "usage: droverctl policy get PROJECT [--json]\n",
     ctl_approvals_policy_get},
    {"policy", "set", "policy set",
     "usage: droverctl policy set PROJECT FILE|-\n\nAdds the JSON policy in FILE as the "
     "project's next version (docs/autonomy.md).\n",
     ctl_approvals_policy_set},
    {"policy", "history", "policy history", "usage: droverctl policy history PROJECT [--json]\n",
     ctl_approvals_policy_history},
    {"notify", "list", "notify list", "usage: droverctl notify list [--json]\n", ctl_notify_list},
    {"notify", "add", "notify add",
     "usage: droverctl notify add NAME URL [--format generic|slack] [--events E,E...]\n"
     "         [--project P] [--json]\n\nSends task events to URL: needs_input, ready_to_test, "
     "failed, completed,\nbudget, cancelled, approval (all but cancelled by default); slack "
     "posts\nSlack's {\"text\"}, generic signed Standard Webhooks JSON.\n",
     ctl_notify_add},
    {"notify", "delete", "notify delete", "usage: droverctl notify delete ID\n", ctl_notify_delete},
    {"notify", "deliveries", "notify deliveries",
     "usage: droverctl notify deliveries [--task ID] [--json]\n\nThe outbox, newest first: "
     "each message's state, attempts and last answer.\n",
     ctl_notify_deliveries},
    {"health", NULL, "health",
     "usage: droverctl health [--json]\n\nWhat droverd finds wrong (GET /api/diagnostics, as "
     "droverd doctor):\neach check's status, detail and fix. Exit 1 when a check fails.\n",
     ctl_health},
    {"completion", NULL, "completion",
     "usage: droverctl completion bash|zsh\n\nPrints a completion script: add\n"
     "  source <(droverctl completion bash)   to ~/.bashrc, or\n"
     "  source <(droverctl completion zsh)    to ~/.zshrc.\n",
     ctl_main_completion},
};

/* droverctl completion SHELL: the script, from the table above. */
static int ctl_main_completion(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_complete_cmd cmds[sizeof(ctl_main_cmds) / sizeof(ctl_main_cmds[0])];
    size_t n = 0;
    struct ctl_args a;
    int rc = ctl_args_parse(ctl, argc, argv, NULL, &a, 1, 1);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    for (size_t i = 0; i < sizeof(ctl_main_cmds) / sizeof(ctl_main_cmds[0]); i++)
        if (ctl_main_cmds[i].run != ctl_main_completion)
            cmds[n++] = (struct ctl_complete_cmd){ctl_main_cmds[i].group, ctl_main_cmds[i].sub,
                                                  ctl_main_cmds[i].usage};
    if (ctl_complete_print(stdout, a.pos[0], cmds, n) < 0) {
        fprintf(stderr, "droverctl completion: unknown shell '%s' (bash or zsh)\n", a.pos[0]);
        return CTL_USAGE;
    }
    return CTL_OK;
}

/* What a group prints for a missing or unknown subcommand (stderr) or for --help (stdout). */
static const struct {
    const char *group, *usage;
} ctl_main_groups[] = {
    {"task",
     "usage: droverctl task add|list|show|logs|cancel|answer|retry|accept|rework|reject ... "
     "(each takes --help)\n"},
    {"pool", "usage: droverctl pool get [--json]\n"
             "       droverctl pool set [--min N] [--max N]\n"
             "       droverctl pool scale TARGET [--for SECONDS] | --unpin\n\n"
             "get shows min/max/target/actual and recent scale decisions; set changes the\n"
             "bounds; scale pins the pool to TARGET agents (until --unpin or --for ends).\n"},
    {"project", "usage: droverctl project add NAME REPOSITORY [--branch B] [--forge KIND]\n"
                "                 [--forge-url URL] [--forge-repo PATH]\n"
                "       droverctl project list [--json]\n\nKIND is git (default), gitea, gitlab "
                "or github.\n"},
    {"schedule", "usage: droverctl schedule list [--json]\n"
                 "       droverctl schedule add NAME --project P --cron EXPR PROMPT...\n"
                 "       droverctl schedule delete ID\n"},
    {"notify", "usage: droverctl notify list [--json]\n"
               "       droverctl notify add NAME URL [--format F] [--events E,E...] [--project P]\n"
               "       droverctl notify delete ID\n"
               "       droverctl notify deliveries [--task ID]\n"},
    {"policy", "usage: droverctl policy get PROJECT [--json]\n"
               "       droverctl policy set PROJECT FILE|-\n"
               "       droverctl policy history PROJECT [--json]\n"},
    {"token",
     "usage: droverctl token create NAME --scope developer|operator|admin|agent [--agent ID]\n"
     "       droverctl token revoke ID\n\nThe new token is printed once; store it.\n"},
};

static void ctl_main_usage(FILE *f)
{
    fputs(
        "usage: droverctl [--url URL] [--token-file FILE|-] [--token TOKEN] COMMAND [ARGS] [--json]"
        " [--help]\n\n"
        "commands:\n"
        "  task add|list|show|logs|cancel|answer|retry   tasks (logs -f follows)\n"
        "  task accept|rework|reject                     review a ready_to_test task\n"
        "  agents                                        agents and their heartbeats\n"
        "  pool get|set|scale                            pool size and bounds\n"
        "  project add|list                              projects\n"
        "  schedule list|add|delete                      scheduled tasks (cron)\n"
        "  token create|revoke                           API tokens\n"
        "  approvals, approve ID, deny ID                actions waiting for a person\n"
        "  policy get|set|history                        a project's autonomy policy\n"
        "  notify list|add|delete|deliveries             who hears of tasks that need people\n"
        "  health                                        what droverd finds wrong\n"
        "  completion bash|zsh                           shell completion script\n\n"
        "DROVER_URL (default http://127.0.0.1:8080) and DROVER_TOKEN (or DROVER_TOKEN_FILE,\n"
        "--token-file: a file holding it, - for stdin; never on a command line) say where and\n"
        "as whom. On a terminal, control characters in what droverd returns print as \\x1b.\n"
        "Exit codes: 0 ok, 1 error, 2 usage. Every command takes --help.\n",
        f);
}

/* `group` was given without a subcommand it knows (`sub`): its usage, exit 0 for --help. */
static int ctl_main_group_usage(const char *group, const char *sub)
{
    bool help = strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0;

    for (size_t i = 0; i < sizeof(ctl_main_groups) / sizeof(ctl_main_groups[0]); i++)
        if (strcmp(ctl_main_groups[i].group, group) == 0)
            fputs(ctl_main_groups[i].usage, help ? stdout : stderr);
    return help ? CTL_OK : CTL_USAGE;
}

/* Run the command named by argv[0] (and argv[1], for a group with subcommands). */
static int ctl_main_run(struct ctl *ctl, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    bool known = false;

    ctl->prog_cmd = argv[0];
    for (size_t i = 0; i < sizeof(ctl_main_cmds) / sizeof(ctl_main_cmds[0]); i++) {
        const struct ctl_main_cmd *c = &ctl_main_cmds[i];

        if (strcmp(argv[0], c->group) != 0)
            continue;
        known = true;
        if (!c->sub || strcmp(sub, c->sub) == 0) {
            ctl->prog_cmd = c->name;
            ctl->usage = c->usage;
            return c->sub ? c->run(ctl, argc - 2, argv + 2) : c->run(ctl, argc - 1, argv + 1);
        }
    }
    if (known)
        return ctl_main_group_usage(argv[0], sub);
    fprintf(stderr, "droverctl: unknown command '%s'\n", argv[0]);
    ctl_main_usage(stderr);
    return CTL_USAGE;
}

/*
 * The token from a file (its first line; "-" is standard input): 0, or -1 after saying why.
 * The token lives in a static buffer for the life of the process.
 */
static int ctl_main_token_file(const char *path, const char **token)
{
    static char tok[512];
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    size_t n;

    if (!f) {
        fprintf(stderr, "droverctl: --token-file %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!fgets(tok, sizeof(tok), f))
        tok[0] = '\0';
    if (f != stdin)
        fclose(f);
    n = strcspn(tok, "\r\n");
    tok[n] = '\0';
    while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
        tok[--n] = '\0';
    if (!n) {
        fprintf(stderr, "droverctl: --token-file %s holds no token\n", path);
        return -1;
    }
    *token = tok;
    return 0;
}

/*
 * The options before the command (--url, --token, --token-file, --json, --help). True with *cmd =
 * the index of the command in argv; false when droverctl is done, with its exit code in *rc.
 */
static bool ctl_main_options(struct ctl *ctl, int argc, char **argv, const char **url,
                             const char **token, int *cmd, int *rc)
{
    int i = 1;

    while (i < argc && argv[i][0] == '-') {
        if ((strcmp(argv[i], "--url") == 0 || strcmp(argv[i], "--token") == 0) && i + 1 < argc) {
            if (argv[i][2] == 'u') {
                *url = argv[i + 1];
            } else {
                /* Keep a copy and blank the argument: /proc/<pid>/cmdline (ps) shows argv's
                 * memory, so the token no longer shows there once this ran. Prefer
                 * --token-file, which never puts it on a command line at all. */
                static char copy[512];

                snprintf(copy, sizeof(copy), "%s", argv[i + 1]);
                memset(argv[i + 1], 'x', strlen(argv[i + 1]));
                *token = copy;
            }
            i += 2;
        } else if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc) {
            if (ctl_main_token_file(argv[i + 1], token) < 0) {
                *rc = CTL_USAGE;
                return false;
            }
            i += 2;
        } else if (strcmp(argv[i], "--json") == 0) {
            ctl->json = true;
            i++;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            ctl_main_usage(stdout);
            *rc = CTL_OK;
            return false;
        } else {
            fprintf(stderr, "droverctl: unknown option '%s'\n", argv[i]);
            ctl_main_usage(stderr);
            *rc = CTL_USAGE;
            return false;
        }
    }
    if (i >= argc) {
        ctl_main_usage(stderr);
        *rc = CTL_USAGE;
        return false;
    }
    *cmd = i;
    return true;
}

int main(int argc, char **argv)
{
    const char *url = getenv("DROVER_URL"), *token = getenv("DROVER_TOKEN");
    const char *token_file = getenv("DROVER_TOKEN_FILE");
    struct ctl ctl = {0};
    struct err err = {0};
    int cmd, rc;

    ctl_term_guard();
    if (token_file && *token_file && ctl_main_token_file(token_file, &token) < 0)
        return CTL_USAGE;
    if (!ctl_main_options(&ctl, argc, argv, &url, &token, &cmd, &rc))
        return rc;
    if (httpc_init(&ctl.http, url && *url ? url : CTL_MAIN_DEFAULT_URL,
                   token && *token ? token : NULL, &err) < 0) {
        fprintf(stderr, "droverctl: %s\n", err.msg);
        return CTL_ERR;
    }
    rc = ctl_main_run(&ctl, argc - cmd, argv + cmd);
    httpc_clear(&ctl.http);
    return rc;
}
