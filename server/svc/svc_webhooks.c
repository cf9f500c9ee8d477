/*
 * Forge webhooks: authenticate, deduplicate, classify, apply. Worker threads.
 */
#include "svc/svc_webhooks.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/secret.h"
#include "core/model.h"
#include "store/projects.h"
#include "store/queue.h"
#include "store/review.h"
#include "svc/svc_forge.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Standard Webhooks: a signed delivery more than this far from now is refused (replays). */
#define SVC_WEBHOOKS_TOLERANCE_S 300
/* Reading a review's inline comments back from the forge: per request, on a slow worker. */
#define SVC_WEBHOOKS_FETCH_TIMEOUT_S 15

static const char *const svc_webhooks_names[] = {"gitea", "gitlab", "github"};

int svc_webhooks_header(const char *headers, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name);

    out[0] = '\0';
    for (const char *p = headers; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t ll = eol ? (size_t)(eol - p) : strlen(p);

        if (ll > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            size_t vl;

            while (*v == ' ')
                v++;
            vl = ll - (size_t)(v - p);
            if (vl == 0 || vl >= outsz)
                return 0;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return 1;
        }
        p = eol ? eol + 1 : p + ll;
    }
    return 0;
}

void svc_webhooks_hmac_hex(const char *key, size_t keylen, const char *data, size_t len,
                           char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)data, len, md, &n);
    for (unsigned i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[64] = '\0';
}

/* Equal strings, in time that depends only on their lengths. */
static bool svc_webhooks_same(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    return la == lb && la > 0 && CRYPTO_memcmp(a, b, la) == 0;
}

void svc_webhooks_secret_var(const char *project, char *out, size_t outsz)
{
    size_t o = (size_t)snprintf(out, outsz, "DROVER_WEBHOOK_SECRET_");

    for (const char *p = project; *p && o + 1 < outsz; p++)
        out[o++] = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
    if (o < outsz)
        out[o] = '\0';
}

int svc_webhooks_secret(const char *project, char **out, struct err *err)
{
    char var[160];

    svc_webhooks_secret_var(project, var, sizeof(var));
    if (secret_get(var, out, err) < 0)
        return -1;
    return *out ? 0 : secret_get("DROVER_WEBHOOK_SECRET", out, err);
}

/* Standard Webhooks: any "v1,<base64>" of the header over "id.timestamp.body". */
static bool svc_webhooks_std_ok(const char *secret, const struct svc_webhooks_in *in)
{
    char id[256], ts[32], sigs[512], *save = NULL, *tok;
    unsigned char key[128], md[EVP_MAX_MD_SIZE];
    char expect[128];
    unsigned int n = 0;
    size_t klen = strlen(secret + 6), signed_len;
    char *msg;
    int kl;
    long long t;
    bool ok = false;

    if (!svc_webhooks_header(in->headers, "webhook-id", id, sizeof(id)) ||
        !svc_webhooks_header(in->headers, "webhook-timestamp", ts, sizeof(ts)) ||
        !svc_webhooks_header(in->headers, "webhook-signature", sigs, sizeof(sigs)))
        return false;
    t = strtoll(ts, NULL, 10);
    if (llabs((long long)time(NULL) - t) > SVC_WEBHOOKS_TOLERANCE_S || klen == 0 || klen > 160)
        return false;
    kl = EVP_DecodeBlock(key, (const unsigned char *)secret + 6, (int)klen);
    if (kl <= 0)
        return false;
    kl -= (secret[6 + klen - 1] == '=') + (klen > 1 && secret[6 + klen - 2] == '=');
    msg = mem_printf("%s.%s.", id, ts);
    signed_len = strlen(msg);
    msg = realloc(msg, signed_len + in->body_len + 1);
    if (!msg)
        return false;
    memcpy(msg + signed_len, in->body, in->body_len);
    HMAC(EVP_sha256(), key, kl, (unsigned char *)msg, signed_len + in->body_len, md, &n);
    free(msg);
    EVP_EncodeBlock((unsigned char *)expect, md, (int)n);
    for (tok = strtok_r(sigs, " ", &save); tok && !ok; tok = strtok_r(NULL, " ", &save))
        if (strncmp(tok, "v1,", 3) == 0)
            ok = svc_webhooks_same(tok + 3, expect);
    OPENSSL_cleanse(key, sizeof(key));
    return ok;
}

/* Does the delivery carry the forge's proof of `secret`? */
static bool svc_webhooks_verified(const char *secret, const struct svc_webhooks_in *in)
{
    char sig[300], hex[65];

    if (in->forge == SVC_WEBHOOKS_GITLAB) {
        if (strncmp(secret, "whsec_", 6) == 0)
            return svc_webhooks_std_ok(secret, in);
        return svc_webhooks_header(in->headers, "x-gitlab-token", sig, sizeof(sig)) &&
               svc_webhooks_same(sig, secret);
    }
    svc_webhooks_hmac_hex(secret, strlen(secret), in->body, in->body_len, hex);
    if (in->forge == SVC_WEBHOOKS_GITEA &&
        (svc_webhooks_header(in->headers, "x-gitea-signature", sig, sizeof(sig)) ||
         svc_webhooks_header(in->headers, "x-forgejo-signature", sig, sizeof(sig))))
        return svc_webhooks_same(sig, hex);
    if (svc_webhooks_header(in->headers, "x-hub-signature-256", sig, sizeof(sig)))
        return strncmp(sig, "sha256=", 7) == 0 && svc_webhooks_same(sig + 7, hex);
    return false;
}

