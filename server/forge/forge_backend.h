/*
 * Branch and pull-request backends: one interface over a plain git remote, Gitea/Forgejo,
 * GitLab and GitHub, called by the service layer (svc/svc_branch.c, svc/svc_pull.c) outside
 * any database transaction. Branch names follow core/model.h's one rule.
 * Every call blocks (git subprocesses or libcurl): worker threads only.
 *
 * Both operations are idempotent: an existing branch or an open pull request for the same
 * head and base is returned with "created": false, never an error, so a retried attempt reuses
 * what the previous one made.
 *
 * Credentials: `struct forge.token` is a secret. It is sent to the forge (an HTTP header, or
 * git's http.extraHeader through GIT_CONFIG_* environment variables of the child, never its
 * command line) and appears in no log line, error message or result.
 */
#ifndef DROVER_FORGE_BACKEND_H
#define DROVER_FORGE_BACKEND_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"

enum forge_kind { FORGE_GIT = 0, FORGE_GITEA, FORGE_GITLAB, FORGE_GITHUB };

/* A project's forge settings (projects.forge_kind, forge_api_url, forge_repo_path). Borrowed. */
struct forge {
    enum forge_kind kind;
    const char *repo_url;  /* the git remote (git backend pushes here) */
    const char *api_url;   /* gitea: https://host/api/v1; gitlab: https://host/api/v4;
                              github: https://api.github.com (NULL = that) */
    const char *repo_path; /* "owner/repo" (gitea, github) or "group/sub/project" (gitlab) */
    const char *token;     /* secret, may be NULL */
    long timeout_s;        /* per request / git command; 0 = 60 */
    /*
     * Where the token may go (forge_cred.c): URL prefixes separated by spaces or commas, or
     * NULL = the forge's own origin only (api_url's; the git backend: repo_url's).
     */
    const char *allow;
    /* Repository URL schemes droverd's git may use ("https,ssh,http,git,file"), NULL = any. */
    const char *protocols;
};

/*
 * May droverd use `url` for this forge: its scheme is in f->protocols (local paths count as
 * "file"), and when `with_token`, it lies under f->allow (or the forge's own origin). 0, or -1
 * with ERR_FORBIDDEN saying which rule refused it. The URL in messages is redacted.
 */
int forge_cred_check(const struct forge *f, const char *url, bool with_token, struct err *err);

/* The scheme of a repository URL: "https", "ssh" (also user@host:path), "file" (also local
 * paths), "http", "git", ... Static string; "unknown" when unrecognised. */
const char *forge_cred_scheme(const char *url, char *buf, size_t sz);

/* "git" | "gitea" | "forgejo" | "gitlab" | "github" -> kind. 0, or -1 with ERR_INVALID. */
int forge_backend_kind_parse(const char *s, enum forge_kind *out, struct err *err);
const char *forge_backend_kind_name(enum forge_kind k);

/*
 * Create branch `name` from branch `base`. *out = {"name", "sha", "created", "url"?} (owned).
 * ERR_NOT_FOUND: base branch or repository missing; ERR_UNAUTHORIZED / ERR_FORBIDDEN: the
 * forge refused the credentials; ERR_UNAVAILABLE: forge unreachable; ERR_INVALID: bad name.
 */
int forge_backend_create_branch(const struct forge *f, const char *name, const char *base,
                                json_t **out, struct err *err);

struct forge_pr_req {
    const char *head;  /* the task's branch */
    const char *base;  /* the branch to merge into */
    const char *title; /* required */
    const char *body;  /* may be NULL */
    /* A team's options (project settings, svc/svc_pull.c); each forge takes what it knows. */
    bool draft;                /* GitHub "draft"; GitLab "Draft: " and Gitea "WIP: " titles */
    const char *labels;        /* comma-separated names (Gitea: resolved to the repo's ids) */
    bool remove_source_branch; /* GitLab */
    bool squash;               /* GitLab */
    const json_t *reviewer_ids, *assignee_ids; /* GitLab user ids (arrays), or NULL */
    /* Usernames (arrays), or NULL. GitLab looks each up (GET /users?username=) for its id. */
    const json_t *reviewers, *assignees;
};

/*
 * Open a pull (merge) request. *out = {"forge", "number", "url", "state", "head", "base",
 * "title", "created", "warnings"?}. A team option the forge refused (a label it does not know,
 * a reviewer who may not review) does not fail the pull request: "warnings" lists what was
 * not set, each a sentence. GitHub sets labels, reviewers and assignees after the create
 * (POST issues/{n}/labels, pulls/{n}/requested_reviewers, issues/{n}/assignees), Gitea in
 * the create itself (CreatePullRequestOption labels as ids, assignees, reviewers; refused,
 * the create is retried without them), GitLab in the create as user ids (a username GitLab
 * does not know is left out with a warning). The git backend has no pull requests: it checks that
 * both branches exist and returns a record (number and url null) for Drover to store on the task.
 */
int forge_backend_create_pull_request(const struct forge *f, const struct forge_pr_req *req,
                                      json_t **out, struct err *err);

