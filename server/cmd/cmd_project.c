/*
 * droverd project add: create (or update, by name) a project, so scripts such as
 * scripts/run.sh can set up the demo project without the REST API. Main thread.
 */
#include "cmd/cmd_project.h"
#include "core/model.h"
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

int cmd_project(int argc, char **argv)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                         {"repo-url", required_argument, NULL, 'r'},
                                         {"default-branch", required_argument, NULL, 'b'},
                                         {"forge-kind", required_argument, NULL, 'k'},
                                         {"forge-api-url", required_argument, NULL, 'a'},
                                         {"forge-repo-path", required_argument, NULL, 'p'},
                                         {"settings", required_argument, NULL, 's'},
                                         {"database-url", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct {
        const char *name, *repo_url, *default_branch, *forge_kind, *forge_api_url,
            *forge_repo_path;
    } p = {0};
    const char *url = getenv("DATABASE_URL"), *settings = NULL;
    struct svc_env env = {0}; /* svc_env_clear is safe on a zeroed one */
    struct svc_ctx ctx = {&env, NULL};
    bool created = false;
    json_t *in = NULL;
    json_t *sj = NULL, *out = NULL;
    enum forge_kind kind;
    struct err err = {0};
    struct db db = {0};
    int c, rc = 2;
    char *s;

    if (argc < 2 || strcmp(argv[1], "add") != 0) {
        cmd_project_usage(argc > 1 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return argc > 1 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            p.name = optarg;
            break;
        case 'r':
            p.repo_url = optarg;
            break;
        case 'b':
            p.default_branch = optarg;
            break;
        case 'k':
            p.forge_kind = optarg;
            break;
        case 'a':
            p.forge_api_url = optarg;
            break;
        case 'p':
            p.forge_repo_path = optarg;
            break;
        case 's':
            settings = optarg;
            break;
        case 'd':
            url = optarg;
            break;
        case 'h':
            cmd_project_usage(stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (!p.name || !p.repo_url) {
        fprintf(stderr, "droverd project add: --name and --repo-url are required\n");
        return 2;
    }
    if (p.forge_kind && forge_backend_kind_parse(p.forge_kind, &kind, &err) < 0) {
        fprintf(stderr, "droverd project add: %s\n", err.msg);
        return 2;
    }
    if (p.forge_kind && kind != FORGE_GIT && (!p.forge_repo_path || !*p.forge_repo_path)) {
        fprintf(stderr, "droverd project add: --forge-kind %s needs --forge-repo-path\n",
                p.forge_kind);
        return 2;
    }
    if (p.forge_kind && (kind == FORGE_GITEA || kind == FORGE_GITLAB) &&
        (!p.forge_api_url || strncmp(p.forge_api_url, "http", 4) != 0)) {
        fprintf(stderr,
                "droverd project add: --forge-kind %s needs --forge-api-url "
                "(https://host/api/v1 or /api/v4)\n",
                p.forge_kind);
        return 2;
    }
    if (p.default_branch && !model_branch_name_valid(p.default_branch)) {
        fprintf(stderr, "droverd project add: invalid --default-branch '%s'\n", p.default_branch);
        return 2;
    }
    if (settings) {
        json_error_t je;
        sj = json_loads(settings, 0, &je);
        if (!json_is_object(sj)) {
            fprintf(stderr, "droverd project add: --settings must be a JSON object\n");
            goto out;
        }
    }
    in = json_pack("{s:s,s:s}", "name", p.name, "repository", p.repo_url);
    if (p.default_branch)
        json_object_set_new(in, "default_branch", json_string(p.default_branch));
    if (p.forge_kind)
        json_object_set_new(in, "forge_kind", json_string(p.forge_kind));
    if (p.forge_api_url)
        json_object_set_new(in, "forge_api_url", json_string(p.forge_api_url));
    if (p.forge_repo_path)
        json_object_set_new(in, "forge_repo_path", json_string(p.forge_repo_path));
    if (sj)
        json_object_set(in, "settings", sj);
    rc = 1;
    svc_env_default(&env);
    ctx.db = &db;
    if (db_open(&db, url && *url ? url : NULL, &err) < 0 ||
        svc_projects_upsert(&ctx, in, &out, &created, &err) < 0) {
        fprintf(stderr, "droverd project add: %s\n", err.msg);
        goto out;
    }
    json_object_set_new(out, "created", json_boolean(created));
    s = json_dumps(out, JSON_COMPACT);
    printf("%s\nPROJECT_ID=%lld\n", s, (long long)json_integer_value(json_object_get(out, "id")));
    free(s);
    rc = 0;
out:
    db_close(&db);
    svc_env_clear(&env);
    json_decref(in);
    json_decref(sj);
    json_decref(out);
    return rc;
}