/* What a delivery means for Drover. */
enum svc_webhooks_kind {
    HOOK_IGNORE = 0,
    HOOK_PING,
    HOOK_MERGED,
    HOOK_CLOSED,
    HOOK_REOPENED, /* the pull request is open again: only its recorded state changes */
    HOOK_COMMENT,  /* a review comment on a pull request (maybe asking for a rework) */
    HOOK_ISSUE,    /* an issue addressed to Drover */
};

struct svc_webhooks_ev {
    enum svc_webhooks_kind kind;
    char name[200]; /* "pull_request.closed", recorded with the delivery */
    long long number;
    const char *branch, *url, *author;
    const char *body, *path, *ckind; /* HOOK_COMMENT */
    long long line;
    char forge_id[32];            /* the comment's id on the forge, "" when none */
    const char *diff_hunk, *curl; /* an inline comment's diff and link */
    long long position;
    bool rework; /* changes requested, or addressed */
    /* A rework whose inline comments the webhook does not carry: read them back (GitHub: the
     * review's id; Gitea: the reviewer's latest review in review_state; GitLab: every
     * unresolved diff note). */
    bool fetch;
    long long review_id;
    const char *review_state;
    const char *issue_title, *issue_body, *issue_url; /* HOOK_ISSUE */
    /* HOOK_ISSUE: the forge login of the issue's author (NULL when the payload names it only by
     * id: GitLab, when someone else acted). `author` is then whoever asked Drover for it. */
    const char *issue_author;
};

/* The member at a dotted path ("review.user.login") of `o`, or NULL. */
static const json_t *svc_webhooks_at(const json_t *o, const char *path)
{
    char key[64];
    const char *dot;

    while (o && (dot = strchr(path, '.'))) {
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        o = json_object_get(o, key);
        path = dot + 1;
    }
    return json_object_get(o, path);
}

static const char *js(const json_t *o, const char *path)
{
    return json_string_value(svc_webhooks_at(o, path));
}

static long long ji(const json_t *o, const char *path)
{
    return json_integer_value(svc_webhooks_at(o, path));
}

static void svc_webhooks_id(struct svc_webhooks_ev *e, const json_t *o)
{
    long long id = ji(o, "id");

    if (id > 0)
        snprintf(e->forge_id, sizeof(e->forge_id), "%lld", id);
}

/* Addressed to Drover: the project's mention, or a line starting with "/drover". */
static bool svc_webhooks_addressed(const char *text, const char *mention)
{
    if (!text)
        return false;
    if (mention && *mention && strstr(text, mention))
        return true;
    for (const char *p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "/drover", 7) == 0 && !isalnum((unsigned char)p[7]))
            return true;
    }
    return false;
}

/* Does the label array (objects with "name" or "title") hold `label`? */
static bool svc_webhooks_has_label(const json_t *labels, const char *label)
{
    size_t i;
    json_t *l;

    json_array_foreach(labels, i, l)
    {
        const char *n = json_is_string(l) ? json_string_value(l) : js(l, "name");

        if (!n)
            n = js(l, "title");
        if (n && strcasecmp(n, label) == 0)
            return true;
    }
    return false;
}

static void svc_webhooks_pr(struct svc_webhooks_ev *e, const json_t *pr)
{
    e->number = ji(pr, "number");
    e->branch = js(pr, "head.ref");
    e->url = js(pr, "html_url");
}

/* An issue addressed to Drover by `requester` (a forge login). GitLab's (a note's "issue", an
 * Issue Hook's object_attributes) names its number, body and link its own way, and its author
 * only by id: the author's login is known when the acting user (b's "user") is the author. */
static void svc_webhooks_issue(struct svc_webhooks_ev *e, const json_t *b, const json_t *issue,
                               bool gitlab, const char *requester)
{
    e->kind = HOOK_ISSUE;
    e->number = ji(issue, gitlab ? "iid" : "number");
    e->issue_title = js(issue, "title");
    e->issue_body = js(issue, gitlab ? "description" : "body");
    e->issue_url = js(issue, gitlab ? "url" : "html_url");
    e->author = requester;
    if (!gitlab)
        e->issue_author = js(issue, "user.login");
    else if (ji(b, "user.id") > 0 && ji(b, "user.id") == ji(issue, "author_id"))
        e->issue_author = js(b, "user.username");
}

/* A comment of kind `ckind` on the payload's pull request: its body and author (dotted paths). */
static void svc_webhooks_pr_comment(struct svc_webhooks_ev *e, const json_t *b, const char *ckind,
                                    const char *body, const char *author)
{
    svc_webhooks_pr(e, json_object_get(b, "pull_request"));
    e->kind = HOOK_COMMENT;
    e->ckind = ckind;
    e->body = js(b, body);
    e->author = js(b, author);
}

