/* Model credentials for Claude Code; see runner_creds.h. Pure but for access(2). */
#include "runner_creds.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool runner_creds_set(const char *(*get)(const char *), const char *name)
{
    const char *v = get(name);

    return v && *v;
}

/* Claude Code reads CLAUDE_CODE_USE_BEDROCK/_VERTEX as booleans: "1" or "true". */
static bool runner_creds_flag(const char *(*get)(const char *), const char *name)
{
    const char *v = get(name);

    return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

static bool runner_creds_file(const char *home, const char *rel)
{
    char p[4096];

    if (!home || !*home)
        return false;
    snprintf(p, sizeof(p), "%s/%s", home, rel);
    return access(p, R_OK) == 0;
}

/* Bedrock: a region, and credentials by any of the AWS SDK's means (keys, a profile, a web
 * identity as on EKS with IRSA, a Bedrock API key) or the instance's role, which cannot be seen
 * from here: only a missing region is an error. */
static bool runner_creds_bedrock(const char *(*get)(const char *), const char *home, char *how,
                                 size_t n)
{
    const char *region = get("AWS_REGION");
    const char *by = runner_creds_set(get, "AWS_BEARER_TOKEN_BEDROCK") ? "a Bedrock API key"
                     : runner_creds_set(get, "AWS_ACCESS_KEY_ID")      ? "access keys"
                     : runner_creds_set(get, "AWS_WEB_IDENTITY_TOKEN_FILE")
                         ? "a web identity (IRSA)"
                     : runner_creds_set(get, "AWS_PROFILE")        ? "a profile"
                     : runner_creds_file(home, ".aws/credentials") ? "~/.aws/credentials"
                                                                   : "the instance's role";

    if (!region || !*region) {
        snprintf(how, n,
                 "CLAUDE_CODE_USE_BEDROCK is set but AWS_REGION is not (Claude Code "
                 "does not read the region from ~/.aws/config)");
        return false;
    }
    snprintf(how, n, "Bedrock (AWS_REGION=%.40s, %s)", region, by);
    return true;
}

/* Vertex AI: a region and a project; credentials from GOOGLE_APPLICATION_CREDENTIALS, gcloud's
 * application-default login or the workload identity of the node. */
static bool runner_creds_vertex(const char *(*get)(const char *), const char *home, char *how,
                                size_t n)
{
    const char *region = get("CLOUD_ML_REGION"), *project = get("ANTHROPIC_VERTEX_PROJECT_ID");
    const char *by =
        runner_creds_set(get, "GOOGLE_APPLICATION_CREDENTIALS") ? "GOOGLE_APPLICATION_CREDENTIALS"
        : runner_creds_file(home, ".config/gcloud/application_default_credentials.json")
            ? "gcloud application-default credentials"
            : "the workload identity";

    if (!region || !*region || !project || !*project) {
        snprintf(how, n, "CLAUDE_CODE_USE_VERTEX is set but %s is not",
                 !region || !*region ? "CLOUD_ML_REGION" : "ANTHROPIC_VERTEX_PROJECT_ID");
        return false;
    }
    snprintf(how, n, "Vertex AI (CLOUD_ML_REGION=%.40s, project %.60s, %s)", region, project, by);
    return true;
}

bool runner_creds_find(const char *(*get)(const char *name), const char *home, char *how,
                       size_t how_size)
{
    /* Claude Code's own order: a cloud provider when chosen, then the environment's keys and
     * tokens, then the stored login. */
    if (runner_creds_flag(get, "CLAUDE_CODE_USE_BEDROCK"))
        return runner_creds_bedrock(get, home, how, how_size);
    if (runner_creds_flag(get, "CLAUDE_CODE_USE_VERTEX"))
        return runner_creds_vertex(get, home, how, how_size);
    if (runner_creds_set(get, "ANTHROPIC_AUTH_TOKEN")) {
        const char *base = get("ANTHROPIC_BASE_URL");

        if (base && *base)
            snprintf(how, how_size, "ANTHROPIC_AUTH_TOKEN with ANTHROPIC_BASE_URL (a gateway)");
        else
            snprintf(how, how_size, "ANTHROPIC_AUTH_TOKEN");
        return true;
    }
    if (runner_creds_set(get, "ANTHROPIC_API_KEY")) {
        snprintf(how, how_size, "ANTHROPIC_API_KEY%s",
                 runner_creds_set(get, "ANTHROPIC_BASE_URL") ? " with ANTHROPIC_BASE_URL" : "");
        return true;
    }
    if (runner_creds_set(get, "CLAUDE_CODE_OAUTH_TOKEN")) {
        snprintf(how, how_size, "CLAUDE_CODE_OAUTH_TOKEN");
        return true;
    }
    if (runner_creds_file(home, ".claude/.credentials.json")) {
        snprintf(how, how_size, "~/.claude/.credentials.json");
        return true;
    }
    snprintf(how, how_size,
             "no model credentials for Claude Code: set ANTHROPIC_API_KEY, "
             "CLAUDE_CODE_OAUTH_TOKEN, ANTHROPIC_AUTH_TOKEN (with ANTHROPIC_BASE_URL for a "
             "gateway), CLAUDE_CODE_USE_BEDROCK=1 or CLAUDE_CODE_USE_VERTEX=1, or provide "
             "~/.claude/.credentials.json (docs/agent.md, \"Model credentials\")");
    return false;
}
