/* The diagnostics report. Slow workers / subcommands. */
#include "svc/svc_diag.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/secret.h"
#include "forge/forge_backend.h"
#include "pool/pooldiag.h"
#include "store/diagstore.h"
#include "store/migrate.h"
#include "store/projects.h"
#include "svc/svc_diaghook.h"
#include "svc/svc_webhooks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SVC_DIAG_MAX_PROJECTS 50 /* forge probes per report (each bounded by its timeout) */
#define SVC_DIAG_FORGE_TIMEOUT 10

static void svc_diag_add(json_t *checks, const char *name, const char *status, const char *detail,
                         const char *fix)
{
    json_array_append_new(checks, json_pack("{s:s,s:s,s:s,s:s?}", "name", name, "status", status,
                                            "detail", detail, "fix", fix));
}

/* This replica's name: the pool's --replica-id, else <host>-<pid>. */
static void svc_diag_replica(const struct svc_ctx *c, char *out, size_t n)
{
    char host[64] = "droverd";

    if (c->env->pool) {
        snprintf(out, n, "%s", agentpool_config(c->env->pool)->replica);
        return;
    }
    gethostname(host, sizeof(host) - 1);
    snprintf(out, n, "%s-%ld", host, (long)getpid());
}

void svc_diag_clock_tick(struct svc_ctx *c)
{
    char replica[128];
    struct err err = {0};

    svc_diag_replica(c, replica, sizeof(replica));
    if (diagstore_clock_record(c->db, replica, clock_wall_ms(), &err) < 0)
        log_debug("diag", "clock skew not recorded: %s", err.msg);
}

/* 0 when the database answers (the other database checks need it), else -1. */
static int svc_diag_database(struct svc_ctx *c, json_t *checks)
{
    struct err err = {0};
    int pending = 0;
    char *detail;

    if (db_ensure(c->db, &err) < 0) {
        detail = mem_printf("PostgreSQL does not answer: %s", err.msg);
        svc_diag_add(checks, "database", "fail", detail,
                     "check DATABASE_URL (or the PG* environment) and that PostgreSQL runs and "
                     "accepts droverd's connections");
        free(detail);
        return -1;
    }
    svc_diag_add(checks, "database", "ok", "PostgreSQL answers", NULL);
    if (migrate_pending(c->db, migrate_files, &pending, &err) < 0) {
        detail = mem_printf("cannot read the applied migrations: %s", err.msg);
        svc_diag_add(checks, "migrations", "fail", detail, "run droverd migrate");
        free(detail);
    } else if (pending) {
        detail = mem_printf("%d migration(s) pending", pending);
        svc_diag_add(checks, "migrations", "fail", detail,
                     "run droverd migrate (droverd serve also applies them at start)");
        free(detail);
    } else {
        svc_diag_add(checks, "migrations", "ok", "every migration is applied", NULL);
    }
    return 0;
}

static const char *svc_diag_forge_fix(enum err_code code)
{
    switch (code) {
    case ERR_UNAUTHORIZED:
    case ERR_FORBIDDEN:
        return "give the project a valid token: DROVER_FORGE_TOKEN_<PROJECT> or a line "
               "\"<project> <token>\" in the DROVER_FORGE_SECRETS file, with read and write "
               "access to the repository";
    case ERR_NOT_FOUND:
        return "check the project's repository URL and forge_repo_path (droverctl project list), "
               "and that the token can see the repository";
    case ERR_UNAVAILABLE:
        return "check that droverd can reach the forge (DNS, proxy, NetworkPolicy egress)";
    default:
        return "check the project's forge settings (forge_kind, forge_api_url, forge_repo_path)";
    }
}

/*
 * The project's webhook to Drover (svc_diaghook.h), after its forge answered (`reachable`).
 * A plain git remote has none to check. No transaction is open.
 */