/* GitHub's and Gitea's pull_request "reopened" and "closed" (merged or not), which share their
 * payload; false for any other event. */
static bool svc_webhooks_pr_state(const char *event, const char *action, const json_t *b,
                                  struct svc_webhooks_ev *e)
{
    const json_t *pr = json_object_get(b, "pull_request");

    if (strcmp(event, "pull_request") != 0 || !action)
        return false;
    if (strcmp(action, "reopened") == 0) {
        svc_webhooks_pr(e, pr);
        e->kind = HOOK_REOPENED;
        return true;
    }
    if (strcmp(action, "closed") == 0) {
        svc_webhooks_pr(e, pr);
        e->kind = json_is_true(json_object_get(pr, "merged")) ? HOOK_MERGED : HOOK_CLOSED;
        e->author = js(b, "sender.login");
        return true;
    }
    return false;
}

/* A new comment in the conversation of an issue, or of a pull request (`on_pr`: GitHub and
 * Gitea send both with the same payload): kept on the pull request, or an issue addressed to
 * Drover. */
static void svc_webhooks_conversation(const json_t *b, bool on_pr, const char *mention,
                                      struct svc_webhooks_ev *e)
{
    const json_t *issue = json_object_get(b, "issue");

    if (on_pr) {
        e->kind = HOOK_COMMENT;
        e->number = ji(issue, "number");
        e->url = js(issue, "html_url");
        e->ckind = "comment";
        e->body = js(b, "comment.body");
        svc_webhooks_id(e, json_object_get(b, "comment"));
        e->author = js(b, "comment.user.login");
        e->rework = svc_webhooks_addressed(e->body, mention);
    } else if (svc_webhooks_addressed(js(b, "comment.body"), mention)) {
        svc_webhooks_issue(e, b, issue, false, js(b, "comment.user.login"));
    }
}

/* An issue opened for Drover: addressed to it in its body, or opened with its label. */
static bool svc_webhooks_opened(const char *action, const json_t *issue, const char *mention,
                                const char *label)
{
    return strcmp(action, "opened") == 0 &&
           (svc_webhooks_addressed(js(issue, "body"), mention) ||
            svc_webhooks_has_label(json_object_get(issue, "labels"), label));
}

/* GitHub's events (X-GitHub-Event), as octokit/webhooks' schemas describe them. */
static void svc_webhooks_github(const char *event, const char *action, const json_t *b,
                                const char *mention, const char *label, struct svc_webhooks_ev *e)
{
    if (svc_webhooks_pr_state(event, action, b, e))
        return;
    if (strcmp(event, "ping") == 0) {
        e->kind = HOOK_PING;
    } else if (strcmp(event, "pull_request_review") == 0 && action &&
               strcmp(action, "submitted") == 0) {
        const char *st = js(b, "review.state");

        svc_webhooks_pr_comment(e, b, "review", "review.body", "review.user.login");
        e->rework = (st && strcasecmp(st, "changes_requested") == 0) ||
                    svc_webhooks_addressed(e->body, mention);
        e->review_id = ji(b, "review.id");
        e->fetch = e->rework && e->review_id > 0;
    } else if (strcmp(event, "pull_request_review_comment") == 0 && action &&
               strcmp(action, "created") == 0) {
        svc_webhooks_pr_comment(e, b, "inline", "comment.body", "comment.user.login");
        e->path = js(b, "comment.path");
        e->line = ji(b, "comment.line") ? ji(b, "comment.line") : ji(b, "comment.original_line");
        e->position = ji(b, "comment.position");
        e->diff_hunk = js(b, "comment.diff_hunk");
        e->curl = js(b, "comment.html_url");
        svc_webhooks_id(e, json_object_get(b, "comment"));
        e->rework = svc_webhooks_addressed(e->body, mention);
    } else if (strcmp(event, "issue_comment") == 0 && action && strcmp(action, "created") == 0) {
        svc_webhooks_conversation(
            b, json_object_get(json_object_get(b, "issue"), "pull_request") != NULL, mention, e);
    } else if (strcmp(event, "issues") == 0 && action) {
        const json_t *issue = json_object_get(b, "issue");

        if ((strcmp(action, "labeled") == 0 && js(b, "label.name") &&
             strcasecmp(js(b, "label.name"), label) == 0) ||
            svc_webhooks_opened(action, issue, mention, label))
            svc_webhooks_issue(e, b, issue, false, js(b, "sender.login"));
    }
}

