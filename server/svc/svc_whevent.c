/* Forge webhook payloads classified into one event. See svc_whevent.h. */
#include "svc/svc_whevent.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The member at a dotted path ("review.user.login") of `o`, or NULL. */
static const json_t *whevent_at(const json_t *o, const char *path)
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

const char *svc_whevent_str(const json_t *o, const char *path)
{
    return json_string_value(whevent_at(o, path));
}

static long long ji(const json_t *o, const char *path)
{
    return json_integer_value(whevent_at(o, path));
}

static void whevent_id(struct svc_whevent *e, const json_t *o)
{
    long long id = ji(o, "id");

    if (id > 0)
        snprintf(e->forge_id, sizeof(e->forge_id), "%lld", id);
}

/* Addressed to Drover: the project's mention, or a line starting with "/drover". */
static bool whevent_addressed(const char *text, const char *mention)
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
static bool whevent_has_label(const json_t *labels, const char *label)
{
    size_t i;
    json_t *l;

    json_array_foreach(labels, i, l)
    {
        const char *n = json_is_string(l) ? json_string_value(l) : svc_whevent_str(l, "name");

        if (!n)
            n = svc_whevent_str(l, "title");
        if (n && strcasecmp(n, label) == 0)
            return true;
    }
    return false;
}

static void whevent_pr(struct svc_whevent *e, const json_t *pr)
{
    e->number = ji(pr, "number");
    e->branch = svc_whevent_str(pr, "head.ref");
    e->url = svc_whevent_str(pr, "html_url");
}

/* An issue addressed to Drover by `requester` (a forge login). GitLab's (a note's "issue", an
 * Issue Hook's object_attributes) names its number, body and link its own way, and its author
 * only by id: the author's login is known when the acting user (b's "user") is the author. */
static void whevent_issue(struct svc_whevent *e, const json_t *b, const json_t *issue, bool gitlab,
                          const char *requester)
{
    e->kind = SVC_WHEVENT_ISSUE;
    e->number = ji(issue, gitlab ? "iid" : "number");
    e->issue_title = svc_whevent_str(issue, "title");
    e->issue_body = svc_whevent_str(issue, gitlab ? "description" : "body");
    e->issue_url = svc_whevent_str(issue, gitlab ? "url" : "html_url");
    e->author = requester;
    if (!gitlab)
        e->issue_author = svc_whevent_str(issue, "user.login");
    else if (ji(b, "user.id") > 0 && ji(b, "user.id") == ji(issue, "author_id"))
        e->issue_author = svc_whevent_str(b, "user.username");
}

/* A comment of kind `ckind` on the payload's pull request: its body and author (dotted paths). */
static void whevent_pr_comment(struct svc_whevent *e, const json_t *b, const char *ckind,
                               const char *body, const char *author)
{
    whevent_pr(e, json_object_get(b, "pull_request"));
    e->kind = SVC_WHEVENT_COMMENT;
    e->ckind = ckind;
    e->body = svc_whevent_str(b, body);
    e->author = svc_whevent_str(b, author);
}

/* GitHub's and Gitea's pull_request "reopened" and "closed" (merged or not), which share their
 * payload; false for any other event. */
static bool whevent_pr_state(const char *event, const char *action, const json_t *b,
                             struct svc_whevent *e)
{
    const json_t *pr = json_object_get(b, "pull_request");

    if (strcmp(event, "pull_request") != 0 || !action)
        return false;
    if (strcmp(action, "reopened") == 0) {
        whevent_pr(e, pr);
        e->kind = SVC_WHEVENT_REOPENED;
        return true;
    }
    if (strcmp(action, "closed") == 0) {
        whevent_pr(e, pr);
        e->kind =
            json_is_true(json_object_get(pr, "merged")) ? SVC_WHEVENT_MERGED : SVC_WHEVENT_CLOSED;
        e->author = svc_whevent_str(b, "sender.login");
        return true;
    }
    return false;
}

/* A new comment in the conversation of an issue, or of a pull request (`on_pr`: GitHub and
 * Gitea send both with the same payload): kept on the pull request, or an issue addressed to
 * Drover. */
static void whevent_conversation(const json_t *b, bool on_pr, const char *mention,
                                 struct svc_whevent *e)
{
    const json_t *issue = json_object_get(b, "issue");

    if (on_pr) {
        e->kind = SVC_WHEVENT_COMMENT;
        e->number = ji(issue, "number");
        e->url = svc_whevent_str(issue, "html_url");
        e->ckind = "comment";
        e->body = svc_whevent_str(b, "comment.body");
        whevent_id(e, json_object_get(b, "comment"));
        e->author = svc_whevent_str(b, "comment.user.login");
        e->rework = whevent_addressed(e->body, mention);
    } else if (whevent_addressed(svc_whevent_str(b, "comment.body"), mention)) {
        whevent_issue(e, b, issue, false, svc_whevent_str(b, "comment.user.login"));
    }
}

