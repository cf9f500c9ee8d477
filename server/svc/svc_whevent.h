/*
 * What a forge's webhook delivery means for Drover: each forge's payloads (Gitea/Forgejo,
 * GitLab, GitHub) classified into one event (merged, closed, a review comment asking for a
 * rework, an issue addressed to Drover, ...), and how each forge names a delivery's event, id
 * and action. Pure: no I/O, any thread. svc_webhooks.c authenticates, deduplicates and applies.
 */
#ifndef DROVER_SVC_SVC_WHEVENT_H
#define DROVER_SVC_SVC_WHEVENT_H

#include <jansson.h>
#include <stdbool.h>

#include "svc/svc_webhooks.h"

/* What a delivery means for Drover. */
enum svc_whevent_kind {
    SVC_WHEVENT_IGNORE = 0,
    SVC_WHEVENT_PING,
    SVC_WHEVENT_MERGED,
    SVC_WHEVENT_CLOSED,
    SVC_WHEVENT_REOPENED, /* the pull request is open again: only its recorded state changes */
    SVC_WHEVENT_COMMENT,  /* a review comment on a pull request (maybe asking for a rework) */
    SVC_WHEVENT_ISSUE,    /* an issue addressed to Drover */
};

struct svc_whevent {
    enum svc_whevent_kind kind;
    char name[200]; /* "pull_request.closed", recorded with the delivery */
    long long number;
    const char *branch, *url, *author;
    const char *body, *path, *ckind; /* SVC_WHEVENT_COMMENT */
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
    const char *issue_title, *issue_body, *issue_url; /* SVC_WHEVENT_ISSUE */
    /* SVC_WHEVENT_ISSUE: the forge login of the issue's author (NULL when the payload names it only
     * by id: GitLab, when someone else acted). `author` is then whoever asked Drover for it. */
    const char *issue_author;
};

/* How each forge names a delivery's event and id, where its action is, and who reads it. */
struct svc_whevent_dialect {
    const char *event_hdr[4];    /* the first of these headers present names the event */
    const char *delivery_hdr[2]; /* ... and the delivery's id */
    bool idempotency_key;        /* an Idempotency-Key, when sent, is the delivery's id first */
    const char *action;          /* the body's member (a dotted path) holding the action */
    void (*classify)(const char *event, const char *action, const json_t *b, const char *mention,
                     const char *label, struct svc_whevent *e);
};

/* The dialect of `forge`. */
const struct svc_whevent_dialect *svc_whevent_dialect(enum svc_webhooks_forge forge);

/* The string at a dotted path ("pull_request.head.ref") of `o`, or NULL. */
const char *svc_whevent_str(const json_t *o, const char *path);

#endif
