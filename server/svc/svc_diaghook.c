/* The webhook check of diagnostics: find Drover's hook among the forge's, judge it. Pure. */
#include "svc/svc_diaghook.h"
#include "core/buf.h"
#include "core/mem.h"
#include "svc/svc_webhooks.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SVC_DIAGHOOK_TEXT_MAX 2048

/*
 * One kind of delivery svc_webhooks.c acts on: the name the forge's hook list uses for it
 * (`names`: any of them will do, as forge versions spell some differently), the name on the
 * forge's webhook form (docs/operations.md, "Forge webhooks").
 */
struct svc_diaghook_event {
    const char *api;
    const char *ui;
    const char *names[5];
};

/*
 * Gitea/Forgejo list a hook's events by type; older versions expand "pull request reviewed"
 * into its approved/rejected/comment types, and either "issue_label" or "issues" carries label
 * changes depending on the version.
 */
static const struct svc_diaghook_event svc_diaghook_gitea[] = {
    {"pull_request", "Pull request", {"pull_request", "pull_request_only", NULL}},
    {"pull_request_review",
     "Pull request reviewed",
     {"pull_request_review", "pull_request_review_rejected", "pull_request_review_approved",
      "pull_request_review_comment", NULL}},
    {"issue_comment", "Issue comment", {"issue_comment", NULL}},
    {"issue_label", "Issue label", {"issue_label", "issues", NULL}},
    {NULL, NULL, {NULL}},
};

/* GitHub: the event names of its webhook list; "*" subscribes to everything. */
static const struct svc_diaghook_event svc_diaghook_github[] = {
    {"pull_request", "Pull requests", {"pull_request", "*", NULL}},
    {"pull_request_review", "Pull request reviews", {"pull_request_review", "*", NULL}},
    {"pull_request_review_comment",
     "Pull request review comments",
     {"pull_request_review_comment", "*", NULL}},
    {"issue_comment", "Issue comments", {"issue_comment", "*", NULL}},
    {"issues", "Issues", {"issues", "*", NULL}},
    {NULL, NULL, {NULL}},
};

/* GitLab: one boolean field per trigger. */
static const struct svc_diaghook_event svc_diaghook_gitlab[] = {
    {"merge_requests_events", "Merge request events", {"merge_requests_events", NULL}},
    {"note_events", "Comments", {"note_events", NULL}},
    {"issues_events", "Issues events", {"issues_events", NULL}},
    {NULL, NULL, {NULL}},
};

static const struct svc_diaghook_event *svc_diaghook_events(enum forge_kind k)
{
    return k == FORGE_GITLAB   ? svc_diaghook_gitlab
           : k == FORGE_GITHUB ? svc_diaghook_github
                               : svc_diaghook_gitea;
}

/* The check record (owned); `fix` may be NULL. */
static json_t *svc_diaghook_record(const struct svc_diaghook_in *in, const char *status,
                                   const char *detail, const char *fix)
{
    char *name = mem_printf("webhook:%s", in->project ? in->project : "?");
    json_t *r = json_pack("{s:s,s:s,s:s,s:s?}", "name", name, "status", status, "detail", detail,
                          "fix", fix);

    free(name);
    return r;
}

/* "/api/hooks/forge/<kind>/<project>": Drover's endpoint for the project (api/forgehooks.c). */
static char *svc_diaghook_path(const struct svc_diaghook_in *in)
{
    return mem_printf("/api/hooks/forge/%s/%s", forge_backend_kind_name(in->kind),
                      in->project ? in->project : "");
}

/* The URL to configure: under DROVER_PUBLIC_URL, or a placeholder for droverd's address. */
static char *svc_diaghook_want_url(const struct svc_diaghook_in *in)
{
    char *path = svc_diaghook_path(in), *url;
    size_t n = in->public_url ? strlen(in->public_url) : 0;

    while (n && in->public_url[n - 1] == '/')
        n--;
    if (n)
        url = mem_printf("%.*s%s", (int)n, in->public_url, path);
    else
        url = mem_printf("https://<droverd's address, as the forge reaches it>%s", path);
    free(path);
    return url;
}

/* The length of `url` without its query, fragment and trailing slashes. */
static size_t svc_diaghook_base_len(const char *url)
{
    size_t n = strcspn(url, "?#");

    while (n && url[n - 1] == '/')
        n--;
    return n;
}

/* 0: not Drover's hook for the project; 1: its path is; 2: and it is under DROVER_PUBLIC_URL
 * (or that is not set). */