static void svc_diag_webhook(struct svc_ctx *c, const char *name, const struct forge *f,
                             bool reachable, json_t *checks)
{
    struct svc_diaghook_in in = {.kind = f->kind,
                                 .project = name,
                                 .repo_path = f->repo_path,
                                 .public_url = c->env->public_url};
    char *secret = NULL;
    struct err serr = {0};
    char *check = mem_printf("webhook:%s", name ? name : "?"), *detail;
    struct err err = {0};
    json_t *hooks = NULL;

    if (name && svc_webhooks_secret(name, &secret, &serr) < 0) {
        svc_diag_add(checks, check, "fail", serr.msg,
                     "mount the Secret the _FILE variable names, readable by droverd, or unset "
                     "the variable");
        goto out;
    }
    in.secret_set = secret != NULL;
    if (f->kind == FORGE_GIT) {
        svc_diag_add(checks, check, "ok", "not applicable: a plain git remote has no webhooks",
                     NULL);
    } else if (!reachable) {
        detail = mem_printf("not checked: the forge check of %s failed", name ? name : "?");
        svc_diag_add(checks, check, "warn", detail, "fix the forge check first");
        free(detail);
    } else if (forge_backend_hooks(f, &hooks, &err) < 0) {
        json_array_append_new(checks, svc_diaghook_unlisted(&in, &err));
    } else {
        json_array_append_new(checks, svc_diaghook_check(&in, hooks));
    }
out:
    secret_free(secret);
    json_decref(hooks);
    free(check);
}

/* One project's forge: reachable, the credential accepted. No transaction is open. */
static void svc_diag_forge(struct svc_ctx *c, const json_t *p, json_t *checks)
{
    const char *name = json_string_value(json_object_get(p, "name"));
    const char *base = json_string_value(json_object_get(p, "default_branch"));
    struct forge f = {.timeout_s = SVC_DIAG_FORGE_TIMEOUT};
    struct err err = {0};
    char *token = NULL, *check = mem_printf("forge:%s", name ? name : "?"), *detail = NULL;
    json_t *out = NULL;
    bool reachable;

    f.repo_url = json_string_value(json_object_get(p, "repository"));
    f.api_url = json_string_value(json_object_get(p, "forge_api_url"));
    f.repo_path = json_string_value(json_object_get(p, "forge_repo_path"));
    if (forge_backend_kind_parse(json_string_value(json_object_get(p, "forge_kind")), &f.kind,
                                 &err) < 0 ||
        forge_backend_token_lookup(name, c->env->forge_secrets, &token, &err) < 0) {
        detail = mem_printf("%s", err.msg);
        svc_diag_add(checks, check, "fail", detail, svc_diag_forge_fix(err.code));
        goto out;
    }
    f.token = token;
    reachable = forge_backend_probe(&f, base ? base : "main", &out, &err) == 0;
    if (!reachable) {
        detail = mem_printf("%s forge: %s", forge_backend_kind_name(f.kind), err.msg);
        svc_diag_add(checks, check, "fail", detail, svc_diag_forge_fix(err.code));
    } else if (json_is_false(json_object_get(out, "base_exists"))) {
        detail = mem_printf("git remote answers, but its default branch '%s' does not exist",
                            base ? base : "main");
        svc_diag_add(checks, check, "warn", detail,
                     "push the branch, or set the project's default branch to one that exists");
    } else {
        detail = mem_printf("%s forge answers%s", forge_backend_kind_name(f.kind),
                            token ? " and accepts the project's token" : " (no token configured)");
        svc_diag_add(checks, check, "ok", detail, NULL);
    }
    svc_diag_webhook(c, name, &f, reachable, checks);
out:
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    json_decref(out);
    free(detail);
    free(check);
}

static void svc_diag_forges(struct svc_ctx *c, json_t *checks)
{
    struct err err = {0};
    json_t *list = NULL, *p;
    size_t i;

    if (projects_list(c->db, &list, &err) < 0) {
        svc_diag_add(checks, "forge", "fail", err.msg, "see the database check");
        return;
    }
    if (json_array_size(list) == 0)
        svc_diag_add(checks, "forge", "ok", "no projects yet: tasks name their repository", NULL);
    json_array_foreach(list, i, p)
    {
        if (i >= SVC_DIAG_MAX_PROJECTS) {
            svc_diag_add(checks, "forge", "warn", "more projects than one report checks (50)",
                         NULL);
            break;
        }
        svc_diag_forge(c, p, checks);
    }
    json_decref(list);
}