/* Gitea's and Forgejo's (X-Gitea-Event-Type, else X-Gitea-Event), per modules/structs. */
static void svc_webhooks_gitea(const char *event, const char *action, const json_t *b,
                               const char *mention, const char *label, struct svc_webhooks_ev *e)
{
    if (svc_webhooks_pr_state(event, action, b, e))
        return;
    if (json_object_get(b, "review") && json_object_get(b, "pull_request")) {
        /* Event types pull_request_review_{approved,rejected,comment}: a review's body only
         * (its inline comments are not in the payload). */
        const char *type = js(b, "review.type");

        svc_webhooks_pr_comment(e, b, "review", "review.content", "sender.login");
        e->rework = (!strstr(event, "approved") &&
                     (strstr(event, "rejected") || (type && strstr(type, "rejected")))) ||
                    svc_webhooks_addressed(e->body, mention);
        if (!e->rework && (!e->body || !*e->body))
            e->kind = HOOK_IGNORE;
        /* The payload names no review id: the reviewer's latest review of this kind. */
        e->fetch = e->rework;
        e->review_state = strstr(event, "rejected") || (type && strstr(type, "rejected"))
                              ? "REQUEST_CHANGES"
                          : strstr(event, "approved") ? "APPROVED"
                                                      : "COMMENT";
    } else if (json_object_get(b, "comment") && json_object_get(b, "issue") && action &&
               strcmp(action, "created") == 0) {
        /* Event types issue_comment and pull_request_comment (X-Gitea-Event: issue_comment). */
        svc_webhooks_conversation(b, json_is_true(json_object_get(b, "is_pull")), mention, e);
    } else if ((strcmp(event, "issues") == 0 || strcmp(event, "issue_label") == 0) && action) {
        const json_t *issue = json_object_get(b, "issue");

        if ((strcmp(action, "label_updated") == 0 &&
             svc_webhooks_has_label(json_object_get(issue, "labels"), label)) ||
            svc_webhooks_opened(action, issue, mention, label))
            svc_webhooks_issue(e, b, issue, false, js(b, "sender.login"));
    }
}

/*
 * GitLab's "Request changes": a merge request has no review event, but its reviewers carry a
 * state (unreviewed, review_started, reviewed, requested_changes, approved, unapproved) in
 * Merge Request Hook payloads, and a submitted review's new state arrives as an "update" whose
 * changes.reviewers lists the reviewers before and after. The username of a reviewer whose
 * state became requested_changes in this update, else NULL (a re-delivered or unrelated update
 * names no such transition).
 */
static const char *svc_webhooks_gitlab_changes_requested(const json_t *b)
{
    const json_t *prev = svc_webhooks_at(b, "changes.reviewers.previous");
    const json_t *cur = svc_webhooks_at(b, "changes.reviewers.current"), *r, *p;
    size_t i, k;

    json_array_foreach(cur, i, r)
    {
        const char *st = js(r, "state");
        bool was = false;

        if (!st || strcmp(st, "requested_changes") != 0)
            continue;
        json_array_foreach(prev, k, p)
        {
            const char *ps = js(p, "state");

            was = was || (ji(p, "id") == ji(r, "id") && ps && strcmp(ps, st) == 0);
        }
        if (!was && js(r, "username"))
            return js(r, "username");
    }
    return NULL;
}

/* GitLab's (X-Gitlab-Event), per doc/user/project/integrations/webhook_events.md. */
static void svc_webhooks_gitlab(const char *event, const char *action, const json_t *b,
                                const char *mention, const char *label, struct svc_webhooks_ev *e)
{
    const json_t *oa = json_object_get(b, "object_attributes");

    if (strcmp(event, "Merge Request Hook") == 0 && action &&
        (strcmp(action, "merge") == 0 || strcmp(action, "close") == 0 ||
         strcmp(action, "reopen") == 0)) {
        e->kind = strcmp(action, "merge") == 0   ? HOOK_MERGED
                  : strcmp(action, "close") == 0 ? HOOK_CLOSED
                                                 : HOOK_REOPENED;
        e->number = ji(oa, "iid");
        e->branch = js(oa, "source_branch");
        e->url = js(oa, "url");
        e->author = js(b, "user.username");
    } else if (strcmp(event, "Merge Request Hook") == 0 && action &&
               strcmp(action, "update") == 0 && svc_webhooks_gitlab_changes_requested(b)) {
        /* Like GitHub's changes_requested review: a rework that reads every unresolved diff
         * note (the review's summary, if any, arrives as a note of its own). */
        e->kind = HOOK_COMMENT;
        e->ckind = "review";
        e->number = ji(oa, "iid");
        e->branch = js(oa, "source_branch");
        e->url = js(oa, "url");
        e->author = svc_webhooks_gitlab_changes_requested(b);
        e->rework = true;
        e->fetch = true;
    } else if (strcmp(event, "Note Hook") == 0 && !json_is_true(json_object_get(oa, "system")) &&
               (!action || strcmp(action, "create") == 0)) {
        const char *nt = js(oa, "noteable_type");

        if (nt && strcmp(nt, "MergeRequest") == 0) {
            const json_t *pos = json_object_get(oa, "position");

            e->kind = HOOK_COMMENT;
            e->number = ji(b, "merge_request.iid");
            e->branch = js(b, "merge_request.source_branch");
            e->url = js(oa, "url");
            e->body = js(oa, "note");
            e->author = js(b, "user.username");
            e->ckind = pos && !json_is_null(pos) ? "inline" : "comment";
            e->path = js(pos, "new_path") ? js(pos, "new_path") : js(pos, "old_path");
            e->line = ji(pos, "new_line") ? ji(pos, "new_line") : ji(pos, "old_line");
            svc_webhooks_id(e, oa);
            e->rework = svc_webhooks_addressed(e->body, mention);
            /* A merge request has no reviews: the rework reads every unresolved diff note. */
            e->fetch = e->rework;
        } else if (nt && strcmp(nt, "Issue") == 0 &&
                   svc_webhooks_addressed(js(oa, "note"), mention)) {
            svc_webhooks_issue(e, b, json_object_get(b, "issue"), true, js(b, "user.username"));
        }
    } else if (strcmp(event, "Issue Hook") == 0 && action) {
        const json_t *prev =
            json_object_get(json_object_get(json_object_get(b, "changes"), "labels"), "previous");
        const json_t *cur =
            json_object_get(json_object_get(json_object_get(b, "changes"), "labels"), "current");
        bool added =
            cur && svc_webhooks_has_label(cur, label) && !svc_webhooks_has_label(prev, label);

        if (added || (strcmp(action, "open") == 0 &&
                      (svc_webhooks_has_label(json_object_get(b, "labels"), label) ||
                       svc_webhooks_addressed(js(oa, "description"), mention)))) {
            svc_webhooks_issue(e, b, oa, true, js(b, "user.username"));
        }
    }
}

