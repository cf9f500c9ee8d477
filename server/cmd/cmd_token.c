/* `droverd token create|revoke`: API tokens from the command line. Main thread. */
#include "cmd/cmd_token.h"
#include "cmd/cmd_db.h"
#include "core/err.h"
#include "store/agents.h"
#include "store/db.h"
#include "store/tokens.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void cmd_token_usage(FILE *f)
{
    fprintf(f, "usage: droverd token create --scope agent|operator|admin --name NAME\n"
               "       droverd token revoke <id|name>\n\n"
               "create prints the token alone on stdout (it is shown only once). With\n"
               "--scope agent it also registers a new agent and prints AGENT_ID=... and\n"
               "DROVER_TOKEN=... lines instead, so `eval \"$(droverd token create ...)\"` works.\n"
               "Options: --database-url URL (else DATABASE_URL, else the PG* environment),\n"
               "--backend NAME (agent tokens: the agent's backend label, default none).\n");
}

struct cmd_token_args {
    const char *sub, *scope_s, *name, *url, *backend, *ref;
    enum principal_scope scope;
};

/* 0 to go on; 2 for bad usage; -1 when --help was printed (exit 0). */
static int cmd_token_parse(int argc, char **argv, struct cmd_token_args *a)
{
    static const struct option opts[] = {{"scope", required_argument, NULL, 's'},
                                         {"name", required_argument, NULL, 'n'},
                                         {"database-url", required_argument, NULL, 'd'},
                                         {"backend", required_argument, NULL, 'b'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct err err = {0};
    int c;

    a->sub = argv[1];
    a->backend = "none";
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "s:n:d:b:h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            a->scope_s = optarg;
            break;
        case 'n':
            a->name = optarg;
            break;
        case 'd':
            a->url = optarg;
            break;
        case 'b':
            a->backend = optarg;
            break;
        case 'h':
            cmd_token_usage(stdout);
            return -1;
        default:
            return 2;
        }
    }
    if (strcmp(a->sub, "create") == 0) {
        if (!a->scope_s || !a->name || optind < argc - 1) {
            fprintf(stderr, "droverd token create: --scope and --name are required\n");
            return 2;
        }
        if (principal_scope_parse(a->scope_s, &a->scope, &err) < 0) {
            fprintf(stderr, "droverd token create: %s\n", err.msg);
            return 2;
        }
        return 0;
    }
    if (strcmp(a->sub, "revoke") == 0) {
        if (optind != argc - 2) {
            fprintf(stderr, "droverd token revoke: name the token (its id or name)\n");
            return 2;
        }
        a->ref = argv[optind + 1];
        return 0;
    }
    fprintf(stderr, "droverd token: unknown subcommand '%s' (create or revoke)\n", a->sub);
    return 2;
}

static int cmd_token_create(struct db *db, const struct cmd_token_args *a, struct err *err)
{
    char token[PRINCIPAL_TOKEN_LEN], agent[37];
    long long id = 0;

    if (a->scope == PRINCIPAL_AGENT) {
        /* The agent row and its token in one transaction: no agent without a token. */
        if (db_begin(db, err) < 0 || agents_create(db, a->name, a->backend, agent, err) < 0 ||
            tokens_create(db, a->scope, a->name, agent, token, &id, err) < 0 ||
            db_commit(db, err) < 0) {
            db_rollback(db);
            return -1;
        }
        printf("AGENT_ID=%s\nDROVER_TOKEN=%s\n", agent, token);
    } else {
        if (tokens_create(db, a->scope, a->name, NULL, token, &id, err) < 0)
            return -1;
        printf("%s\n", token);
    }
    memset(token, 0, sizeof(token));
    fprintf(stderr, "created %s token %lld (%s); it is not shown again\n", a->scope_s, id, a->name);
    return 0;
}

int cmd_token(int argc, char **argv)
{
    struct cmd_token_args a = {0};
    struct err err = {0};
    struct db db;
    int rc, revoked = 0;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cmd_token_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    rc = cmd_token_parse(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (db_open(&db, cmd_database_url(a.url), &err) < 0) {
        fprintf(stderr, "droverd token: %s\n", err.msg);
        return 1;
    }
    if (strcmp(a.sub, "revoke") == 0) {
        rc = tokens_revoke(&db, a.ref, &revoked, &err);
        if (rc == 0)
            fprintf(stderr, "revoked %d token(s)\n", revoked);
    } else {
        rc = cmd_token_create(&db, &a, &err);
    }
    if (rc < 0)
        fprintf(stderr, "droverd token %s: %s\n", a.sub, err.msg);
    db_close(&db);
    return rc < 0 ? 1 : 0;
}