static void svc_diag_coders(struct svc_ctx *c, json_t *checks)
{
    struct err err = {0};
    json_t *rows = NULL, *a;
    size_t i;
    char detail[1024];
    size_t len = 0;

    if (diagstore_agents_without_coder(c->db, &rows, &err) < 0) {
        svc_diag_add(checks, "agents.coder", "fail", err.msg, "see the database check");
        return;
    }
    if (json_array_size(rows) == 0) {
        svc_diag_add(checks, "agents.coder", "ok",
                     "no agent reported a coding command that could not run (last day)", NULL);
        json_decref(rows);
        return;
    }
    len = (size_t)snprintf(detail, sizeof(detail),
                           "%zu agent(s) without a usable coding command:", json_array_size(rows));
    json_array_foreach(rows, i, a)
    {
        if (len < sizeof(detail))
            len += (size_t)snprintf(detail + len, sizeof(detail) - len, "%s %s (%.120s)",
                                    i ? ";" : "", json_string_value(json_object_get(a, "id")),
                                    json_string_value(json_object_get(a, "message")));
    }
    svc_diag_add(checks, "agents.coder", "fail", detail,
                 "install the coding CLI in the agent image (claude, logged in or with "
                 "ANTHROPIC_API_KEY) or set DROVER_CODING_COMMAND to a command that exists");
    json_decref(rows);
}

static void svc_diag_clocks(struct svc_ctx *c, json_t *checks)
{
    struct err err = {0};
    json_t *rows = NULL, *r;
    size_t i;
    double worst = 0;
    const char *who = NULL;
    char *detail;

    svc_diag_clock_tick(c);
    if (diagstore_clocks(c->db, &rows, &err) < 0) {
        svc_diag_add(checks, "clock", "fail", err.msg, "see the database check");
        return;
    }
    json_array_foreach(rows, i, r)
    {
        double s = fabs(json_number_value(json_object_get(r, "skew_ms")));
        if (s >= worst) {
            worst = s;
            who = json_string_value(json_object_get(r, "replica"));
        }
    }
    detail = mem_printf("%zu replica(s) measured in the last hour; largest skew %.0f ms%s%s",
                        json_array_size(rows), worst, who ? " on " : "", who ? who : "");
    svc_diag_add(checks, "clock",
                 worst > SVC_DIAG_SKEW_FAIL_MS   ? "fail"
                 : worst > SVC_DIAG_SKEW_WARN_MS ? "warn"
                                                 : "ok",
                 detail,
                 worst > SVC_DIAG_SKEW_WARN_MS
                     ? "run time synchronisation (chrony, systemd-timesyncd) on the replica's "
                       "host and the database host"
                     : NULL);
    free(detail);
    json_decref(rows);
}

/* The worst status of the checks. */
static const char *svc_diag_worst(const json_t *checks)
{
    const json_t *ck;
    size_t i;
    int w = 0;

    json_array_foreach(checks, i, ck)
    {
        const char *s = json_string_value(json_object_get(ck, "status"));
        int v = s && strcmp(s, "fail") == 0 ? 2 : s && strcmp(s, "warn") == 0 ? 1 : 0;
        if (v > w)
            w = v;
    }
    return w == 2 ? "fail" : w == 1 ? "warn" : "ok";
}

int svc_diag_run(struct svc_ctx *c, const struct agentpool_cfg *pool, json_t **report,
                 struct err *err)
{
    json_t *checks = json_array();
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;

    (void)err;
    if (!pool && c->env->pool)
        pool = agentpool_config(c->env->pool);
    if (svc_diag_database(c, checks) == 0) {
        svc_diag_coders(c, checks);
        svc_diag_clocks(c, checks);
        svc_diag_forges(c, checks);
    }
    if (pool)
        pooldiag_check(pool, checks);
    else
        svc_diag_add(checks, "pool.backend", "ok", "this process runs no agent pool", NULL);
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    *report = json_pack("{s:s,s:s,s:o}", "status", svc_diag_worst(checks), "generated_at", ts,
                        "checks", checks);
    return 0;
}
