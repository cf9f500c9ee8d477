/*
 * droverd project add: create (or update, by name) a project, so scripts such as
 * scripts/run.sh can set up the demo project without the REST API. Main thread.
 */
#include "cmd/cmd_project.h"
#include "cmd/cmd_db.h"
#include "forge/forge_backend.h"
#include "store/db.h"
#include "svc/svc_projects.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void cmd_project_usage(FILE *f)
{
    fprintf(f, "usage: droverd project add --name NAME --repo-url URL [--default-branch BRANCH]\n"
               "         [--forge-kind git|gitea|forgejo|gitlab|github] [--forge-api-url URL]\n"
               "         [--forge-repo-path OWNER/REPO] [--settings JSON] [--database-url URL]\n\n"
               "Creates the project, or updates the one with that name (re-running is safe).\n"
               "Prints the project as JSON and a PROJECT_ID=<id> line. Forge tokens are never\n"
               "stored here: droverd reads DROVER_FORGE_TOKEN_<NAME> or DROVER_FORGE_SECRETS.\n"
               "settings may hold {\"preview_webhook\": \"https://...\"}.\n");
}

/* The flags that are project fields, by the name the project's JSON gives them. */
static const struct {
    const char *flag, *field;
} cmd_project_fields[] = {
    {"name", "name"},
    {"repo-url", "repository"},
    {"default-branch", "default_branch"},
    {"forge-kind", "forge_kind"},
    {"forge-api-url", "forge_api_url"},
    {"forge-repo-path", "forge_repo_path"},
};
#define CMD_PROJECT_NFIELDS (sizeof(cmd_project_fields) / sizeof(cmd_project_fields[0]))

/* argv into the project's JSON object (*in, owned) and the database URL. 0, 2 or -1 (help). */
static int cmd_project_parse(int argc, char **argv, json_t **in, const char **url)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 0},
                                         {"repo-url", required_argument, NULL, 1},
                                         {"default-branch", required_argument, NULL, 2},
                                         {"forge-kind", required_argument, NULL, 3},
                                         {"forge-api-url", required_argument, NULL, 4},
                                         {"forge-repo-path", required_argument, NULL, 5},
                                         {"settings", required_argument, NULL, 's'},
                                         {"database-url", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    json_error_t je;
    json_t *settings;
    int c;

    *in = json_object();
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        if (c >= 0 && c < (int)CMD_PROJECT_NFIELDS) {
            json_object_set_new(*in, cmd_project_fields[c].field, json_string(optarg));
        } else if (c == 's') {
            settings = json_loads(optarg, 0, &je);
            if (!json_is_object(settings)) {
                json_decref(settings);
                fprintf(stderr, "droverd project add: --settings must be a JSON object\n");
                return 2;
            }
            json_object_set_new(*in, "settings", settings);
        } else if (c == 'd') {
            *url = optarg;
        } else if (c == 'h') {
            cmd_project_usage(stdout);
            return -1;
        } else {
            return 2;
        }
    }
    return 0;
}

/* What the command line needs besides the project rules (svc/svc_projects.c): a forge that is
 * reachable at all. 0, or 2 with the message printed. */
static int cmd_project_check(const json_t *in)
{
    const char *fk = json_string_value(json_object_get(in, "forge_kind"));
    const char *api = json_string_value(json_object_get(in, "forge_api_url"));
    const char *path = json_string_value(json_object_get(in, "forge_repo_path"));
    enum forge_kind kind = FORGE_GIT;
    struct err err = {0};

    if (!json_object_get(in, "name") || !json_object_get(in, "repository")) {
        fprintf(stderr, "droverd project add: --name and --repo-url are required\n");
        return 2;
    }
    if (fk && forge_backend_kind_parse(fk, &kind, &err) < 0) {
        fprintf(stderr, "droverd project add: %s\n", err.msg);
        return 2;
    }
    if (kind != FORGE_GIT && (!path || !*path)) {
        fprintf(stderr, "droverd project add: --forge-kind %s needs --forge-repo-path\n", fk);
        return 2;
    }
    if ((kind == FORGE_GITEA || kind == FORGE_GITLAB) && (!api || strncmp(api, "http", 4) != 0)) {
        fprintf(stderr,
                "droverd project add: --forge-kind %s needs --forge-api-url "
                "(https://host/api/v1 or /api/v4)\n",
                fk);
        return 2;
    }
    return 0;
}

int cmd_project(int argc, char **argv)
{
    struct svc_env env;
    struct svc_ctx ctx = {&env, NULL};
    struct err err = {0};
    struct db db;
    const char *url = NULL;
    json_t *in = NULL, *out = NULL;
    bool created = false;
    char *s;
    int rc;

    if (argc < 2 || strcmp(argv[1], "add") != 0) {
        cmd_project_usage(argc > 1 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return argc > 1 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    rc = cmd_project_parse(argc, argv, &in, &url);
    if (rc == 0)
        rc = cmd_project_check(in);
    if (rc != 0) {
        json_decref(in);
        return rc < 0 ? 0 : rc;
    }
    svc_env_default(&env);
    ctx.db = &db;
    rc = 1;
    if (db_open(&db, cmd_database_url(url), &err) < 0 ||
        svc_projects_upsert(&ctx, in, &out, &created, &err) < 0) {
        fprintf(stderr, "droverd project add: %s\n", err.msg);
    } else {
        json_object_set_new(out, "created", json_boolean(created));
        s = json_dumps(out, JSON_COMPACT);
        printf("%s\nPROJECT_ID=%lld\n", s,
               (long long)json_integer_value(json_object_get(out, "id")));
        free(s);
        rc = 0;
    }
    db_close(&db);
    svc_env_clear(&env);
    json_decref(in);
    json_decref(out);
    return rc;
}