/* How each forge names a delivery's event and id, where its action is, and who reads it. */
struct svc_webhooks_dialect {
    const char *event_hdr[4];    /* the first of these headers present names the event */
    const char *delivery_hdr[2]; /* ... and the delivery's id */
    bool idempotency_key;        /* an Idempotency-Key, when sent, is the delivery's id first */
    const char *action;          /* the body's member (a dotted path) holding the action */
    void (*classify)(const char *event, const char *action, const json_t *b, const char *mention,
                     const char *label, struct svc_webhooks_ev *e);
};

static const struct svc_webhooks_dialect svc_webhooks_dialects[] = {
    [SVC_WEBHOOKS_GITEA] = {{"x-gitea-event-type", "x-forgejo-event-type", "x-gitea-event",
                             "x-forgejo-event"},
                            {"x-gitea-delivery", "x-forgejo-delivery"},
                            false,
                            "action",
                            svc_webhooks_gitea},
    [SVC_WEBHOOKS_GITLAB] = {{"x-gitlab-event"},
                             {"webhook-id", "x-gitlab-event-uuid"},
                             true,
                             "object_attributes.action",
                             svc_webhooks_gitlab},
    [SVC_WEBHOOKS_GITHUB] =
        {{"x-github-event"}, {"x-github-delivery"}, false, "action", svc_webhooks_github},
};

/* The first of `names` (up to n, NULL-terminated early) present in the headers, into out. */
static void svc_webhooks_first_header(const char *headers, const char *const *names, size_t n,
                                      char *out, size_t outsz)
{
    out[0] = '\0';
    for (size_t i = 0; i < n && names[i]; i++)
        if (svc_webhooks_header(headers, names[i], out, outsz))
            return;
}

/* An issue addressed to Drover: one task of the project per issue. */
static int svc_webhooks_issue_task(struct svc_ctx *c, int64_t project_id,
                                   const struct svc_webhooks_in *in,
                                   const struct svc_webhooks_ev *e, int64_t *task_id, bool *created,
                                   struct err *err)
{
    struct model_task_new t = {0};
    char *title = mem_printf("%s#%lld: %s", in->forge == SVC_WEBHOOKS_GITLAB ? "issue " : "issue ",
                             e->number, e->issue_title ? e->issue_title : "(untitled)");
    char *desc = mem_printf("%s\n\n(From the %s issue %s.)",
                            e->issue_body && *e->issue_body ? e->issue_body
                            : e->issue_title                ? e->issue_title
                                                            : "",
                            svc_webhooks_names[in->forge], e->issue_url ? e->issue_url : "");
    char *key = mem_printf("forge-issue:%lld:%lld", (long long)project_id, e->number);
    json_t *task = NULL;
    int rc;

    if (strlen(title) > 480)
        title[480] = '\0';
    t.title = title;
    t.description = desc;
    t.project_id = project_id;
    t.idempotency_key = key;
    rc = queue_enqueue(c->db, &t, &task, created, err);
    if (rc == 0)
        *task_id = json_integer_value(json_object_get(task, "id"));
    if (rc == 0 && *created) {
        /* Linked back: the outbox thread posts this on the issue (and later the PR's link). */
        char *link =
            c->env->public_url && *c->env->public_url
                ? mem_printf("Drover queued task #%lld for this issue: %s/#/tasks/%lld",
                             (long long)*task_id, c->env->public_url, (long long)*task_id)
                : mem_printf("Drover queued task #%lld for this issue.", (long long)*task_id);

        rc = review_issue_link(c->db, *task_id, e->number, e->issue_author, e->author, link, err);
        free(link);
    }
    json_decref(task);
    free(title);
    free(desc);
    free(key);
    return rc;
}