/* An issue opened for Drover: addressed to it in its body, or opened with its label. */
static bool whevent_opened(const char *action, const json_t *issue, const char *mention,
                           const char *label)
{
    return strcmp(action, "opened") == 0 &&
           (whevent_addressed(svc_whevent_str(issue, "body"), mention) ||
            whevent_has_label(json_object_get(issue, "labels"), label));
}

/* GitHub's events (X-GitHub-Event), as octokit/webhooks' schemas describe them. */
static void whevent_github(const char *event, const char *action, const json_t *b,
                           const char *mention, const char *label, struct svc_whevent *e)
{
    if (whevent_pr_state(event, action, b, e))
        return;
    if (strcmp(event, "ping") == 0) {
        e->kind = SVC_WHEVENT_PING;
    } else if (strcmp(event, "pull_request_review") == 0 && action &&
               strcmp(action, "submitted") == 0) {
        const char *st = svc_whevent_str(b, "review.state");

        whevent_pr_comment(e, b, "review", "review.body", "review.user.login");
        e->rework =
            (st && strcasecmp(st, "changes_requested") == 0) || whevent_addressed(e->body, mention);
        e->review_id = ji(b, "review.id");
        e->fetch = e->rework && e->review_id > 0;
    } else if (strcmp(event, "pull_request_review_comment") == 0 && action &&
               strcmp(action, "created") == 0) {
        whevent_pr_comment(e, b, "inline", "comment.body", "comment.user.login");
        e->path = svc_whevent_str(b, "comment.path");
        e->line = ji(b, "comment.line") ? ji(b, "comment.line") : ji(b, "comment.original_line");
        e->position = ji(b, "comment.position");
        e->diff_hunk = svc_whevent_str(b, "comment.diff_hunk");
        e->curl = svc_whevent_str(b, "comment.html_url");
        whevent_id(e, json_object_get(b, "comment"));
        e->rework = whevent_addressed(e->body, mention);
    } else if (strcmp(event, "issue_comment") == 0 && action && strcmp(action, "created") == 0) {
        whevent_conversation(
            b, json_object_get(json_object_get(b, "issue"), "pull_request") != NULL, mention, e);
    } else if (strcmp(event, "issues") == 0 && action) {
        const json_t *issue = json_object_get(b, "issue");

        if ((strcmp(action, "labeled") == 0 && svc_whevent_str(b, "label.name") &&
             strcasecmp(svc_whevent_str(b, "label.name"), label) == 0) ||
            whevent_opened(action, issue, mention, label))
            whevent_issue(e, b, issue, false, svc_whevent_str(b, "sender.login"));
    }
}

