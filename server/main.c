/*
 * droverd: the Drover server. The table of subcommands (serve, migrate, token, project,
 * doctor, selftest), each in its own file under cmd/. Main thread: parses arguments, then runs one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "cmd/cmd_doctor.h"
#include "cmd/cmd_migrate.h"
#include "cmd/cmd_project.h"
#include "cmd/cmd_selftest.h"
#include "cmd/cmd_serve.h"
#include "cmd/cmd_token.h"
#include "core/log.h"

#define DROVER_VERSION "0.1.0"

struct droverd_cmd {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
};

static void droverd_usage(FILE *f);

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    droverd_usage(stdout);
    return 0;
}

static const struct droverd_cmd droverd_cmds[] = {
    {"serve", cmd_serve, "run the server (MCP, WebSocket, REST); --help lists its settings"},
    {"migrate", cmd_migrate, "apply pending database migrations"},
    {"token", cmd_token, "create or revoke API tokens (create --scope S --name N | revoke ID)"},
    {"project", cmd_project, "create or update a project (project add --name N --repo-url U)"},
    {"doctor", cmd_doctor,
     "check the database, migrations, pod backend, forges, agents and clocks; --json"},
    {"selftest", cmd_selftest, "enqueue, claim and complete one task (a queue round trip)"},
    {"help", cmd_help, "show this help"},
};

static void droverd_usage(FILE *f)
{
    fprintf(f, "usage: droverd <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(droverd_cmds) / sizeof(droverd_cmds[0]); i++)
        fprintf(f, "  %-10s %s\n", droverd_cmds[i].name, droverd_cmds[i].help);
    fprintf(f, "\n'droverd <command> --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
    const char *lvl = getenv("DROVER_LOG_LEVEL");

    /* droverd holds DATABASE_URL, PGPASSWORD and forge tokens in its environment: processes of
     * its own user (local agents and their coding commands) must not read /proc/<pid>/environ
     * or mem, nor ptrace it. Reset by execve, so git and the agents it starts are unaffected. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (lvl && log_level_parse(lvl, &log_threshold) < 0) {
        fprintf(stderr, "droverd: DROVER_LOG_LEVEL must be error, warn, info or debug\n");
        return 2;
    }
    if (argc < 2) {
        droverd_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(argc, argv);
    if (strcmp(argv[1], "--version") == 0) {
        printf("droverd %s\n", DROVER_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(droverd_cmds) / sizeof(droverd_cmds[0]); i++)
        if (strcmp(argv[1], droverd_cmds[i].name) == 0)
            return droverd_cmds[i].run(argc - 1, argv + 1);
    fprintf(stderr, "droverd: unknown command '%s'\n", argv[1]);
    droverd_usage(stderr);
    return 2;
}