/*
 * Read the inline comments of the review behind `e` back from the forge: fence (the task, a
 * read), then the forge's REST API, outside any transaction. 0 with *comments (owned; NULL when
 * there is no live task to read them for); -1 with err saying why they could not be read.
 */
static int svc_webhooks_fetch(struct svc_ctx *c, int64_t project_id,
                              const struct svc_webhooks_ev *e, json_t **comments, bool *cut,
                              struct err *err)
{
    struct forge_review_ref ref = {.number = e->number,
                                   .review_id = e->review_id,
                                   .author = e->author,
                                   .state = e->review_state};
    struct svc_forge sf;
    json_t *task = NULL;
    int64_t task_id = 0;
    bool has_forge = false;
    int rc = -1;

    *comments = NULL;
    memset(&sf, 0, sizeof(sf));
    if (review_find_task(c->db, project_id, e->number, e->branch, &task_id, err) < 0)
        return -1;
    if (!task_id)
        return 0;
    if (queue_get(c->db, task_id, &task, err) < 0)
        return -1;
    if (model_state_terminal(json_string_value(json_object_get(task, "state")))) {
        rc = 0;
        goto out;
    }
    if (svc_forge_resolve(c, project_id, task, &sf, &has_forge, err) < 0)
        goto out;
    if (!has_forge || sf.f.kind == FORGE_GIT) {
        err_set(err, ERR_INVALID, "the project has no forge API to read them from");
        goto out;
    }
    sf.f.timeout_s = SVC_WEBHOOKS_FETCH_TIMEOUT_S;
    if (ref.number <= 0 && json_is_object(json_object_get(task, "pull_request")))
        ref.number =
            json_integer_value(json_object_get(json_object_get(task, "pull_request"), "number"));
    rc = forge_backend_review_comments(&sf.f, &ref, comments, cut, err);
out:
    svc_forge_clear(&sf);
    json_decref(task);
    return rc;
}

/* Keep the fetched inline comments (the forge's ids keep each once). */
static int svc_webhooks_keep_inline(struct svc_ctx *c, int64_t task_id, const json_t *comments,
                                    struct err *err)
{
    size_t i;
    json_t *x;

    json_array_foreach(comments, i, x)
    {
        struct review_comment rc = {
            .kind = "inline",
            .author = json_string_value(json_object_get(x, "author")),
            .body = json_string_value(json_object_get(x, "body")),
            .path = json_string_value(json_object_get(x, "path")),
            .line = json_integer_value(json_object_get(x, "line")),
            .forge_id = json_string_value(json_object_get(x, "id")),
            .diff_hunk = json_string_value(json_object_get(x, "diff_hunk")),
            .position = json_integer_value(json_object_get(x, "position")),
            .url = json_string_value(json_object_get(x, "url")),
        };

        struct err bad = {0};

        if (!rc.body || !*rc.body)
            continue;
        if (review_add_comment(c->db, task_id, &rc, &bad) == 0)
            continue;
        if (bad.code != ERR_INVALID) { /* the database: the forge's retry gets another chance */
            *err = bad;
            return -1;
        }
        log_warn("webhooks", "task %lld: an inline comment on %s was not kept: %s",
                 (long long)task_id, rc.path ? rc.path : "?", bad.msg);
    }
    return 0;
}

/* What the review's read from the forge left out, on the task's activity: the inline comments
 * it could not read (`fetch_err`), or those past the bound (`cut`). */
static int svc_webhooks_fetch_notes(struct svc_ctx *c, int64_t task_id,
                                    const struct svc_webhooks_in *in,
                                    const struct svc_webhooks_ev *e, bool cut,
                                    const struct err *fetch_err, struct err *err)
{
    const char *forge = svc_webhooks_names[in->forge];
    char *msg;
    int rc = 0;

    if (fetch_err) {
        /* The rework still happens, with the review's summary; say what is missing. */
        json_t *meta = json_pack("{s:s,s:s}", "forge", forge, "error", fetch_err->msg);

        msg = mem_printf("the review's inline comments could not be fetched from %s: %s%s", forge,
                         fetch_err->msg,
                         e->rework ? "; the rework carries the review's summary only" : "");
        rc = review_note(c->db, task_id, msg, meta, err);
        free(msg);
        json_decref(meta);
    }
    if (rc == 0 && cut) {
        /* A thread longer than one rework reads: the first ones are kept, say so. */
        msg = mem_printf("the review thread on %s has more inline comments than a rework reads "
                         "(%d, or 1 MiB of text): the first ones were kept",
                         forge, FORGE_REVIEW_MAX_COMMENTS);
        rc = review_note(c->db, task_id, msg, NULL, err);
        free(msg);
    }
    return rc;
}

/* Apply a classified delivery to its task. *outcome is a static string. */
static int svc_webhooks_apply(struct svc_ctx *c, int64_t project_id,
                              const struct svc_webhooks_in *in, const struct svc_webhooks_ev *e,
                              const json_t *inline_c, bool cut, const struct err *fetch_err,
                              int64_t *task_id, const char **outcome, bool *created,
                              struct err *err)
{
    char actor[260];
    json_t *t = NULL, *fields = NULL;
    char state[32];
    int rc = -1;