/* Gitea's and Forgejo's (X-Gitea-Event-Type, else X-Gitea-Event), per modules/structs. */
static void whevent_gitea(const char *event, const char *action, const json_t *b,
                          const char *mention, const char *label, struct svc_whevent *e)
{
    if (whevent_pr_state(event, action, b, e))
        return;
    if (json_object_get(b, "review") && json_object_get(b, "pull_request")) {
        /* Event types pull_request_review_{approved,rejected,comment}: a review's body only
         * (its inline comments are not in the payload). */
        const char *type = svc_whevent_str(b, "review.type");

        whevent_pr_comment(e, b, "review", "review.content", "sender.login");
        e->rework = (!strstr(event, "approved") &&
                     (strstr(event, "rejected") || (type && strstr(type, "rejected")))) ||
                    whevent_addressed(e->body, mention);
        if (!e->rework && (!e->body || !*e->body))
            e->kind = SVC_WHEVENT_IGNORE;
        /* The payload names no review id: the reviewer's latest review of this kind. */
        e->fetch = e->rework;
        e->review_state = strstr(event, "rejected") || (type && strstr(type, "rejected"))
                              ? "REQUEST_CHANGES"
                          : strstr(event, "approved") ? "APPROVED"
                                                      : "COMMENT";
    } else if (json_object_get(b, "comment") && json_object_get(b, "issue") && action &&
               strcmp(action, "created") == 0) {
        /* Event types issue_comment and pull_request_comment (X-Gitea-Event: issue_comment). */
        whevent_conversation(b, json_is_true(json_object_get(b, "is_pull")), mention, e);
    } else if ((strcmp(event, "issues") == 0 || strcmp(event, "issue_label") == 0) && action) {
        const json_t *issue = json_object_get(b, "issue");

        if ((strcmp(action, "label_updated") == 0 &&
             whevent_has_label(json_object_get(issue, "labels"), label)) ||
            whevent_opened(action, issue, mention, label))
            whevent_issue(e, b, issue, false, svc_whevent_str(b, "sender.login"));
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
static const char *whevent_gitlab_changes_requested(const json_t *b)
{
    const json_t *prev = whevent_at(b, "changes.reviewers.previous");
    const json_t *cur = whevent_at(b, "changes.reviewers.current"), *r, *p;
    size_t i, k;

    json_array_foreach(cur, i, r)
    {
        const char *st = svc_whevent_str(r, "state");
        bool was = false;

        if (!st || strcmp(st, "requested_changes") != 0)
            continue;
        json_array_foreach(prev, k, p)
        {
            const char *ps = svc_whevent_str(p, "state");

            was = was || (ji(p, "id") == ji(r, "id") && ps && strcmp(ps, st) == 0);
        }
        if (!was && svc_whevent_str(r, "username"))
            return svc_whevent_str(r, "username");
    }
    return NULL;
}

/* GitLab's (X-Gitlab-Event), per doc/user/project/integrations/webhook_events.md. */
static void whevent_gitlab(const char *event, const char *action, const json_t *b,
                           const char *mention, const char *label, struct svc_whevent *e)
{
    const json_t *oa = json_object_get(b, "object_attributes");

    if (strcmp(event, "Merge Request Hook") == 0 && action &&
        (strcmp(action, "merge") == 0 || strcmp(action, "close") == 0 ||
         strcmp(action, "reopen") == 0)) {
        e->kind = strcmp(action, "merge") == 0   ? SVC_WHEVENT_MERGED
                  : strcmp(action, "close") == 0 ? SVC_WHEVENT_CLOSED
                                                 : SVC_WHEVENT_REOPENED;
        e->number = ji(oa, "iid");
        e->branch = svc_whevent_str(oa, "source_branch");
        e->url = svc_whevent_str(oa, "url");
        e->author = svc_whevent_str(b, "user.username");
    } else if (strcmp(event, "Merge Request Hook") == 0 && action &&
               strcmp(action, "update") == 0 && whevent_gitlab_changes_requested(b)) {
        /* Like GitHub's changes_requested review: a rework that reads every unresolved diff
         * note (the review's summary, if any, arrives as a note of its own). */
        e->kind = SVC_WHEVENT_COMMENT;
        e->ckind = "review";
        e->number = ji(oa, "iid");
        e->branch = svc_whevent_str(oa, "source_branch");
        e->url = svc_whevent_str(oa, "url");
        e->author = whevent_gitlab_changes_requested(b);
        e->rework = true;
        e->fetch = true;
    } else if (strcmp(event, "Note Hook") == 0 && !json_is_true(json_object_get(oa, "system")) &&
               (!action || strcmp(action, "create") == 0)) {
        const char *nt = svc_whevent_str(oa, "noteable_type");

        if (nt && strcmp(nt, "MergeRequest") == 0) {
            const json_t *pos = json_object_get(oa, "position");

            e->kind = SVC_WHEVENT_COMMENT;
            e->number = ji(b, "merge_request.iid");
            e->branch = svc_whevent_str(b, "merge_request.source_branch");
            e->url = svc_whevent_str(oa, "url");
            e->body = svc_whevent_str(oa, "note");
            e->author = svc_whevent_str(b, "user.username");
            e->ckind = pos && !json_is_null(pos) ? "inline" : "comment";
            e->path = svc_whevent_str(pos, "new_path") ? svc_whevent_str(pos, "new_path")
                                                       : svc_whevent_str(pos, "old_path");
            e->line = ji(pos, "new_line") ? ji(pos, "new_line") : ji(pos, "old_line");
            whevent_id(e, oa);
            e->rework = whevent_addressed(e->body, mention);
            /* A merge request has no reviews: the rework reads every unresolved diff note. */
            e->fetch = e->rework;
        } else if (nt && strcmp(nt, "Issue") == 0 &&
                   whevent_addressed(svc_whevent_str(oa, "note"), mention)) {
            whevent_issue(e, b, json_object_get(b, "issue"), true,
                          svc_whevent_str(b, "user.username"));
        }
    } else if (strcmp(event, "Issue Hook") == 0 && action) {
        const json_t *prev =
            json_object_get(json_object_get(json_object_get(b, "changes"), "labels"), "previous");
        const json_t *cur =
            json_object_get(json_object_get(json_object_get(b, "changes"), "labels"), "current");
        bool added = cur && whevent_has_label(cur, label) && !whevent_has_label(prev, label);

        if (added || (strcmp(action, "open") == 0 &&
                      (whevent_has_label(json_object_get(b, "labels"), label) ||
                       whevent_addressed(svc_whevent_str(oa, "description"), mention)))) {
            whevent_issue(e, b, oa, true, svc_whevent_str(b, "user.username"));
        }
    }
}

static const struct svc_whevent_dialect svc_whevent_dialects[] = {
    [SVC_WEBHOOKS_GITEA] = {{"x-gitea-event-type", "x-forgejo-event-type", "x-gitea-event",
                             "x-forgejo-event"},
                            {"x-gitea-delivery", "x-forgejo-delivery"},
                            false,
                            "action",
                            whevent_gitea},
    [SVC_WEBHOOKS_GITLAB] = {{"x-gitlab-event"},
                             {"webhook-id", "x-gitlab-event-uuid"},
                             true,
                             "object_attributes.action",
                             whevent_gitlab},
    [SVC_WEBHOOKS_GITHUB] =
        {{"x-github-event"}, {"x-github-delivery"}, false, "action", whevent_github},
};

const struct svc_whevent_dialect *svc_whevent_dialect(enum svc_webhooks_forge forge)
{
    return &svc_whevent_dialects[forge];
}