/*
 * Is the forge reachable and does the credential work? A read that needs the credential where
 * one is configured: git ls-remote of `base` (plain git), GET of the repository (Gitea, GitLab,
 * GitHub). 0 with *out = {"base_exists"?, "default_branch"?, ...} (owned); -1 with
 * ERR_UNAVAILABLE (unreachable), ERR_UNAUTHORIZED / ERR_FORBIDDEN (the credential was refused)
 * or ERR_NOT_FOUND (no such repository, or not visible with this credential). For diagnostics.
 */
int forge_backend_probe(const struct forge *f, const char *base, json_t **out, struct err *err);

/*
 * The repository's webhooks, every page of the forge's list (forge_hooks.c), each as
 * {"id", "url", "active", "content_type": "json" | "form" | null, "events": [...], "type"?,
 * "state"?}: `events` in the forge's own vocabulary (Gitea/Forgejo and GitHub: the hook's
 * event names, GitHub's "*" included; GitLab: the names of its true "*_events" fields),
 * `active` false for a hook the forge will not deliver to (GitLab: alert_status, kept as
 * "state"). 0 with *out (owned); -1 with ERR_INVALID on a plain git remote, else as for the
 * probe: ERR_FORBIDDEN / ERR_NOT_FOUND are what the forges answer a token that may read the
 * repository but not its webhooks (GitHub without admin:repo_hook or "Webhooks: read", a
 * Gitea user who is not the repository's admin, a GitLab user below Maintainer). Diagnostics.
 */
int forge_backend_hooks(const struct forge *f, json_t **out, struct err *err);

/*
 * Comment `body` on issue (or pull request) `number`: Drover linking a task back to the issue
 * that asked for it. ERR_INVALID on a plain git remote; the forge's refusals as for the
 * pull request.
 */
int forge_backend_comment(const struct forge *f, long long number, const char *body,
                          struct err *err);
/* The same on pull (merge) request `number` (GitLab's merge request notes, not its issues'). */
int forge_backend_comment_pull_request(const struct forge *f, long long number, const char *body,
                                       struct err *err);

/*
 * Close pull (merge) request `number` without merging it (forge_close.c). Closing one already
 * closed is not an error. ERR_INVALID on a plain git remote; the forge's refusals as for the
 * pull request (ERR_NOT_FOUND: no such pull request; 5xx: ERR_UNAVAILABLE).
 */
int forge_backend_close_pull_request(const struct forge *f, long long number, struct err *err);

/* Which review's inline comments forge_backend_review_comments fetches. Borrowed. */
struct forge_review_ref {
    long long number;    /* the pull (merge) request */
    long long review_id; /* GitHub: the review's id (the webhook's review.id) */
    const char *author;  /* Gitea/Forgejo: the reviewer (its payload names no review id) */
    const char *state;   /* Gitea/Forgejo: REQUEST_CHANGES or COMMENT, the review's REST state */
};

/*
 * A review's inline (diff) comments, which the forges' review webhooks do not carry:
 *   Gitea/Forgejo GET repos/{o}/{r}/pulls/{n}/reviews (the latest review of `author` in
 *                 `state`), then .../reviews/{id}/comments;
 *   GitHub        GET repos/{o}/{r}/pulls/{n}/reviews/{review_id}/comments;
 *   GitLab        GET projects/:id/merge_requests/:iid/discussions: a merge request has no
 *                 reviews, so every unresolved diff note.
 * Every page of each list, as the forge paginates it (GitHub's Link header, GitLab's
 * X-Next-Page, Gitea's Link); at most 1,000 comments and 1 MiB of their text: *cut is true when
 * the forge had more (the first ones are kept). *out = [{"id" (the forge's comment id, a
 * string), "path", "line"?, "position"?, "diff_hunk"?, "body", "author"?, "url"?}] in the
 * forge's order (owned). ERR_INVALID on a plain git remote; the forge's refusals as for the
 * pull request (5xx: ERR_UNAVAILABLE).
 */
#define FORGE_REVIEW_MAX_COMMENTS 1000
#define FORGE_REVIEW_MAX_BYTES (1u << 20)
int forge_backend_review_comments(const struct forge *f, const struct forge_review_ref *ref,
                                  json_t **out, bool *cut, struct err *err);

/*
 * The forge token for project `project`: $DROVER_FORGE_TOKEN_<NAME> (NAME upper-cased, every
 * character other than A-Z0-9 as '_'), else the line "<project> <token>" (or "<project>=<token>")
 * of `secrets_file` (may be NULL; '#' starts a comment), else $DROVER_FORGE_TOKEN. *token is NULL
 * when none is configured (owned otherwise; wipe before free). -1 only when the file is unreadable.
 */
/* Only the file part: the "<project> <token>" line of `secrets_file`. 0 (*token may be NULL). */
int forge_backend_token_lookup_file(const char *project, const char *secrets_file, char **token,
                                    struct err *err);
int forge_backend_token_lookup(const char *project, const char *secrets_file, char **token,
                               struct err *err);

#endif