    *task_id = 0;
    *created = false;
    snprintf(actor, sizeof(actor), "%s:%s", svc_webhooks_names[in->forge],
             e->author && *e->author ? e->author : "webhook");
    if (e->kind == HOOK_IGNORE || e->kind == HOOK_PING) {
        *outcome = e->kind == HOOK_PING ? "pong" : "ignored";
        return 0;
    }
    if (e->kind == HOOK_ISSUE) {
        if (svc_webhooks_issue_task(c, project_id, in, e, task_id, created, err) < 0)
            return -1;
        *outcome = *created ? "task_created" : "task_exists";
        return 0;
    }
    if (review_find_task(c->db, project_id, e->number, e->branch, task_id, err) < 0)
        return -1;
    if (!*task_id) {
        *outcome = "no_task"; /* a pull request Drover did not open */
        return 0;
    }
    if (queue_get(c->db, *task_id, &t, err) < 0)
        return -1;
    snprintf(state, sizeof(state), "%s", json_string_value(json_object_get(t, "state")));
    if (e->kind == HOOK_MERGED || e->kind == HOOK_CLOSED || e->kind == HOOK_REOPENED) {
        fields = json_pack("{s:s}", "state",
                           e->kind == HOOK_MERGED   ? "merged"
                           : e->kind == HOOK_CLOSED ? "closed"
                                                    : "open");
        if (e->url)
            json_object_set_new(fields, "url", json_string(e->url));
        if (review_pr_update(c->db, *task_id, fields, err) < 0)
            goto out;
    }
    json_decref(t);
    t = NULL;
    switch (e->kind) {
    case HOOK_REOPENED:
        *outcome = "pr_state"; /* a cancelled task stays cancelled: retry it to work again */
        break;
    case HOOK_MERGED:
        if (strcmp(state, "ready_to_test") != 0) {
            *outcome = "merged_noted";
            break;
        }
        if (review_accept(c->db, *task_id, actor, "pull request merged", &t, err) < 0)
            goto out;
        *outcome = "completed";
        break;
    case HOOK_CLOSED:
        if (model_state_terminal(state)) {
            *outcome = "closed_noted";
            break;
        }
        if (queue_cancel(c->db, *task_id, actor, "the pull request was closed without merging", &t,
                         err) < 0)
            goto out;
        *outcome = "cancelled";
        break;
    default: /* HOOK_COMMENT */
    {
        struct review_comment kept = {.kind = e->ckind ? e->ckind : "comment",
                                      .author = e->author,
                                      .body = e->body,
                                      .path = e->path,
                                      .line = e->line,
                                      .forge_id = e->forge_id,
                                      .diff_hunk = e->diff_hunk,
                                      .position = e->position,
                                      .url = e->curl};

        if (e->body && *e->body && review_add_comment(c->db, *task_id, &kept, err) < 0)
            goto out;
    }
        if (svc_webhooks_keep_inline(c, *task_id, inline_c, err) < 0)
            goto out;
        if (!model_state_terminal(state) &&
            svc_webhooks_fetch_notes(c, *task_id, in, e, cut, fetch_err, err) < 0)
            goto out;
        if (!e->rework) {
            *outcome = "comment_kept";
            break;
        }
        if (strcmp(state, "ready_to_test") != 0) {
            *outcome = "comment_kept"; /* the next rework (or the one under way) reads it */
            break;
        }
        /* Who asked, on the forge: shown on the task, as the issue's people are. */
        if (review_set_requester(c->db, *task_id, e->author, err) < 0)
            goto out;
        if (review_rework(c->db, *task_id, actor,
                          e->body && *e->body ? NULL : "the reviewer requested changes", &t,
                          err) < 0)
            goto out;
        *outcome = "rework";
        break;
    }
    rc = 0;
out:
    json_decref(t);
    json_decref(fields);
    return rc;
}