static int svc_diaghook_match(const struct svc_diaghook_in *in, const char *url)
{
    char *path = svc_diaghook_path(in), *want = NULL;
    size_t n = svc_diaghook_base_len(url), pl = strlen(path);
    int m = 0;

    if (n >= pl && strncmp(url + n - pl, path, pl) == 0) {
        m = 1;
        if (!in->public_url || !*in->public_url) {
            m = 2;
        } else {
            want = svc_diaghook_want_url(in);
            if (strlen(want) == n && strncasecmp(url, want, n) == 0)
                m = 2;
        }
    }
    free(want);
    free(path);
    return m;
}

/* Does the hook's event list cover `e`? */
static bool svc_diaghook_has(const json_t *events, const struct svc_diaghook_event *e)
{
    const json_t *v;
    size_t i;

    json_array_foreach(events, i, v)
    {
        const char *s = json_string_value(v);
        for (int k = 0; s && e->names[k]; k++)
            if (strcmp(s, e->names[k]) == 0)
                return true;
    }
    return false;
}

/* The forge's names of every event Drover wants ("ui": its form's labels), comma-separated. */
static void svc_diaghook_event_list(enum forge_kind k, bool ui, struct buf *b)
{
    const struct svc_diaghook_event *e = svc_diaghook_events(k);

    for (int i = 0; e[i].api; i++)
        buf_appendf(b, "%s%s", i ? ", " : "", ui ? e[i].ui : e[i].api);
}

/* The secret part of a fix: which variable droverd verifies deliveries with. */
static void svc_diaghook_secret_hint(const struct svc_diaghook_in *in, struct buf *b)
{
    char var[160];

    svc_webhooks_secret_var(in->project ? in->project : "", var, sizeof(var));
    buf_appendf(b, "%s: the value of $%s (else $DROVER_WEBHOOK_SECRET) in droverd's environment",
                in->kind == FORGE_GITLAB ? "secret token" : "secret", var);
}

/* How to make the forge deliver: the whole hook to add (owned). */
static char *svc_diaghook_add_fix(const struct svc_diaghook_in *in)
{
    char *url = svc_diaghook_want_url(in);
    struct buf b;

    buf_init(&b, SVC_DIAGHOOK_TEXT_MAX);
    buf_appendf(&b, "add a webhook to %s on the forge: URL %s",
                in->repo_path ? in->repo_path : "the repository", url);
    if (in->kind != FORGE_GITLAB)
        buf_appendf(&b, ", content type application/json");
    buf_appendf(&b, ", ");
    svc_diaghook_secret_hint(in, &b);
    buf_appendf(&b, ", events: ");
    svc_diaghook_event_list(in->kind, true, &b);
    buf_appendf(&b, " (docs/operations.md, Forge webhooks)");
    free(url);
    return buf_take(&b, NULL);
}

/*
 * Judge one of Drover's hooks (`match` from svc_diaghook_match). Returns 0 (ok) or 1 (warn)
 * and sets *detail and *fix (owned; *fix NULL when ok).
 */
static int svc_diaghook_judge(const struct svc_diaghook_in *in, const json_t *h, int match,
                              char **detail, char **fix)
{
    const char *full = json_string_value(json_object_get(h, "url"));
    /* Shown without its query or fragment: a hook's URL may carry a credential there. */
    char *url = mem_printf("%.*s", (int)svc_diaghook_base_len(full), full);
    const char *ct = json_string_value(json_object_get(h, "content_type"));
    const char *state = json_string_value(json_object_get(h, "state"));
    const json_t *events = json_object_get(h, "events"), *v;
    const struct svc_diaghook_event *e = svc_diaghook_events(in->kind);
    struct buf miss, ui;
    size_t i;
    char var[160];
    int rc = 1;

    buf_init(&miss, SVC_DIAGHOOK_TEXT_MAX);
    buf_init(&ui, SVC_DIAGHOOK_TEXT_MAX);
    for (int k = 0; e[k].api; k++)
        if (!svc_diaghook_has(events, &e[k])) {
            buf_appendf(&miss, "%s%s", miss.len ? ", " : "", e[k].api);
            buf_appendf(&ui, "%s%s", ui.len ? ", " : "", e[k].ui);
        }
    *fix = NULL;
    if (!json_is_true(json_object_get(h, "active"))) {
        if (state) {
            *detail = mem_printf("webhook %s is disabled by the forge (alert_status %s): reviews "
                                 "on the forge will not reach Drover",
                                 url, state);
            *fix = mem_printf("GitLab disables a hook whose deliveries fail: check that the forge "
                              "reaches droverd at %s (GET /api/projects/%s/webhook-deliveries "
                              "lists what arrived), then enable the hook again (Settings > "
                              "Webhooks)",
                              url, in->project);
        } else {
            *detail = mem_printf("webhook %s is inactive: reviews on the forge will not reach "
                                 "Drover",
                                 url);
            *fix = mem_printf("make the webhook active (the repository's Settings > Webhooks on "
                              "the forge)");
        }
    } else if (match < 2) {
        char *want = svc_diaghook_want_url(in);
        *detail = mem_printf("webhook %s names this project but not DROVER_PUBLIC_URL (%s)", url,
                             in->public_url);
        *fix = mem_printf("point the webhook at %s", want);
        free(want);
    } else if (ct && strcmp(ct, "json") != 0 && strcmp(ct, "application/json") != 0) {
        *detail = mem_printf("webhook %s sends %s payloads; droverd reads JSON", url, ct);
        *fix = mem_printf("set the webhook's content type to application/json");
    } else if (miss.len) {
        *detail = mem_printf("webhook %s is missing events %s: what they report will not reach "
                             "Drover",
                             url, miss.data);
        *fix = mem_printf("subscribe the webhook to %s too (docs/operations.md, Forge webhooks)",
                          ui.data);
    } else if (!in->secret_set) {
        svc_webhooks_secret_var(in->project ? in->project : "", var, sizeof(var));
        *detail = mem_printf("webhook %s is set up, but droverd has no secret to verify it: every "
                             "delivery is refused (401)",
                             url);
        *fix = mem_printf("set %s (or DROVER_WEBHOOK_SECRET) in droverd's environment to the "
                          "webhook's secret",
                          var);
    } else {
        buf_reset(&miss);
        json_array_foreach(events, i, v)
        {
            if (json_is_string(v))
                buf_appendf(&miss, "%s%s", i ? ", " : "", json_string_value(v));
        }
        *detail = mem_printf("webhook %s active (events %s)", url, miss.len ? miss.data : "-");
        rc = 0;
    }
    buf_clear(&miss);
    buf_clear(&ui);
    free(url);
    return rc;
}