int svc_webhooks_receive(struct svc_ctx *c, const struct svc_webhooks_in *in, int *status,
                         json_t **out, bool *reroute, struct err *err)
{
    const struct svc_webhooks_dialect *dialect;
    struct svc_webhooks_ev e;
    struct err ferr = {0};
    json_t *inline_c = NULL;
    bool fetch_failed = false, cut = false;
    char event[128], delivery[256], sha[65];
    const char *outcome = "ignored", *mention, *label;
    char *secret = NULL;
    json_t *project = NULL, *body = NULL, *settings;
    int64_t project_id = 0, row = 0, task_id = 0;
    struct err perr = {0};
    bool fresh = false, created = false;
    int rc = -1;

    *out = NULL;
    *status = 200;
    *reroute = false;
    delivery[0] = '\0';
    memset(&e, 0, sizeof(e));
    /* Authenticate before anything else: unknown project, no secret and a bad signature look
     * the same from outside, and none of them changes anything. */
    if (in->project && svc_webhooks_secret(in->project, &secret, &perr) < 0) {
        /* The operator's mistake, not the sender's: say so in the log, 503 to the forge,
         * which retries. */
        log_warn("webhooks", "delivery for project %s refused: %s", in->project, perr.msg);
        return err_set(err, ERR_UNAVAILABLE, "the webhook secret cannot be read, retry shortly");
    }
    if (!secret || projects_resolve(c->db, in->project, &project_id, &perr) < 0 ||
        projects_get_id(c->db, project_id, &project, &perr) < 0 ||
        !svc_webhooks_verified(secret, in)) {
        if (perr.code == ERR_UNAVAILABLE)
            return err_set(err, ERR_UNAVAILABLE, "database unavailable, retry shortly");
        err_set(err, ERR_UNAUTHORIZED,
                "the delivery is not authenticated: unknown project, no webhook secret "
                "configured for it, or a signature or token that does not match");
        err->reason = "bad_signature";
        goto out;
    }
    body = json_loadb(in->body, in->body_len, 0, NULL);
    if (!json_is_object(body)) {
        err_set(err, ERR_INVALID, "the delivery's body is not a JSON object");
        goto out;
    }
    settings = json_object_get(project, "settings");
    mention = json_string_value(json_object_get(settings, "review_mention"));
    label = json_string_value(json_object_get(settings, "issue_label"));
    if (!mention)
        mention = "@drover";
    if (!label)
        label = "drover";
    dialect = &svc_webhooks_dialects[in->forge];
    svc_webhooks_first_header(in->headers, dialect->event_hdr,
                              sizeof(dialect->event_hdr) / sizeof(dialect->event_hdr[0]), event,
                              sizeof(event));
    if (dialect->idempotency_key && in->idempotency_key && *in->idempotency_key)
        snprintf(delivery, sizeof(delivery), "%s", in->idempotency_key);
    else
        svc_webhooks_first_header(in->headers, dialect->delivery_hdr,
                                  sizeof(dialect->delivery_hdr) / sizeof(dialect->delivery_hdr[0]),
                                  delivery, sizeof(delivery));
    if (event[0]) {
        const char *action = js(body, dialect->action);

        snprintf(e.name, sizeof(e.name), "%.120s%s%.60s", event, action ? "." : "",
                 action ? action : "");
        dialect->classify(event, action, body, mention, label, &e);
    }
    if (!e.name[0])
        snprintf(e.name, sizeof(e.name), "%.120s", event[0] ? event : "unknown");
    {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;

        EVP_Digest(in->body, in->body_len, md, &n, EVP_sha256(), NULL);
        for (unsigned i = 0; i < 32; i++)
            snprintf(sha + 2 * i, 3, "%02x", md[i]);
    }
    if (!delivery[0])
        snprintf(delivery, sizeof(delivery), "sha256:%s", sha);
    if (e.fetch && in->fast_worker) {
        /* Nothing recorded yet: run again on a slow worker, which may wait on the forge. */
        *reroute = true;
        rc = 0;
        goto out;
    }
    if (review_delivery_claim(c->db, project_id, svc_webhooks_names[in->forge], delivery, sha,
                              e.name, &row, &fresh, err) < 0)
        goto out;
    if (!fresh) {
        *out = json_pack("{s:s,s:s}", "result", "duplicate", "event", e.name);
        rc = 0;
        goto out;
    }
    /* Recorded, no transaction open: read the review's inline comments from the forge. A
     * failure is noted on the task and the rework goes on with the review's summary. */
    if (e.fetch && svc_webhooks_fetch(c, project_id, &e, &inline_c, &cut, &ferr) < 0) {
        fetch_failed = true;
        log_warn("webhooks",
                 "%s delivery %s for project %s: the review's inline comments could "
                 "not be fetched: %s",
                 svc_webhooks_names[in->forge], delivery, in->project, ferr.msg);
    }
    if (svc_webhooks_apply(c, project_id, in, &e, inline_c, cut, fetch_failed ? &ferr : NULL,
                           &task_id, &outcome, &created, err) < 0) {
        review_delivery_forget(c->db, row); /* the forge's retry gets another chance */
        goto out;
    }
    if (review_delivery_done(c->db, row, task_id, outcome, err) < 0)
        goto out;
    log_info("webhooks", "%s delivery %s (%s) for project %s: %s%s%lld",
             svc_webhooks_names[in->forge], delivery, e.name, in->project, outcome,
             task_id ? ", task " : "", (long long)task_id);
    *out = json_pack("{s:s,s:s}", "result", outcome, "event", e.name);
    if (task_id)
        json_object_set_new(*out, "task_id", json_integer(task_id));
    *status = created ? 202 : 200;
    rc = 0;
out:
    json_decref(inline_c);
    json_decref(project);
    json_decref(body);
    secret_free(secret);
    return rc;
}

int svc_webhooks_deliveries(struct svc_ctx *c, const char *project, int limit, json_t **out,
                            struct err *err)
{
    int64_t id;

    *out = NULL;
    if (projects_resolve(c->db, project, &id, err) < 0)
        return -1;
    return review_deliveries(c->db, id, limit, out, err);
}