json_t *svc_diaghook_check(const struct svc_diaghook_in *in, const json_t *hooks)
{
    char *detail = NULL, *fix = NULL, *best_detail = NULL, *best_fix = NULL;
    int best = 2, others = 0, m, rc;
    const json_t *h;
    json_t *r;
    size_t i;

    json_array_foreach(hooks, i, h)
    {
        const char *url = json_string_value(json_object_get(h, "url"));
        m = url ? svc_diaghook_match(in, url) : 0;
        if (!m) {
            others++;
            continue;
        }
        rc = svc_diaghook_judge(in, h, m, &detail, &fix);
        if (rc < best) {
            free(best_detail);
            free(best_fix);
            best_detail = detail;
            best_fix = fix;
            best = rc;
        } else {
            free(detail);
            free(fix);
        }
        detail = fix = NULL;
    }
    if (best_detail) {
        r = svc_diaghook_record(in, best ? "warn" : "ok", best_detail, best_fix);
    } else {
        detail = mem_printf("no webhook to Drover: reviews on the forge will not reach it (%s has "
                            "%d other webhook(s))",
                            in->repo_path ? in->repo_path : "the repository", others);
        fix = svc_diaghook_add_fix(in);
        r = svc_diaghook_record(in, "warn", detail, fix);
    }
    free(best_detail);
    free(best_fix);
    free(detail);
    free(fix);
    return r;
}

json_t *svc_diaghook_unlisted(const struct svc_diaghook_in *in, const struct err *e)
{
    char *detail, *fix = NULL, *add = NULL;
    const char *perm;
    json_t *r;

    if (e->code != ERR_FORBIDDEN && e->code != ERR_NOT_FOUND && e->code != ERR_UNAUTHORIZED) {
        detail = mem_printf("the webhooks could not be listed: %s", e->msg);
        r = svc_diaghook_record(in, "warn", detail,
                                "see the forge check; droverd asks again on the next report");
        free(detail);
        return r;
    }
    perm = in->kind == FORGE_GITHUB
               ? "give the token the read:repo_hook (or admin:repo_hook) scope, or for a "
                 "fine-grained token or GitHub App the repository permission \"Webhooks: read\""
           : in->kind == FORGE_GITLAB
               ? "give the token's user at least the Maintainer role on the project (token "
                 "scope read_api or api)"
               : "make the token's user an administrator of the repository (token scope "
                 "read:repository)";
    detail = mem_printf("the project's token may not list %s's webhooks (%s): the webhook is not "
                        "checked",
                        in->repo_path ? in->repo_path : "the repository", e->msg);
    add = svc_diaghook_add_fix(in);
    fix = mem_printf("to let droverd check it, %s; otherwise check by hand, or %s", perm, add);
    r = svc_diaghook_record(in, "warn", detail, fix);
    free(detail);
    free(fix);
    free(add);
    return r;
}
